/** A room's top bar: back to the list (the only way back on a phone) and the room's name. */
import { navigate } from "../shell/router.ts";
import { useTexts } from "./ui.tsx";

export function RoomHeader({ title, subtitle }: { title: string; subtitle?: string | undefined }) {
  const { t } = useTexts();
  return (
    <header className="msg-room-header">
      <button type="button" className="msg-back" onClick={() => navigate("/")} aria-label={t("backToChats")}>
        <span aria-hidden="true">‹</span>
      </button>
      <div className="msg-room-heading">
        <h2 id="room-title">{title}</h2>
        {subtitle && <p className="msg-room-subtitle">{subtitle}</p>}
      </div>
    </header>
  );
}
