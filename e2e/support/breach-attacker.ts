/**
 * The attacker of breach drill (a), run as a process of its own (`node --import tsx breach-attacker.ts <folder>`)
 * with nothing but the files in `<folder>`: what a thief of the whole pay server takes — `dump.json` (every row
 * of every table, as row-dump.ts writes it), the configuration, the log output, and the KEK itself (`*.json` dev
 * key files, opened with the pay server's own key-provider code). Any other file is read as text too.
 *
 * It tries to open every sealed card and profile record in the dump (packages/crypto `openRecord`, with the
 * binding the row holds: card id, payer id, device id, version), with every 32-byte value it can find or derive:
 * - every base64, base64url or hex string that decodes to 32 bytes, in any column, log line or file;
 * - every 32-byte window of every longer decoded value (a key stored inside a bigger blob);
 * - every K_srv it can unwrap with the KEK (the card rows' AAD), and every other secret the KEK opens (provider
 *   and webhook secrets), whose text is searched like the rest;
 * each as the DEK and as K_dev (XOR every K_srv), and every pair of found values XOR-combined.
 * Before that, every 32-byte value found as such is also tried as the KEK itself (the key of the version each
 * blob names, as the software providers derive it) on every sealed K_srv and provider secret, and as a `shamir`
 * master key on every vault keyring row (whose keys, if one opened, are tried as KEKs in turn): a backup of a vault
 * whose KEK lives in an HSM or in custodians' shares must yield no K_srv this way.
 * It prints one line of JSON: what it tried, and what opened (`opened`, empty when split custody holds).
 *
 * Trials run through node:crypto (HKDF-SHA256 + AES-256-GCM, the format of records.ts) for speed; each hit is
 * confirmed with `openRecord` itself. The drill's control run (K_dev added to the files) proves the whole chain
 * opens a record when it can.
 */
import { createDecipheriv, hkdfSync } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { openRecord, type RecordPurpose } from "@mpay/crypto";
import { openDevKeyProvider } from "../../services/pay/src/keys/dev/dev-provider.ts";
import { unwrapKeyringKey } from "../../services/pay/src/keys/shamir/shamir-store.ts";
import { SoftwareKeyring } from "../../services/pay/src/keys/software-keyring.ts";
import type { KeyProvider, KeyPurpose } from "../../services/pay/src/keys/provider.ts";
import { providerSecretAad } from "../../services/pay/src/keys/provider-secrets.ts";
import { parseSealed } from "../../services/pay/src/keys/sealed-format.ts";
import { webhookSecretAad } from "../../services/pay/src/merchants/service.ts";
import { webhookEndpointSecretAad } from "../../services/pay/src/webhooks/endpoint-secrets.ts";
import { v1aKeyAad } from "../../services/pay/src/webhooks/service.ts";
import { kSrvAad } from "../../services/pay/src/vault/aad.ts";
import type { JsonRow } from "./row-dump.ts";

export interface AttackResult {
  files: string[];
  /** Distinct 32-byte values found as such. */
  candidates: number;
  /** Distinct 32-byte windows of longer values. */
  windows: number;
  /** Distinct K_srv values unwrapped, by the KEK found in a key file or by a value tried as the KEK. */
  kSrvUnwrapped: number;
  otherSecretsUnwrapped: number;
  /** Values tried as the KEK (a key version's key) and as a shamir master key; and how many opened something. */
  kekCandidates: number;
  kekHits: number;
  records: number;
  trials: number;
  opened: Array<{ table: string; cardId: string; purpose: RecordPurpose; how: string; fields: string[] }>;
}

interface SealedRecordTarget {
  table: string;
  cardId: string;
  purpose: RecordPurpose;
  sealed: string;
  binding: { purpose: RecordPurpose; cardId: string; payerId: string; deviceId: string; version: number };
  info: Buffer;
  aad: Buffer;
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

const str = (value: unknown) => (typeof value === "string" ? value : undefined);

/** Every value of a JSON row, nested ones included, as strings. */
function stringsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (typeof value === "number") out.push(String(value));
  else if (Array.isArray(value)) for (const v of value) stringsOf(v, out);
  else if (value && typeof value === "object") for (const v of Object.values(value)) stringsOf(v, out);
  return out;
}

/** Every byte string that base64 (either alphabet) or hex runs in `text` decode to. */
function decodedRuns(text: string): Buffer[] {
  const out: Buffer[] = [];
  for (const [run] of text.matchAll(/[A-Za-z0-9+/_-]{16,}={0,2}/g)) {
    // Node's base64 decoder takes both alphabets; a hex-looking run is also tried as hex.
    out.push(Buffer.from(run.replace(/=+$/, ""), "base64"));
    if (/^[0-9a-fA-F]+$/.test(run) && run.length % 2 === 0) out.push(Buffer.from(run, "hex"));
  }
  for (const [run] of text.matchAll(/[0-9a-fA-F]{64,}/g)) if (run.length % 2 === 0) out.push(Buffer.from(run, "hex"));
  return out;
}

/** The sealed records in the dump, with the binding their row names (records.ts's info and AAD). */
function sealedRecordsOf(rows: readonly JsonRow[]): SealedRecordTarget[] {
  const targets: SealedRecordTarget[] = [];
  for (const { table, row } of rows) {
    for (const [column, value] of Object.entries(row)) {
      const sealed = str(value);
      const parts = sealed?.split(".");
      if (!sealed || parts?.length !== 4 || parts[0] !== "r1") continue;
      const cardId = str(row["id"]) ?? "";
      const payerId = str(row["payer_id"]) ?? "";
      const deviceId = str(row["device_id"]) ?? "";
      const version = Number(row["record_version"] ?? parts[1]);
      const body = Buffer.from(parts[3]!, "base64url");
      for (const purpose of column.includes("profile")
        ? (["profile", "card"] as const)
        : (["card", "profile"] as const)) {
        targets.push({
          table,
          cardId,
          purpose,
          sealed,
          binding: { purpose, cardId, payerId, deviceId, version },
          info: Buffer.from(`mpay/v1|${purpose}|${cardId}`),
          aad: Buffer.from(`mpay/v1|${purpose}|${cardId}|${payerId}|${deviceId}|${version}`),
          nonce: Buffer.from(parts[2]!, "base64url"),
          ciphertext: body.subarray(0, body.length - 16),
          tag: body.subarray(body.length - 16),
        });
      }
    }
  }
  return targets;
}

function opens(dek: Buffer, target: SealedRecordTarget): boolean {
  const key = Buffer.from(hkdfSync("sha256", dek, Buffer.alloc(0), target.info, 32));
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, target.nonce).setAAD(target.aad).setAuthTag(target.tag);
    decipher.update(target.ciphertext);
    decipher.final();
    return true;
  } catch {
    return false;
  }
}

const xor = (a: Buffer, b: Buffer) => Buffer.from(a.map((byte, i) => byte ^ b[i]!));

/** What the KEK opens in the dump: K_srv of each card row, and the provider's other secrets (as text). */
/** The provider-API face of one 32-byte value taken as every key version's key: what a software KEK would be. */
function candidateKek(value: Buffer): Pick<KeyProvider, "open"> {
  return {
    async open(purpose, sealed, aad) {
      const version = parseSealed(sealed)?.keyVersion;
      if (version === undefined) throw new Error("not a sealed blob");
      const keyring = new SoftwareKeyring(new Map([[version, Buffer.from(value)]]));
      try {
        return keyring.open(purpose, sealed, aad);
      } finally {
        keyring.wipe();
      }
    },
  };
}

/** Every keyring row's key that `value`, taken as a shamir master key, unwraps. */
function keyringKeysUnder(value: Buffer, rows: readonly JsonRow[]): Buffer[] {
  const keys: Buffer[] = [];
  for (const { table, row } of rows) {
    if (table !== "public.vault_keyring") continue;
    const key = unwrapKeyringKey(value, Number(row["version"]), String(row["sealed_key"]));
    if (key) keys.push(key);
  }
  return keys;
}

async function unwrapWithKek(
  keys: Pick<KeyProvider, "open">,
  rows: readonly JsonRow[],
): Promise<{ kSrv: Buffer[]; texts: string[] }> {
  const kSrv: Buffer[] = [];
  const texts: string[] = [];
  const attempts = (row: Record<string, unknown>): Array<[KeyPurpose, string]> => {
    const id = str(row["id"]) ?? "";
    const tries: Array<[KeyPurpose, string]> = [
      ["provider-secret", providerSecretAad(str(row["name"]) ?? id)],
      ["webhook-signing-key", v1aKeyAad(id)],
      ["webhook-secret", webhookEndpointSecretAad(id)],
    ];
    const merchant = str(row["merchant_id"]);
    if (merchant)
      for (const mode of ["test", "live"] as const) tries.push(["webhook-secret", webhookSecretAad(merchant, mode)]);
    return tries;
  };
  for (const { row } of rows) {
    for (const [column, value] of Object.entries(row)) {
      const sealed = str(value);
      if (!sealed || !parseSealed(sealed)) continue;
      if (column === "wrapped_k_srv") {
        const card = {
          id: str(row["id"]) ?? "",
          payerId: str(row["payer_id"]) ?? "",
          deviceId: str(row["device_id"]) ?? "",
        };
        const opened = await keys
          .open("vault-k-srv", sealed, kSrvAad(card, Number(row["kek_version"])))
          .catch(() => null);
        if (opened) kSrv.push(Buffer.from(opened));
        continue;
      }
      for (const [purpose, aad] of attempts(row)) {
        const opened = await keys.open(purpose, sealed, aad).catch(() => null);
        if (opened) texts.push(Buffer.from(opened).toString("utf8"), Buffer.from(opened).toString("base64url"));
      }
    }
  }
  return { kSrv, texts };
}

export async function attack(folder: string): Promise<AttackResult> {
  const files = (await readdir(folder)).sort();
  const texts: string[] = [];
  let rows: JsonRow[] = [];
  const keyFiles: string[] = [];
  for (const file of files) {
    const text = await readFile(join(folder, file), "utf8");
    texts.push(text);
    if (file === "dump.json") rows = JSON.parse(text) as JsonRow[];
    else if (text.includes('"mpay-dev-keys/1"')) keyFiles.push(join(folder, file));
  }
  for (const { row } of rows) texts.push(...stringsOf(row));

  const kSrvFound = new Map<string, Buffer>();
  let otherSecretsUnwrapped = 0;
  for (const keyFile of keyFiles) {
    const keys = await openDevKeyProvider({ keyFile, log: () => undefined });
    try {
      const unwrapped = await unwrapWithKek(keys, rows);
      for (const value of unwrapped.kSrv) kSrvFound.set(value.toString("hex"), value);
      texts.push(...unwrapped.texts);
      otherSecretsUnwrapped += unwrapped.texts.length / 2;
    } finally {
      await keys.close();
    }
  }

  const candidates = new Map<string, Buffer>();
  const windows = new Map<string, Buffer>();
  const collect = (from: readonly string[]) => {
    for (const text of from) {
      for (const bytes of decodedRuns(text)) {
        if (bytes.length === 32) candidates.set(bytes.toString("hex"), bytes);
        else if (bytes.length > 32)
          for (let i = 0; i + 32 <= bytes.length; i++)
            windows.set(bytes.subarray(i, i + 32).toString("hex"), Buffer.from(bytes.subarray(i, i + 32)));
      }
    }
  };
  collect(texts);

  // Every found value as the KEK, and as a shamir master key whose keyring keys are KEKs in turn. (Windows of
  // longer values are left to the DEK search: a key kept as such is written alone, and there are many windows.)
  let kekCandidates = 0;
  let kekHits = 0;
  for (const value of [...candidates.values()]) {
    kekCandidates++;
    for (const kek of [value, ...keyringKeysUnder(value, rows)]) {
      const unwrapped = await unwrapWithKek(candidateKek(kek), rows);
      if (unwrapped.kSrv.length + unwrapped.texts.length > 0) kekHits++;
      for (const share of unwrapped.kSrv) kSrvFound.set(share.toString("hex"), share);
      collect(unwrapped.texts);
    }
  }
  const kSrv = [...kSrvFound.values()];
  for (const value of kSrv) candidates.set(value.toString("hex"), value);
  for (const key of candidates.keys()) windows.delete(key);

  const targets = sealedRecordsOf(rows);
  const hits: Array<{ dek: Buffer; target: SealedRecordTarget; how: string }> = [];
  let trials = 0;
  const tryAll = (dek: Buffer, how: string) => {
    for (const target of targets) {
      trials++;
      if (opens(dek, target)) hits.push({ dek, target, how });
    }
  };
  const found = [...candidates.values()];
  for (let i = 0; i < found.length; i++) {
    tryAll(found[i]!, "a found value as the DEK");
    for (let j = i + 1; j < found.length; j++)
      tryAll(xor(found[i]!, found[j]!), "two found values XOR-combined (one as K_dev, one as K_srv)");
  }
  for (const window of windows.values()) {
    tryAll(window, "a window of a longer value as the DEK");
    for (const share of kSrv)
      tryAll(xor(window, share), "a window of a longer value as K_dev, with an unwrapped K_srv");
  }

  // Each hit confirmed by packages/crypto itself.
  const opened: AttackResult["opened"] = [];
  for (const { dek, target, how } of hits) {
    const plaintext = await openRecord(new Uint8Array(dek), target.binding, target.sealed).catch(() => null);
    if (!plaintext || opened.some((o) => o.cardId === target.cardId && o.purpose === target.purpose)) continue;
    let fields: string[];
    try {
      fields = Object.keys(JSON.parse(new TextDecoder().decode(plaintext)) as object).sort();
    } catch {
      fields = ["(not JSON)"];
    }
    opened.push({ table: target.table, cardId: target.cardId, purpose: target.purpose, how, fields });
  }
  return {
    files,
    candidates: candidates.size,
    windows: windows.size,
    kSrvUnwrapped: kSrv.length,
    otherSecretsUnwrapped,
    kekCandidates,
    kekHits,
    records: new Set(targets.map((t) => `${t.cardId}|${t.sealed}`)).size,
    trials,
    opened,
  };
}

const folder = process.argv[2];
if (folder) {
  attack(folder).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error: unknown) => {
      process.stderr.write(`attacker failed: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
