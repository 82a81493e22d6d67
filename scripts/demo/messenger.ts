/**
 * The payer's side of the messenger, as a person with a browser does it: make an account (the messenger's public
 * account API), then sign in on its real login form. The wallet SDK cannot drive that form (it only hands out the
 * authorization URL and exchanges the code of its landing page), so this is a tiny browser: a cookie jar with paths,
 * manual redirects up to the pay server's callback, which it visits to be sent on to the wallet's landing page, and a
 * form post that carries the page's Origin as browsers do.
 */
import { DemoError } from "./config.ts";

export interface MessengerAccount {
  id: string;
  phoneNumber: string;
  displayName: string;
}

/** The messenger refused a new account; `code` is its stable error code (`phone_number_taken`, …). */
export class AccountRefusedError extends DemoError {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** `POST /api/accounts` (services/messenger/README.md). The password is the caller's; it is never printed. */
export async function createMessengerAccount(
  messengerUrl: string,
  input: { phoneNumber: string; displayName: string; password: string },
): Promise<MessengerAccount> {
  const response = await fetch(`${messengerUrl}/api/accounts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ phoneNumber: input.phoneNumber, displayName: input.displayName, password: input.password }),
  });
  const body = (await response.json().catch(() => null)) as
    | (MessengerAccount & { error?: { code: string; message: string } })
    | null;
  if (response.status !== 201 || !body?.id)
    throw new AccountRefusedError(
      body?.error?.code ?? String(response.status),
      `the messenger refused the new account: ${body?.error?.code ?? response.status} ${body?.error?.message ?? ""}`.trim(),
    );
  return { id: body.id, phoneNumber: body.phoneNumber, displayName: body.displayName };
}

/** Cookies by name, each with the path it was set for (the messenger scopes its interaction cookies by path). */
class CookieJar {
  readonly #cookies = new Map<string, { value: string; path: string }>();

  keep(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
      const name = pair.slice(0, pair.indexOf("="));
      const value = pair.slice(pair.indexOf("=") + 1);
      const path = attributes.find((a) => a.toLowerCase().startsWith("path="))?.slice(5) ?? "/";
      const expired = attributes.some(
        (a) => /^max-age=(0|-)/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) <= Date.now()),
      );
      if (expired || value === "") this.#cookies.delete(name);
      else this.#cookies.set(name, { value, path });
    }
  }

  header(url: URL): string | undefined {
    const matching = [...this.#cookies].filter(
      ([, c]) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith("/") ? c.path : `${c.path}/`),
    );
    return matching.length > 0 ? matching.map(([name, c]) => `${name}=${c.value}`).join("; ") : undefined;
  }
}

/**
 * Signs in at the messenger's login form, starting from the wallet's authorization URL, follows the redirect to the
 * pay server's callback (`redirect_uri` of that URL), and answers where the pay server sends the browser next: the
 * wallet's landing page (`<web>/wallet/signin?code=plc_…`), whose code the wallet exchanges with its verifier. The
 * demo has no web app to land on; the URL is all the wallet needs.
 */
export async function signInAtMessenger(authorizationUrl: string, phoneNumber: string, password: string): Promise<URL> {
  return walletLanding(await messengerRedirect(authorizationUrl, phoneNumber, password));
}

/** The pay server's answer to the messenger's redirect: a 303 to the wallet's landing page. */
async function walletLanding(callback: URL): Promise<URL> {
  const response = await fetch(callback, { redirect: "manual" });
  await response.body?.cancel();
  const location = response.headers.get("location");
  if (response.status !== 303 || !location)
    throw new DemoError(
      `the pay server's sign-in callback answered HTTP ${response.status}, not a redirect to the wallet`,
    );
  const landing = new URL(location, callback);
  const error = landing.searchParams.get("error");
  if (error) throw new DemoError(`the pay server refused the sign-in (${error.slice(0, 60)})`);
  return landing;
}

async function messengerRedirect(authorizationUrl: string, phoneNumber: string, password: string): Promise<URL> {
  const start = new URL(authorizationUrl);
  const redirectUri = start.searchParams.get("redirect_uri");
  if (!redirectUri) throw new DemoError("the wallet's sign-in link names no redirect_uri");
  const callback: string = redirectUri;
  const jar = new CookieJar();

  async function visit(url: URL, form?: Record<string, string>): Promise<Response> {
    if (url.origin !== start.origin) throw new DemoError(`the sign-in was sent to ${url.origin}, not the messenger`);
    const headers: Record<string, string> = { accept: "text/html" };
    const cookie = jar.header(url);
    if (cookie) headers["cookie"] = cookie;
    if (form) Object.assign(headers, { "content-type": "application/x-www-form-urlencoded", origin: start.origin });
    const response = await fetch(url, {
      method: form ? "POST" : "GET",
      headers,
      redirect: "manual",
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    jar.keep(response.headers);
    return response;
  }

  /** Follows redirects to a page (answered with its URL and HTML) or to the callback (answered as a URL). */
  async function follow(
    url: URL,
    form?: Record<string, string>,
  ): Promise<URL | { url: URL; status: number; html: string }> {
    let response = await visit(url, form);
    for (let hops = 0; hops < 10; hops++) {
      const location = response.headers.get("location");
      if (response.status < 300 || response.status >= 400 || !location)
        return { url, status: response.status, html: await response.text() };
      await response.body?.cancel();
      url = new URL(location, url);
      if (url.href.startsWith(callback)) return url;
      response = await visit(url);
    }
    throw new DemoError("the messenger's sign-in redirected too many times");
  }

  const page = await follow(start);
  if (page instanceof URL) return page;
  const action = /<form\b[^>]*\bmethod="post"[^>]*\baction="([^"]*\/login)"/i.exec(page.html)?.[1];
  if (!action) throw new DemoError(`the messenger showed no login form (HTTP ${page.status})`);
  const done = await follow(new URL(action.replaceAll("&amp;", "&"), page.url), { phone: phoneNumber, password });
  if (done instanceof URL) return done;
  throw new DemoError(`the messenger did not accept the sign-in (HTTP ${done.status})`);
}
