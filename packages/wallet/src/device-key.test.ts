import "fake-indexeddb/auto";
import { createHash, createPublicKey, verify as nodeVerify } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canonicalTerms, termsBytes, type ApprovalTerms } from "@mpay/protocol";
import { compactVerify, decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createDeviceKey,
  deviceKeyId,
  loadDeviceKey,
  signStatement,
  signTerms,
  type DeviceKey,
  type DevicePublicJwk,
} from "./device-key.ts";
import { isWalletError } from "./errors.ts";
import { FileKeyStore } from "./file-key-store.ts";
import { IndexedDbKeyStore } from "./indexed-db-key-store.ts";

const now = Math.floor(Date.now() / 1000);
const terms: ApprovalTerms = {
  aud: "issuer-kb",
  cardRef: "card_1",
  paymentId: "pay_01",
  merchantId: "mch_01",
  merchantName: "Demo Mall",
  amount: 35000,
  currency: "KRW",
  captureMethod: "automatic",
  nonce: "AAAAAAAAAAAAAAAAAAAAAA",
  iat: now,
  exp: now + 300,
};

/** Independent check with node:crypto, not jose: RFC 7638 thumbprint and the ES256 signature (r||s). */
function nodeThumbprint(jwk: DevicePublicJwk): string {
  return createHash("sha256")
    .update(`{"crv":"${jwk.crv}","kty":"${jwk.kty}","x":"${jwk.x}","y":"${jwk.y}"}`)
    .digest("base64url");
}
function nodeVerifies(jws: string, jwk: DevicePublicJwk): boolean {
  const [header = "", payload = "", signature = ""] = jws.split(".");
  const key = createPublicKey({ key: { ...jwk }, format: "jwk" });
  return nodeVerify(
    "sha256",
    Buffer.from(`${header}.${payload}`),
    { key, dsaEncoding: "ieee-p1363" },
    Buffer.from(signature, "base64url"),
  );
}
function payloadOf(jws: string): Buffer {
  return Buffer.from(jws.split(".")[1] ?? "", "base64url");
}

let device: DeviceKey;
let folder = "";
beforeAll(async () => {
  device = await createDeviceKey(new IndexedDbKeyStore({ databaseName: "device-key-test" }));
  folder = await mkdtemp(join(tmpdir(), "mpay-device-key-"));
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe("device key", () => {
  it("is an ECDSA P-256 pair whose private key is non-extractable, named by its RFC 7638 thumbprint", async () => {
    expect(device.privateKey.extractable).toBe(false);
    expect(device.privateKey.usages).toEqual(["sign"]);
    await expect(crypto.subtle.exportKey("jwk", device.privateKey)).rejects.toThrow();
    expect(Object.keys(device.publicJwk).sort()).toEqual(["crv", "kty", "x", "y"]);
    expect(device.kid).toBe(nodeThumbprint(device.publicJwk));
    expect(await deviceKeyId(device.publicJwk)).toBe(device.kid);
  });

  it("is kept by the browser store, loads again, and is never replaced by accident", async () => {
    const store = new IndexedDbKeyStore({ databaseName: "device-key-test" });
    expect((await loadDeviceKey(store))?.kid).toBe(device.kid);
    await expect(createDeviceKey(store)).rejects.toSatisfy((e) => isWalletError(e, "device_key_exists"));
    expect(await loadDeviceKey(new IndexedDbKeyStore({ databaseName: "device-key-empty" }))).toBeUndefined();
  });

  it("comes back non-extractable from the file store too, across a restart", async () => {
    const path = join(folder, "keys.json");
    const secret = FileKeyStore.newDeviceSecret();
    const made = await createDeviceKey(new FileKeyStore(path, secret));
    expect(made.privateKey.extractable).toBe(false);
    const loaded = await loadDeviceKey(new FileKeyStore(path, secret));
    expect(loaded?.kid).toBe(made.kid);
    expect(loaded?.privateKey.extractable).toBe(false);
  });

  it("refuses a record that is not an ECDSA P-256 key pair", async () => {
    const store = new IndexedDbKeyStore({ databaseName: "device-key-wrong" });
    await store.put("device-key", { type: "json", json: "nope" });
    await expect(loadDeviceKey(store)).rejects.toSatisfy((e) => isWalletError(e, "device_key_invalid"));
  });
});

describe("signTerms", () => {
  it("signs exactly the canonical bytes of the terms, verifiable by jose and by node:crypto", async () => {
    const jws = await signTerms(device.privateKey, device.kid, terms);
    expect(decodeProtectedHeader(jws)).toEqual({ alg: "ES256", kid: device.kid, typ: "mpay-approval+jws" });
    expect(payloadOf(jws).toString("utf8")).toBe(canonicalTerms(terms));

    const verified = await compactVerify(jws, device.publicKey, { algorithms: ["ES256"] });
    expect(verified.payload).toEqual(termsBytes(terms));
    expect(nodeVerifies(jws, device.publicJwk)).toBe(true);
  });

  it("gives a JWS that does not verify as other terms", async () => {
    const jws = await signTerms(device.privateKey, device.kid, terms);
    const [header, , signature] = jws.split(".");
    for (const other of [
      { ...terms, amount: 35001 },
      { ...terms, merchantId: "mch_02" },
      { ...terms, paymentId: "pay_02" },
    ]) {
      const forged = `${header}.${Buffer.from(termsBytes(other)).toString("base64url")}.${signature}`;
      await expect(compactVerify(forged, device.publicKey, { algorithms: ["ES256"] })).rejects.toThrow();
      expect(nodeVerifies(forged, device.publicJwk)).toBe(false);

      const signedOther = await signTerms(device.privateKey, device.kid, other);
      const { payload } = await compactVerify(signedOther, device.publicKey);
      expect(Buffer.from(payload).equals(Buffer.from(termsBytes(terms)))).toBe(false);
    }
  });

  it("refuses terms outside the schema or outside their time window", async () => {
    const sign = (t: unknown, nowSeconds?: number) =>
      signTerms(device.privateKey, device.kid, t as ApprovalTerms, nowSeconds === undefined ? {} : { nowSeconds });
    await expect(sign({ ...terms, note: "free text" })).rejects.toSatisfy((e) => isWalletError(e, "terms_invalid"));
    await expect(sign({ ...terms, amount: 1.5 })).rejects.toSatisfy((e) => isWalletError(e, "terms_invalid"));
    await expect(sign(terms, terms.exp)).rejects.toSatisfy((e) => isWalletError(e, "terms_expired"));
    await expect(sign(terms, terms.iat - 3600)).rejects.toSatisfy((e) => isWalletError(e, "terms_not_yet_valid"));
    await expect(sign({ ...terms, exp: terms.iat + 3600 })).rejects.toSatisfy((e) =>
      isWalletError(e, "terms_lifetime_too_long"),
    );
    await expect(signTerms(device.privateKey, "pay_01", terms)).rejects.toThrow(TypeError);
  });
});

describe("signStatement", () => {
  const statement = { purpose: "bind-device", payerId: "usr_1", newDeviceKid: "x".repeat(43), names: ["b", "a"] };

  it("signs the canonical JSON of the statement plus iat, with its own typ", async () => {
    const jws = await signStatement(device.privateKey, device.kid, statement, { nowSeconds: 1_800_000_000 });
    expect(decodeProtectedHeader(jws)).toEqual({ alg: "ES256", kid: device.kid, typ: "mpay-device+jws" });
    expect(payloadOf(jws).toString("utf8")).toBe(
      `{"iat":1800000000,"names":["b","a"],"newDeviceKid":"${"x".repeat(43)}","payerId":"usr_1","purpose":"bind-device"}`,
    );
    expect(nodeVerifies(jws, device.publicJwk)).toBe(true);
    expect((await compactVerify(jws, device.publicKey)).protectedHeader.typ).not.toBe("mpay-approval+jws");
  });

  it("sets iat to now by default and refuses a statement without purpose, with its own iat, or not JSON", async () => {
    const jws = await signStatement(device.privateKey, device.kid, statement);
    const iat = (JSON.parse(payloadOf(jws).toString("utf8")) as { iat: number }).iat;
    expect(Math.abs(iat - Math.floor(Date.now() / 1000))).toBeLessThanOrEqual(2);
    const sign = (s: unknown) => signStatement(device.privateKey, device.kid, s as typeof statement);
    await expect(sign({ payerId: "usr_1" })).rejects.toSatisfy((e) => isWalletError(e, "statement_invalid"));
    await expect(sign({ purpose: "Bind Device" })).rejects.toSatisfy((e) => isWalletError(e, "statement_invalid"));
    await expect(sign({ ...statement, iat: 1 })).rejects.toSatisfy((e) => isWalletError(e, "statement_invalid"));
    await expect(sign({ ...statement, amount: Number.NaN })).rejects.toSatisfy((e) =>
      isWalletError(e, "statement_invalid"),
    );
    await expect(sign([statement])).rejects.toSatisfy((e) => isWalletError(e, "statement_invalid"));
  });
});
