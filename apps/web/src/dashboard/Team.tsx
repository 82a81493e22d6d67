/**
 * The owner's team: the merchant's dashboard users, adding one (the temporary password is shown once, to hand over;
 * the new user sets up an authenticator at first sign-in), changing a role, disabling and enabling. Owner only: the
 * route is not offered to other roles and the pay server refuses them (403).
 */
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { formatDateTime } from "../shell/format.ts";
import type { ListOf, TeamMember } from "./api.ts";
import { DashboardScreen } from "./Screen.tsx";
import { ROLES, type Role } from "./model.ts";
import { errorText, Loading, Notice, OneTimeSecret, useDashboard, useLoad } from "./ui.tsx";

export function Team({ path }: { path: string }) {
  const { t } = useTranslation("dashboard");
  const { api } = useDashboard();
  const list = useLoad(() => api.get<ListOf<TeamMember>>("/dashboard/users"), "team");
  const [message, setMessage] = useState<{ text: string; tone: "success" | "error" } | undefined>();
  const [created, setCreated] = useState<{ email: string; temporaryPassword: string } | null>(null);

  const update = async (member: TeamMember, change: { role?: Role; disabled?: boolean }) => {
    setMessage(undefined);
    try {
      await api.post(`/dashboard/users/${encodeURIComponent(member.id)}`, change);
      setMessage({ text: t("team.updated", { name: member.name }), tone: "success" });
      list.reload();
    } catch (caught) {
      setMessage({ text: errorText(caught, t), tone: "error" });
    }
  };

  return (
    <DashboardScreen title={t("team.title")} path={path}>
      <Notice message={message?.text} tone={message?.tone ?? "info"} />
      {created && (
        <section className="dash-card" aria-labelledby="created-title">
          <h2 id="created-title" className="dash-section-title">
            {t("team.createdTitle", { email: created.email })}
          </h2>
          <OneTimeSecret label={t("team.temporaryPassword")} value={created.temporaryPassword} />
          <p className="dash-hint">{t("team.createdHint")}</p>
        </section>
      )}
      <section className="dash-card" aria-labelledby="members-title">
        <h2 id="members-title" className="dash-section-title">
          {t("team.members")}
        </h2>
        {list.loading && !list.data ? (
          <Loading />
        ) : list.error ? (
          <Notice message={errorText(list.error, t)} tone="error" />
        ) : (
          <Members members={list.data?.data ?? []} onUpdate={(member, change) => void update(member, change)} />
        )}
      </section>
      <AddMember
        onCreated={(answer) => {
          setCreated(answer);
          list.reload();
        }}
      />
    </DashboardScreen>
  );
}

function Members({
  members,
  onUpdate,
}: {
  members: TeamMember[];
  onUpdate(member: TeamMember, change: { role?: Role; disabled?: boolean }): void;
}) {
  const { t, i18n } = useTranslation("dashboard");
  const { session } = useDashboard();
  return (
    <table className="dash-table dash-table-cards">
      <caption className="dash-visually-hidden">{t("team.members")}</caption>
      <thead>
        <tr>
          <th scope="col">{t("team.name")}</th>
          <th scope="col">{t("team.role")}</th>
          <th scope="col">{t("team.lastSignIn")}</th>
          <th scope="col">{t("team.access")}</th>
        </tr>
      </thead>
      <tbody>
        {members.map((member) => {
          const self = member.id === session.user.id;
          return (
            <tr key={member.id}>
              <td data-label={t("team.name")} className="dash-cell-text">
                <span className="dash-member">
                  <span className="dash-member-name">{member.name}</span>
                  <span className="dash-hint dash-member-email">{member.email}</span>
                </span>
              </td>
              <td data-label={t("team.role")}>
                {self ? (
                  t(`roles.${member.role}`)
                ) : (
                  <select
                    className="dash-input dash-input-small"
                    aria-label={t("team.roleOf", { name: member.name })}
                    value={member.role}
                    onChange={(event) => onUpdate(member, { role: event.target.value as Role })}
                  >
                    {ROLES.map((role) => (
                      <option key={role} value={role}>
                        {t(`roles.${role}`)}
                      </option>
                    ))}
                  </select>
                )}
              </td>
              <td data-label={t("team.lastSignIn")}>
                {member.lastSignInAt ? formatDateTime(member.lastSignInAt, i18n.language) : t("team.never")}
              </td>
              <td data-label={t("team.access")}>
                {member.disabled ? (
                  <span className="dash-status dash-status-canceled">{t("team.disabled")}</span>
                ) : null}{" "}
                {!self && (
                  <button
                    type="button"
                    className="dash-button dash-button-secondary dash-button-small"
                    onClick={() => onUpdate(member, { disabled: !member.disabled })}
                  >
                    {member.disabled
                      ? t("team.enable", { name: member.name })
                      : t("team.disable", { name: member.name })}
                  </button>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function AddMember({ onCreated }: { onCreated(answer: { email: string; temporaryPassword: string }): void }) {
  const { t } = useTranslation("dashboard");
  const { api } = useDashboard();
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("support");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const answer = await api.post<{ email: string; temporaryPassword: string }>("/dashboard/users", {
        email: email.trim(),
        name: name.trim(),
        role,
      });
      setEmail("");
      setName("");
      onCreated({ email: answer.email, temporaryPassword: answer.temporaryPassword });
    } catch (caught) {
      setError(errorText(caught, t));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="dash-card" aria-labelledby="add-member-title">
      <h2 id="add-member-title" className="dash-section-title">
        {t("team.add")}
      </h2>
      <form className="dash-form" onSubmit={(event) => void submit(event)}>
        <label className="dash-field">
          <span className="dash-label">{t("team.email")}</span>
          <input
            className="dash-input"
            type="email"
            name="email"
            required
            autoComplete="off"
            value={email}
            onChange={(event) => setEmail(event.target.value)}
          />
        </label>
        <label className="dash-field">
          <span className="dash-label">{t("team.name")}</span>
          <input
            className="dash-input"
            name="name"
            required
            maxLength={100}
            autoComplete="off"
            value={name}
            onChange={(event) => setName(event.target.value)}
          />
        </label>
        <label className="dash-field">
          <span className="dash-label">{t("team.role")}</span>
          <select
            className="dash-input"
            name="role"
            value={role}
            onChange={(event) => setRole(event.target.value as Role)}
          >
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {t(`roles.${r}`)}
              </option>
            ))}
          </select>
        </label>
        <p className="dash-hint">{t(`team.roleHints.${role}`)}</p>
        <Notice message={error} tone="error" />
        <button type="submit" className="dash-button dash-button-primary" disabled={busy}>
          {busy ? t("dialog.working") : t("team.addButton")}
        </button>
      </form>
    </section>
  );
}
