/**
 * The signed-in layout: a side pane (chat list or friends) and a detail pane (a room), side by side on a wide
 * screen and one at a time on a phone; a bottom bar with Chats, Friends and the MPay wallet; a quiet bar while the
 * WebSocket reconnects.
 */
import { type ReactNode, useEffect } from "react";
import { match, navigate } from "../shell/router.ts";
import { ChatList } from "./ChatList.tsx";
import { ChatRoom } from "./ChatRoom.tsx";
import { signOut, startMessenger, stopMessenger } from "./controller.ts";
import { Friends } from "./Friends.tsx";
import { OfficialRoom } from "./OfficialRoom.tsx";
import { useMessengerState } from "./store.ts";
import { UnreadBadge, useTexts } from "./ui.tsx";

function BottomBar({ path }: { path: string }) {
  const { t } = useTexts();
  const unread = useMessengerState(
    (s) => (s.official?.unreadCount ?? 0) + (s.chats ?? []).reduce((sum, chat) => sum + chat.unreadCount, 0),
  );
  const onChats = path === "/" || path.startsWith("/chats");
  const link = (to: string, label: string, current: boolean, extra?: ReactNode, aria?: string) => (
    <a
      href={to}
      className="msg-tab"
      aria-current={current ? "page" : undefined}
      aria-label={aria}
      onClick={(event) => {
        event.preventDefault();
        navigate(to);
      }}
    >
      <span>{label}</span>
      {extra}
    </a>
  );
  return (
    <nav className="msg-bottom" aria-label={t("mainNav")}>
      {link("/friends", t("friends"), path === "/friends")}
      {link("/", t("chats"), onChats, <UnreadBadge count={unread} />)}
      {link("/wallet", t("wallet"), false, undefined, t("walletLabel"))}
    </nav>
  );
}

function ReconnectingBar() {
  const { t } = useTexts();
  const connection = useMessengerState((s) => s.connection);
  return (
    <div className="msg-reconnecting" role="status" aria-live="polite">
      {connection === "offline" ? t("reconnecting") : ""}
    </div>
  );
}

export function SignedIn({ path }: { path: string }) {
  const { t } = useTexts();
  useEffect(() => {
    void startMessenger();
    return () => stopMessenger();
  }, []);

  const room = match("/chats/:chatId", path);
  const chatId = room?.chatId;
  const onFriends = path === "/friends";
  const hasDetail = chatId !== undefined;

  return (
    <div className={`msg-app${hasDetail ? " msg-has-detail" : ""}`}>
      <ReconnectingBar />
      <main className="msg-panes">
        <div className="msg-side">
          <header className="msg-side-header">
            <h1>{onFriends ? t("friends") : t("chats")}</h1>
            <button type="button" className="msg-secondary" onClick={() => void signOut()}>
              {t("signOut")}
            </button>
          </header>
          <div className="msg-side-main">{onFriends ? <Friends /> : <ChatList activePath={path} />}</div>
          <BottomBar path={path} />
        </div>
        <div className="msg-detail">
          {chatId === "mpay" ? (
            <OfficialRoom />
          ) : chatId !== undefined ? (
            <ChatRoom key={chatId} chatId={chatId} />
          ) : (
            <div className="msg-detail-empty">
              <p className="msg-logo" aria-hidden="true">
                M
              </p>
              <p>{t("appName")}</p>
            </div>
          )}
        </div>
      </main>
    </div>
  );
}
