/**
 * `mpay vault …`: init, unseal, status, rotate, reseal, rekey (docs/key-providers.md is the operator's guide).
 *
 * Shares come in on stdin, one per line, never as arguments: arguments show in `ps` and in shell history.
 * On a terminal they are read without echo. `init` and `rekey` print the new shares once; nothing else ever
 * prints one.
 */
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import type { PaySystem } from "../../system.ts";
import { KeyProviderError } from "../../keys/provider.ts";
import type { KeyProviderStatus, UnsealProgress } from "../../keys/provider.ts";
import type { Pkcs11KeyProvider } from "../../keys/pkcs11/pkcs11-provider.ts";
import type { ShamirKeyProvider } from "../../keys/shamir/shamir-provider.ts";
import { resealBelow, rotateAndReseal } from "../../keys/reseal.ts";
import { RESEALERS } from "../../sealed-columns.ts";
import { finishRekey, rekeyAndReseal, type RekeyFinish, type NewShareSet } from "../../keys/shamir/rekey.ts";
import type { CliIo, Out } from "./io.ts";

export interface VaultOptions {
  shares?: string;
  threshold?: string;
  url?: string[];
}

/** The commands that run inside an opened pay system (database and key provider). */
export async function vaultCommand(
  command: string,
  values: VaultOptions,
  system: PaySystem,
  out: Out,
): Promise<number> {
  switch (command) {
    case "vault init":
      return init(values, system, out);
    case "vault status":
      return status(values, system, out);
    case "vault rotate": {
      const report = await rotateAndReseal({ db: system.database.db, keys: system.keys }, RESEALERS, {
        onProgress: progressTo(out),
      });
      await system.audit.record({
        actor: "operator:cli",
        action: "vault.rotated",
        data: {
          fromVersion: report.fromVersion,
          toVersion: report.toVersion,
          resealed: report.total,
          left: report.leftTotal,
        },
      });
      out.print(
        `key version ${report.fromVersion} → ${report.toVersion}; re-sealed ${report.total} rows${perTable(report.resealed)}\n` +
          (report.leftTotal === 0
            ? `no row is left on a version below ${report.toVersion}`
            : `${report.leftTotal} rows are still below version ${report.toVersion}${perTable(report.left)}; run \`mpay vault reseal\``),
        report,
      );
      return report.leftTotal === 0 ? 0 : 1;
    }
    case "vault rekey":
      return rekey(values, system, out);
    case "vault reseal": {
      const finished = await finishInterruptedRekey(system, out);
      if (finished !== null) return finished;
      const version = system.keys.currentKeyVersion();
      const report = await resealBelow({ db: system.database.db, keys: system.keys }, RESEALERS, version, {
        onProgress: progressTo(out),
      });
      out.print(
        `re-sealed ${report.total} rows${perTable(report.resealed)}; ${report.leftTotal === 0 ? "none is left" : `${report.leftTotal} are still`} below version ${version}`,
        { toVersion: version, ...report },
      );
      return report.leftTotal === 0 ? 0 : 1;
    }
    default:
      return -1;
  }
}

async function init(values: VaultOptions, system: PaySystem, out: Out): Promise<number> {
  const keys = system.keys;
  if (keys.kind === "shamir") {
    const shares = Number(values.shares);
    const threshold = Number(values.threshold);
    if (!values.shares || !values.threshold)
      throw new KeyProviderError(
        "provider_misconfigured",
        "vault init needs --shares N --threshold M for the shamir provider",
      );
    const texts = await (keys as ShamirKeyProvider).initialize(shares, threshold);
    await system.audit.record({
      actor: "operator:cli",
      action: "vault.initialized",
      data: { kind: "shamir", shares, threshold },
    });
    const list = texts.peek();
    // Printed to stdout once, on purpose, never through the logger: this is the only time the shares exist.
    out.print(
      [
        `shamir vault initialized: ${threshold} of these ${shares} shares unseal it. Give one to each custodian now;`,
        "they are shown only this once and stored nowhere (the database holds only M, N and a check value).",
        ...list.map((share, i) => `  share ${i + 1} of ${shares}: ${share}`),
      ].join("\n"),
      list,
    );
    return 0;
  }
  if (values.shares || values.threshold)
    throw new KeyProviderError(
      "provider_misconfigured",
      `--shares and --threshold are for MPAY_KEK_PROVIDER=shamir; this one is ${keys.kind}`,
    );
  if (keys.kind === "pkcs11") {
    const version = await (keys as Pkcs11KeyProvider).initialize();
    await system.audit.record({
      actor: "operator:cli",
      action: "vault.initialized",
      data: { kind: "pkcs11", keyVersion: version },
    });
    out.print(`pkcs11 vault initialized: key version ${version} made inside the token (non-extractable)`, {
      kind: "pkcs11",
      keyVersion: version,
    });
    return 0;
  }
  out.print("the dev provider needs no init: it made its key file when it first started", {
    kind: keys.kind,
    keyVersion: keys.currentKeyVersion(),
  });
  return 0;
}

/**
 * `mpay vault rekey [--shares N --threshold M]` (shamir): M current shares on stdin authorise it (they unseal this
 * CLI process); the new shares are printed once, as soon as they are the only ones that unseal, then every row is
 * re-sealed online and the keys the old master key protected are deleted (keys/shamir/rekey.ts).
 */
async function rekey(values: VaultOptions, system: PaySystem, out: Out): Promise<number> {
  const keys = shamirOnly(system, "rekey");
  if (keys.isSealed()) await unsealThisProcess(system, out.io);
  const custody = (await keys.status()).custody;
  const shares = values.shares ? Number(values.shares) : (custody?.shares ?? 0);
  const threshold = values.threshold ? Number(values.threshold) : (custody?.threshold ?? 0);
  const report = await rekeyAndReseal(
    { db: system.database.db, keys },
    RESEALERS,
    { shares, threshold },
    {
      onProgress: progressTo(out),
      onShares: async (set) => {
        await system.audit.record({
          actor: "operator:cli",
          action: "vault.rekeyed",
          data: {
            generation: set.generation,
            shares: set.shareCount,
            threshold: set.threshold,
            keyVersion: set.keyVersion,
          },
        });
        printNewShares(set, out);
      },
      beforeRetire: () =>
        system.audit.record({
          actor: "operator:cli",
          action: "vault.rekey_finished",
          data: { keyVersion: keys.currentKeyVersion() },
        }),
    },
  );
  out.print(`key version ${report.fromVersion} → ${report.toVersion}; ${describeFinish(report)}`, report);
  return report.retired ? 0 : 1;
}

/** `vault reseal` after an interrupted rekey finishes the rekey; null when no rekey is unfinished. */
async function finishInterruptedRekey(system: PaySystem, out: Out): Promise<number | null> {
  if (system.keys.kind !== "shamir") return null;
  const keys = system.keys as ShamirKeyProvider;
  if (!(await keys.status()).custody?.rekeyPending) return null;
  const toVersion = keys.currentKeyVersion();
  const report = await finishRekey({ db: system.database.db, keys }, RESEALERS, toVersion, {
    onProgress: progressTo(out),
    beforeRetire: () =>
      system.audit.record({ actor: "operator:cli", action: "vault.rekey_finished", data: { keyVersion: toVersion } }),
  });
  out.print(describeFinish(report), report);
  return report.retired ? 0 : 1;
}

// Printed to stdout once, on purpose, never through the logger: the only time the new shares exist outside memory.
function printNewShares(set: NewShareSet, out: Out): void {
  out.print(
    [
      `shamir vault re-keyed: share set ${set.generation}, ${set.threshold} of these ${set.shareCount} new shares unseal it. Give one to each`,
      "custodian now; they are shown only this once and stored nowhere. From now on the old shares are refused.",
      ...set.shares.map((share, i) => `  share ${i + 1} of ${set.shareCount}: ${share}`),
      `re-sealing every sealed row under key version ${set.keyVersion} (the servers keep serving; ${set.delivered} other unsealed processes follow)…`,
    ].join("\n"),
    {
      generation: set.generation,
      threshold: set.threshold,
      shares: set.shares,
      keyVersion: set.keyVersion,
      delivered: set.delivered,
    },
  );
}

function describeFinish(report: RekeyFinish): string {
  const resealed = `re-sealed ${report.total} rows${perTable(report.resealed)}`;
  if (report.leftTotal > 0)
    return `${resealed}; ${report.leftTotal} rows are still below version ${report.toVersion}${perTable(report.left)}: run \`mpay vault reseal --unseal\` with the new shares`;
  if (!report.retired)
    return `${resealed}; ${report.processesBehind} pay-server processes still hold the old master key: restart them, then run \`mpay vault reseal --unseal\``;
  return `${resealed}; no row is left below version ${report.toVersion}, and the ${report.deletedKeys} keys of the replaced master key are deleted: the old shares open nothing stored now`;
}

function shamirOnly(system: PaySystem, command: string): ShamirKeyProvider {
  if (system.keys.kind !== "shamir") {
    throw new KeyProviderError(
      "vault_rekey_unsupported",
      `vault ${command} re-splits the shamir master key; this provider is ${system.keys.kind} (it has no shares: use \`mpay vault rotate\`)`,
    );
  }
  return system.keys as ShamirKeyProvider;
}

async function status(values: VaultOptions, system: PaySystem, out: Out): Promise<number> {
  const local = await system.keys.status();
  const servers = await Promise.all((values.url ?? []).map(async (url) => ({ url, ...(await serverStatus(url)) })));
  const lines = [
    `provider ${local.kind}: ${describe(local)}${local.kind === "shamir" ? " (in this CLI process; each server process is unsealed on its own, ask it with --url)" : ""}`,
  ];
  for (const server of servers) lines.push(`  ${server.url}: ${"error" in server ? server.error : describe(server)}`);
  out.print(lines.join("\n"), { ...local, ...(servers.length ? { servers } : {}) });
  return servers.some((s) => "error" in s) ? 1 : 0;
}

/** `mpay vault unseal`: needs no database, only the servers' URLs and the shares on stdin. */
export async function unsealCommand(urls: string[], out: Out): Promise<number> {
  const pending = new Map(urls.map((url) => [url.replace(/\/$/, ""), null as UnsealProgress | null]));
  const started = await Promise.all([...pending.keys()].map(async (url) => [url, await serverStatus(url)] as const));
  let failed = false;
  for (const [url, answer] of started) {
    if ("error" in answer) {
      out.io.stderr.write(`mpay: ${url}: ${answer.error}\n`);
      pending.delete(url);
      failed = true;
    } else if (!answer.sealed) {
      pending.set(url, { sealed: false, sharesReceived: 0, threshold: answer.custody?.threshold ?? 0 });
    }
  }
  const stillSealed = () => [...pending].filter(([, p]) => p?.sealed !== false).map(([url]) => url);
  if (stillSealed().length > 0) {
    for await (const share of readShares(out.io)) {
      for (const url of stillSealed()) {
        const answer = await postShare(url, share);
        if ("error" in answer) {
          out.io.stderr.write(`mpay: ${url}: ${answer.error}\n`);
          pending.delete(url);
          failed = true;
        } else {
          pending.set(url, answer);
          if (out.io.stdin.isTTY)
            out.io.stderr.write(
              `${url}: ${answer.sealed ? `${answer.sharesReceived} of ${answer.threshold} shares` : "unsealed"}\n`,
            );
        }
      }
      if (stillSealed().length === 0) break;
    }
  }
  const results = [...pending].map(([url, p]) => ({
    url,
    sealed: p?.sealed ?? true,
    sharesReceived: p?.sharesReceived ?? 0,
    threshold: p?.threshold ?? null,
  }));
  out.print(
    results
      .map(
        (r) =>
          `${r.url}: ${r.sealed ? `still sealed, ${r.sharesReceived} of ${r.threshold ?? "?"} shares received` : "unsealed"}`,
      )
      .join("\n") || "no server answered",
    results,
  );
  return failed ? 1 : 0;
}

/** Shares from stdin, one per line; blank lines are skipped. On a terminal: a prompt, no echo, empty line ends. */
async function* readShares(io: CliIo): AsyncGenerator<string> {
  const tty = io.stdin.isTTY === true;
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const lines = createInterface({ input: io.stdin, output: silent, terminal: tty });
  const prompt = () => tty && io.stderr.write("share (input hidden; empty line to stop): ");
  try {
    prompt();
    for await (const line of lines) {
      if (tty) io.stderr.write("\n");
      const share = line.trim();
      if (!share) {
        if (tty) return;
        continue;
      }
      yield share;
      prompt();
    }
  } finally {
    lines.close();
  }
}

type Answer<T> = T | { error: string };

async function postShare(url: string, share: string): Promise<Answer<UnsealProgress>> {
  return call<UnsealProgress>(`${url}/v1/vault/unseal`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ share }),
  });
}

async function serverStatus(url: string): Promise<Answer<KeyProviderStatus>> {
  return call<KeyProviderStatus>(`${url.replace(/\/$/, "")}/v1/vault/status`, { method: "GET" });
}

async function call<T>(url: string, init: RequestInit): Promise<Answer<T>> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
    const body = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    if (response.ok && body) return body as T;
    // The server's error names the problem (vault_share_rejected, …) and never quotes the share.
    return { error: body?.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${response.status}` };
  } catch (error) {
    return { error: `unreachable (${error instanceof Error ? error.message : String(error)})` };
  }
}

function describe(s: KeyProviderStatus): string {
  if (!s.initialized) return "not initialized (run `mpay vault init`)";
  const c = s.custody;
  const custody = c
    ? `, ${c.threshold} of ${c.shares} shares of share set ${c.generation}${s.sealed ? `, ${c.sharesReceived} received` : ""}${c.rekeyPending ? "; a rekey is not finished (run `mpay vault reseal --unseal`)" : ""}`
    : "";
  return `${s.sealed ? "sealed" : "unsealed"}, current key version ${s.currentKeyVersion ?? "none"}, versions [${s.keyVersions.join(", ")}]${custody}`;
}

function perTable(counts: Record<string, number>): string {
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${name} ${n}`);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

function progressTo(out: Out): (name: string, n: number) => void {
  return (name, n) => {
    if (!out.json) out.io.stderr.write(`  re-sealed ${n} in ${name}\n`);
  };
}

/** `--unseal`: gives this CLI process's shamir provider the shares from stdin, for a command that uses the keys. */
export async function unsealThisProcess(system: PaySystem, io: CliIo): Promise<void> {
  const unsealer = system.keys.unsealer;
  if (!unsealer)
    throw new KeyProviderError(
      "vault_unseal_unsupported",
      `--unseal is for MPAY_KEK_PROVIDER=shamir; this one is ${system.keys.kind}`,
    );
  for await (const share of readShares(io)) {
    if (!(await unsealer.submitShare(share)).sealed) return;
  }
  throw new KeyProviderError("vault_sealed", "stdin ended before enough shares unsealed this CLI process");
}
