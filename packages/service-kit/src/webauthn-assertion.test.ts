/**
 * The node:crypto verification of ES256 passkey assertions against @simplewebauthn/server's: on each assertion,
 * valid or tampered in one part (clientDataJSON's type, challenge, origin, cross-origin fields and token binding;
 * the authenticator data's RP ID hash, flags and counter; the signature; the credential's ids), both must give the
 * same answer, and the cases it leaves to the library must answer null.
 */
import { createHash, type KeyObject } from "node:crypto";
import { verifyAuthenticationResponse } from "@simplewebauthn/server";
import { describe, expect, it } from "vitest";
import { assertionResponse, cbor, coseEs256Entries, FLAG, SoftPasskey, type CborValue } from "@mpay/testing/webauthn";
import { verifyEs256Assertion, type AssertionExpectation, type AssertionResponse } from "./webauthn-assertion.ts";

const RP_ID = "wallet.example";
const ORIGIN = "https://wallet.example";
const CHALLENGE = createHash("sha256").update("the payment terms").digest("base64url");
const { UP, UV, BE, BS, AT, ED } = FLAG;

interface Parts {
  clientData?: Record<string, unknown>;
  /** Raw clientDataJSON bytes instead of `clientData`. */
  clientDataBytes?: Buffer;
  rpId?: string;
  flags?: number;
  counter?: number;
  /** Bytes after rpIdHash ‖ flags ‖ counter (attested data, extensions). */
  extra?: Buffer;
  /** Changes the response after signing. */
  after?: (response: AssertionResponse) => void;
  signer?: KeyObject;
  dsaEncoding?: "der" | "ieee-p1363";
}

const passkey = new SoftPasskey();
const coseEntries = coseEs256Entries(passkey.publicJwk);
/** The CBOR map of these COSE [label, value] pairs, in the order given. */
const coseKey = (entries: Array<[number, CborValue]>) => cbor(new Map(entries));
const key = { privateKey: passkey.privateKey, cose: passkey.cosePublicKey, coseEntries };
const ID = passkey.id;

function assertion(parts: Parts = {}): AssertionResponse {
  const response = assertionResponse({
    credentialId: ID,
    privateKey: parts.signer ?? key.privateKey,
    rpId: parts.rpId ?? RP_ID,
    challenge: CHALLENGE,
    origin: ORIGIN,
    signCount: parts.counter ?? 7,
    flags: parts.flags ?? UP | UV,
    extensions: parts.extra,
    clientData: parts.clientDataBytes ?? parts.clientData,
    dsaEncoding: parts.dsaEncoding ?? "der",
  });
  parts.after?.(response);
  return response;
}

const expectation = (storedCounter = 0): AssertionExpectation => ({
  challenge: CHALLENGE,
  origins: ["https://other.example", ORIGIN],
  rpId: RP_ID,
  storedCounter,
});

async function library(response: AssertionResponse, cose: string, storedCounter: number) {
  try {
    const result = await verifyAuthenticationResponse({
      // The library's type wants the whole AuthenticationResponseJSON; it reads no more than these fields.
      response: { ...response, clientExtensionResults: {} } as never,
      expectedChallenge: CHALLENGE,
      expectedOrigin: ["https://other.example", ORIGIN],
      expectedRPID: RP_ID,
      requireUserVerification: true,
      credential: { id: ID, publicKey: new Uint8Array(Buffer.from(cose, "base64url")), counter: storedCounter },
    });
    return result.verified ? { verified: true, newCounter: result.authenticationInfo.newCounter } : { verified: false };
  } catch {
    return { verified: false };
  }
}

/** Both verifications of one assertion, the library's answer reduced to what ours says. */
async function both(response: AssertionResponse, storedCounter = 0, cose = key.cose) {
  const ours = verifyEs256Assertion(response, cose, expectation(storedCounter));
  const theirs = await library(response, cose, storedCounter);
  return { ours: ours && (ours.verified ? ours : { verified: false }), theirs };
}

const reencoded = (data: Record<string, unknown>) => ({ clientData: data });
const base = { type: "webauthn.get", challenge: CHALLENGE, origin: ORIGIN, crossOrigin: false };

describe("verifyEs256Assertion, side by side with @simplewebauthn/server", () => {
  const cases: Array<[string, Parts, number, boolean]> = [
    ["a valid assertion", {}, 0, true],
    ["a valid one whose counter moved past the stored one", { counter: 8 }, 7, true],
    ["an authenticator that keeps no counter (0 and 0)", { counter: 0 }, 0, true],
    ["backup eligible and backed up (a synced passkey)", { flags: UP | UV | BE | BS }, 0, true],
    [
      "cross-origin without a top origin (as the library lets through)",
      reencoded({ ...base, crossOrigin: true }),
      0,
      true,
    ],
    ["a token binding the library knows", reencoded({ ...base, tokenBinding: { status: "supported" } }), 0, true],
    ["another challenge", reencoded({ ...base, challenge: "b3RoZXItdGVybXM" }), 0, false],
    ["another origin", reencoded({ ...base, origin: "https://evil.example" }), 0, false],
    ["a registration's clientData", reencoded({ ...base, type: "webauthn.create" }), 0, false],
    ["a cross-origin one with a top origin", reencoded({ ...base, crossOrigin: true, topOrigin: ORIGIN }), 0, false],
    ["a same-origin one with a top origin", reencoded({ ...base, topOrigin: ORIGIN }), 0, false],
    ["an unknown token binding status", reencoded({ ...base, tokenBinding: { status: "bound" } }), 0, false],
    ["a token binding that is not an object", reencoded({ ...base, tokenBinding: "present" }), 0, false],
    ["clientDataJSON that is not JSON", { clientDataBytes: Buffer.from("{not json") }, 0, false],
    ["clientDataJSON that is null", { clientDataBytes: Buffer.from("null") }, 0, false],
    ["another RP ID hash", { rpId: "evil.example" }, 0, false],
    ["no user verification", { flags: UP }, 0, false],
    ["no user presence", { flags: UV }, 0, false],
    ["backed up but not backup eligible", { flags: UP | UV | BS }, 0, false],
    ["attested data announced but missing", { flags: UP | UV | AT }, 0, false],
    ["extensions announced but missing", { flags: UP | UV | ED }, 0, false],
    ["a counter equal to the stored one (a replay)", { counter: 7 }, 7, false],
    ["a counter below the stored one (a clone)", { counter: 3 }, 7, false],
    ["a counter of 0 where one was stored", { counter: 0 }, 7, false],
    ["another credential's signature", { signer: new SoftPasskey().privateKey }, 0, false],
    ["a raw r‖s signature instead of DER", { dsaEncoding: "ieee-p1363" }, 0, false],
    [
      "authenticator data changed after signing",
      { after: (r) => void (r.response.authenticatorData = flip(r.response.authenticatorData, 36)) },
      0,
      false,
    ],
    [
      "clientDataJSON changed after signing",
      {
        after: (r) => void (r.response.clientDataJSON = Buffer.from(JSON.stringify(base) + " ").toString("base64url")),
      },
      0,
      false,
    ],
    [
      "a flipped signature byte",
      { after: (r) => void (r.response.signature = flip(r.response.signature, 40)) },
      0,
      false,
    ],
    [
      "a truncated signature",
      { after: (r) => void (r.response.signature = r.response.signature.slice(0, 40)) },
      0,
      false,
    ],
    [
      "authenticator data cut to 36 bytes",
      { after: (r) => void (r.response.authenticatorData = b64uSlice(r.response.authenticatorData, 36)) },
      0,
      false,
    ],
    ["rawId that differs from id", { after: (r) => void (r.rawId = "b3RoZXI") }, 0, false],
    ["a credential type other than public-key", { after: (r) => void (r.type = "password") }, 0, false],
  ];

  it.each(cases)("%s", async (_name, parts, stored, verified) => {
    const response = assertion(parts);
    const { ours, theirs } = await both(response, stored);
    expect(theirs.verified).toBe(verified);
    expect(ours).toEqual(theirs);
  });

  it("reports the UV flag of a rejected assertion, for the answer that asks for user verification", () => {
    expect(verifyEs256Assertion(assertion({ flags: UP }), key.cose, expectation())).toEqual({
      verified: false,
      userVerified: false,
    });
    expect(
      verifyEs256Assertion(assertion({ after: (r) => void (r.response.signature = "AA") }), key.cose, expectation()),
    ).toEqual({ verified: false, userVerified: true });
  });

  it("reads a COSE key whose labels come in another order, as the library does", async () => {
    const reordered = coseKey([...key.coseEntries].reverse()).toString("base64url");
    const { ours, theirs } = await both(assertion(), 0, reordered);
    expect(theirs).toEqual({ verified: true, newCounter: 7 });
    expect(ours).toEqual(theirs);
  });

  it("leaves to the library what it does not handle: extensions, other algorithms and curves, odd keys", async () => {
    // Extensions after the counter ({"credProtect": 2}): the library decodes them, and verifies.
    const extensions = Buffer.concat([Buffer.from([0xa1, 0x6b]), Buffer.from("credProtect"), Buffer.from([0x02])]);
    const withExtensions = assertion({ flags: UP | UV | ED, extra: extensions });
    expect(verifyEs256Assertion(withExtensions, key.cose, expectation())).toBeNull();
    expect((await library(withExtensions, key.cose, 0)).verified).toBe(true);

    const es384 = coseKey(key.coseEntries.map(([k, v]): [number, CborValue] => [k, k === 3 ? -35 : v]));
    const p384 = coseKey(key.coseEntries.map(([k, v]): [number, CborValue] => [k, k === -1 ? 2 : v]));
    const rsa = coseKey([
      [1, 3],
      [3, -257],
    ]);
    for (const cose of [es384, p384, rsa, Buffer.from([0x82, 0x01, 0x02]), Buffer.alloc(0)])
      expect(verifyEs256Assertion(assertion(), cose.toString("base64url"), expectation())).toBeNull();
  });

  it("refuses a key that is not a point on P-256 by leaving it to the library, which refuses it too", async () => {
    const offCurve = coseKey(
      key.coseEntries.map(([k, v]): [number, CborValue] => [k, k === -3 ? Buffer.alloc(32, 1) : v]),
    );
    const cose = offCurve.toString("base64url");
    expect(verifyEs256Assertion(assertion(), cose, expectation())).toBeNull();
    expect((await library(assertion(), cose, 0)).verified).toBe(false);
  });
});

function flip(b64u: string, index: number): string {
  const bytes = Buffer.from(b64u, "base64url");
  bytes[index] = (bytes[index] ?? 0) ^ 1;
  return bytes.toString("base64url");
}

function b64uSlice(b64u: string, length: number): string {
  return Buffer.from(b64u, "base64url").subarray(0, length).toString("base64url");
}
