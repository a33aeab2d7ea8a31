// The message box: Enter sends, Shift+Enter starts a new line. While the
// socket is down the text is kept and Send waits for the reconnect. Typing
// tells the room (at most every TYPING_EVERY_MS); sending, clearing the box
// or leaving it tells it the user stopped.

import { useEffect, useId, useRef, useState } from 'react';

const MAX_BYTES = 4096; // the servers' default MAX_MESSAGE_BYTES
const TYPING_EVERY_MS = 2000;

export default function Composer({ label, connected, onSend, onTyping }) {
  const id = useId();
  const [text, setText] = useState('');
  const box = useRef(null);
  const bytes = new TextEncoder().encode(text).length;
  const tooLong = bytes > MAX_BYTES;

  const typingSent = useRef(0); // when "typing: true" was last sent, 0: not typing

  useEffect(() => {
    box.current?.focus();
  }, []);

  function typed(value) {
    setText(value);
    if (!onTyping) return;
    if (!value.trim()) {
      stopTyping();
      return;
    }
    const now = Date.now();
    if (now - typingSent.current >= TYPING_EVERY_MS && onTyping(true)) typingSent.current = now;
  }

  function stopTyping() {
    if (typingSent.current && onTyping) onTyping(false);
    typingSent.current = 0;
  }

  function submit(e) {
    e?.preventDefault();
    const msg = text.trim();
    if (!msg || tooLong || !connected) return;
    onSend(msg);
    stopTyping();
    setText('');
    box.current?.focus();
  }

  return (
    <form className="composer" onSubmit={submit}>
      <label htmlFor="composer" className="visually-hidden">{label}</label>
      <textarea
        id="composer"
        ref={box}
        rows={1}
        value={text}
        placeholder="Write a message…"
        aria-describedby={`${id}-hint`}
        aria-invalid={tooLong || undefined}
        onChange={(e) => typed(e.target.value)}
        onBlur={stopTyping}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) submit(e);
        }}
      />
      <button type="submit" className="primary" disabled={!connected || !text.trim() || tooLong}>Send</button>
      <p id={`${id}-hint`} className={`hint composer-hint ${tooLong ? 'error' : ''}`}>
        {tooLong
          ? `Too long: ${bytes} of ${MAX_BYTES} bytes.`
          : connected
            ? 'Enter to send, Shift+Enter for a new line.'
            : 'Offline: your text is kept and can be sent once reconnected.'}
      </p>
    </form>
  );
}
