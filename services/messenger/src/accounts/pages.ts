/** The sign-up page: the one place a messenger account is made from a browser. Every value is escaped. */
import { html, page, type Page } from "../http/html.ts";

export interface SignupView {
  /** The sign-in this person came from, to return to afterwards. */
  interaction?: string | undefined;
  phoneNumber?: string;
  displayName?: string;
  error?: string;
  status?: number;
}

export function signupPage(view: SignupView): Page {
  const query = view.interaction ? `?interaction=${encodeURIComponent(view.interaction)}` : "";
  const content = html`<h1>Create a messenger account</h1>
${view.error ? html`<p class="error" role="alert">${view.error}</p>` : null}
<form method="post" action="/signup${query}">
  <label for="phone">Phone number (international format)</label>
  <input id="phone" name="phoneNumber" type="tel" inputmode="tel" autocomplete="tel" placeholder="+82 10 1234 5678" required maxlength="32" value="${view.phoneNumber ?? ""}">
  <label for="name">Display name</label>
  <input id="name" name="displayName" autocomplete="nickname" required maxlength="64" value="${view.displayName ?? ""}">
  <label for="password">Password (at least 8 characters)</label>
  <input id="password" name="password" type="password" autocomplete="new-password" required minlength="8" maxlength="128">
  <button type="submit">Create account</button>
</form>`;
  return page("Create an account", content, view.status ?? 200);
}

export function signupDonePage(displayName: string): Page {
  return page(
    "Account created",
    html`<h1>Welcome, ${displayName}</h1><p>Your messenger account is ready. Apps that use the messenger sign-in can now sign you in.</p>`,
    201,
  );
}

export function homePage(issuer: string): Page {
  return page(
    "MPay demo messenger",
    html`<h1>MPay demo messenger</h1>
<p>This messenger is the OpenID Connect provider that MPay signs payers in with.</p>
<p><a href="/signup">Create a messenger account</a></p>
<p class="muted">Discovery: ${issuer}/.well-known/openid-configuration</p>`,
  );
}
