/**
 * One chat: history (older pages as the reader scrolls up), our messages with their delivery state, and the
 * composer. The message list is a `log` (announced politely as messages arrive).
 */
import { useEffect, useLayoutEffect, useRef, useState } from "react";
import { loadOlder, markChatRead, openRoom, retryMessage, sendMessage, setActiveChat } from "./controller.ts";
import { focusRoom, RoomHeader } from "./RoomHeader.tsx";
import { chatTitle, type RoomMessage, useMessengerState } from "./store.ts";
import { Composer } from "./Composer.tsx";
import { errorText, useSession, useTexts } from "./ui.tsx";
import { formatChatTime } from "../shell/format.ts";

function Bubble({ message, mine, showName }: { message: RoomMessage; mine: boolean; showName: boolean }) {
  const { t, i18n } = useTexts();
  return (
    <li className={`msg-bubble-row ${mine ? "msg-mine" : "msg-theirs"}`} data-state={message.state}>
      {showName && <span className="msg-sender">{message.sender.displayName}</span>}
      <div className="msg-bubble-line">
        <p className="msg-bubble">
          {!showName && <span className="msg-sr">{mine ? t("you") : message.sender.displayName}: </span>}
          {message.text}
        </p>
        <span className="msg-bubble-meta">
          {message.state === "sent" ? (
            <time dateTime={message.createdAt}>{formatChatTime(message.createdAt, i18n.language)}</time>
          ) : message.state === "pending" ? (
            <span className="msg-state">{t("pending")}</span>
          ) : (
            <>
              <span className="msg-state msg-state-failed">{t(message.state)}</span>
              {message.state === "failed" && (
                <button type="button" className="msg-retry" onClick={() => retryMessage(message.chatId, message.key)}>
                  {t("retrySend")}
                </button>
              )}
            </>
          )}
        </span>
      </div>
    </li>
  );
}

export function ChatRoom({ chatId }: { chatId: string }) {
  const { t } = useTexts();
  const me = useSession()?.account.id ?? "";
  const chat = useMessengerState((s) => s.chats?.find((known) => known.id === chatId));
  const room = useMessengerState((s) => s.rooms[chatId]);
  const [error, setError] = useState<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const scroller = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);
  const heightBeforeOlder = useRef<number | null>(null);

  useEffect(() => {
    setActiveChat(chatId);
    focusRoom(true);
    setError(null);
    stickToBottom.current = true;
    openRoom(chatId).catch((caught: unknown) => setError(errorText(t, caught)));
    const onVisible = () => {
      if (document.visibilityState === "visible") void openRoom(chatId).catch(() => undefined);
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      setActiveChat(null);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [chatId, t]);

  // The list may arrive after the room (opened from a link): its unread count is cleared once both are here.
  const unread = chat?.unreadCount ?? 0;
  useEffect(() => {
    if (unread > 0 && room?.loaded && document.visibilityState === "visible") void markChatRead(chatId);
  }, [chatId, unread, room?.loaded]);

  // New messages keep the view at the bottom when the reader was there; older pages keep the reader's place.
  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    if (heightBeforeOlder.current !== null) {
      element.scrollTop += element.scrollHeight - heightBeforeOlder.current;
      heightBeforeOlder.current = null;
    } else if (stickToBottom.current) {
      element.scrollTop = element.scrollHeight;
    }
  }, [room?.messages]);

  async function older() {
    if (loadingOlder || !room?.hasOlder) return;
    setLoadingOlder(true);
    heightBeforeOlder.current = scroller.current?.scrollHeight ?? null;
    try {
      await loadOlder(chatId);
    } catch (caught) {
      heightBeforeOlder.current = null;
      setError(errorText(t, caught));
    } finally {
      setLoadingOlder(false);
    }
  }

  function onScroll() {
    const element = scroller.current;
    if (!element) return;
    stickToBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < 40;
    if (element.scrollTop < 60) void older();
  }

  const title = chat ? chatTitle(chat, me) : "";
  const messages = room?.messages ?? [];
  return (
    <section className="msg-room" aria-labelledby="room-title">
      <RoomHeader
        title={title}
        subtitle={chat?.kind === "group" ? t("members", { count: chat.members.length }) : undefined}
      />
      <div
        className="msg-room-scroll"
        ref={scroller}
        onScroll={onScroll}
        tabIndex={0}
        role="region"
        aria-label={t("messages")}
      >
        {room?.loaded && (
          <div className="msg-older">
            {room.hasOlder ? (
              <button type="button" className="msg-link-button" onClick={older} disabled={loadingOlder}>
                {loadingOlder ? t("loadingOlder") : t("loadOlder")}
              </button>
            ) : (
              <p>{t("noOlder")}</p>
            )}
          </div>
        )}
        {!room?.loaded && !error && <p className="msg-empty">{t("loading")}</p>}
        {error && (
          <p className="msg-error" role="alert">
            {error}
          </p>
        )}
        <div role="log" aria-live="polite" aria-relevant="additions">
          <ol className="msg-bubbles">
            {messages.map((message, index) => {
              const mine = message.sender.id === me;
              const previous = messages[index - 1];
              const showName = !mine && chat?.kind === "group" && previous?.sender.id !== message.sender.id;
              return <Bubble key={message.key} message={message} mine={mine} showName={showName} />;
            })}
          </ol>
        </div>
      </div>
      <Composer onSend={(text) => sendMessage(chatId, text)} />
    </section>
  );
}
