/** The sign-in pages the provider sends people to: login and consent (errors: http/pages.ts). Every value is escaped (http/html.ts). */
import { html, page, type Page } from "../http/html.ts";

export interface LoginView {
  uid: string;
  clientName: string;
  /** What the person typed, shown again after a failure; never the password. */
  phoneNumber?: string;
  error?: string;
  status?: number;
}

export function loginPage(view: LoginView): Page {
  const content = html`<h1>Sign in to continue to ${view.clientName}</h1>
${view.error ? html`<p class="error" role="alert">${view.error}</p>` : null}
<form method="post" action="/interaction/${view.uid}/login" autocomplete="on">
  <label for="phone">Phone number</label>
  <input id="phone" name="phone" type="tel" inputmode="tel" autocomplete="username" placeholder="+82 10 1234 5678" required maxlength="32" value="${view.phoneNumber ?? ""}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="128">
  <button type="submit">Sign in</button>
</form>
<p class="muted">No messenger account yet? <a href="/signup?interaction=${view.uid}">Create one</a>.</p>`;
  return page("Sign in", content, view.status ?? 200);
}

const SCOPE_TEXT: Record<string, string> = {
  openid: "Know who you are on the messenger",
  profile: "See your display name",
  phone: "See your phone number",
};

export function consentPage(uid: string, clientName: string, scopes: string[]): Page {
  const items = scopes.map((scope) => html`<li>${SCOPE_TEXT[scope] ?? scope}</li>`);
  const content = html`<h1>${clientName} wants to</h1>
<ul>${items}</ul>
<form method="post" action="/interaction/${uid}/confirm"><button type="submit">Allow</button></form>
<form method="post" action="/interaction/${uid}/abort"><button type="submit" class="secondary">Deny</button></form>`;
  return page("Allow access", content);
}
