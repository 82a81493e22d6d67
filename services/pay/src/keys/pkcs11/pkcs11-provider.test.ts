import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import * as graphene from "graphene-pk11";
import { Secret } from "@mpay/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateDatabase, openDatabase, type Database } from "../../db/client.ts";
import { freshDatabase, testBackends, type FreshDatabase } from "../../testing/databases.ts";
import { openPkcs11KeyProvider, type Pkcs11KeyProvider } from "./pkcs11-provider.ts";
import { openTokenSession, type Pkcs11Settings } from "./pkcs11-token.ts";
import { KeyProviderError } from "../provider.ts";
import { createSoftHsmToken, softHsmAvailable, type SoftHsmToken } from "./softhsm-fixture.ts";

const PEER = fileURLToPath(new URL("./pkcs11-peer.fixture.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../../..", import.meta.url));
const SECRET = "whsec_MfKQ9r4gKGcJv1zX8YpQw2NtL5aVbH3e";
const enc = new TextEncoder();

async function expectCode(promise: Promise<unknown>, code: string): Promise<KeyProviderError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeyProviderError);
  expect((error as KeyProviderError).code).toBe(code);
  return error as KeyProviderError;
}

/**
 * A separate OS process on the same token (pkcs11-peer.fixture.ts), started once and asked one command at a time:
 * it starts (tsx, the pay server's modules, PGlite) while this process sets up, not once per command.
 */
function startPeer(token: SoftHsmToken) {
  const child = spawn(process.execPath, ["--import", "tsx", PEER], {
    cwd: ROOT,
    env: {
      PATH: process.env["PATH"] ?? "",
      SOFTHSM2_CONF: token.conf,
      MPAY_PKCS11_TOKEN_LABEL: token.settings.tokenLabel,
      MPAY_PKCS11_PIN: token.pin,
    },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const answers = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    /** The command's answer; rejects with the peer's `<code>: <message>` when it failed there. */
    async ask(...command: string[]): Promise<string> {
      child.stdin.write(`${JSON.stringify(command)}\n`);
      const line = await answers.next();
      if (line.done) throw new Error(`the peer process ended (${child.exitCode}): ${stderr}`);
      const answer = JSON.parse(line.value) as { out?: string; error?: string };
      if (answer.error !== undefined) throw new Error(answer.error);
      return answer.out ?? "";
    },
    async stop(): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.stdin.end(); // the peer closes its database and exits
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function flipChar(sealed: string, index: number): string {
  const chars = [...sealed];
  const at = sealed.lastIndexOf(".") + 1 + index;
  chars[at] = chars[at] === "A" ? "B" : "A";
  return chars.join("");
}

// CI installs softhsm2 (.ci/run); a developer machine without it skips these tests rather than failing them.
describe.skipIf(!softHsmAvailable() && !process.env["CI"]).each(testBackends())(
  "pkcs11 key provider on SoftHSM2 [%s]",
  (backend) => {
    let token: SoftHsmToken;
    /** Another site's HSM, without the vault's keys (a restore drill's recovery site). */
    let emptyToken: SoftHsmToken;
    let database: Database;
    let fresh: FreshDatabase;
    const providers: Pkcs11KeyProvider[] = [];
    const open = async (settings: Pkcs11Settings = token.settings) => {
      const p = await openPkcs11KeyProvider(settings, database.db);
      providers.push(p);
      return p;
    };
    let peerProcess: ReturnType<typeof startPeer>;
    const peer = (...command: string[]) => peerProcess.ask(...command);

    beforeAll(async () => {
      token = await createSoftHsmToken(`mpay-${backend}`);
      emptyToken = await createSoftHsmToken(`mpay-${backend}-empty`, token);
      peerProcess = startPeer(token);
      // Read by the library at C_Initialize; each test file runs in its own process (vitest pool "forks").
      process.env["SOFTHSM2_CONF"] = token.conf;
      fresh = await freshDatabase(backend);
      database = await openDatabase({ url: fresh.url });
      await migrateDatabase(database);
    });
    afterAll(async () => {
      await peerProcess?.stop();
      for (const p of providers.splice(0)) await p.close();
      await database.close();
      await fresh.drop();
      await token.remove();
    });

    it("holds no key until `vault init`, which makes version 1 once", async () => {
      const p = await open();
      expect(p.isSealed()).toBe(true);
      expect(await p.status()).toEqual({
        kind: "pkcs11",
        initialized: false,
        sealed: true,
        currentKeyVersion: null,
        keyVersions: [],
      });
      await expectCode(p.seal("webhook-secret", enc.encode(SECRET), "a"), "vault_not_initialized");
      expect(await p.initialize()).toBe(1);
      await expectCode(p.initialize(), "vault_already_initialized");
      expect(p.isSealed()).toBe(false);
      expect(await p.status()).toEqual({
        kind: "pkcs11",
        initialized: true,
        sealed: false,
        currentKeyVersion: 1,
        keyVersions: [1],
      });
    });

    it("is sealed on a token without the version the database records: 503 vault_sealed, never ready", async () => {
      const vault = await open();
      const blob = await vault.seal("webhook-secret", enc.encode(SECRET), "a");
      const elsewhere = await open(emptyToken.settings);
      expect(elsewhere.isSealed()).toBe(true);
      expect(await elsewhere.status()).toMatchObject({ sealed: true, currentKeyVersion: 1, keyVersions: [] });
      const refused = await expectCode(elsewhere.seal("webhook-secret", enc.encode(SECRET), "a"), "vault_sealed");
      expect(refused.message).toContain("key version 1");
      await expectCode(elsewhere.open("webhook-secret", blob, "a"), "vault_sealed");
      await expectCode(elsewhere.mac("webhook-secret", enc.encode("x")), "vault_sealed");
      expect(vault.isSealed()).toBe(false);
    });

    it("makes its keys sensitive and non-extractable inside the token: reading or wrapping them fails", async () => {
      const { session, close } = openTokenSession(token.settings);
      try {
        for (const label of ["mpay-kek-v1", "mpay-mac-v1"]) {
          const found = session.find({ class: graphene.ObjectClass.SECRET_KEY, label });
          expect(found.length).toBe(1);
          const key = found.items(0).toType<graphene.SecretKey>();
          expect(() => key.getAttribute({ value: null })).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
          expect(
            key.getAttribute({
              sensitive: null,
              extractable: null,
              neverExtractable: null,
              alwaysSensitive: null,
              token: null,
            }),
          ).toEqual({
            sensitive: true,
            extractable: false,
            neverExtractable: true,
            alwaysSensitive: true,
            token: true,
          });
          const wrapping = session.generateKey(graphene.KeyGenMechanism.AES, {
            class: graphene.ObjectClass.SECRET_KEY,
            keyType: graphene.KeyType.AES,
            valueLen: 32,
            token: false,
            wrap: true,
            extractable: false,
          });
          expect(() => session.wrapKey("AES_KEY_WRAP_PAD", wrapping, key)).toThrow(
            /CKR_KEY_UNEXTRACTABLE|CKR_KEY_NOT_WRAPPABLE/,
          );
        }
      } finally {
        close();
      }
    });

    it("seals and opens inside the token; a tampered blob, another aad or another purpose fails", async () => {
      const p = providers[0]!;
      const sealed = await p.seal("webhook-secret", enc.encode(SECRET), "aad A");
      expect(sealed).toMatch(/^mk1\.1\.[A-Za-z0-9_-]+$/);
      expect(sealed).not.toBe(await p.seal("webhook-secret", enc.encode(SECRET), "aad A"));
      expect(Buffer.from(await p.open("webhook-secret", sealed, "aad A")).toString()).toBe(SECRET);
      const empty = await p.seal("webhook-secret", new Uint8Array(0), "aad A");
      expect((await p.open("webhook-secret", empty, "aad A")).length).toBe(0);
      await expectCode(p.open("webhook-secret", empty, "aad B"), "seal_invalid");

      await expectCode(p.open("webhook-secret", sealed, "aad B"), "seal_invalid");
      await expectCode(p.open("webhook-signing-key", sealed, "aad A"), "seal_invalid");
      const payloadLength = sealed.length - sealed.lastIndexOf(".") - 1;
      for (let i = 0; i < payloadLength; i++)
        await expectCode(p.open("webhook-secret", flipChar(sealed, i), "aad A"), "seal_invalid");
      const payload = sealed.split(".")[2] ?? "";
      for (const bad of ["", "mk1.1", `mk2.1.${payload}`, "mk1.1.AAAA"])
        await expectCode(p.open("webhook-secret", bad, "aad A"), "seal_invalid");
      await expectCode(p.open("webhook-secret", `mk1.9.${payload}`, "aad A"), "key_version_unknown");
      // The token still serves after refusing (a failed C_Decrypt ends its operation).
      expect(Buffer.from(await p.open("webhook-secret", sealed, "aad A")).toString()).toBe(SECRET);
    });

    it("MACs and checks MACs inside the token", async () => {
      const p = providers[0]!;
      const data = enc.encode("audit head 42 ab12");
      const { keyVersion, tag } = await p.mac("audit-head", data);
      expect(keyVersion).toBe(1);
      expect(tag).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(await p.verifyMac("audit-head", data, tag, 1)).toBe(true);
      expect(await p.verifyMac("audit-head", enc.encode("audit head 43 ab12"), tag, 1)).toBe(false);
      expect(await p.verifyMac("webhook-secret", data, tag, 1)).toBe(false);
      expect(await p.verifyMac("audit-head", data, `${tag[0] === "A" ? "B" : "A"}${tag.slice(1)}`, 1)).toBe(false);
      expect(await p.verifyMac("audit-head", data, tag.slice(0, -1), 1)).toBe(false);
      await expectCode(p.verifyMac("audit-head", data, tag, 5), "key_version_unknown");
    });

    // The peer keeps its own PGlite: the database backend plays no part in it, but it runs with each for simplicity.
    // The first command waits for the peer to have started (seconds on a busy machine).
    it("another process on the same token opens what this one sealed, and the other way round", {
      timeout: 120_000,
    }, async () => {
      const p = providers[0]!;
      const sealed = await p.seal("provider-secret", enc.encode(SECRET), "row 1");
      expect(await peer("open", sealed, "row 1")).toBe(SECRET);
      const theirs = await peer("seal", "from the peer", "row 2");
      expect(Buffer.from(await p.open("provider-secret", theirs, "row 2")).toString()).toBe("from the peer");
      await expect(peer("open", sealed, "row 2")).rejects.toThrow(/^seal_invalid: /);
    });

    it("rotates: every instance moves to the new version, old blobs open, versions made elsewhere are found", async () => {
      const p = providers[0]!;
      const q = await open();
      const old = await p.seal("provider-secret", enc.encode("old"), "row");
      const oldMac = await p.mac("audit-head", enc.encode("head"));
      expect(await p.rotate()).toBe(2);
      expect((await p.seal("provider-secret", enc.encode("x"), "row")).startsWith("mk1.2.")).toBe(true);
      await expect.poll(() => q.currentKeyVersion(), { timeout: 5000, interval: 100 }).toBe(2);
      const fromQ = await q.seal("provider-secret", enc.encode("new"), "row");
      expect(fromQ.startsWith("mk1.2.")).toBe(true);
      expect(Buffer.from(await p.open("provider-secret", fromQ, "row")).toString()).toBe("new");
      expect(Buffer.from(await q.open("provider-secret", old, "row")).toString()).toBe("old");
      expect(await q.verifyMac("audit-head", enc.encode("head"), oldMac.tag, 1)).toBe(true);

      if (backend !== "pglite") return; // the rest runs a peer process (see above)
      // A process whose database had no record yet rotates too: it skips past every version in the token.
      expect(await peer("rotate")).toBe("3");
      const v3 = await peer("seal", "made by v3", "row");
      expect(v3.startsWith("mk1.3.")).toBe(true);
      expect(Buffer.from(await p.open("provider-secret", v3, "row")).toString()).toBe("made by v3");
      expect(await p.rotate()).toBe(4); // never reuses 3, although this database recorded only 2
      expect(await p.status()).toMatchObject({ currentKeyVersion: 4, keyVersions: [1, 2, 3, 4] });
    });

    it("never shows the PIN: a wrong one is refused without it, and the settings print it redacted", async () => {
      expect(JSON.stringify(await providers[0]!.status())).not.toContain(token.pin);
      // Login state belongs to the process, not the session: the PIN is checked by the first login, so close all.
      for (const p of providers.splice(0)) await p.close();
      const wrong = await expectCode(
        openPkcs11KeyProvider({ ...token.settings, pin: new Secret("wrong-pin-7731") }, database.db),
        "provider_misconfigured",
      );
      expect(wrong.message).toMatch(/CKR_PIN_INCORRECT/);
      expect(wrong.message).not.toContain("wrong-pin-7731");
      const missing = await expectCode(
        openPkcs11KeyProvider({ ...token.settings, tokenLabel: "no-such-token" }, database.db),
        "provider_misconfigured",
      );
      expect(missing.message).toMatch(/no-such-token/);
      expect(missing.message).not.toContain(token.pin);
      expect(JSON.stringify(token.settings)).not.toContain(token.pin);
    });
  },
);
