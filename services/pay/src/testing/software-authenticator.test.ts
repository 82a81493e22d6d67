import { verifyAuthenticationResponse, verifyRegistrationResponse } from "@simplewebauthn/server";
import { describe, expect, it } from "vitest";
import { SoftwareAuthenticator, encodeCbor, type CborValue } from "./software-authenticator.ts";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const ORIGIN = "http://localhost:4300";

describe("software authenticator", () => {
  it("encodes CBOR as RFC 8949 appendix A does", () => {
    const vectors: Array<[CborValue, string]> = [
      [0, "00"],
      [23, "17"],
      [24, "1818"],
      [100, "1864"],
      [1000, "1903e8"],
      [1000000, "1a000f4240"],
      [-1, "20"],
      [-7, "26"],
      [-1000, "3903e7"],
      [new Uint8Array([1, 2, 3, 4]), "4401020304"],
      ["a", "6161"],
      ["IETF", "6449455446"],
      [new Map(), "a0"],
      [
        new Map([
          [1, 2],
          [3, 4],
        ]),
        "a201020304",
      ],
    ];
    for (const [value, expected] of vectors) expect(hex(encodeCbor(value)), expected).toBe(expected);
  });

  it("makes ceremonies @simplewebauthn/server accepts, with a counter that grows", async () => {
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    const challenge = Buffer.from("registration challenge").toString("base64url");
    const registration = authenticator.create({
      challenge,
      rp: { id: "localhost", name: "MPay" },
      user: { id: Buffer.from("usr_1").toString("base64url"), name: "Payer", displayName: "Payer" },
      pubKeyCredParams: [{ alg: -7, type: "public-key" }],
    });
    const registered = await verifyRegistrationResponse({
      response: registration,
      expectedChallenge: challenge,
      expectedOrigin: ORIGIN,
      expectedRPID: "localhost",
      requireUserVerification: true,
    });
    if (!registered.verified) throw new Error("registration refused");
    expect(registered.registrationInfo).toMatchObject({
      fmt: "none",
      userVerified: true,
      credential: { id: registration.id, counter: 0 },
    });

    for (const counter of [1, 2]) {
      const assertion = authenticator.get({ challenge: "c2lnbiB0aGlz", rpId: "localhost" });
      const result = await verifyAuthenticationResponse({
        response: assertion,
        expectedChallenge: "c2lnbiB0aGlz",
        expectedOrigin: ORIGIN,
        expectedRPID: "localhost",
        credential: registered.registrationInfo.credential,
        requireUserVerification: true,
      });
      expect(result).toMatchObject({ verified: true, authenticationInfo: { newCounter: counter, userVerified: true } });
      registered.registrationInfo.credential.counter = counter;
    }
  });

  it("refuses to create a credential the server excludes", () => {
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    const options = {
      challenge: "AAAA",
      rp: { id: "localhost", name: "MPay" },
      user: { id: "dXNy", name: "p", displayName: "p" },
      pubKeyCredParams: [{ alg: -7, type: "public-key" as const }],
    };
    const first = authenticator.create(options);
    expect(() =>
      authenticator.create({ ...options, excludeCredentials: [{ id: first.id, type: "public-key" }] }),
    ).toThrow(/InvalidStateError/);
  });
});
