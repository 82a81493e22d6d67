/**
 * MPay's official chat: its messages as bubbles from "MPay" with their buttons. A button's `mpay:` action opens the
 * wallet's own screen for it (actions.ts); nothing in a message can open a web address.
 */
import { useEffect, useLayoutEffect, useRef } from "react";
import { navigate } from "../shell/router.ts";
import { walletPathOf } from "./actions.ts";
import { readableMessage } from "./announcement.ts";
import { markOfficialRead } from "./controller.ts";
import { focusRoom, RoomHeader } from "./RoomHeader.tsx";
import { useMessengerState } from "./store.ts";
import { Avatar, useTexts } from "./ui.tsx";
import { formatChatTime } from "../shell/format.ts";

export function OfficialRoom() {
  const { t, i18n } = useTexts();
  const official = useMessengerState((s) => s.official);
  const scroller = useRef<HTMLDivElement>(null);
  // The API answers newest first; a chat reads oldest first.
  const messages = [...(official?.messages ?? [])].reverse();

  useEffect(() => focusRoom(false), []);

  useEffect(() => {
    if (official && official.unreadCount > 0) void markOfficialRead();
  }, [official]);

  useLayoutEffect(() => {
    if (scroller.current) scroller.current.scrollTop = scroller.current.scrollHeight;
  }, [official?.messages]);

  return (
    <section className="msg-room" aria-labelledby="room-title">
      <RoomHeader title={t("mpayName")} subtitle={t("mpayOfficial")} />
      <div className="msg-room-scroll" ref={scroller} tabIndex={0} role="region" aria-label={t("messages")}>
        {official === null && <p className="msg-empty">{t("loading")}</p>}
        {official?.messages.length === 0 && <p className="msg-empty msg-empty-room">{t("mpayEmpty")}</p>}
        <div role="log" aria-live="polite" aria-relevant="additions">
          <ol className="msg-bubbles">
            {messages.map((message) => {
              const readable = readableMessage(message, t, i18n.language);
              return (
                <li key={message.id} className="msg-bubble-row msg-theirs msg-official">
                  <Avatar name="MPay" tone="mpay" />
                  <div>
                    <span className="msg-sender">{message.from.name}</span>
                    <div className="msg-bubble-line">
                      <div className="msg-bubble msg-card">
                        <p>{readable.text}</p>
                        {readable.actions.length > 0 && (
                          <div className="msg-card-actions">
                            {readable.actions.map((button) => {
                              const target = walletPathOf(button.action);
                              return (
                                <button
                                  key={button.action}
                                  type="button"
                                  className="msg-card-button"
                                  disabled={target === null}
                                  onClick={() => target && navigate(target)}
                                >
                                  {button.label}
                                </button>
                              );
                            })}
                          </div>
                        )}
                      </div>
                      <span className="msg-bubble-meta">
                        <time dateTime={message.receivedAt}>{formatChatTime(message.receivedAt, i18n.language)}</time>
                      </span>
                    </div>
                  </div>
                </li>
              );
            })}
          </ol>
        </div>
      </div>
    </section>
  );
}
