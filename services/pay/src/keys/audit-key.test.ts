import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as graphene from "graphene-pk11";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateDatabase, openDatabase, type Database } from "../db/client.ts";
import { freshDatabase, testBackends, type FreshDatabase } from "../testing/databases.ts";
import { expectAuditSigning } from "./audit-key.case.ts";
import { openDevKeyProvider } from "./dev/dev-provider.ts";
import { AUDIT_KEY_LABEL } from "./pkcs11/pkcs11-audit-key.ts";
import { openPkcs11KeyProvider, type Pkcs11KeyProvider } from "./pkcs11/pkcs11-provider.ts";
import { openTokenSession } from "./pkcs11/pkcs11-token.ts";
import { KeyProviderError, type KeyProvider } from "./provider.ts";
import { openShamirKeyProvider } from "./shamir/shamir-provider.ts";
import { dumpTables } from "../testing/pay-process.ts";
import { createSoftHsmToken, softHsmAvailable, type SoftHsmToken } from "./pkcs11/softhsm-fixture.ts";

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeyProviderError);
  expect((error as KeyProviderError).code).toBe(code);
}

describe("audit head key: dev provider", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mpay-audit-key-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("signs with a key derived from the key file: the same after a rotation and a restart, another for another file", async () => {
    const file = join(dir, "dev-keys.json");
    const first = await openDevKeyProvider({ keyFile: file, log: () => undefined });
    const jwk = await expectAuditSigning(first);
    await first.rotate();
    expect(await first.auditPublicKey()).toEqual(jwk);
    await first.close();
    await expectCode(first.signAuditHead(new Uint8Array(1)), "vault_sealed");
    await expectCode(first.auditPublicKey(), "vault_sealed");

    const restarted = await openDevKeyProvider({ keyFile: file, log: () => undefined });
    expect(await expectAuditSigning(restarted)).toEqual(jwk);
    // The key file holds master keys only; the signing key is derived, never written down.
    expect(await readFile(file, "utf8")).not.toContain(jwk.x);
    await restarted.close();

    const other = await openDevKeyProvider({ keyFile: join(dir, "other.json"), log: () => undefined });
    expect((await other.auditPublicKey()).kid).not.toBe(jwk.kid);
    await other.close();
  });
});

describe.each(testBackends())("audit head key: shamir provider [%s]", (backend) => {
  let fresh: FreshDatabase;
  let database: Database;
  const providers: KeyProvider[] = [];
  beforeAll(async () => {
    fresh = await freshDatabase(backend);
    database = await openDatabase({ url: fresh.url });
    await migrateDatabase(database);
  });
  afterAll(async () => {
    for (const p of providers.splice(0)) await p.close();
    await database.close();
    await fresh.drop();
  });

  it("signs only once unsealed, with the same key in every process, after a rotation too; no table holds it", async () => {
    const a = await openShamirKeyProvider(database.db);
    providers.push(a);
    await expectCode(a.auditPublicKey(), "vault_not_initialized");
    const shares = (await a.initialize(3, 2)).peek();
    const jwk = await expectAuditSigning(a);

    const b = await openShamirKeyProvider(database.db);
    providers.push(b);
    await expectCode(b.signAuditHead(new Uint8Array(1)), "vault_sealed");
    await expectCode(b.auditPublicKey(), "vault_sealed");
    for (const share of shares.slice(1)) await b.unsealer.submitShare(share);
    expect(await expectAuditSigning(b)).toEqual(jwk);
    await b.rotate();
    expect(await b.auditPublicKey()).toEqual(jwk);
    // Only the public key may appear anywhere, and it appears nowhere in the tables either (nothing stores it).
    expect((await dumpTables(database.db)).join("\n")).not.toContain(jwk.x);
  });
});

// CI installs softhsm2 (.ci/run): there these tests must run; a developer machine without it skips them.
describe.skipIf(!softHsmAvailable() && !process.env["CI"]).each(testBackends())(
  "audit head key: pkcs11 provider on SoftHSM2 [%s]",
  (backend) => {
    let token: SoftHsmToken;
    let fresh: FreshDatabase;
    let database: Database;
    const providers: Pkcs11KeyProvider[] = [];
    const open = async () => {
      const p = await openPkcs11KeyProvider(token.settings, database.db);
      providers.push(p);
      return p;
    };
    beforeAll(async () => {
      token = await createSoftHsmToken(`mpay-audit-${backend}`);
      process.env["SOFTHSM2_CONF"] = token.conf; // read at C_Initialize: each test file runs in its own process
      fresh = await freshDatabase(backend);
      database = await openDatabase({ url: fresh.url });
      await migrateDatabase(database);
    });
    afterAll(async () => {
      for (const p of providers.splice(0)) await p.close();
      await database.close();
      await fresh.drop();
      await token.remove();
    });

    it("has no audit key before `vault init`, which makes one pair in the token; every instance signs with it", async () => {
      const p = await open();
      await expectCode(p.auditPublicKey(), "vault_not_initialized");
      await expectCode(p.signAuditHead(new Uint8Array(1)), "vault_not_initialized");
      await p.initialize();
      const jwk = await expectAuditSigning(p);
      expect(await p.rotate()).toBe(2);
      expect(await p.auditPublicKey()).toEqual(jwk);
      const q = await open();
      expect(await expectAuditSigning(q)).toEqual(jwk);
    });

    it("keeps the private key sensitive and non-extractable inside the token", () => {
      const { session, close } = openTokenSession(token.settings);
      try {
        const found = session.find({ class: graphene.ObjectClass.PRIVATE_KEY, label: AUDIT_KEY_LABEL });
        expect(found.length).toBe(1);
        const key = found.items(0).toType<graphene.PrivateKey>();
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
      } finally {
        close();
      }
    });

    it("gives a token initialized before heads were signed exactly one key pair, however many processes open it", async () => {
      for (const p of providers.splice(0)) await p.close();
      const { session, close } = openTokenSession(token.settings);
      try {
        for (const kind of [graphene.ObjectClass.PRIVATE_KEY, graphene.ObjectClass.PUBLIC_KEY])
          session.find({ class: kind, label: AUDIT_KEY_LABEL }).items(0).destroy();
      } finally {
        close();
      }
      const [a, b, c] = await Promise.all([open(), open(), open()]);
      const jwk = await expectAuditSigning(a!);
      expect(await b!.auditPublicKey()).toEqual(jwk);
      expect(await c!.auditPublicKey()).toEqual(jwk);
      const { session: check, close: done } = openTokenSession(token.settings);
      try {
        expect(check.find({ class: graphene.ObjectClass.PRIVATE_KEY, label: AUDIT_KEY_LABEL }).length).toBe(1);
        expect(check.find({ class: graphene.ObjectClass.PUBLIC_KEY, label: AUDIT_KEY_LABEL }).length).toBe(1);
      } finally {
        done();
      }
    });
  },
);
