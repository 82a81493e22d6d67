/** The chat list: MPay's official chat first, then the reader's chats by last activity, each with its unread badge. */
import type { MouseEvent } from "react";
import { navigate } from "../shell/router.ts";
import { chatTitle, useMessengerState } from "./store.ts";
import { Avatar, UnreadBadge, useSession, useTexts } from "./ui.tsx";
import { formatChatTime } from "../shell/format.ts";
import { readableMessage } from "./announcement.ts";

function go(path: string) {
  return (event: MouseEvent) => {
    event.preventDefault();
    navigate(path);
  };
}

export function ChatList({ activePath }: { activePath: string }) {
  const { t, i18n } = useTexts();
  const me = useSession()?.account.id ?? "";
  const chats = useMessengerState((s) => s.chats);
  const official = useMessengerState((s) => s.official);
  const newestOfficial = official?.messages[0];

  return (
    <nav aria-label={t("chatList")} className="msg-list">
      <ul>
        <li>
          <a
            href="/chats/mpay"
            className="msg-row"
            aria-current={activePath === "/chats/mpay" ? "page" : undefined}
            onClick={go("/chats/mpay")}
          >
            <Avatar name="MPay" tone="mpay" />
            <span className="msg-row-body">
              <span className="msg-row-title">
                {t("mpayName")}
                <span className="msg-official-mark">{t("mpayOfficial")}</span>
              </span>
              <span className="msg-row-last">
                {newestOfficial ? readableMessage(newestOfficial, t, i18n.language).text : t("mpayEmpty")}
              </span>
            </span>
            <span className="msg-row-meta">
              {newestOfficial && (
                <time dateTime={newestOfficial.receivedAt}>
                  {formatChatTime(newestOfficial.receivedAt, i18n.language)}
                </time>
              )}
              <UnreadBadge count={official?.unreadCount ?? 0} />
            </span>
          </a>
        </li>
        {chats?.map((chat) => {
          const title = chatTitle(chat, me);
          const path = `/chats/${chat.id}`;
          return (
            <li key={chat.id}>
              <a
                href={path}
                className="msg-row"
                aria-current={activePath === path ? "page" : undefined}
                onClick={go(path)}
              >
                <Avatar name={title} tone={chat.kind === "group" ? "group" : "plain"} />
                <span className="msg-row-body">
                  <span className="msg-row-title">
                    {title}
                    {chat.kind === "group" && <span className="msg-row-count">{chat.members.length}</span>}
                  </span>
                  <span className="msg-row-last">{chat.lastMessage?.text ?? t("noMessagesYet")}</span>
                </span>
                <span className="msg-row-meta">
                  {chat.lastMessage && (
                    <time dateTime={chat.lastMessage.createdAt}>
                      {formatChatTime(chat.lastMessage.createdAt, i18n.language)}
                    </time>
                  )}
                  <UnreadBadge count={chat.unreadCount} />
                </span>
              </a>
            </li>
          );
        })}
      </ul>
      {chats === null && <p className="msg-empty">{t("loading")}</p>}
      {chats?.length === 0 && <p className="msg-empty">{t("noChats")}</p>}
    </nav>
  );
}
