/**
 * HTTP Basic authentication of a registered client (RFC 6749 2.3.1, `client_secret_basic`), for the official
 * accounts' API: the sender uses the client id and secret it already holds as an OpenID Connect client.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { RegisteredClient } from "../oidc/provider.ts";

/** Secrets are compared as SHA-256 digests: equal lengths, so the comparison time says nothing about the secret. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function formDecode(value: string): string | null {
  try {
    return decodeURIComponent(value.replace(/\+/g, " "));
  } catch {
    return null;
  }
}

/** The client that `Authorization: Basic …` authenticates, or null (absent, malformed, unknown id or wrong secret). */
export function authenticateClient(
  authorization: string | undefined,
  clients: readonly RegisteredClient[],
): RegisteredClient | null {
  const encoded = authorization ? /^Basic\s+([A-Za-z0-9+/]+=*)\s*$/.exec(authorization)?.[1] : undefined;
  if (!encoded) return null;
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  // RFC 6749 2.3.1: id and secret are form-urlencoded before they are joined (openid-client does so).
  const clientId = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  if (clientId === null || secret === null) return null;
  const client = clients.find((candidate) => candidate.clientId === clientId);
  // An unknown id still costs a comparison, so timing does not tell registered ids apart.
  const matches = sameSecret(secret, client?.clientSecret ?? "\u0000not-a-client");
  return client && matches ? client : null;
}
