/**
 * The pay server as a relying party of the messenger's OpenID Connect provider, through `openid-client`
 * (discovery, PKCE S256, state and nonce checks, ID token validation against the provider's JWKS).
 */
import * as oidc from "openid-client";
import { ApiError } from "../http/errors.ts";
import { secretFromFile } from "../keys/secret-file.ts";

export interface MessengerIdentity {
  subject: string;
  displayName: string;
  phoneNumber: string | null;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** The pay server is a client of the messenger's OpenID Connect provider (DESIGN.md "Authentication"). */
export interface MessengerClientSettings {
  issuer: string;
  clientId: string;
  /** From MPAY_MESSENGER_CLIENT_SECRET; else read from `clientSecretFile`, which the embedded messenger writes. */
  clientSecret: string | undefined;
  clientSecretFile: string;
}

export class MessengerClient {
  private configuration: Promise<oidc.Configuration> | null = null;

  constructor(
    private readonly settings: MessengerClientSettings,
    private readonly redirectUri: string,
  ) {}

  /** The redirect URI with the query the messenger sent back (what openid-client checks state and iss against). */
  callbackUrl(query: URLSearchParams): URL {
    const url = new URL(this.redirectUri);
    url.search = query.toString();
    return url;
  }

  async authorizationUrl(state: string, nonce: string, codeVerifier: string): Promise<string> {
    const config = await this.discover();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri,
      scope: "openid profile phone",
      response_type: "code",
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: "S256",
      state,
      nonce,
    });
    return url.href;
  }

  /** Exchanges the code of `callbackUrl` and validates the ID token; every failure is a sign_in_invalid. */
  async identity(
    callbackUrl: URL,
    expected: { state: string; nonce: string; codeVerifier: string },
  ): Promise<MessengerIdentity> {
    const config = await this.discover();
    let claims: oidc.IDToken | undefined;
    try {
      const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: expected.codeVerifier,
        expectedState: expected.state,
        expectedNonce: expected.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims();
    } catch (error) {
      // The library's message names the check that failed (state, nonce, iss, signature, invalid_grant): useful to
      // the payer's support, and it holds no secret (codes are single-use and already spent or refused).
      const reason = error instanceof Error ? error.message.slice(0, 200) : "unknown";
      throw new ApiError("sign_in_invalid", `Messenger sign-in failed: ${reason}`);
    }
    if (!claims?.sub) throw new ApiError("sign_in_invalid", "Messenger sign-in failed: the ID token has no subject.");
    const name = typeof claims["name"] === "string" ? claims["name"] : "";
    const phone = typeof claims["phone_number"] === "string" ? claims["phone_number"] : null;
    return { subject: claims.sub, displayName: name || "Payer", phoneNumber: phone };
  }

  private discover(): Promise<oidc.Configuration> {
    this.configuration ??= this.load().catch((error: unknown) => {
      this.configuration = null;
      if (error instanceof ApiError) throw error;
      throw new ApiError(
        "messenger_unavailable",
        "The messenger's sign-in service cannot be reached; try again shortly.",
      );
    });
    return this.configuration;
  }

  private async load(): Promise<oidc.Configuration> {
    const issuer = new URL(this.settings.issuer);
    const secret = await messengerClientSecret(this.settings);
    // Plain http only for a messenger on this machine (development and tests); production issuers are https.
    const insecure = issuer.protocol === "http:" && LOOPBACK.has(issuer.hostname);
    // openid-client trusts an ID token from the token endpoint on the strength of TLS alone (OIDC Core 3.1.3.7)
    // unless told otherwise; we verify its signature against the provider's JWKS too, so a token signed with any
    // other key is refused even if the connection or the provider's answer were tampered with.
    const execute = insecure
      ? [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks]
      : [oidc.enableNonRepudiationChecks];
    return oidc.discovery(issuer, this.settings.clientId, undefined, oidc.ClientSecretBasic(secret), { execute });
  }
}

/**
 * How long a client secret read from the file is used before the file is looked at again (a stat; it is read again
 * only when it changed). The embedded messenger writes a new secret when it starts afresh; an announcement sent with
 * the old one meanwhile is retried by the outbox, so a short lifetime bounds the staleness while each announcement
 * no longer reads the file (issue 11: one file read per payment on the pay path).
 */
export const CLIENT_SECRET_FILE_TTL_MS = 30_000;
/** A missing or unreadable file is looked at again after this long (the embedded messenger may start later). */
export const MISSING_SECRET_FILE_TTL_MS = 5_000;

/**
 * The pay server's client secret at the messenger: MPAY_MESSENGER_CLIENT_SECRET, else the file the embedded
 * messenger writes in development (kept for CLIENT_SECRET_FILE_TTL_MS). The same credentials sign payers in and post
 * MPay's announcements.
 */
export async function messengerClientSecret(
  settings: MessengerClientSettings,
  now: () => number = Date.now,
): Promise<string> {
  if (settings.clientSecret) return settings.clientSecret;
  const stored = await secretFromFile(
    settings.clientSecretFile,
    "client_secret",
    { recheckAfterMs: CLIENT_SECRET_FILE_TTL_MS, missingRecheckAfterMs: MISSING_SECRET_FILE_TTL_MS },
    now,
  );
  if (stored !== null) return stored;
  throw noSecret();
}

function noSecret(): ApiError {
  return new ApiError(
    "messenger_unavailable",
    "The pay server has no messenger client secret: set MPAY_MESSENGER_CLIENT_SECRET.",
  );
}
