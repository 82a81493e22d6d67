/**
 * Sign-in with email and password, then the authenticator app's code — or, the first time, the authenticator set up
 * from a QR code (the `otpauth://` URI) or the secret typed in. The merchant dashboard's users may use a passkey
 * instead of both. One flow (`TwoStepSignIn`) serves the dashboard and the operator console, each with its own
 * texts (`namespace`: both have the same `signIn.*` keys) and its own API; the session stays in the tab.
 */
import { useEffect, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { startAuthentication } from "@simplewebauthn/browser";
import { QrCode } from "../checkout/QrCode.tsx";
import { passkeySupport } from "../wallet/passkeys.ts";
import { DashboardApiError, SignInApi, type DashboardSession } from "./api.ts";
import { signInRefusal } from "./model.ts";
import { errorText, Notice } from "./ui.tsx";

/** Whose texts a sign-in shows: the dashboard's or the operator console's. */
export type SignInTexts = "dashboard" | "console";

/** A challenge's second step as the dashboard and the operator console both get it. */
export type TotpChallenge =
  | { factor: "totp" }
  | { factor: "totp_setup"; totpSetup: { secret: string; otpauthUri: string } };

/** What a two-step sign-in calls: the password answers a challenge; its code, or a passkey, a session. */
export interface TwoStepSignInApi<S> {
  password(email: string, password: string): Promise<TotpChallenge & { challenge: string }>;
  totp(challenge: string, code: string): Promise<S>;
  /** A passkey instead of both steps, where the accounts have one (the dashboard's). */
  passkey?(): Promise<S>;
}

/** The secret in groups of four, as authenticator apps show it when it is typed in by hand. */
export function groupedSecret(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, "$1 ");
}

/** The merchant dashboard's sign-in: the two steps, or a passkey. */
export function SignIn({ payUrl, onSignedIn }: { payUrl: string; onSignedIn(session: DashboardSession): void }) {
  const api = new SignInApi(payUrl);
  return (
    <TwoStepSignIn
      texts="dashboard"
      api={{
        password: (email, password) => api.password(email, password),
        totp: (challenge, code) => api.totp(challenge, code),
        passkey: async () => {
          const options = await api.passkeyOptions();
          const response = await startAuthentication({ optionsJSON: options as never });
          return api.passkey(response);
        },
      }}
      onSignedIn={onSignedIn}
    />
  );
}

/**
 * The sign-in page: the password step, then the code step; the refusals the pay server's sign-in routes answer (the
 * dashboard's and the console's have the same codes) in the reader's words, under the form.
 */
export function TwoStepSignIn<S>({
  texts,
  api,
  onSignedIn,
}: {
  texts: SignInTexts;
  api: TwoStepSignInApi<S>;
  onSignedIn(session: S): void;
}) {
  const { t } = useTranslation(texts);
  const [challenge, setChallenge] = useState<(TotpChallenge & { challenge: string }) | null>(null);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    document.title = `${t("signIn.title")} · ${t("brand")}`;
  }, [t]);

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
    } catch (caught) {
      const refusal = signInRefusal(
        caught instanceof DashboardApiError ? caught.code : undefined,
        caught instanceof Error ? caught.name : undefined,
      );
      // An expired challenge (the code step took too long) starts again at the password.
      if (refusal === "challengeExpired") setChallenge(null);
      setError(refusal ? t(`signIn.${refusal}`) : errorText(caught, t));
    } finally {
      setBusy(false);
    }
  };
  const passkey = api.passkey?.bind(api);

  return (
    <main className="dash-signin">
      <div className="dash-signin-card">
        <p className="dash-brand">{t("brand")}</p>
        <h1 className="dash-signin-title">{t("signIn.title")}</h1>
        {challenge === null ? (
          <PasswordStep
            texts={texts}
            busy={busy}
            onSubmit={(email, password) => void run(async () => setChallenge(await api.password(email, password)))}
            onPasskey={passkey && (() => void run(async () => onSignedIn(await passkey())))}
          />
        ) : (
          <CodeStep
            texts={texts}
            challenge={challenge}
            busy={busy}
            onSubmit={(code) => void run(async () => onSignedIn(await api.totp(challenge.challenge, code)))}
            onBack={() => {
              setChallenge(null);
              setError(undefined);
            }}
          />
        )}
        <Notice message={error} tone="error" />
      </div>
    </main>
  );
}

/** Email and password; below them a passkey button where the accounts have passkeys (`onPasskey`). */
function PasswordStep({
  texts,
  busy,
  onSubmit,
  onPasskey,
}: {
  texts: SignInTexts;
  busy: boolean;
  onSubmit(email: string, password: string): void;
  onPasskey?(): void;
}) {
  const { t } = useTranslation(texts);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit(email.trim(), password);
  };
  return (
    <>
      <form className="dash-form" onSubmit={submit}>
        <label className="dash-field">
          <span className="dash-label">{t("signIn.email")}</span>
          <input
            className="dash-input"
            type="email"
            name="email"
            autoComplete="username"
            required
            value={email}
            onChange={(event) => setEmail(event.target.value)}
          />
        </label>
        <label className="dash-field">
          <span className="dash-label">{t("signIn.password")}</span>
          <input
            className="dash-input"
            type="password"
            name="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </label>
        <button type="submit" className="dash-button dash-button-primary dash-button-block" disabled={busy}>
          {busy ? t("signIn.checking") : t("signIn.continue")}
        </button>
      </form>
      {onPasskey && <PasskeyButton texts={texts} busy={busy} onPasskey={onPasskey} />}
    </>
  );
}

function PasskeyButton({ texts, busy, onPasskey }: { texts: SignInTexts; busy: boolean; onPasskey(): void }) {
  const { t } = useTranslation(texts);
  const available = passkeySupport() === "available";
  return (
    <>
      <p className="dash-divider">
        <span>{t("signIn.or")}</span>
      </p>
      <button
        type="button"
        className="dash-button dash-button-secondary dash-button-block"
        onClick={onPasskey}
        disabled={busy || !available}
        aria-describedby={available ? undefined : "passkey-unavailable"}
      >
        {t("signIn.passkey")}
      </button>
      {!available && (
        <p id="passkey-unavailable" className="dash-hint">
          {t("signIn.passkeyUnavailable")}
        </p>
      )}
    </>
  );
}

/** The TOTP step, or its setup from a QR code the first time. */
function CodeStep({
  texts,
  challenge,
  busy,
  onSubmit,
  onBack,
}: {
  texts: SignInTexts;
  challenge: TotpChallenge;
  busy: boolean;
  onSubmit(code: string): void;
  onBack(): void;
}) {
  const { t } = useTranslation(texts);
  const [code, setCode] = useState("");
  const setup = challenge.factor === "totp_setup" ? challenge.totpSetup : null;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit(code.replace(/\s/g, ""));
  };
  return (
    <form className="dash-form" onSubmit={submit}>
      {setup ? (
        <section className="dash-totp-setup" aria-labelledby="totp-setup-title">
          <h2 id="totp-setup-title" className="dash-section-title">
            {t("signIn.setupTitle")}
          </h2>
          <p className="dash-hint">{t("signIn.setupHint")}</p>
          <div className="dash-qr">
            <QrCode text={setup.otpauthUri} alt={t("signIn.qrAlt")} size={176} />
          </div>
          <p className="dash-hint">{t("signIn.setupManual")}</p>
          <code className="dash-secret-value" data-testid="totp-secret">
            {groupedSecret(setup.secret)}
          </code>
        </section>
      ) : (
        <p className="dash-hint">{t("signIn.codeHint")}</p>
      )}
      <label className="dash-field">
        <span className="dash-label">{t("signIn.code")}</span>
        <input
          className="dash-input dash-input-code"
          name="code"
          inputMode="numeric"
          autoComplete="one-time-code"
          pattern="[0-9 ]{6,7}"
          maxLength={7}
          required
          autoFocus
          value={code}
          onChange={(event) => setCode(event.target.value)}
        />
      </label>
      <button type="submit" className="dash-button dash-button-primary dash-button-block" disabled={busy}>
        {busy ? t("signIn.checking") : t("signIn.verify")}
      </button>
      <button type="button" className="dash-button dash-button-text" onClick={onBack} disabled={busy}>
        {t("signIn.back")}
      </button>
    </form>
  );
}
