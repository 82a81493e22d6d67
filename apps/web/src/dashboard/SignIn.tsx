/**
 * Sign-in for a merchant's users: email and password, then the authenticator app's code — or, the first time, the
 * authenticator set up from a QR code (the `otpauth://` URI) or the secret typed in. Or a passkey instead of both.
 * The session comes back from the pay server and stays in this tab (session.ts).
 */
import { useEffect, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { startAuthentication } from "@simplewebauthn/browser";
import { QrCode } from "../checkout/QrCode.tsx";
import { passkeySupport } from "../wallet/passkeys.ts";
import { DashboardApiError, SignInApi, type DashboardSession, type SignInChallenge } from "./api.ts";
import { errorText, Notice } from "./ui.tsx";

/** The secret in groups of four, as authenticator apps show it when it is typed in by hand. */
export function groupedSecret(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, "$1 ");
}

export function SignIn({ payUrl, onSignedIn }: { payUrl: string; onSignedIn(session: DashboardSession): void }) {
  const { t } = useTranslation("dashboard");
  const api = new SignInApi(payUrl);
  const [challenge, setChallenge] = useState<SignInChallenge | null>(null);
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
      if (caught instanceof DashboardApiError && caught.code === "sign_in_failed") setError(t("signIn.failed"));
      else if (caught instanceof DashboardApiError && caught.code === "sign_in_locked") setError(t("signIn.locked"));
      else if (caught instanceof DashboardApiError && caught.code === "totp_invalid") setError(t("signIn.codeWrong"));
      else if (caught instanceof DashboardApiError && caught.code === "challenge_invalid") {
        setChallenge(null);
        setError(t("signIn.challengeExpired"));
      } else if (caught instanceof Error && caught.name === "NotAllowedError") setError(t("signIn.passkeyCanceled"));
      else setError(errorText(caught, t));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="dash-signin">
      <div className="dash-signin-card">
        <p className="dash-brand">{t("brand")}</p>
        <h1 className="dash-signin-title">{t("signIn.title")}</h1>
        {challenge === null ? (
          <PasswordStep
            busy={busy}
            onSubmit={(email, password) => run(async () => setChallenge(await api.password(email, password)))}
            onPasskey={() =>
              run(async () => {
                const options = await api.passkeyOptions();
                const response = await startAuthentication({ optionsJSON: options as never });
                onSignedIn(await api.passkey(response));
              })
            }
          />
        ) : (
          <CodeStep
            challenge={challenge}
            busy={busy}
            onSubmit={(code) => run(async () => onSignedIn(await api.totp(challenge.challenge, code)))}
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

function PasswordStep({
  busy,
  onSubmit,
  onPasskey,
}: {
  busy: boolean;
  onSubmit(email: string, password: string): void;
  onPasskey(): void;
}) {
  const { t } = useTranslation("dashboard");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const passkeys = passkeySupport() === "available";
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
      <p className="dash-divider">
        <span>{t("signIn.or")}</span>
      </p>
      <button
        type="button"
        className="dash-button dash-button-secondary dash-button-block"
        onClick={onPasskey}
        disabled={busy || !passkeys}
        aria-describedby={passkeys ? undefined : "passkey-unavailable"}
      >
        {t("signIn.passkey")}
      </button>
      {!passkeys && (
        <p id="passkey-unavailable" className="dash-hint">
          {t("signIn.passkeyUnavailable")}
        </p>
      )}
    </>
  );
}

/** A challenge's second step as the dashboard and the operator console both get it. */
export type TotpChallenge =
  | { factor: "totp" }
  | { factor: "totp_setup"; totpSetup: { secret: string; otpauthUri: string } };

/**
 * The TOTP step (or its setup from a QR code): the dashboard's, and the operator console's with its own texts
 * (`namespace`, which has the same `signIn.*` keys).
 */
export function CodeStep({
  challenge,
  busy,
  onSubmit,
  onBack,
  namespace = "dashboard",
}: {
  challenge: TotpChallenge;
  busy: boolean;
  onSubmit(code: string): void;
  onBack(): void;
  namespace?: "dashboard" | "console";
}) {
  const { t } = useTranslation(namespace);
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
