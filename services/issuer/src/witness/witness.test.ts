/**
 * The issuer as the witness of the pay server's audit log, over real HTTP: it pins the key with the first head,
 * keeps every head it accepts, refuses a head that shrinks the log or changes the hash at a size it holds, and
 * serves what it holds to anyone.
 */
import { sign } from "node:crypto";
import { sql } from "drizzle-orm";
import { calculateJwkThumbprint } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshP256 } from "@mpay/crypto/fresh-key-pair";
import { unsignedAuditHead, verifyAuditHead } from "@mpay/crypto";
import { witnessedHeadsSchema, type AuditHeadPayload, type AuditPublicJwk } from "@mpay/protocol";
import { openTestHost, testBackends, type TestHost } from "../testing/host.ts";

const PATH = "/issuers/sampo/audit-heads";
const hashOf = (n: number) => n.toString(16).padStart(64, "0");

interface AuditSigner {
  jwk: AuditPublicJwk;
  head(size: number, hash?: string): string;
}

async function auditSigner(): Promise<AuditSigner> {
  // Not generateKeyPairSync + JWK export: that pair can deadlock Node 20 (issue 11, @mpay/crypto/fresh-key-pair).
  const { privateKey, publicJwk } = freshP256();
  const { kty, crv, x, y } = publicJwk;
  const jwk: AuditPublicJwk = { kty, crv, x, y, kid: await calculateJwkThumbprint({ kty, crv, x, y }, "sha256") };
  return {
    jwk,
    head(size, hash = hashOf(size)) {
      const payload: AuditHeadPayload = { chain: "main", size, hash, timestamp: new Date().toISOString() };
      const unsigned = unsignedAuditHead(payload, jwk.kid);
      return unsigned.withSignature(
        sign("sha256", unsigned.signingInput, { key: privateKey, dsaEncoding: "ieee-p1363" }),
      );
    },
  };
}

describe.each(testBackends())("the issuer as audit witness [%s]", (backend) => {
  let host: TestHost;
  let pay: AuditSigner;
  const submit = (head: string, key: AuditPublicJwk = pay.jwk, secret?: string | null) =>
    host.acquirer<Record<string, unknown>>("POST", PATH, { head, key }, secret);
  const held = async () => witnessedHeadsSchema.parse((await host.get(PATH)).body);

  beforeAll(async () => {
    host = await openTestHost(backend, { issuers: ["sampo", "kstar"] });
    pay = await auditSigner();
  });
  afterAll(async () => {
    await host?.close();
  });

  it("holds nothing at first, and takes heads only over the acquirer link", async () => {
    expect(await held()).toEqual({ key: null, heads: [] });
    expect((await submit(pay.head(1), pay.jwk, null)).status).toBe(401);
    expect((await submit(pay.head(1), pay.jwk, "wrong-secret-wrong-secret-wrong-secret")).status).toBe(401);
    expect(await held()).toEqual({ key: null, heads: [] });
  });

  it("pins the key with the first head and keeps every head it accepts, which anyone can read and verify", async () => {
    expect((await submit(pay.head(2))).body).toEqual({ accepted: true, size: 2, newHead: true });
    expect((await submit(pay.head(5))).body).toEqual({ accepted: true, size: 5, newHead: true });
    const again = pay.head(5); // signed anew (ECDSA differs), same size and hash: nothing new
    expect((await submit(again)).body).toEqual({ accepted: true, size: 5, newHead: false });
    const kept = await held();
    expect(kept.key).toEqual({ ...pay.jwk });
    expect(
      await Promise.all(kept.heads.map(async (h) => (await verifyAuditHead(h.head, [pay.jwk])).payload.size)),
    ).toEqual([2, 5]);
    // Each issuer is a witness of its own: kstar holds nothing.
    expect((await host.get("/issuers/kstar/audit-heads")).body).toEqual({ key: null, heads: [] });
  });

  it("refuses a head that shrinks the log or changes it at a size it holds, and keeps what it had", async () => {
    const before = await held();
    const shrunk = await submit(pay.head(4));
    expect(shrunk.status).toBe(409);
    expect(shrunk.body).toMatchObject({ error: { code: "audit_head_shrunk" } });
    expect((await submit(pay.head(2))).body).toMatchObject({ error: { code: "audit_head_shrunk" } }); // held before, but no longer the newest
    const forked = await submit(pay.head(5, hashOf(55)));
    expect(forked.status).toBe(409);
    expect(forked.body).toMatchObject({ error: { code: "audit_head_forked" } });
    expect(await held()).toEqual(before);
    expect(host.logLines.join("\n")).toMatch(/audit head refused/);
  });

  it("refuses a head under another key, one that does not verify, and a mislabelled key, changing nothing", async () => {
    const before = await held();
    const other = await auditSigner();
    const changed = await submit(other.head(9), other.jwk);
    expect(changed.status).toBe(409);
    expect(changed.body).toMatchObject({ error: { code: "audit_key_changed" } });
    const [header, payload] = pay.head(9).split(".");
    expect((await submit(`${header}.${payload}.${"A".repeat(86)}`)).body).toMatchObject({
      error: { code: "audit_head_invalid" },
    });
    expect((await submit(pay.head(9), { ...pay.jwk, kid: other.jwk.kid })).body).toMatchObject({
      error: { code: "audit_head_invalid" },
    });
    expect((await submit("not-a-jws")).body).toMatchObject({ error: { code: "request_invalid" } });
    expect((await host.acquirer("POST", PATH, { head: pay.head(9), key: pay.jwk, extra: 1 })).body).toMatchObject({
      error: { code: "request_invalid" },
    });
    expect(await held()).toEqual(before);
  });

  it("never forgets: the tables refuse updates and deletes", async () => {
    const db = host.server.host.get("sampo").db;
    const failure = (statement: ReturnType<typeof sql>) =>
      db.execute(statement).then(
        () => "succeeded",
        (e: Error & { cause?: Error }) => e.cause?.message ?? e.message,
      );
    expect(await failure(sql`delete from witnessed_audit_heads`)).toMatch(/append-only/);
    expect(await failure(sql`update witness_audit_keys set kid = 'x'`)).toMatch(/append-only/);
  });
});
