/**
 * The issuer's check of a passkey assertion, on both of its paths: node:crypto for an ES256 passkey's plain
 * assertion, @simplewebauthn/server for what that path leaves to it (here: extensions in the authenticator data),
 * each with the stored counter's rule (it must move past the stored one unless both are 0).
 */
import { createHash } from "node:crypto";
import type { AuthenticationResponseJSON } from "@simplewebauthn/server";
import { describe, expect, it } from "vitest";
import { FLAG, SoftPasskey } from "@mpay/testing/webauthn";
import { TestPasskey } from "../testing/passkey.ts";
import { verifyPasskeyAssertion } from "./passkey-assertion.ts";

const RP = { rpId: "wallet.example", origins: ["https://wallet.example"] };
const challenge = createHash("sha256").update("terms").digest("base64url");

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
    const passkey = new SoftPasskey();
    const bound = { credentialId: passkey.id, publicKey: passkey.cosePublicKey, signCount: 4 };
    // {"credProtect": 2} after the counter, announced by the ED flag.
    const extensions = Buffer.from([0xa1, 0x6b, ...Buffer.from("credProtect"), 0x02]);
    const assertion = (signCount: number) =>
      passkey.assert({
        rpId: RP.rpId,
        origin: RP.origins[0] as string,
        challenge,
        signCount,
        flags: FLAG.UP | FLAG.UV | FLAG.ED,
        extensions,
      });
    expect(await verifyPasskeyAssertion(assertion(5), bound, RP, challenge)).toEqual({ newCounter: 5 });
    expect(await verifyPasskeyAssertion(assertion(4), bound, RP, challenge)).toBeNull();
    expect(await verifyPasskeyAssertion(assertion(5), bound, { ...RP, rpId: "evil.example" }, challenge)).toBeNull();
  });
});
