/** Sign-in and sign-up against the messenger's JSON API; the session goes to sessionStorage, nowhere else. */
import { type FormEvent, type ReactNode, useState } from "react";
import { navigate } from "../shell/router.ts";
import { messengerApi } from "./api.ts";
import { saveSession, takeContinue } from "./session.ts";
import { errorText, useTexts } from "./ui.tsx";

function Field(props: {
  id: string;
  label: string;
  hint?: string;
  type: string;
  autoComplete: string;
  value: string;
  onChange: (value: string) => void;
  inputMode?: "tel" | "text";
}) {
  return (
    <div className="msg-field">
      <label htmlFor={props.id}>{props.label}</label>
      <input
        id={props.id}
        name={props.id}
        type={props.type}
        inputMode={props.inputMode}
        autoComplete={props.autoComplete}
        required
        value={props.value}
        onChange={(event) => props.onChange(event.target.value)}
        aria-describedby={props.hint ? `${props.id}-hint` : undefined}
      />
      {props.hint && (
        <p id={`${props.id}-hint`} className="msg-hint">
          {props.hint}
        </p>
      )}
    </div>
  );
}

export function SignIn({ notice }: { notice?: string | undefined }) {
  const { t } = useTexts();
  const [phoneNumber, setPhone] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await messengerApi.signIn({ phoneNumber: phoneNumber.trim(), password });
      setPassword("");
      saveSession(session);
      navigate(takeContinue() ?? "/", { replace: true });
    } catch (caught) {
      setError(errorText(t, caught));
      setBusy(false);
    }
  }

  return (
    <AuthCard
      title={t("signInTitle")}
      notice={notice}
      onSubmit={submit}
      error={error}
      busy={busy}
      submitLabel={busy ? t("signingIn") : t("signIn")}
      switchText={t("noAccount")}
      switchTo={{ path: "/signup", label: t("toSignUp") }}
    >
      <Field
        id="phoneNumber"
        label={t("phoneNumber")}
        hint={t("phoneHint")}
        type="tel"
        inputMode="tel"
        autoComplete="tel"
        value={phoneNumber}
        onChange={setPhone}
      />
      <Field
        id="password"
        label={t("password")}
        type="password"
        autoComplete="current-password"
        value={password}
        onChange={setPassword}
      />
    </AuthCard>
  );
}

export function SignUp() {
  const { t } = useTexts();
  const [phoneNumber, setPhone] = useState("");
  const [displayName, setName] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await messengerApi.signUp({ phoneNumber: phoneNumber.trim(), displayName: displayName.trim(), password });
      // Signing straight in saves a second form: the same phone number and password open the session.
      const session = await messengerApi.signIn({ phoneNumber: phoneNumber.trim(), password });
      setPassword("");
      saveSession(session);
      navigate(takeContinue() ?? "/", { replace: true });
    } catch (caught) {
      setError(errorText(t, caught));
      setBusy(false);
    }
  }

  return (
    <AuthCard
      title={t("signUpTitle")}
      onSubmit={submit}
      error={error}
      busy={busy}
      submitLabel={busy ? t("signingUp") : t("signUp")}
      switchText={t("haveAccount")}
      switchTo={{ path: "/signin", label: t("toSignIn") }}
    >
      <Field
        id="phoneNumber"
        label={t("phoneNumber")}
        hint={t("phoneHint")}
        type="tel"
        inputMode="tel"
        autoComplete="tel"
        value={phoneNumber}
        onChange={setPhone}
      />
      <Field
        id="displayName"
        label={t("displayName")}
        type="text"
        autoComplete="nickname"
        value={displayName}
        onChange={setName}
      />
      <Field
        id="password"
        label={t("password")}
        hint={t("passwordHint")}
        type="password"
        autoComplete="new-password"
        value={password}
        onChange={setPassword}
      />
    </AuthCard>
  );
}

/** The frame both account forms share: the messenger's mark, a title, the fields, the error, and the way to the other form. */
function AuthCard(props: {
  title: string;
  notice?: string | null | undefined;
  onSubmit: (event: FormEvent) => void;
  error: string | null;
  busy: boolean;
  submitLabel: string;
  switchText: string;
  switchTo: { path: string; label: string };
  children: ReactNode;
}) {
  const { t } = useTexts();
  return (
    <main className="msg-auth">
      <div className="msg-auth-card">
        <p className="msg-logo" aria-hidden="true">
          M
        </p>
        <p className="msg-app-name">{t("appName")}</p>
        <h1>{props.title}</h1>
        {props.notice && <p className="msg-notice">{props.notice}</p>}
        <form onSubmit={props.onSubmit}>
          {props.children}
          {props.error && (
            <p className="msg-error" role="alert">
              {props.error}
            </p>
          )}
          <button className="msg-primary" type="submit" disabled={props.busy}>
            {props.submitLabel}
          </button>
        </form>
        <p className="msg-switch">
          {props.switchText}{" "}
          <a
            href={props.switchTo.path}
            onClick={(event) => {
              event.preventDefault();
              navigate(props.switchTo.path);
            }}
          >
            {props.switchTo.label}
          </a>
        </p>
      </div>
    </main>
  );
}
