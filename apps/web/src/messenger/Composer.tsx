/** The message box: Enter sends, Shift+Enter makes a new line; the send button is labelled and disabled when empty. */
import { type FormEvent, type KeyboardEvent, useState } from "react";
import { useTexts } from "./ui.tsx";

const MAX_TEXT = 2000;

export function Composer({ onSend }: { onSend: (text: string) => void }) {
  const { t } = useTexts();
  const [text, setText] = useState("");
  const trimmed = text.trim();

  function submit(event?: FormEvent) {
    event?.preventDefault();
    if (!trimmed) return;
    onSend(trimmed);
    setText("");
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  }

  return (
    <form className="msg-composer" onSubmit={submit}>
      <label htmlFor="message-text" className="msg-sr">
        {t("messageInput")}
      </label>
      <textarea
        id="message-text"
        rows={1}
        maxLength={MAX_TEXT}
        placeholder={t("messagePlaceholder")}
        value={text}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={onKeyDown}
      />
      <button type="submit" className="msg-send" disabled={!trimmed}>
        {t("send")}
      </button>
    </form>
  );
}
