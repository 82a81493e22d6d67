/**
 * HTML without a template engine: the `html` tag escapes every interpolated value unless it is itself `html`
 * (a SafeHtml), so output is escaped by default and only markup written in this code base is ever trusted.
 * Pages carry a strict Content-Security-Policy (no script at all; the one stylesheet by hash), refuse framing,
 * send no Referer to other origins (interaction URLs are not for third parties) and are never cached.
 *
 * The referrer policy is `same-origin`, not `no-referrer`: under `no-referrer` browsers send `Origin: null` even
 * on same-origin form posts (Fetch, "append a request Origin header"), and the forms check Origin.
 */
import { createHash } from "node:crypto";

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

type Interpolation = SafeHtml | string | number | null | undefined | ReadonlyArray<SafeHtml>;

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0] ?? "";
  values.forEach((value, index) => {
    if (value instanceof SafeHtml) out += value.value;
    else if (Array.isArray(value)) out += value.map((item: SafeHtml) => item.value).join("");
    else if (value !== null && value !== undefined) out += escapeHtml(String(value));
    out += strings[index + 1] ?? "";
  });
  return new SafeHtml(out);
}

const STYLE = `body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;padding:2rem 1rem;color:#1d1f23}
main{max-width:22rem;margin:0 auto;background:#fff;border-radius:12px;padding:1.5rem;box-shadow:0 1px 3px rgba(0,0,0,.15)}
h1{font-size:1.3rem;margin:0 0 1rem}label{display:block;font-size:.9rem;margin:.8rem 0 .3rem}
input{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;border:1px solid #c4c8cf;border-radius:8px}
button{width:100%;margin-top:1.2rem;padding:.7rem;font-size:1rem;border:0;border-radius:8px;background:#fee500;color:#1d1f23;cursor:pointer}
button.secondary{background:#e8eaee}.error{color:#b3261e;background:#fdecea;padding:.6rem;border-radius:8px}
.muted{color:#5f6570;font-size:.85rem}ul{padding-left:1.2rem}`;

const STYLE_HASH = createHash("sha256").update(STYLE).digest("base64");

export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; base-uri 'none'; frame-ancestors 'none'`,
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "cache-control": "no-store",
};

export interface Page {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: string;
}

export function page(title: string, content: SafeHtml, status = 200): Page {
  const body = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><style>${new SafeHtml(STYLE)}</style></head>
<body><main>${content}</main></body></html>`;
  return { status, headers: PAGE_HEADERS, body: body.value };
}
