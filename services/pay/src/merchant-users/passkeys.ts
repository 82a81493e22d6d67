/**
 * Passkey sign-in for dashboard users, the second way in beside password + TOTP (issue 10, deliverable 3). A
 * signed-in user registers a passkey (discoverable, user verification required); later the sign-in asks the browser
 * for any passkey of this site (no email typed) and the assertion alone opens a session: the authenticator holds
 * the key and verified the person, two factors in one gesture. The relying party is the web app's, as the payer's
 * passkeys have (packages/service-kit/src/config/relying-party.ts); challenges are stored, single-use, 5 minutes.
 */
import type { Clock } from "@mpay/service-kit";
import {
  generateAuthenticationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from "@simplewebauthn/server";
import { webAuthnAuthenticationResponseSchema, webAuthnRegistrationResponseSchema } from "@mpay/protocol";
import type { AuditService } from "../audit/service.ts";
import type { Db } from "../db/client.ts";
import type { MerchantAuth } from "../http/caller.ts";
import { ApiError } from "../http/errors.ts";
import {
  challengeIn,
  registrationOptions,
  verifyAssertion,
  verifyRegistration,
  type RelyingParty,
} from "../credentials/webauthn.ts";
import type { DashboardSession, MerchantUserService } from "./service.ts";
import {
  advanceUserPasskeyCounter,
  findUser,
  findUserPasskey,
  insertUserPasskey,
  passkeysOfUser,
  putPasskeyChallenge,
  takePasskeyChallenge,
} from "./store.ts";

const CEREMONY_TTL_MS = 5 * 60_000;
const MAX_PASSKEYS_PER_USER = 10;
function invalid(message: string): ApiError {
  return new ApiError("passkey_invalid", message);
}

export class DashboardPasskeys {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditService,
    private readonly users: MerchantUserService,
    private readonly relyingParty: RelyingParty | null,
    private readonly clock: Clock,
  ) {}

  private get rp(): RelyingParty {
    if (!this.relyingParty)
      throw new ApiError(
        "passkeys_unavailable",
        "Passkeys are off on this server: the web app's URL (MPAY_WEB_URL) is an IP address, where browsers allow no passkey. Sign in with the password and TOTP.",
      );
    return this.relyingParty;
  }

  private expiresAt(): Date {
    return new Date(this.clock.now().getTime() + CEREMONY_TTL_MS);
  }

  /** Creation options for the signed-in user's `startRegistration()`. */
  async registrationOptions(auth: MerchantAuth): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const rp = this.rp;
    const user = await this.users.me(auth);
    const existing = await passkeysOfUser(this.db, user.id);
    if (existing.length >= MAX_PASSKEYS_PER_USER)
      throw new ApiError(
        "passkey_limit_reached",
        `A dashboard user can have at most ${MAX_PASSKEYS_PER_USER} passkeys.`,
      );
    // The email is the name the browser shows in its passkey picker; discoverable: the sign-in asks for any
    // passkey of this site, without an email first.
    const options = await registrationOptions(
      rp,
      { id: user.id, name: user.email, displayName: user.name },
      { timeoutMs: CEREMONY_TTL_MS, exclude: existing, residentKey: "required" },
    );
    await putPasskeyChallenge(this.db, {
      challenge: options.challenge,
      userId: user.id,
      purpose: "register",
      expiresAt: this.expiresAt(),
    });
    return options;
  }

  /** Verifies and stores the new passkey; the challenge is spent first, so a failed attempt uses it up. */
  async register(
    auth: MerchantAuth,
    body: unknown,
  ): Promise<{ object: "dashboard_passkey"; id: string; createdAt: string }> {
    const rp = this.rp;
    const parsed = webAuthnRegistrationResponseSchema.safeParse(body);
    if (!parsed.success) throw invalid("The passkey registration is malformed.");
    const response = parsed.data;
    const challenge = challengeIn(response.response.clientDataJSON);
    const taken = challenge ? await takePasskeyChallenge(this.db, challenge, "register", this.clock.now()) : null;
    if (!taken || taken.userId !== auth.keyId || !challenge)
      throw new ApiError(
        "passkey_challenge_invalid",
        "This passkey registration is unknown, used or expired; ask for new registration options.",
      );
    const verified = await verifyRegistration(rp, response, challenge);
    if (!verified.verified)
      throw invalid("The passkey registration could not be verified for this site (user verification is required).");
    const credential = verified.info.credential;
    return this.db.transaction(async (tx) => {
      const row = await insertUserPasskey(tx, {
        id: credential.id,
        userId: auth.keyId,
        publicKey: Buffer.from(credential.publicKey).toString("base64url"),
        signCount: credential.counter,
        transports: (credential.transports ?? []).slice(0, 8),
      });
      if (!row) throw new ApiError("passkey_already_registered", "This passkey is already registered.");
      await this.audit.append(tx, {
        actor: auth.actor,
        action: "merchant_user.passkey_added",
        target: auth.keyId,
        data: { merchantId: auth.merchantId, passkey: row.id },
      });
      return { object: "dashboard_passkey" as const, id: row.id, createdAt: row.createdAt.toISOString() };
    });
  }

  /** Request options for a discoverable sign-in: no allow list, user verification required. */
  async signInOptions(): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const rp = this.rp;
    const options = await generateAuthenticationOptions({
      rpID: rp.rpId,
      userVerification: "required",
      timeout: CEREMONY_TTL_MS,
    });
    await putPasskeyChallenge(this.db, {
      challenge: options.challenge,
      userId: null,
      purpose: "sign_in",
      expiresAt: this.expiresAt(),
    });
    return options;
  }

  /**
   * A passkey assertion over an outstanding sign-in challenge, by a registered passkey of an enabled user, with a
   * sign counter that moves forward: a session, as the TOTP step answers.
   */
  async signIn(body: unknown): Promise<DashboardSession> {
    const rp = this.rp;
    const parsed = webAuthnAuthenticationResponseSchema.safeParse(body);
    if (!parsed.success) throw invalid("The passkey assertion is malformed.");
    const response = parsed.data;
    const challenge = challengeIn(response.response.clientDataJSON);
    const taken = challenge ? await takePasskeyChallenge(this.db, challenge, "sign_in", this.clock.now()) : null;
    if (!taken || !challenge)
      throw new ApiError(
        "passkey_challenge_invalid",
        "This passkey sign-in is unknown, used or expired; ask for new sign-in options.",
      );
    const passkey = await findUserPasskey(this.db, response.id);
    const user = passkey ? await findUser(this.db, passkey.userId) : null;
    if (!passkey || !user || user.disabled) throw invalid("This passkey is not registered for the dashboard.");
    if (
      response.response.userHandle !== undefined &&
      response.response.userHandle !== Buffer.from(user.id).toString("base64url")
    )
      throw invalid("This passkey was made for another user.");
    // The counter moves forward below, atomically, in advanceUserPasskeyCounter.
    const verified = await verifyAssertion(rp, response, challenge, passkey);
    if (!verified.verified) {
      await this.audit.record({
        actor: `merchant_user:${user.id}`,
        action: "merchant_user.sign_in_failed",
        target: user.id,
        data: { merchantId: user.merchantId, reason: "passkey" },
      });
      throw invalid("The passkey assertion does not verify for this site (user verification is required).");
    }
    const newCounter = verified.newCounter;
    return this.db.transaction(async (tx) => {
      if (!(await advanceUserPasskeyCounter(tx, passkey.id, newCounter)))
        throw new ApiError(
          "passkey_counter_invalid",
          "The passkey's signature counter did not advance: the assertion is replayed or the authenticator was cloned.",
        );
      return this.users.openSession(tx, user, "passkey");
    });
  }
}
