/**
 * The issuer's check of a passkey assertion, on both of its paths: node:crypto for an ES256 passkey's plain
 * assertion, @simplewebauthn/server for what that path leaves to it (here: extensions in the authenticator data),
 * each with the stored counter's rule (it must move past the stored one unless both are 0).
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import type { AuthenticationResponseJSON } from "@simplewebauthn/server";
import { describe, expect, it } from "vitest";
import { TestPasskey } from "../testing/passkey.ts";
import { verifyPasskeyAssertion } from "./passkey-assertion.ts";

const RP = { rpId: "wallet.example", origins: ["https://wallet.example"] };
const challenge = createHash("sha256").update("terms").digest("base64url");

/** An assertion by `privateKey` whose authenticator data carries `extensions` (CBOR) after the counter. */
function withExtensions(id: string, privateKey: KeyObject, signCount: number, extensions: Buffer) {
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(signCount);
  const authData = Buffer.concat([
    createHash("sha256").update(RP.rpId).digest(),
    Buffer.from([0x01 | 0x04 | 0x80]), // UP, UV, ED
    counter,
    extensions,
  ]);
  const clientData = Buffer.from(JSON.stringify({ type: "webauthn.get", challenge, origin: RP.origins[0] }));
  const signature = sign(
    "sha256",
    Buffer.concat([authData, createHash("sha256").update(clientData).digest()]),
    privateKey,
  );
  return {
    id,
    rawId: id,
    type: "public-key",
    clientExtensionResults: {},
    response: {
      clientDataJSON: clientData.toString("base64url"),
      authenticatorData: authData.toString("base64url"),
      signature: signature.toString("base64url"),
    },
  } as AuthenticationResponseJSON;
}

describe("verifyPasskeyAssertion", () => {
  it("verifies a plain ES256 assertion with node:crypto, its counter moving past the stored one", async () => {
    const passkey = new TestPasskey(RP.rpId, RP.origins[0] as string);
    const bound = { credentialId: passkey.id, publicKey: passkey.publicKey, signCount: 0 };
    const first = passkey.assert(challenge) as unknown as AuthenticationResponseJSON;
    expect(await verifyPasskeyAssertion(first, bound, RP, challenge)).toEqual({ newCounter: 1 });
    expect(await verifyPasskeyAssertion(first, { ...bound, signCount: 1 }, RP, challenge)).toBeNull();
    expect(await verifyPasskeyAssertion(first, bound, RP, "b3RoZXI")).toBeNull();
    const unverified = passkey.assert(challenge, { userVerified: false }) as unknown as AuthenticationResponseJSON;
    expect(await verifyPasskeyAssertion(unverified, bound, RP, challenge)).toBeNull();
  });

  it("leaves an assertion with extensions to @simplewebauthn/server, which applies the same rules", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const { x, y } = publicKey.export({ format: "jwk" });
    const cose = Buffer.concat([
      Buffer.from([0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]),
      Buffer.from(x as string, "base64url"),
      Buffer.from([0x22, 0x58, 0x20]),
      Buffer.from(y as string, "base64url"),
    ]).toString("base64url");
    const bound = { credentialId: "Y3JlZGVudGlhbA", publicKey: cose, signCount: 4 };
    // {"credProtect": 2} after the counter, announced by the ED flag.
    const extensions = Buffer.from([0xa1, 0x6b, ...Buffer.from("credProtect"), 0x02]);
    const assertion = (signCount: number) => withExtensions(bound.credentialId, privateKey, signCount, extensions);
    expect(await verifyPasskeyAssertion(assertion(5), bound, RP, challenge)).toEqual({ newCounter: 5 });
    expect(await verifyPasskeyAssertion(assertion(4), bound, RP, challenge)).toBeNull();
    expect(await verifyPasskeyAssertion(assertion(5), bound, { ...RP, rpId: "evil.example" }, challenge)).toBeNull();
  });
});
