/**
 * Passkeys (WebAuthn, user verification required): the biometric alternative to the payment PIN (DESIGN.md
 * "Authentication without plugins"; issue 3, deliverable 4).
 *
 * Adding one needs more than a messenger session: the registration options are issued only for a statement
 * `{ purpose: "add-passkey", payerId }` signed by one of the payer's active devices, and the registration
 * challenge they carry is stored, single-use, for 5 minutes, one outstanding per payer.
 *
 * Approving a payment: the WebAuthn challenge is not stored here. It is the base64url SHA-256 of the canonical
 * approval terms (`approvalChallengeOf`), so the assertion covers exactly those terms and the issuer can check
 * it against the same bytes (DESIGN.md "Split custody" point 3). Single use is the approval challenge's business
 * (the approvals context spends it once); here the sign counter only moves forward, which catches a cloned
 * authenticator and a replay from one that counts.
 */
import { verifyEs256Assertion, type Clock } from "@mpay/service-kit";
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";
import { canonicalTerms, type ApprovalTerms } from "@mpay/protocol";
import type { Db } from "../db/client.ts";
import {
  challengeIn,
  registrationOptions,
  verifyAssertion,
  verifyRegistration,
  type RelyingParty,
  type WebAuthnRejected,
} from "../credentials/webauthn.ts";
import { ApiError } from "../http/errors.ts";
import { termsHash } from "../approvals/terms-hash.ts";
import type { AuditService } from "../audit/service.ts";
import type { DeviceService } from "../devices/service.ts";
import type { PayerRow } from "../payers/service.ts";
import { webAuthnAuthenticationResponseSchema as authenticationResponseSchema } from "@mpay/protocol";
import {
  advanceSignCount,
  findApprovingPasskey,
  findPasskey,
  insertPasskey,
  lockPasskeysOf,
  passkeysOf,
  purgeChallenges,
  putRegistrationChallenge,
  revokePasskey,
  takeChallenge,
  type ApprovingPasskey,
  type PasskeyRow,
} from "./store.ts";

/** A registration must finish within this time (also the ceremony timeout the browser is given). */
const REGISTRATION_TTL_MS = 5 * 60_000;

/**
 * At most this many live passkeys per payer: each is a way to approve payments, so the number is bounded to
 * what one person has (a phone, a laptop, a security key or two, with room for replacements).
 */
export const MAX_PASSKEYS = 10;

export type { RelyingParty } from "../credentials/webauthn.ts";

/** The WebAuthn challenge of a payment approval: base64url SHA-256 of the canonical (RFC 8785) terms. */
export function approvalChallengeOf(terms: ApprovalTerms): string {
  return termsHash(canonicalTerms(terms));
}

/** The PIN check a passkey registration needs (the PIN context, wired in by the system). */
export interface PinVerifier {
  verifyLogin(
    payer: PayerRow,
    loginId: string,
    finishLoginRequest: string,
    purpose: "add-passkey",
  ): Promise<Uint8Array>;
}

export class PasskeyService {
  /**
   * `relyingParty` null: passkeys are off (the web app is at an IP address, where browsers allow none), and every
   * passkey operation answers passkeys_unavailable; the PIN still works.
   */
  constructor(
    private readonly db: Db,
    private readonly devices: DeviceService,
    private readonly audit: AuditService,
    private readonly relyingParty: RelyingParty | null,
    private readonly pins: PinVerifier,
    private readonly clock: Clock,
  ) {
    if (relyingParty?.origins.length === 0) throw new Error("a relying party needs at least one origin");
  }

  private get rp(): RelyingParty {
    if (!this.relyingParty)
      throw new ApiError(
        "passkeys_unavailable",
        "Passkeys are off on this server: the web app's URL (MPAY_WEB_URL) is an IP address, where browsers allow no passkey. Serve it at a host name (http://localhost:4300) or set MPAY_PASSKEY_RP_ID.",
      );
    return this.relyingParty;
  }

  /**
   * Creation options for the wallet's `startRegistration()`. Two proofs: an active device's `add-passkey`
   * statement, and a fresh PIN login for `add-passkey` (the device's word alone is not enough: a copy of a device's
   * store must not add a passkey of its own, approve with it and have the payer's cards released to it).
   */
  async registrationOptions(
    payer: PayerRow,
    deviceSignature: string,
    pinProof: { loginId: string; finishLoginRequest: string },
  ): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const rp = this.rp;
    const signer = await this.devices.verifyStatement(
      payer,
      deviceSignature,
      { purpose: "add-passkey", payerId: payer.id },
      { param: "deviceSignature" },
    );
    (await this.pins.verifyLogin(payer, pinProof.loginId, pinProof.finishLoginRequest, "add-passkey")).fill(0);
    const live = (await passkeysOf(this.db, payer.id)).filter((p) => p.revokedAt === null);
    if (live.length >= MAX_PASSKEYS)
      throw new ApiError(
        "passkey_limit_reached",
        `A payer can have at most ${MAX_PASSKEYS} passkeys; revoke one first.`,
      );
    // Only live ones are excluded: a revoked credential's authenticator may make a new credential in its place.
    const options = await registrationOptions(
      rp,
      { id: payer.id, name: payer.displayName, displayName: payer.displayName },
      { timeoutMs: REGISTRATION_TTL_MS, exclude: live, residentKey: "preferred" },
    );
    await putRegistrationChallenge(this.db, {
      challenge: options.challenge,
      payerId: payer.id,
      purpose: `register:${signer.id}`,
      expiresAt: new Date(this.clock.now().getTime() + REGISTRATION_TTL_MS),
    });
    return options;
  }

  /**
   * Verifies the new credential against the payer's outstanding registration challenge and stores it. The
   * challenge is spent before anything is verified, so a failed attempt uses it up too: new options, new try.
   */
  async finishRegistration(payer: PayerRow, response: RegistrationResponseJSON): Promise<PasskeyRow> {
    const rp = this.rp;
    const challenge = challengeIn(response.response.clientDataJSON);
    const taken = challenge ? await takeChallenge(this.db, payer.id, challenge) : null;
    if (!taken || !taken.purpose.startsWith("register:") || taken.expiresAt.getTime() < this.clock.now().getTime()) {
      throw new ApiError(
        "passkey_challenge_invalid",
        "This passkey registration is unknown, used or expired; ask for new registration options.",
      );
    }
    const verified = await verifyRegistration(rp, response, taken.challenge);
    if (!verified.verified) {
      if (verified.userVerified === false) throw uvRequired();
      throw new ApiError("passkey_invalid", "The passkey registration could not be verified for this site.");
    }
    const info = verified.info;
    const deviceId = taken.purpose.slice("register:".length);
    const credential = info.credential;
    return this.db.transaction(async (tx) => {
      await lockPasskeysOf(tx, payer.id);
      const live = (await passkeysOf(tx, payer.id)).filter((p) => p.revokedAt === null);
      if (live.length >= MAX_PASSKEYS)
        throw new ApiError(
          "passkey_limit_reached",
          `A payer can have at most ${MAX_PASSKEYS} passkeys; revoke one first.`,
        );
      const row = await insertPasskey(tx, {
        id: credential.id,
        payerId: payer.id,
        publicKey: Buffer.from(credential.publicKey).toString("base64url"),
        signCount: credential.counter,
        transports: (credential.transports ?? []).slice(0, 8),
        deviceType: info.credentialDeviceType,
        backedUp: info.credentialBackedUp ? 1 : 0,
      });
      if (!row) throw new ApiError("passkey_already_registered", "This passkey is already registered.");
      await this.audit.append(tx, {
        actor: `payer:${payer.id}`,
        action: "passkey.added",
        target: row.id,
        data: {
          device: deviceId,
          aaguid: info.aaguid,
          deviceType: info.credentialDeviceType,
          backedUp: info.credentialBackedUp,
        },
      });
      return row;
    });
  }

  /**
   * Verifies a passkey assertion approving a payment: user verification done, over `expectedChallenge` (the
   * terms' hash, `approvalChallengeOf`), for this site, by an unrevoked passkey of this payer, with a sign counter
   * that moves forward. `assertion` comes from the wire and is checked here. Throws ApiError passkey_invalid,
   * passkey_user_verification_required or passkey_counter_invalid.
   */
  async verifyApproval(payer: PayerRow, assertion: unknown, expectedChallenge: string): Promise<{ passkeyId: string }> {
    const rp = this.rp;
    const parsed = authenticationResponseSchema.safeParse(assertion);
    if (!parsed.success) throw new ApiError("passkey_invalid", "The passkey assertion is malformed.");
    const response = parsed.data;
    const passkey = await findApprovingPasskey(this.db, response.id);
    if (!passkey || passkey.payerId !== payer.id)
      throw new ApiError("passkey_invalid", "This passkey is not registered to you.");
    if (passkey.revoked) throw passkeyRevoked();
    if (
      response.response.userHandle !== undefined &&
      response.response.userHandle !== Buffer.from(payer.id).toString("base64url")
    ) {
      throw new ApiError("passkey_invalid", "This passkey was made for another account.");
    }
    const verified = await verifyApprovalAssertion(rp, response, expectedChallenge, passkey);
    if (!verified.verified) {
      if (verified.userVerified === false) throw uvRequired();
      throw new ApiError(
        "passkey_invalid",
        "The passkey assertion does not verify for these payment terms on this site.",
      );
    }
    const newCounter = verified.newCounter;
    if (await advanceSignCount(this.db, passkey.id, payer.id, newCounter)) return { passkeyId: passkey.id };

    const now = await findPasskey(this.db, passkey.id);
    if (!now || now.revokedAt !== null) throw passkeyRevoked();
    await this.audit.record({
      actor: `payer:${payer.id}`,
      action: "passkey.counter_rejected",
      target: passkey.id,
      data: { stored: now.signCount, presented: newCounter },
    });
    throw new ApiError(
      "passkey_counter_invalid",
      "The passkey's signature counter did not advance: the assertion is replayed or the authenticator was cloned.",
    );
  }

  /** The payer's passkeys, revoked ones included (they show as revoked). */
  list(payer: PayerRow): Promise<PasskeyRow[]> {
    return passkeysOf(this.db, payer.id);
  }

  /** Revokes a passkey at once: every later assertion by it is refused. */
  async revoke(payer: PayerRow, id: string): Promise<PasskeyRow> {
    return this.db.transaction(async (tx) => {
      const owned = await findPasskey(tx, id);
      if (!owned || owned.payerId !== payer.id) throw new ApiError("resource_missing", "No such passkey.", "id");
      const revoked = await revokePasskey(tx, id, payer.id);
      if (!revoked) throw new ApiError("passkey_not_active", "The passkey is already revoked.");
      await this.audit.append(tx, { actor: `payer:${payer.id}`, action: "passkey.revoked", target: id, data: {} });
      return revoked;
    });
  }

  /** Forgets registration challenges that expired unanswered (for the maintenance worker). */
  purgeExpiredChallenges(now = this.clock.now()): Promise<number> {
    return purgeChallenges(this.db, now);
  }
}

/**
 * The assertion checked for this site and challenge, user verified, the counter left to advanceSignCount (0 turns
 * the verifier's own counter rule off). An ES256 passkey is verified with node:crypto and its key parsed once
 * (@mpay/service-kit's webauthn-assertion.ts, issue 11: @simplewebauthn cost five times as much CPU); any other
 * (RS256, extensions in the authenticator data) by @simplewebauthn, as before.
 */
async function verifyApprovalAssertion(
  rp: RelyingParty,
  response: AuthenticationResponseJSON,
  expectedChallenge: string,
  passkey: ApprovingPasskey,
): Promise<{ verified: true; newCounter: number } | WebAuthnRejected> {
  const fast = verifyEs256Assertion(response, passkey.publicKey, {
    challenge: expectedChallenge,
    origins: rp.origins,
    rpId: rp.rpId,
    storedCounter: 0,
  });
  return fast ?? verifyAssertion(rp, response, expectedChallenge, passkey);
}

function passkeyRevoked(): ApiError {
  return new ApiError("passkey_invalid", "This passkey was revoked; approve with another passkey or the PIN.");
}

function uvRequired(): ApiError {
  return new ApiError(
    "passkey_user_verification_required",
    "The authenticator did not verify the user (biometric or device PIN); passkeys need user verification.",
  );
}
