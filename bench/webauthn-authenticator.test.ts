import {
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import { describe, expect, it } from "vitest";
import { cbor, SoftAuthenticator } from "./webauthn-authenticator.ts";

const RP = { rpId: "localhost", origin: "http://localhost:4300" };
const PAYER = "payer_01TESTPAYER";

async function registered() {
  const authenticator = new SoftAuthenticator(RP.rpId, RP.origin, PAYER);
  const options = await generateRegistrationOptions({
    rpName: "MPay",
    rpID: RP.rpId,
    userID: new TextEncoder().encode(PAYER),
    userName: "Bench",
    attestationType: "none",
    authenticatorSelection: { residentKey: "preferred", userVerification: "required" },
    supportedAlgorithmIDs: [-7, -257],
  });
  const response = authenticator.register(options);
  const verified = await verifyRegistrationResponse({
    response,
    expectedChallenge: options.challenge,
    expectedOrigin: RP.origin,
    expectedRPID: RP.rpId,
    requireUserVerification: true,
    supportedAlgorithmIDs: [-7, -257],
  });
  return { authenticator, verified };
}

describe("SoftAuthenticator", () => {
  it("encodes CBOR as RFC 8949 says (Appendix A vectors)", () => {
    expect(cbor(10).toString("hex")).toBe("0a");
    expect(cbor(-7).toString("hex")).toBe("26");
    expect(cbor(1000).toString("hex")).toBe("1903e8");
    expect(cbor(1000000).toString("hex")).toBe("1a000f4240");
    expect(cbor("a").toString("hex")).toBe("6161");
    expect(cbor(Buffer.from([1, 2, 3, 4])).toString("hex")).toBe("4401020304");
    expect(cbor({ a: 1, b: 2 }).toString("hex")).toBe("a2616101616202");
  });

  it("registers a credential that @simplewebauthn/server verifies, with user verification and its COSE key", async () => {
    const { authenticator, verified } = await registered();
    expect(verified.verified).toBe(true);
    const info = verified.registrationInfo;
    expect(info?.userVerified).toBe(true);
    expect(info?.credential.id).toBe(authenticator.credentialId.toString("base64url"));
    expect(Buffer.from(info?.credential.publicKey ?? []).toString("base64url")).toBe(authenticator.cosePublicKey);
  });

  it("asserts over the server's challenge with a counter that moves forward, as verifyAuthenticationResponse checks", async () => {
    const { authenticator } = await registered();
    const credential = {
      id: authenticator.credentialId.toString("base64url"),
      publicKey: Buffer.from(authenticator.cosePublicKey, "base64url"),
      counter: 0,
    };
    const challenge = Buffer.from("the terms' hash, 32 bytes long!!").toString("base64url");
    for (const expected of [1, 2]) {
      const response = authenticator.assert(challenge);
      const result = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: RP.origin,
        expectedRPID: RP.rpId,
        credential,
        requireUserVerification: true,
      });
      expect(result.verified).toBe(true);
      expect(result.authenticationInfo.userVerified).toBe(true);
      expect(result.authenticationInfo.newCounter).toBe(expected);
      expect(Buffer.from(response.response.userHandle, "base64url").toString()).toBe(PAYER);
    }
  });

  it("makes assertions that fail for another challenge, origin or a tampered signature", async () => {
    const { authenticator } = await registered();
    const credential = {
      id: authenticator.credentialId.toString("base64url"),
      publicKey: Buffer.from(authenticator.cosePublicKey, "base64url"),
      counter: 0,
    };
    const challenge = Buffer.from("challenge-one-challenge-one-1234").toString("base64url");
    const verify = (response: ReturnType<SoftAuthenticator["assert"]>, expectedChallenge: string, origin = RP.origin) =>
      verifyAuthenticationResponse({
        response,
        expectedChallenge,
        expectedOrigin: origin,
        expectedRPID: RP.rpId,
        credential,
        requireUserVerification: true,
      }).then(
        (r) => r.verified,
        () => false,
      );
    const good = authenticator.assert(challenge);
    expect(await verify(good, Buffer.from("another-challenge-another-123456").toString("base64url"))).toBe(false);
    expect(await verify(good, challenge, "https://evil.example")).toBe(false);
    const signature = Buffer.from(good.response.signature, "base64url");
    signature[signature.length - 1] = (signature.at(-1) ?? 0) ^ 1;
    const tampered = { ...good, response: { ...good.response, signature: signature.toString("base64url") } };
    expect(await verify(tampered, challenge)).toBe(false);
    expect(await verify(good, challenge)).toBe(true);
  });
});
