/**
 * One delivery attempt of an announcement to the messenger's "MPay" official account
 * (`POST /api/official/mpay/messages`), authenticated as the pay server's OpenID Connect client (HTTP Basic,
 * `client_secret_basic`). Outbox, retries and backoff live in service.ts; this file only answers "did the
 * messenger store it, and if not, may we try again" — with a short code, never the secret nor an answer body.
 */
import { officialMessageSchema, type OfficialMessageInput } from "@mpay/protocol";

export interface MessengerInboxSettings {
  /** The messenger's origin: its issuer URL (it serves its API and its OpenID Connect provider from one origin). */
  baseUrl: string;
  clientId: string;
  /** Read on every attempt, so a secret configured while announcements wait is used by the next retry. */
  clientSecret(): Promise<string>;
  timeoutMs: number;
}

/**
 * `delivered`: the messenger holds the message (a first send or a resend of the same id).
 * `retry`: the outcome is unknown or the messenger cannot take it now (down, timeout, 5xx, 429, our credentials).
 * `refused`: the messenger will never take it as it is (invalid, unknown account, id reused): retrying is useless.
 */
export type SendOutcome =
  | { outcome: "delivered" }
  | { outcome: "retry"; error: string }
  | { outcome: "refused"; error: string };

const REFUSED_FOR_GOOD = new Set([400, 409, 413, 422]);
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);
const ERROR_CODE = /^[a-z_]{1,60}$/;

function basic(clientId: string, secret: string): string {
  // RFC 6749 2.3.1: both are form-urlencoded before they are joined.
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString("base64")}`;
}

/** The messenger's stable error code, if the answer has one. */
function errorCodeOf(body: unknown): string | undefined {
  const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
  return typeof code === "string" && ERROR_CODE.test(code) ? code : undefined;
}

export class MessengerInboxClient {
  private readonly url: URL;

  constructor(private readonly settings: MessengerInboxSettings) {
    this.url = new URL(`${settings.baseUrl.replace(/\/$/, "")}/api/official/mpay/messages`);
  }

  async send(message: OfficialMessageInput): Promise<SendOutcome> {
    // The client secret goes in every request: over plain HTTP only to a messenger on this machine (as for sign-in).
    // Retried, not refused: the announcement waits until the operator fixes the address.
    if (this.url.protocol !== "https:" && !(this.url.protocol === "http:" && LOOPBACK.has(this.url.hostname))) {
      return { outcome: "retry", error: "insecure_messenger_url" };
    }
    let secret: string;
    try {
      secret = await this.settings.clientSecret();
    } catch {
      return { outcome: "retry", error: "no_client_secret" };
    }
    let response: Response;
    let body: unknown;
    try {
      response = await fetch(this.url, {
        method: "POST",
        headers: {
          authorization: basic(this.settings.clientId, secret),
          "content-type": "application/json",
          accept: "application/json",
        },
        body: JSON.stringify(message),
        // A redirect would be someone else's server: never follow it with our credentials.
        redirect: "manual",
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      body = await response.json().catch(() => null);
    } catch (error) {
      return {
        outcome: "retry",
        error: error instanceof Error && error.name === "TimeoutError" ? "timeout" : "unreachable",
      };
    }
    if (response.status === 200 || response.status === 201) {
      const stored = officialMessageSchema.safeParse(body);
      return stored.success && stored.data.id === message.id
        ? { outcome: "delivered" }
        : { outcome: "retry", error: "malformed_answer" };
    }
    const code = errorCodeOf(body);
    const error = code ?? `http_${response.status}`;
    // 404 for an unknown account is final; for an unknown route it is a messenger not upgraded yet: try again later.
    if (REFUSED_FOR_GOOD.has(response.status) || (response.status === 404 && code === "account_not_found"))
      return { outcome: "refused", error };
    return { outcome: "retry", error };
  }
}
