/** A room's top bar: back to the list (the only way back on a phone) and the room's name. */
import { navigate } from "../shell/router.ts";
import { useTexts } from "./ui.tsx";

/**
 * Where focus goes when a room opens, so keyboard and screen-reader users land in it: the message box where a
 * keyboard is at hand (a fine pointer), else the room's title (focusing a text box on a phone pops the keyboard up).
 */
export function focusRoom(hasComposer: boolean): void {
  const composer =
    hasComposer && matchMedia("(pointer: fine)").matches ? document.getElementById("message-text") : null;
  (composer ?? document.getElementById("room-title"))?.focus({ preventScroll: true });
}

export function RoomHeader({ title, subtitle }: { title: string; subtitle?: string | undefined }) {
  const { t } = useTexts();
  return (
    <header className="msg-room-header">
      <button type="button" className="msg-back" onClick={() => navigate("/")} aria-label={t("backToChats")}>
        <span aria-hidden="true">‹</span>
      </button>
      <div className="msg-room-heading">
        <h2 id="room-title" tabIndex={-1}>
          {title}
        </h2>
        {subtitle && <p className="msg-room-subtitle">{subtitle}</p>}
      </div>
    </header>
  );
}
