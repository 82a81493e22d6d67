import { createPublicKey, verify } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { generateWebhookSecret } from "../merchants/webhook-secret.ts";
import { generateV1aKeyPair, signV1, signV1a, v1aPublicKey, webhookHeaders } from "./signing.ts";

const now = () => Math.floor(Date.now() / 1000);
const body = JSON.stringify({ type: "payment.captured", data: { id: "pay_123", amount: 1500 } });

// Verifies a `v1a,<sig>` with nothing but node:crypto and the `whpk_` string a merchant would be given.
function verifyV1a(publicKey: string, signature: string, content: string): boolean {
  expect(publicKey.startsWith("whpk_")).toBe(true);
  const x = Buffer.from(publicKey.slice("whpk_".length), "base64").toString("base64url");
  const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
  const [version, sig] = signature.split(",");
  return version === "v1a" && verify(null, Buffer.from(content), key, Buffer.from(sig ?? "", "base64"));
}

describe("generateWebhookSecret", () => {
  it("is whsec_ + base64 of 32 random bytes", () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(secret);
  });
});

describe("signV1", () => {
  it("matches the standardwebhooks library's own signature", () => {
    const secret = generateWebhookSecret();
    const ts = 1_674_087_231;
    expect(signV1(secret, "msg_1", ts, body)).toBe(new Webhook(secret).sign("msg_1", new Date(ts * 1000), body));
  });

  it("matches the published Svix/Standard Webhooks example", () => {
    const signature = signV1(
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      "msg_p5jXN8AQM9LWM0D4loKWxJek",
      1_614_265_330,
      '{"test": 2432232314}',
    );
    expect(signature).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("rejects malformed secrets, ids and timestamps without echoing the secret", () => {
    const secret = generateWebhookSecret();
    expect(() => signV1(secret.slice(6), "msg_1", 1, body)).toThrow(/whsec_/);
    expect(() => signV1("whsec_c2hvcnQ=", "msg_1", 1, body)).toThrow(/too short/);
    expect(() => signV1(`${secret}!`, "msg_1", 1, body)).toThrow(/base64/);
    const thrown = (() => {
      try {
        signV1(`${secret}!`, "msg_1", 1, body);
      } catch (error) {
        return String(error);
      }
      return "";
    })();
    expect(thrown).not.toContain(secret.slice(6));
    expect(() => signV1(secret, "msg.1", 1, body)).toThrow(/message id/);
    expect(() => signV1(secret, "msg 1", 1, body)).toThrow(/message id/);
    expect(() => signV1(secret, "msg_1", 1.5, body)).toThrow(/timestamp/);
  });
});

describe("webhookHeaders verified by the standardwebhooks npm package", () => {
  const secret = generateWebhookSecret();
  const headers = webhookHeaders({ msgId: "msg_abc", timestamp: now(), body, secret });

  it("sets the three webhook headers and content-type", () => {
    expect(Object.keys(headers).sort()).toEqual(
      ["content-type", "webhook-id", "webhook-signature", "webhook-timestamp"].sort(),
    );
    expect(headers["content-type"]).toBe("application/json");
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  });

  it("accepts our body and headers unchanged", () => {
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it("rejects a tampered body", () => {
    expect(() => new Webhook(secret).verify(body.replace("1500", "15000"), headers)).toThrow(/signature/);
  });

  it("rejects another secret", () => {
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow(/signature/);
  });

  it("rejects a message older than five minutes", () => {
    const old = webhookHeaders({ msgId: "msg_abc", timestamp: now() - 301, body, secret });
    expect(() => new Webhook(secret).verify(body, old)).toThrow(/too old/);
  });

  it("still verifies when a v1a signature rides along", () => {
    const both = webhookHeaders({
      msgId: "msg_abc",
      timestamp: now(),
      body,
      secret,
      v1aPrivateKey: generateV1aKeyPair().privateKey,
    });
    expect(both["webhook-signature"]?.split(" ").map((s) => s.split(",")[0])).toEqual(["v1", "v1a"]);
    expect(new Webhook(secret).verify(body, both)).toEqual(JSON.parse(body));
  });
});

describe("v1a (Ed25519)", () => {
  it("generates a whpk_ public key and a 32-byte seed", () => {
    const { publicKey, privateKey } = generateV1aKeyPair();
    expect(publicKey).toMatch(/^whpk_[A-Za-z0-9+/]{43}=$/);
    expect(privateKey).toBeInstanceOf(Uint8Array);
    expect(privateKey).toHaveLength(32);
    expect(v1aPublicKey(privateKey)).toBe(publicKey);
    expect(generateV1aKeyPair().privateKey).not.toEqual(privateKey); // a fresh random seed every time
  });

  it("reads the seed as RFC 8032 does (test vector 1)", () => {
    const seed = Buffer.from("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "hex");
    const expected = Buffer.from("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "hex");
    expect(v1aPublicKey(new Uint8Array(seed))).toBe(`whpk_${expected.toString("base64")}`);
  });

  it("produces a signature that node:crypto verifies from the whpk_ key alone", () => {
    const { publicKey, privateKey } = generateV1aKeyPair();
    const ts = now();
    const secret = generateWebhookSecret();
    const headers = webhookHeaders({ msgId: "msg_abc", timestamp: ts, body, secret, v1aPrivateKey: privateKey });
    const v1a = headers["webhook-signature"]?.split(" ")[1] ?? "";
    expect(v1a).toBe(signV1a(privateKey, "msg_abc", ts, body)); // Ed25519 is deterministic
    expect(verifyV1a(publicKey, v1a, `msg_abc.${ts}.${body}`)).toBe(true);
    expect(verifyV1a(publicKey, v1a, `msg_abc.${ts}.${body} `)).toBe(false);
    expect(verifyV1a(generateV1aKeyPair().publicKey, v1a, `msg_abc.${ts}.${body}`)).toBe(false);
  });

  it("refuses a private key that is not a 32-byte seed", () => {
    expect(() => signV1a(new Uint8Array(64), "msg_1", 1, body)).toThrow(/32-byte/);
  });
});
