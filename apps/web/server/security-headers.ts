/**
 * The headers every answer of the web origin carries (docs/web.md). The Content-Security-Policy is what makes the
 * web wallet's code the operator's alone (DESIGN.md, "Web wallet"): scripts only from this origin's own files (no
 * inline script, no eval; `'wasm-unsafe-eval'` for the OPAQUE client's WASM), connections only to this origin, the
 * pay server and the messenger, and no framing, so no other page can overlay the pay sheet.
 */

/** Where the parts the web app talks to are (their origins go into the policy). */
export interface WebPeers {
  payUrl: string;
  messengerUrl: string;
  messengerWsUrl: string;
}

const origin = (url: string) => new URL(url).origin;

/** `ws://host:port` for the WebSocket URL (URL.origin is "null" for ws: schemes in some runtimes). */
function socketOrigin(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}`;
}

export function contentSecurityPolicy(peers: WebPeers): string {
  const pay = origin(peers.payUrl);
  const messenger = origin(peers.messengerUrl);
  const directives = [
    "default-src 'none'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src 'self' ${pay} ${messenger} ${socketOrigin(peers.messengerWsUrl)}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    `form-action 'self' ${pay} ${messenger}`,
  ];
  return directives.join("; ");
}

/** The headers of every answer, whatever its status. */
export function securityHeaders(peers: WebPeers): Record<string, string> {
  return {
    "content-security-policy": contentSecurityPolicy(peers),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    // frame-ancestors 'none' says it to current browsers; this says it to the ones that predate it.
    "x-frame-options": "DENY",
  };
}
