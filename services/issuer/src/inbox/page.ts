/**
 * The test inbox as a page a person reads (issue 9, item 8): the one-time codes the card companies "texted" to one
 * phone, newest first, refreshed every few seconds by `<meta http-equiv=refresh>`, so a newcomer adding a test card
 * in the wallet reads the code here instead of on the cardholder's phone. A test facility standing in for SMS, and
 * the page says so; it exists only where the JSON test inbox does (ISSUER_TEST_INBOX).
 *
 * No script at all: the Content-Security-Policy allows the one inline stylesheet by its hash and nothing else. Every
 * value is escaped; the Referer is never sent (the URL names a phone) and the page is never cached (codes).
 */
import { createHash } from "node:crypto";
import type { InboxMessage } from "../host.ts";

export const REFRESH_SECONDS = 5;

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

const STYLE = `body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;padding:1.5rem 1rem;color:#1d1f23}
main{max-width:34rem;margin:0 auto}h1{font-size:1.3rem;margin:0 0 .5rem}
.note{background:#fff4ce;border-radius:8px;padding:.7rem .9rem;font-size:.9rem;line-height:1.4}
ol{list-style:none;padding:0}li{background:#fff;border-radius:12px;padding:1rem;margin:.8rem 0;box-shadow:0 1px 3px rgba(0,0,0,.15)}
.code{font-size:1.8rem;font-weight:700;letter-spacing:.2em;font-variant-numeric:tabular-nums}
.meta{color:#5f6570;font-size:.85rem}.expired{opacity:.55}.error{color:#b3261e}
form{margin-top:1.5rem;font-size:.9rem}input{padding:.4rem;font-size:1rem}button{padding:.4rem .8rem;font-size:1rem}`;

const STYLE_HASH = createHash("sha256").update(STYLE).digest("base64");

export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
  vary: "Accept",
};

/**
 * True when the client asks for a page: a browser's Accept names text/html; fetch's and curl's default (`*\/*`)
 * and a JSON client's do not, so scripts keep getting the JSON answer from the same URL.
 */
export function wantsPage(accept: string | undefined): boolean {
  const types = (accept ?? "").toLowerCase();
  return types.includes("text/html") && !types.includes("application/json");
}

/** `23:40:12 UTC`: the simulator's clock, told in UTC (without a script the page cannot know the reader's zone). */
function clockTime(iso: string): string {
  return `${iso.slice(11, 19)} UTC`;
}

function messageItem(message: InboxMessage, now: Date): string {
  const expired = Date.parse(message.expiresAt) <= now.getTime();
  const validity = expired
    ? `expired · <span lang="ko">만료됨</span>`
    : `valid until ${escapeHtml(clockTime(message.expiresAt))} · <span lang="ko">유효</span>`;
  return `<li${expired ? ' class="expired"' : ""}>
<div class="meta">${escapeHtml(message.issuerName)} · <time datetime="${escapeHtml(message.sentAt)}">${escapeHtml(clockTime(message.sentAt))}</time></div>
<div class="code">${escapeHtml(message.code)}</div>
<p>${escapeHtml(message.text)}</p>
<div class="meta">${validity}</div>
</li>`;
}

function phoneForm(phone: string, error: boolean): string {
  return `<form method="get" action="/test-inbox">
<label for="phone">Phone on file · <span lang="ko">카드사에 등록된 휴대폰 번호</span></label><br>
<input id="phone" name="phone" type="tel" value="${escapeHtml(phone)}" placeholder="+821055510001" autocomplete="off"${error ? ' aria-invalid="true" aria-describedby="phone-error"' : ""}>
<button type="submit">Open · <span lang="ko">열기</span></button>
${error ? `<p id="phone-error" class="error">Not a phone number in E.164, for example +821055510001 · <span lang="ko">E.164 형식의 번호가 아닙니다 (예: +821055510001)</span></p>` : ""}
</form>`;
}

function page(title: string, body: string, refresh: boolean): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${refresh ? `<meta http-equiv="refresh" content="${REFRESH_SECONDS}">\n` : ""}<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

const NOTE = `<p class="note">A test facility of the card issuer simulator, standing in for the cardholder's phone: it shows the
one-time codes a card company would send by SMS. Not a real text message; a production issuer has no such page.
<span lang="ko">카드사 시뮬레이터의 테스트 기능으로, 카드 소지자의 휴대폰 대신 카드사가 문자로 보낼 인증번호를
보여 줍니다. 실제 문자가 아니며 실제 카드사에는 이런 페이지가 없습니다.</span></p>`;

/** The messages sent to `phone` (E.164), newest first as given; `now` is the simulator's clock. */
export function inboxPage(phone: string, messages: readonly InboxMessage[], now: Date): string {
  const list =
    messages.length === 0
      ? `<p>No messages yet. Add the card in the wallet: its code shows here within seconds.
<span lang="ko">아직 메시지가 없습니다. 지갑에서 카드를 추가하면 몇 초 안에 인증번호가 여기에 나타납니다.</span></p>`
      : `<ol>\n${messages.map((message) => messageItem(message, now)).join("\n")}\n</ol>`;
  return page(
    `Test inbox ${phone} · 테스트 수신함`,
    `<h1>Test inbox of ${escapeHtml(phone)} · <span lang="ko">테스트 수신함</span></h1>
${NOTE}
<p class="meta">Newest first; this page refreshes every ${REFRESH_SECONDS} seconds. · <span lang="ko">최신순이며 ${REFRESH_SECONDS}초마다 새로 고칩니다.</span></p>
${list}
${phoneForm(phone, false)}`,
    true,
  );
}

/** No phone asked for yet, or one that is not a phone number (not echoed back: the field is just emptied). */
export function choosePhonePage(invalid: boolean): string {
  return page(
    "Test inbox · 테스트 수신함",
    `<h1>Test inbox · <span lang="ko">테스트 수신함</span></h1>
${NOTE}
${phoneForm("", invalid)}`,
    false,
  );
}
