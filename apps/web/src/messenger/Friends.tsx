/** Friends: add one by phone number, start a direct chat, or make a group chat from several with a title. */
import { type FormEvent, useEffect, useState } from "react";
import { navigate } from "../shell/router.ts";
import { type Friend, messengerApi } from "./api.ts";
import { refreshChats } from "./controller.ts";
import { Avatar, errorText, useTexts } from "./ui.tsx";

function AddFriend({ onAdded }: { onAdded: (friend: Friend) => void }) {
  const { t } = useTexts();
  const [phoneNumber, setPhone] = useState("");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ kind: "ok" | "error"; text: string } | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setMessage(null);
    try {
      const friend = await messengerApi.addFriend(phoneNumber.trim());
      setPhone("");
      setMessage({ kind: "ok", text: t("friendAdded", { name: friend.displayName }) });
      onAdded(friend);
    } catch (caught) {
      setMessage({ kind: "error", text: errorText(t, caught) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="msg-card-panel" onSubmit={submit} aria-labelledby="add-friend-title">
      <h2 id="add-friend-title">{t("addFriend")}</h2>
      <div className="msg-inline-field">
        <label htmlFor="friend-phone" className="msg-sr">
          {t("phoneNumber")}
        </label>
        <input
          id="friend-phone"
          type="tel"
          inputMode="tel"
          autoComplete="off"
          placeholder="+82 10 1234 5678"
          required
          value={phoneNumber}
          onChange={(event) => setPhone(event.target.value)}
          aria-describedby="friend-phone-hint"
        />
        <button type="submit" className="msg-primary msg-primary-small" disabled={busy || !phoneNumber.trim()}>
          {busy ? t("adding") : t("add")}
        </button>
      </div>
      <p id="friend-phone-hint" className="msg-hint">
        {t("addFriendHint")}
      </p>
      <p className={message?.kind === "error" ? "msg-error" : "msg-ok"} role="status">
        {message?.text}
      </p>
    </form>
  );
}

function NewGroup({ friends }: { friends: Friend[] }) {
  const { t } = useTexts();
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [title, setTitle] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  function toggle(id: string) {
    setChosen((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (chosen.size < 2) return setError(t("chooseTwo"));
    if (!title.trim()) return setError(t("titleNeeded"));
    setBusy(true);
    setError(null);
    try {
      const chat = await messengerApi.createChat([...chosen], title.trim());
      await refreshChats();
      navigate(`/chats/${chat.id}`);
    } catch (caught) {
      setError(errorText(t, caught));
      setBusy(false);
    }
  }

  if (friends.length < 2) return null;
  return (
    <form className="msg-card-panel" onSubmit={submit} aria-labelledby="new-group-title">
      <h2 id="new-group-title">{t("newGroup")}</h2>
      <div className="msg-field">
        <label htmlFor="group-title">{t("groupTitle")}</label>
        <input id="group-title" maxLength={64} value={title} onChange={(event) => setTitle(event.target.value)} />
      </div>
      <fieldset className="msg-choices">
        <legend>{t("groupMembers")}</legend>
        {friends.map((friend) => (
          <label key={friend.id} className="msg-choice">
            <input type="checkbox" checked={chosen.has(friend.id)} onChange={() => toggle(friend.id)} />
            {friend.displayName}
          </label>
        ))}
      </fieldset>
      {error && (
        <p className="msg-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" className="msg-primary" disabled={busy}>
        {t("createGroup")}
      </button>
    </form>
  );
}

export function Friends() {
  const { t } = useTexts();
  const [friends, setFriends] = useState<Friend[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    messengerApi
      .friends()
      .then((page) => setFriends(page.data))
      .catch((caught: unknown) => setError(errorText(t, caught)));
  }, [t]);

  async function startChat(friend: Friend) {
    setError(null);
    try {
      const chat = await messengerApi.createChat([friend.id]);
      await refreshChats();
      navigate(`/chats/${chat.id}`);
    } catch (caught) {
      setError(errorText(t, caught));
    }
  }

  function added(friend: Friend) {
    setFriends((current) => [...(current ?? []).filter((known) => known.id !== friend.id), friend]);
  }

  return (
    <div className="msg-friends">
      <AddFriend onAdded={added} />
      <section className="msg-card-panel" aria-labelledby="friend-list-title">
        <h2 id="friend-list-title">{t("friendList")}</h2>
        {error && (
          <p className="msg-error" role="alert">
            {error}
          </p>
        )}
        {friends === null && !error && <p className="msg-empty">{t("loading")}</p>}
        {friends?.length === 0 && <p className="msg-empty">{t("noFriends")}</p>}
        <ul className="msg-friend-list">
          {friends?.map((friend) => (
            <li key={friend.id} className="msg-friend">
              <Avatar name={friend.displayName} />
              <span className="msg-row-body">
                <span className="msg-row-title">{friend.displayName}</span>
                <span className="msg-row-last">{friend.phoneNumber}</span>
              </span>
              <button
                type="button"
                className="msg-secondary"
                onClick={() => startChat(friend)}
                aria-label={t("startChatWith", { name: friend.displayName })}
              >
                {t("startChat")}
              </button>
            </li>
          ))}
        </ul>
      </section>
      {friends && <NewGroup friends={friends} />}
    </div>
  );
}
