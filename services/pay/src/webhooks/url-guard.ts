// SSRF guard for merchant webhook URLs (DESIGN.md: "https on public addresses in live mode (no private ranges,
// checked when connecting); test mode also allows loopback").
//
// Two checks, because a hostname's answer can change between them (DNS rebinding):
//   validateWebhookUrl — when the URL is registered and before each attempt: syntax, scheme, IP literals, localhost.
//   guardedLookup      — when connecting: every address the name resolves to, right before the socket opens.
//
// Test mode allows loopback only, not the other private ranges: a merchant developing on their laptop needs
// http://localhost, but nobody needs our servers to post into 10.0.0.0/8 or the cloud metadata address.
import { lookup as dnsLookup } from "node:dns";
import type { LookupAddress, LookupAllOptions } from "node:dns";
import { BlockList, isIP } from "node:net";
import type { LookupFunction } from "node:net";

export type WebhookMode = "test" | "live";
export type WebhookUrlCode = "webhook_url_invalid" | "webhook_url_insecure" | "webhook_url_private";
export type WebhookUrlCheck = { ok: true; url: URL } | { ok: false; code: WebhookUrlCode; message: string };

const MAX_URL_LENGTH = 2048;

// IANA special-purpose registries (RFC 6890 and successors).
const NOT_PUBLIC_V4: ReadonlyArray<readonly [string, number]> = [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local, includes cloud metadata 169.254.169.254
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // TEST-NET-1
  ["192.88.99.0", 24], // deprecated 6to4 relay anycast
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // TEST-NET-2
  ["203.0.113.0", 24], // TEST-NET-3
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, includes broadcast 255.255.255.255
];
// Only 2000::/3 is global unicast; these are the special blocks inside it (plus the ones the brief lists outside
// it, kept for the reader even though the 2000::/3 rule already excludes them).
const NOT_PUBLIC_V6: ReadonlyArray<readonly [string, number]> = [
  ["::", 128], // unspecified
  ["::1", 128], // loopback
  ["64:ff9b::", 96], // NAT64: would reach an IPv4 address of the translator's choosing
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["ff00::", 8], // multicast
  ["2001::", 32], // Teredo: tunnels to an embedded IPv4 address
  ["2001:db8::", 32], // documentation
  ["2002::", 16], // 6to4: tunnels to an embedded IPv4 address
  ["3fff::", 20], // documentation (RFC 9637)
];

const notPublic = new BlockList();
for (const [net, prefix] of NOT_PUBLIC_V4) notPublic.addSubnet(net, prefix, "ipv4");
for (const [net, prefix] of NOT_PUBLIC_V6) notPublic.addSubnet(net, prefix, "ipv6");
const globalUnicastV6 = new BlockList();
globalUnicastV6.addSubnet("2000::", 3, "ipv6");
const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");

export function isPublicAddress(ip: string): boolean {
  const version = isIP(ip);
  if (version === 4) return !notPublic.check(ip, "ipv4");
  if (version !== 6 || ip.includes("%")) return false; // a zone id only exists on link-local scopes
  const v4 = mappedIpv4(ip);
  if (v4 !== undefined) return isPublicAddress(v4);
  return globalUnicastV6.check(ip, "ipv6") && !notPublic.check(ip, "ipv6");
}

export function isLoopbackAddress(ip: string): boolean {
  const version = isIP(ip);
  if (version === 4) return loopback.check(ip, "ipv4");
  if (version !== 6 || ip.includes("%")) return false;
  const v4 = mappedIpv4(ip);
  return v4 !== undefined ? isLoopbackAddress(v4) : loopback.check(ip, "ipv6");
}

export function isAllowedAddress(ip: string, mode: WebhookMode): boolean {
  return isPublicAddress(ip) || (mode === "test" && isLoopbackAddress(ip));
}

export function validateWebhookUrl(url: string, mode: WebhookMode): WebhookUrlCheck {
  if (url.length > MAX_URL_LENGTH) return invalid(`URL is longer than ${MAX_URL_LENGTH} characters`);
  let parsed: URL;
  try {
    // The WHATWG parser also normalises disguised literals (http://2130706433/, http://0x7f.1/) to 127.0.0.1.
    parsed = new URL(url);
  } catch {
    return invalid("not a valid absolute URL");
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return invalid("URL must use https");
  if (parsed.username !== "" || parsed.password !== "") return invalid("URL must not contain credentials");
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  // Node does not call `lookup` for an IP literal, so guardedLookup never sees it: judge it here.
  const literal = isIP(host) !== 0;
  if (literal && !isAllowedAddress(host, mode)) return denied(mode);
  const local = literal ? isLoopbackAddress(host) : isLocalhostName(host);
  if (local && mode === "live") return denied(mode);
  if (parsed.protocol !== "https:" && !(mode === "test" && local)) {
    return { ok: false, code: "webhook_url_insecure", message: insecureMessage(mode) };
  }
  return { ok: true, url: parsed };
}

// The error for a refused address, shared by the URL check and the connect-time lookup.
export function addressNotAllowedError(): NodeJS.ErrnoException {
  // No address or hostname in the message: it may be shown to the merchant, and which internal address a name
  // resolves to is exactly what an SSRF probe wants to learn.
  return Object.assign(new Error("webhook host resolves to an address that is not allowed"), {
    code: "webhook_url_private",
  });
}

type Resolve = (
  hostname: string,
  options: LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * A `lookup` for http(s).request / net.connect that resolves the name and refuses the whole connection if any
 * answer is not allowed for the mode. Refusing on any (rather than filtering) keeps a name that mixes public and
 * private answers from being reachable at all. `resolve` is replaceable for tests.
 */
export function guardedLookup(mode: WebhookMode, resolve: Resolve = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const first = addresses[0];
      if (first === undefined || !addresses.every((a) => isAllowedAddress(a.address, mode))) {
        return callback(addressNotAllowedError(), []);
      }
      // Node ≥ 20 connects with autoSelectFamily and asks for `all: true`; other callers want one address.
      if (options.all) return callback(null, addresses);
      return callback(null, first.address, first.family);
    });
  };
}

// RFC 6761: "localhost" and every name under it resolve to loopback.
function isLocalhostName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, "");
  return name === "localhost" || name.endsWith(".localhost");
}

// ::ffff:a.b.c.d reaches the IPv4 host a.b.c.d, so it is judged as that address. The URL parser canonicalises
// every spelling (::FFFF:7F00:1, 0:0:0:0:0:ffff:127.0.0.1, …) to ::ffff:hhhh:hhhh.
function mappedIpv4(ipv6: string): string | undefined {
  let host: string;
  try {
    host = new URL(`http://[${ipv6}]/`).hostname;
  } catch {
    return undefined;
  }
  const match = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(host);
  if (!match?.[1] || !match[2]) return undefined;
  const high = parseInt(match[1], 16);
  const low = parseInt(match[2], 16);
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

function invalid(message: string): WebhookUrlCheck {
  return { ok: false, code: "webhook_url_invalid", message };
}

function denied(mode: WebhookMode): WebhookUrlCheck {
  const message =
    mode === "live"
      ? "live webhook URLs must point to a public address"
      : "test webhook URLs must point to a public or loopback address";
  return { ok: false, code: "webhook_url_private", message };
}

function insecureMessage(mode: WebhookMode): string {
  return mode === "live" ? "live webhook URLs must use https" : "test webhook URLs must use https unless loopback";
}
