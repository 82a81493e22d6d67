/**
 * Just enough of a browser for sign-in tests over real HTTP: a cookie jar (name, path, expiry; one host), manual
 * redirects that stop at the relying party's redirect URI, and reading a form out of a page with regular
 * expressions. Form posts carry the page's Origin, as browsers send it.
 */
interface Cookie {
  value: string;
  path: string;
}

export interface BrowserResponse {
  status: number;
  url: string;
  location: string | undefined;
  body: string;
  headers: Headers;
}

export interface HtmlForm {
  action: string;
  fields: Record<string, string>;
}

const ENTITIES: Record<string, string> = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'" };
const unescape = (value: string) => value.replace(/&(amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity] ?? entity);

/** The form whose action matches `actionPattern` (the first post form by default), with its inputs' current values. */
export function readForm(html: string, actionPattern: RegExp = /.*/): HtmlForm {
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    const attributes = match[1] ?? "";
    const action = unescape(/\baction="([^"]*)"/.exec(attributes)?.[1] ?? "");
    if (!/\bmethod="post"/i.test(attributes) || !actionPattern.test(action)) continue;
    const fields: Record<string, string> = {};
    for (const input of (match[2] ?? "").matchAll(/<input\b([^>]*)>/g)) {
      const name = /\bname="([^"]*)"/.exec(input[1] ?? "")?.[1];
      if (name) fields[unescape(name)] = unescape(/\bvalue="([^"]*)"/.exec(input[1] ?? "")?.[1] ?? "");
    }
    return { action, fields };
  }
  throw new Error(`no post form matching ${actionPattern} in page:\n${html.slice(0, 2000)}`);
}

export class Browser {
  private readonly cookies = new Map<string, Cookie>();

  /** The cookies the jar holds, by name (for the no-secrets-in-logs checks). */
  cookieJar(): Map<string, string> {
    return new Map([...this.cookies.entries()].map(([name, cookie]) => [name, cookie.value]));
  }

  private cookieHeader(url: URL): string | undefined {
    const pairs = [...this.cookies.entries()]
      .filter(
        ([, cookie]) =>
          url.pathname === cookie.path ||
          url.pathname.startsWith(cookie.path.endsWith("/") ? cookie.path : `${cookie.path}/`),
      )
      .map(([name, cookie]) => `${name}=${cookie.value}`);
    return pairs.length > 0 ? pairs.join("; ") : undefined;
  }

  private store(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
      const separator = pair.indexOf("=");
      const name = pair.slice(0, separator);
      const value = pair.slice(separator + 1);
      const attribute = (key: string) =>
        attributes.find((item) => item.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
      const expires = attribute("expires");
      const maxAge = attribute("max-age");
      const expired =
        (maxAge !== undefined && Number(maxAge) <= 0) || (expires !== undefined && Date.parse(expires) <= Date.now());
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, { value, path: attribute("path") ?? "/" });
    }
  }

  async request(
    url: string,
    init: { method?: string; form?: Record<string, string>; origin?: string } = {},
  ): Promise<BrowserResponse> {
    const target = new URL(url);
    const headers: Record<string, string> = { accept: "text/html" };
    const cookie = this.cookieHeader(target);
    if (cookie) headers["cookie"] = cookie;
    if (init.form) headers["content-type"] = "application/x-www-form-urlencoded";
    if (init.origin) headers["origin"] = init.origin;
    const response = await fetch(target, {
      method: init.method ?? (init.form ? "POST" : "GET"),
      headers,
      redirect: "manual",
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    });
    this.store(response.headers);
    const location = response.headers.get("location") ?? undefined;
    return {
      status: response.status,
      url: target.href,
      location: location ? new URL(location, target).href : undefined,
      body: await response.text(),
      headers: response.headers,
    };
  }

  /**
   * Follows redirects from `response` until a page (no redirect) or a URL that starts with `stopAt` (the relying
   * party's redirect URI, which this browser does not fetch). Returns the last response, or the stop URL.
   */
  async follow(response: BrowserResponse, stopAt: string): Promise<{ page?: BrowserResponse; callback?: URL }> {
    let current = response;
    for (let hops = 0; hops < 10; hops++) {
      if (current.status < 300 || current.status >= 400 || !current.location) return { page: current };
      if (current.location.startsWith(stopAt)) return { callback: new URL(current.location) };
      current = await this.request(current.location);
    }
    throw new Error("too many redirects");
  }

  /** Opens `url` and follows redirects (see `follow`). */
  async open(url: string | URL, stopAt: string): Promise<{ page?: BrowserResponse; callback?: URL }> {
    return this.follow(await this.request(String(url)), stopAt);
  }

  /** Submits `form` as it is on `page`, with `values` typed in, from `page`'s origin, and follows redirects. */
  async submit(page: BrowserResponse, form: HtmlForm, values: Record<string, string>, stopAt: string) {
    const action = new URL(form.action, page.url);
    const response = await this.request(action.href, {
      form: { ...form.fields, ...values },
      origin: new URL(page.url).origin,
    });
    return { response, ...(await this.follow(response, stopAt)) };
  }
}
