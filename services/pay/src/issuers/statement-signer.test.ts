/**
 * The pay server's PIN statements carry the card network's certificate of the key that signed them (issue 7, hole
 * 6): without an installed certificate nothing is signed; a certificate is installed only for a key of this server
 * and only while valid; a rotated key signs only once certified, and the old one until then (two certificates
 * during a rollover); an expired certificate is never carried.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  calculateJwkThumbprint,
  compactVerify,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
} from "jose";
import { signStatementKeyCertificate, verifyStatementKeyCertificate, type NetworkRoot } from "@mpay/crypto";
import { JOSE_TYPES, STATEMENT_KEY_CERTIFICATE_HEADER, pinStatementSchema } from "@mpay/protocol";
import { TestClock } from "@mpay/service-kit";
import { testBackends } from "../testing/databases.ts";
import { certifyStatementKey, type RootSigner } from "../testing/statement-key.ts";
import { openTestPay, type TestPay } from "../testing/system.ts";
import { ApiError } from "../http/errors.ts";
import { warnIfStatementKeyUncertified } from "../server.ts";

const isApiError = (error: unknown, code: string) => error instanceof ApiError && error.code === code;

async function newRoot(): Promise<{ signer: RootSigner; root: NetworkRoot }> {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const { x, y } = await exportJWK(publicKey);
  const jwk = { kty: "EC" as const, crv: "P-256" as const, x: x!, y: y! };
  const kid = await calculateJwkThumbprint(jwk);
  return { signer: { kid, privateKey }, root: { kid, jwk, name: "Test Root" } };
}

const claims = (now: number) => ({
  aud: "sampo",
  paymentId: "pay_1",
  challengeId: "apc_1",
  termsHash: "A".repeat(43),
  deviceKid: "device-kid",
  iat: now,
  exp: now + 120,
});

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail("expected a refusal"),
    (error: unknown) => error,
  );
}

describe.each(testBackends())("PIN statements under a certified key [%s]", (backend) => {
  let pay: TestPay;
  let clock: TestClock;
  let network: Awaited<ReturnType<typeof newRoot>>;

  beforeAll(async () => {
    clock = new TestClock();
    pay = await openTestPay(backend, { clock });
    network = await newRoot();
  });
  afterAll(() => pay?.close());

  const signer = () => pay.system.statementSigner;

  it("signs nothing before the key is certified, and installs only a certificate of its own key, valid now", async () => {
    expect(
      isApiError(await refusal(signer().signPinStatement(claims(clock.seconds()))), "statement_key_not_certified"),
    ).toBe(true);
    await warnIfStatementKeyUncertified(pay.system);
    expect(
      pay.logLines.filter((line) => line.includes("no PIN-statement key holds a valid card-network certificate")),
    ).toHaveLength(1);
    const { keys, signingKid } = await signer().status();
    expect([keys.length, signingKid]).toEqual([1, null]);
    const key = keys[0]!;
    const now = clock.seconds();
    const other = await generateKeyPair("ES256", { extractable: true });
    const otherJwk = await exportJWK(other.publicKey);
    const foreign = { kty: "EC" as const, crv: "P-256" as const, x: otherJwk.x!, y: otherJwk.y! };
    const bad: Array<[string, string]> = [
      ["junk", "not-a-certificate"],
      [
        "another key",
        await signStatementKeyCertificate(
          {
            acquirerId: "mpay",
            jwk: foreign,
            kid: await calculateJwkThumbprint(foreign),
            nbf: now - 10,
            exp: now + 3600,
          },
          network.signer.privateKey,
          network.signer.kid,
        ),
      ],
      [
        "our kid on another key",
        await signStatementKeyCertificate(
          { acquirerId: "mpay", jwk: foreign, kid: key.kid, nbf: now - 10, exp: now + 3600 },
          network.signer.privateKey,
          network.signer.kid,
        ),
      ],
      [
        "expired",
        await signStatementKeyCertificate(
          { acquirerId: "mpay", jwk: key.jwk, kid: key.kid, nbf: now - 7200, exp: now - 3600 },
          network.signer.privateKey,
          network.signer.kid,
        ),
      ],
    ];
    for (const [what, certificate] of bad) {
      const error = await refusal(signer().install(certificate));
      expect(isApiError(error, "statement_key_certificate_invalid"), `${what}: ${String(error)}`).toBe(true);
    }
    expect((await signer().status()).keys[0]!.certificates).toEqual([]);
  });

  it("carries the certificate in every statement's header: an issuer verifies it against its roots, then the statement", async () => {
    const certificate = await certifyStatementKey(pay.system, network.signer);
    const warned = pay.logLines.length;
    await warnIfStatementKeyUncertified(pay.system);
    expect(pay.logLines.length).toBe(warned);
    const statement = await signer().signPinStatement(claims(clock.seconds()));
    const header = decodeProtectedHeader(statement) as Record<string, unknown>;
    expect(header).toMatchObject({
      alg: "ES256",
      typ: JOSE_TYPES.pinStatement,
      [STATEMENT_KEY_CERTIFICATE_HEADER]: certificate,
    });
    // The header jose's CompactSign wrote before node:crypto signed it (issue 11), member for member and in order.
    expect(Object.keys(header)).toEqual(["alg", "typ", "kid", STATEMENT_KEY_CERTIFICATE_HEADER]);
    const certified = await verifyStatementKeyCertificate(
      String(header[STATEMENT_KEY_CERTIFICATE_HEADER]),
      [network.root],
      clock.seconds(),
    );
    expect(certified).toMatchObject({ acquirerId: "mpay", kid: header["kid"] });
    const { payload } = await compactVerify(statement, await importJWK(certified.jwk, "ES256"), {
      algorithms: ["ES256"],
    });
    expect(pinStatementSchema.parse(JSON.parse(new TextDecoder().decode(payload)))).toMatchObject({
      method: "pin",
      aud: "sampo",
      iss: pay.config.publicUrl,
    });
    // Installing the same certificate again changes nothing.
    await signer().install(certificate);
    expect((await signer().status()).keys[0]!.certificates).toHaveLength(1);
  });

  it("rotates without a gap: the old key signs until the new one is certified, then the new one", async () => {
    const before = await signer().status();
    const oldKid = before.signingKid!;
    const rotated = await signer().rotate();
    expect(rotated.kid).not.toBe(oldKid);
    expect(decodeProtectedHeader(await signer().signPinStatement(claims(clock.seconds()))).kid).toBe(oldKid);
    await certifyStatementKey(pay.system, network.signer);
    const during = await signer().status();
    expect(during.signingKid).toBe(rotated.kid);
    expect(during.keys.map((k) => [k.generation, k.certificates.filter((c) => c.validNow).length])).toEqual([
      [1, 1],
      [2, 1],
    ]);
    expect(decodeProtectedHeader(await signer().signPinStatement(claims(clock.seconds()))).kid).toBe(rotated.kid);
    expect((await signer().jwks()).keys.map((k) => k.kid)).toEqual([oldKid, rotated.kid]);
  });

  it("never carries an expired certificate: past every certificate's end it signs nothing", async () => {
    clock.advance(31 * 24 * 3600); // past the test certificates' 30 days
    expect(
      isApiError(await refusal(signer().signPinStatement(claims(clock.seconds()))), "statement_key_not_certified"),
    ).toBe(true);
    clock.advance(-31 * 24 * 3600);
  });
});
