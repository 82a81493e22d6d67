/**
 * The WebAuthn relying party of the web app (the wallet's passkeys), read the same way by the pay server (which
 * registers passkeys and checks approvals) and the issuer host (which checks approvals against the passkeys bound
 * at enrollment): both must name the one the browser uses, so both derive it from the web app's URL
 * (systemAddresses) unless `<PREFIX>_PASSKEY_RP_ID` / `<PREFIX>_PASSKEY_ORIGINS` say otherwise.
 *
 * By default the RP ID is the web app's host name and its origin is the only one accepted: `http://localhost:4300`
 * gives `localhost` and `http://localhost:4300`. Browsers refuse an IP address as an RP ID (WebAuthn's RP ID is a
 * "valid domain string"; Chromium answers SecurityError), so a web app at `http://127.0.0.1:4300` cannot have
 * passkeys at all. Such a URL is not refused at start: the PIN works there, and tests run the web app at
 * 127.0.0.1 on purpose. Instead the relying party is null (passkeys are off): `npm start` says so in one line,
 * the pay server answers `passkeys_unavailable`, and the wallet, which sees its own host, says that passkeys need
 * a host name and offers the PIN only. An RP ID set explicitly to an IP address, or an origin outside the RP ID's
 * domain, can never work: those are refused with a ConfigError that names the variable.
 */
import { ConfigError, parseHttpUrl, splitList, type Env } from "./env.ts";

export interface WebAuthnRelyingParty {
  /** The registrable domain (or host name) passkeys belong to. */
  rpId: string;
  /** The origins assertions are accepted from, without trailing slash. */
  origins: string[];
}

/** A URL host name that is an IP address (`127.0.0.1`, `[::1]`): WHATWG URL parsing already normalised it. */
export function isIpAddressHost(hostname: string): boolean {
  return hostname.startsWith("[") || /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname);
}

/** `PREFIX_PASSKEY_RP_ID` as a host name, refused when it is an IP address or not a host name at all. */
function explicitRpId(variable: string, value: string): string {
  const url = parseHttpUrl(`http://${value}`);
  if (!url || url.hostname !== value.toLowerCase() || url.port !== "")
    throw new ConfigError(
      variable,
      `${variable} must be a host name such as localhost or pay.example, got ${JSON.stringify(value)}`,
    );
  if (isIpAddressHost(url.hostname))
    throw new ConfigError(
      variable,
      `${variable}: ${value} is an IP address, and browsers accept only a host name as a passkey's relying party; use localhost on this machine`,
    );
  return url.hostname;
}

/** The relying party for passkeys, or null when the web app is at an IP address and none is set (passkeys off). */
export function webAuthnRelyingParty(env: Env, prefix: "MPAY" | "ISSUER", webUrl: string): WebAuthnRelyingParty | null {
  const rpIdVariable = `${prefix}_PASSKEY_RP_ID`;
  const originsVariable = `${prefix}_PASSKEY_ORIGINS`;
  const web = new URL(webUrl);
  const setRpId = env[rpIdVariable];
  const rpId = setRpId ? explicitRpId(rpIdVariable, setRpId) : isIpAddressHost(web.hostname) ? null : web.hostname;
  const setOrigins = splitList(env[originsVariable]);
  if (rpId === null) {
    if (setOrigins.length > 0)
      throw new ConfigError(
        originsVariable,
        `${originsVariable} is set but the web app's URL ${web.origin} is an IP address, which cannot be a passkey's relying party: set ${rpIdVariable} too`,
      );
    return null;
  }
  const origins = setOrigins.length > 0 ? setOrigins.map((origin) => originOf(originsVariable, origin)) : [web.origin];
  for (const origin of origins) {
    const host = new URL(origin).hostname;
    if (host !== rpId && !host.endsWith(`.${rpId}`))
      throw new ConfigError(
        setOrigins.length > 0 ? originsVariable : rpIdVariable,
        `the passkey origin ${origin} is not on ${rpIdVariable}'s domain ${rpId}: browsers would refuse every passkey there`,
      );
  }
  return { rpId, origins };
}

function originOf(variable: string, value: string): string {
  const url = parseHttpUrl(value);
  if (!url) throw new ConfigError(variable, `${variable} must list http(s) origins, got ${JSON.stringify(value)}`);
  return url.origin;
}
