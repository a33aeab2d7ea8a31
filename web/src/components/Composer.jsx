// The message box: Enter sends, Shift+Enter starts a new line. While the
// socket is down the text is kept and Send waits for the reconnect.

import { useEffect, useId, useRef, useState } from 'react';

const MAX_BYTES = 4096; // the servers' default MAX_MESSAGE_BYTES

export default function Composer({ label, connected, onSend }) {
  const id = useId();
  const [text, setText] = useState('');
  const box = useRef(null);
  const bytes = new TextEncoder().encode(text).length;
  const tooLong = bytes > MAX_BYTES;

  useEffect(() => {
    box.current?.focus();
  }, []);

  function submit(e) {
    e?.preventDefault();
    const msg = text.trim();
    if (!msg || tooLong || !connected) return;
    onSend(msg);
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
        onChange={(e) => setText(e.target.value)}
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
