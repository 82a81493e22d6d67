import { sign } from "node:crypto";
import { calculateJwkThumbprint, CompactSign } from "jose";
import { describe, expect, it } from "vitest";
import type { AuditHeadPayload, AuditPublicJwk } from "@mpay/protocol";
import { AuditHeadError, unsignedAuditHead, verifyAuditHead } from "./audit-head.ts";
import { freshP256 } from "./fresh-key-pair.ts";

const HEAD: AuditHeadPayload = { chain: "main", size: 7, hash: "ab".repeat(32), timestamp: "2026-03-01T10:00:00.000Z" };

async function auditKey() {
  // Not generateKeyPairSync + JWK export: that pair can deadlock Node 20 (issue 11, fresh-key-pair.ts).
  const { privateKey, publicJwk } = freshP256();
  const { kty, crv, x, y } = publicJwk;
  const jwk: AuditPublicJwk = {
    kty,
    crv,
    x,
    y,
    kid: await calculateJwkThumbprint({ kty, crv, x, y }, "sha256"),
    alg: "ES256",
    use: "sig",
  };
  const signHead = (payload: AuditHeadPayload, kid = jwk.kid) => {
    const unsigned = unsignedAuditHead(payload, kid);
    return unsigned.withSignature(
      sign("sha256", unsigned.signingInput, { key: privateKey, dsaEncoding: "ieee-p1363" }),
    );
  };
  return { privateKey, jwk, signHead };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuditHeadError);
  return (error as AuditHeadError).code;
}

describe("signed audit heads", () => {
  it("verify with the public key alone and state size, hash, time and key", async () => {
    const { jwk, signHead } = await auditKey();
    const jws = signHead(HEAD);
    expect(await verifyAuditHead(jws, [jwk])).toEqual({ payload: HEAD, kid: jwk.kid });
    const [header] = jws.split(".");
    expect(JSON.parse(Buffer.from(header!, "base64url").toString())).toEqual({
      alg: "ES256",
      kid: jwk.kid,
      typ: "mpay-audit-head+jws",
    });
  });

  it("refuse a changed payload, another key, another typ or algorithm, and a payload that is not a head", async () => {
    const { privateKey, jwk, signHead } = await auditKey();
    const jws = signHead(HEAD);
    const [header, , signature] = jws.split(".");
    const otherPayload = Buffer.from(JSON.stringify({ ...HEAD, size: 6 })).toString("base64url");
    expect(await refusal(verifyAuditHead(`${header}.${otherPayload}.${signature}`, [jwk]))).toBe("audit_head_invalid");

    const other = await auditKey();
    expect(await refusal(verifyAuditHead(jws, [other.jwk]))).toBe("audit_head_unknown_key");
    // Another key that claims this kid does not verify either.
    expect(await refusal(verifyAuditHead(jws, [{ ...other.jwk, kid: jwk.kid }]))).toBe("audit_head_invalid");

    const payload = new TextEncoder().encode(JSON.stringify(HEAD));
    const wrongTyp = await new CompactSign(payload)
      .setProtectedHeader({ alg: "ES256", kid: jwk.kid, typ: "mpay-pin-statement+jws" })
      .sign(privateKey);
    expect(await refusal(verifyAuditHead(wrongTyp, [jwk]))).toBe("audit_head_invalid");
    const none = `${Buffer.from(JSON.stringify({ alg: "none", kid: jwk.kid, typ: "mpay-audit-head+jws" })).toString("base64url")}.${Buffer.from(payload).toString("base64url")}.`;
    expect(await refusal(verifyAuditHead(none, [jwk]))).toBe("audit_head_invalid");
    const notAHead = await new CompactSign(new TextEncoder().encode('{"size":-1}'))
      .setProtectedHeader({ alg: "ES256", kid: jwk.kid, typ: "mpay-audit-head+jws" })
      .sign(privateKey);
    expect(await refusal(verifyAuditHead(notAHead, [jwk]))).toBe("audit_head_invalid");
    expect(await refusal(verifyAuditHead("not a jws", [jwk]))).toBe("audit_head_invalid");
  });

  it("refuse to build a head that is not one", () => {
    expect(() => unsignedAuditHead({ ...HEAD, hash: "xyz" }, "kid")).toThrow();
    expect(() => unsignedAuditHead(HEAD, "kid").withSignature(new Uint8Array(70))).toThrow(/64 bytes/);
  });
});
