/**
 * Breach drill (e) of issue 7: a stolen backup of the pay server, with the KEK where production keeps it — split
 * among custodians (`shamir`) or inside an HSM (`pkcs11`, SoftHSM2 here). The backup is what an operator's backup
 * job holds: a `pg_dump` of the pay database (PostgreSQL) and a copy of the pay server's data folder. On PGlite
 * (no DATABASE_URL) the database lives in that folder, so the folder is the whole backup and is searched as it lies
 * on disk and as the database it restores to.
 *
 * A payer enrolls a card with a personal record, sets a PIN and pays through the wallet SDK against a real issuer
 * host; a merchant has a webhook secret and a v1a endpoint. Then:
 * - no PAN, CVC, PIN, K_srv, K_dev or DEK, nor any secret the provider keeps (OPAQUE server setup, PIN-statement
 *   key, webhook secret, v1a key), nor the KEK's material (shamir: every share, the master key and the keyring's
 *   keys; pkcs11: the token's PIN and any token file) is in the dump, the folder's files or the restored rows, in
 *   any encoding;
 * - the attacker process (support/breach-attacker.ts) given the restored rows and the dump opens no K_srv, no
 *   provider secret and no record, with every value it finds tried as the DEK, as K_dev, as the KEK and as a shamir
 *   master key;
 * - the pay server's own key provider on the restored backup opens nothing either: shamir stays sealed (the shares
 *   are not in it), pkcs11 on the thief's own HSM has no key of the vault;
 * - while the vault's custodians (the shares) or the vault's HSM open every K_srv of the same backup: the control.
 */
import { fork } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { combine } from "shamir-secret-sharing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { combineShares } from "@mpay/crypto";
import type { Card } from "@mpay/wallet";
import { sql } from "drizzle-orm";
import { migrateDatabase, openDatabase, queryRows, type Database } from "../services/pay/src/db/client.ts";
import { openPkcs11KeyProvider, type Pkcs11KeyProvider } from "../services/pay/src/keys/pkcs11/pkcs11-provider.ts";
import { providerSecretAad } from "../services/pay/src/keys/provider-secrets.ts";
import { KeyProviderError, type KeyProvider } from "../services/pay/src/keys/provider.ts";
import { openShamirKeyProvider, type ShamirKeyProvider } from "../services/pay/src/keys/shamir/shamir-provider.ts";
import { openKeyring } from "../services/pay/src/keys/shamir/shamir-store.ts";
import {
  createSoftHsmToken,
  softHsmAvailable,
  type SoftHsmToken,
} from "../services/pay/src/keys/pkcs11/softhsm-fixture.ts";
import { v1aKeyAad } from "../services/pay/src/webhooks/service.ts";
import { kSrvAad } from "../services/pay/src/vault/aad.ts";
import { testBackends, type Backend, type FreshDatabase } from "../services/pay/src/testing/databases.ts";
import { call } from "../services/pay/src/testing/system.ts";
import type { AttackResult } from "./support/breach-attacker.ts";
import { copyFolder, filesAsText, pgDump, restorePgDump } from "./support/backup.ts";
import { CARDS, openBreachNetwork, PIN, type BreachNetwork, type BreachPayer } from "./support/breach-network.ts";
import { cardShareOf, readDeviceStore } from "./support/device-store.ts";
import { dumpRows } from "./support/row-dump.ts";
import { byteEncodings, cvcPatterns, findSecrets, panForms } from "./support/secret-search.ts";
import { dumpDatabase } from "./support/table-dump.ts";

type ProviderKind = "shamir" | "pkcs11";

const ATTACKER = fileURLToPath(new URL("./support/breach-attacker.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CARD = CARDS.sampo;
const HOLDER = "KIM MINJI";
const PROFILE_PHONE = "+821099990000";
const shareBytes = (share: string) =>
  new Uint8Array(Buffer.from(share.slice("mpvs2_".length), "base64url").subarray(8, 41));

// CI installs softhsm2 (.ci/run); a developer machine without it runs the shamir half only.
const PROVIDERS: ProviderKind[] = softHsmAvailable() || process.env["CI"] ? ["shamir", "pkcs11"] : ["shamir"];
const CASES = PROVIDERS.flatMap((provider) => testBackends().map((backend) => [provider, backend] as const));

/** The vault's HSM tokens, one per backend, and the thief's own: made before the library first reads the config. */
const tokens = new Map<string, SoftHsmToken>();
beforeAll(async () => {
  if (!PROVIDERS.includes("pkcs11")) return;
  const first = await createSoftHsmToken("mpay-pglite");
  tokens.set("pglite", first);
  tokens.set("postgres", await createSoftHsmToken("mpay-postgres", first));
  tokens.set("thief", await createSoftHsmToken("thief", first));
  process.env["SOFTHSM2_CONF"] = first.conf;
});
afterAll(async () => {
  for (const token of tokens.values()) await token.remove();
});

/** A bare number would match by chance in binary files; in text it stands alone (not inside a timestamp). */
function pinPatterns(pin: string, bare: boolean): RegExp[] {
  return [
    new RegExp(`"${pin}"`),
    new RegExp(`pin\\W{0,4}${pin}(?![0-9])`, "i"),
    ...(bare ? [new RegExp(`(?<![0-9.])${pin}(?![0-9])`)] : []),
  ];
}

/** Bytes in every text encoding, and as raw bytes (latin1) for the files read from disk. */
const everyForm = (bytes: Uint8Array) => [...byteEncodings(bytes), Buffer.from(bytes).toString("latin1")];

async function runAttacker(folder: string): Promise<AttackResult> {
  const child = fork(ATTACKER, [folder], {
    cwd: ROOT,
    execArgv: ["--import", "tsx"],
    env: { PATH: process.env["PATH"] ?? "" },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`the attacker process exited with ${code}:\n${stderr}`);
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as AttackResult;
}

async function refusal(promise: Promise<unknown>): Promise<KeyProviderError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeyProviderError);
  return error as KeyProviderError;
}

describe.each(CASES)(
  "breach drill (e): a stolen backup, %s provider [%s]",
  (provider: ProviderKind, backend: Backend) => {
    let dir: string;
    let net: BreachNetwork;
    let payer: BreachPayer;
    let card: Card;
    let shares: string[] = [];
    const token = () => tokens.get(backend)!;
    /** The test's own knowledge, to search for: what must not be in the backup. */
    const secrets: Array<{ what: string; needles: Array<string | RegExp>; textOnly?: RegExp[] }> = [];
    let kSrv: Uint8Array;
    let restored: Database | null = null;
    let restoredPg: FreshDatabase | null = null;
    const backupDir = () => join(dir, "backup");

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), `mpay-e2e-backup-${provider}-`));
      const dataDir = join(dir, "pay");
      await mkdir(dataDir, { recursive: true }); // as an operator's MPAY_DATA_DIR exists, even when it stays empty
      net = await openBreachNetwork(backend, {
        issuers: ["sampo"],
        pay: {
          keyProvider: provider,
          dataDir,
          embeddedDatabaseDir: backend === "pglite" ? join(dataDir, "db") : undefined,
          ...(provider === "pkcs11" ? { pkcs11: token().settings } : {}),
        },
        initKeys: async (system) => {
          if (provider === "shamir") shares = (await (system.keys as ShamirKeyProvider).initialize(3, 2)).peek();
          else await (system.keys as Pkcs11KeyProvider).initialize();
        },
      });
      payer = await net.newPayer("Seo Yuna");
      const pending = await payer.wallet.startCardEnrollment(
        { pan: CARD.pan, expiry: CARD.expiry, cvc: CARD.cvc, holderName: HOLDER },
        { profile: { name: HOLDER, phone: PROFILE_PHONE } },
      );
      card = await pending.complete(await net.latestCode(CARD.phone));
      const { payment } = await payer.wallet.approvePayment(await net.newPayment(42000), {
        cardId: card.id,
        pin: PIN,
        confirm: async () => true,
      });
      expect(payment.status).toBe("authorized");
      const endpoint = await call<{ id: string; secret: string }>(
        net.pay.app,
        "POST",
        "/v1/webhook-endpoints",
        net.pay.merchant.secretKey,
        { url: "http://127.0.0.1:9/hook", signatures: ["v1", "v1a"] },
        { "idempotency-key": "backup-endpoint" },
      );
      expect(endpoint.status).toBe(200);

      // What the operator can open with the live vault: every secret that must not be readable from the backup.
      const { system } = net.pay;
      const keys = system.keys;
      const db = system.database.db;
      const [row] = await queryRows<{ wrapped_k_srv: string; kek_version: number }>(
        db,
        sql`select wrapped_k_srv, kek_version from cards where id = ${card.id}`,
      );
      kSrv = await keys.open(
        "vault-k-srv",
        row!.wrapped_k_srv,
        kSrvAad({ id: card.id, payerId: payer.payerId, deviceId: card.deviceId }, Number(row!.kek_version)),
      );
      const kDev = await cardShareOf((await readDeviceStore(payer.storePath, payer.deviceSecret)).records, card.id);
      const opened = async (purpose: Parameters<KeyProvider["open"]>[0], sealed: string, aad: string) =>
        Buffer.from(await keys.open(purpose, sealed, aad));
      const providerSecrets = await queryRows<{ name: string; sealed: string }>(
        db,
        sql`select name, sealed from provider_secrets`,
      );
      // (The shamir provider keeps its audit head key's seed here too: it must outlive a rekey.)
      const expectedSecrets = [
        "issuer-statement-key",
        "opaque-server-setup",
        ...(keys.kind === "shamir" ? ["audit-head-seed"] : []),
      ].sort();
      expect(providerSecrets.map((r) => r.name).sort()).toEqual(expectedSecrets);
      const [endpointRow] = await queryRows<{ v: string }>(
        db,
        sql`select v1a_sealed_private_key as v from webhook_endpoints where id = ${endpoint.body.id}`,
      );
      const v1a = await opened("webhook-signing-key", endpointRow!.v, v1aKeyAad(endpoint.body.id));
      secrets.push(
        { what: "PAN", needles: panForms(CARD.pan) },
        { what: "CVC", needles: cvcPatterns(CARD.cvc) },
        { what: "PIN", needles: pinPatterns(PIN, false), textOnly: pinPatterns(PIN, true) },
        { what: "opened card or profile record", needles: [HOLDER, PROFILE_PHONE] },
        { what: "K_srv", needles: everyForm(kSrv) },
        { what: "K_dev", needles: everyForm(kDev) },
        { what: "DEK", needles: everyForm(combineShares(kDev, kSrv)) },
        {
          what: "webhook secret",
          needles: [net.pay.merchant.webhookSecret, net.pay.merchant.webhookSecret.slice("whsec_".length)],
        },
        {
          what: "webhook endpoint secret",
          needles: [endpoint.body.secret, endpoint.body.secret.slice("whsec_".length)],
        },
        { what: "v1a private key", needles: [v1a.toString("utf8"), ...everyForm(v1a)] },
      );
      for (const secret of providerSecrets) {
        const plain = await opened("provider-secret", secret.sealed, providerSecretAad(secret.name));
        secrets.push({
          what: `provider secret ${secret.name}`,
          needles: [plain.toString("utf8"), ...everyForm(plain)],
        });
      }
      if (provider === "shamir") {
        const master = Buffer.from(await combine(shares.slice(0, 2).map(shareBytes)));
        secrets.push(
          {
            what: "custodian shares",
            needles: shares.flatMap((s) => [s, s.slice(6, 40), ...everyForm(shareBytes(s))]),
          },
          { what: "master key", needles: everyForm(master) },
        );
        for (const [version, key] of await openKeyring(db, master, 1))
          secrets.push({ what: `keyring key v${version}`, needles: everyForm(key) });
      } else {
        secrets.push({ what: "HSM token PIN", needles: [token().pin] });
      }
    });

    afterAll(async () => {
      await restored?.close();
      await restoredPg?.drop();
      await net?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("the backup (pg_dump and the data folder) holds the vault but no PAN, PIN, share of a card, provider secret or KEK material", async () => {
      await mkdir(backupDir(), { recursive: true });
      const dataDir = net.pay.config.dataDir;
      if (backend === "postgres") {
        await pgDump(net.pay.config.databaseUrl!, join(backupDir(), "pay.sql"));
      } else {
        await net.pay.close(); // PGlite keeps one process per folder: stop it, as a consistent copy needs
      }
      await copyFolder(dataDir, join(backupDir(), "data"));

      // Restore it, as its thief would: psql for the dump; a copy of the folder opened with PGlite.
      let rowsAt: { url: string } | { pgliteDir: string };
      if (backend === "postgres") {
        restoredPg = await restorePgDump(join(backupDir(), "pay.sql"));
        rowsAt = { url: restoredPg.url! };
      } else {
        const copy = join(dir, "restored");
        await copyFolder(join(backupDir(), "data", "db"), copy);
        rowsAt = { pgliteDir: copy };
      }
      const rows = await dumpRows(rowsAt);
      const text = await dumpDatabase(rowsAt);

      // The search has something to look at: the vault is in the backup, sealed.
      const table = (name: string) => rows.filter((r) => r.table === `public.${name}`).map((r) => r.row);
      expect(
        table("cards").map((r) => [
          String(r["sealed_card"]).slice(0, 3),
          String(r["sealed_profile"]).slice(0, 3),
          String(r["wrapped_k_srv"]).slice(0, 4),
        ]),
      ).toEqual([["r1.", "r1.", "mk1."]]);
      expect(table("provider_secrets").every((r) => String(r["sealed"]).startsWith("mk1."))).toBe(true);
      expect(table("payer_pins")).toHaveLength(1); // the OPAQUE record: useless without the OPRF key the provider keeps
      expect(table("vault_custody")).toHaveLength(provider === "shamir" ? 1 : 0);
      const files = await filesAsText(join(backupDir(), "data"));
      if (backend === "pglite") expect(files.length).toBeGreaterThan(100);
      // No key file and no token object came with the folder (SoftHSM2 keeps its tokens as *.object files).
      expect(files.filter((f) => /dev-keys\.json$|\.object$|softhsm/i.test(f.where))).toEqual([]);

      const binary = files.map((f) => ({ where: `data/${f.where}`, text: f.text }));
      const texts = [...text.map((r) => ({ where: `restored ${r.table}`, text: r.text }))];
      if (backend === "postgres")
        texts.push(
          ...(await filesAsText(backupDir()))
            .filter((f) => f.where === "pay.sql")
            .map((f) => ({ where: f.where, text: f.text })),
        );
      expect(texts.length).toBeGreaterThan(20);
      const found = [
        ...findSecrets(
          binary,
          secrets.map(({ what, needles }) => ({ what, needles })),
        ),
        ...findSecrets(
          texts,
          secrets.map(({ what, needles, textOnly }) => ({ what, needles: [...needles, ...(textOnly ?? [])] })),
        ),
      ];
      expect(found).toEqual([]);
      // The control: a value the backup does hold (the sealed card record) is found by the same search, in the files
      // on disk (PGlite's pages; the pg_dump) and in the restored rows.
      const sealedCard = String(table("cards")[0]!["sealed_card"]);
      const holds = (places: Array<{ where: string; text: string }>) =>
        findSecrets(places, [{ what: "sealed card", needles: [sealedCard] }]).length > 0;
      expect(holds(backend === "postgres" ? texts.filter((t) => t.where === "pay.sql") : binary)).toBe(true);
      expect(holds(texts.filter((t) => t.where.startsWith("restored")))).toBe(true);

      // For the attacker: the rows, the dump, and the folder's own files (PGlite's database is given as its rows).
      const attacker = join(dir, "attacker");
      await mkdir(attacker, { recursive: true });
      await writeFile(join(attacker, "dump.json"), JSON.stringify(rows));
      if (backend === "postgres") await copyFile(join(backupDir(), "pay.sql"), join(attacker, "pay.sql"));
      for (const entry of await readdir(join(backupDir(), "data"), { withFileTypes: true })) {
        if (entry.isFile()) await copyFile(join(backupDir(), "data", entry.name), join(attacker, `data-${entry.name}`));
      }
    });

    it("an attacker with the backup opens no K_srv, no provider secret and no record, with any value it holds as DEK, K_dev, KEK or master key", async () => {
      const result = await runAttacker(join(dir, "attacker"));
      expect(result.records).toBe(2); // the card and the profile record were there to attack
      expect(result.candidates).toBeGreaterThan(5);
      expect(result.kekCandidates).toBe(result.candidates);
      expect(result.trials).toBeGreaterThan(result.candidates);
      expect(result.kSrvUnwrapped).toBe(0);
      expect(result.otherSecretsUnwrapped).toBe(0);
      expect(result.kekHits).toBe(0);
      expect(result.opened).toEqual([]);

      // The control, where the KEK material can be handed over at all (an HSM's key cannot: the next test opens the
      // backup with the vault's HSM instead): given the master key as well, the same attacker unwraps the K_srv.
      if (provider === "shamir") {
        const control = join(dir, "attacker-control");
        await copyFolder(join(dir, "attacker"), control);
        const master = Buffer.from(await combine(shares.slice(0, 2).map(shareBytes)));
        await writeFile(join(control, "custodians-master-key.txt"), master.toString("base64url"));
        const opened = await runAttacker(control);
        expect(opened.kSrvUnwrapped).toBe(1);
        expect(opened.kekHits).toBeGreaterThan(0);
      }
    });

    it("the pay server's own key provider opens nothing on the restored backup without the custodians or the vault's HSM; with them it does", async () => {
      if (backend === "postgres") await net.pay.close(); // the server is gone; only the backup is left
      const database = await openDatabase(restoredPg ? { url: restoredPg.url } : { dataDir: join(dir, "restored") });
      restored = database;
      await migrateDatabase(database);
      const [row] = await queryRows<{ wrapped_k_srv: string; kek_version: number }>(
        database.db,
        sql`select wrapped_k_srv, kek_version from cards`,
      );
      if (!row) throw new Error("the restored backup has no card");
      const aad = kSrvAad({ id: card.id, payerId: payer.payerId, deviceId: card.deviceId }, Number(row.kek_version));

      if (provider === "shamir") {
        const thief = await openShamirKeyProvider(database.db);
        try {
          expect(thief.isSealed()).toBe(true);
          expect((await refusal(thief.open("vault-k-srv", row.wrapped_k_srv, aad))).code).toBe("vault_sealed");
        } finally {
          await thief.close();
        }
        // The control: the custodians' shares (not in the backup) open it.
        const owner = await openShamirKeyProvider(database.db);
        try {
          for (const share of shares.slice(1, 3)) await owner.unsealer.submitShare(share);
          expect(Buffer.from(await owner.open("vault-k-srv", row.wrapped_k_srv, aad)).equals(Buffer.from(kSrv))).toBe(
            true,
          );
        } finally {
          await owner.close();
        }
      } else {
        // The thief's own HSM (the vault's HSM is not in a backup): it holds no key of the vault, so the provider
        // counts itself sealed (the version the restored rows record is not in the token) and opens nothing.
        const thief = await openPkcs11KeyProvider(tokens.get("thief")!.settings, database.db);
        try {
          expect(thief.isSealed()).toBe(true);
          const refused = await refusal(thief.open("vault-k-srv", row.wrapped_k_srv, aad));
          expect(refused.code).toBe("vault_sealed");
          expect(refused.message).not.toContain(token().pin);
        } finally {
          await thief.close();
        }
        const owner = await openPkcs11KeyProvider(token().settings, database.db);
        try {
          expect(Buffer.from(await owner.open("vault-k-srv", row.wrapped_k_srv, aad)).equals(Buffer.from(kSrv))).toBe(
            true,
          );
        } finally {
          await owner.close();
        }
      }
    });
  },
);
