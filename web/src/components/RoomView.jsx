// The open room: its header with who is online, the messages, who is
// typing, the composer.

import { useCallback, useEffect, useId, useMemo, useState } from 'react';
import { roomTitle, typingText } from '../chat/rooms.js';
import { highestSeq, unconfirmed } from '../chat/timeline.js';
import Composer from './Composer.jsx';
import MessageList from './MessageList.jsx';
import PresenceList from './PresenceList.jsx';

let nextLocal = 0;

export default function RoomView({ room, me, timeline, online, readBy, typingIds, onTyping, connected, send, onClose }) {
  const id = useId();
  const title = roomTitle(room, me);
  const [pending, setPending] = useState([]); // {key, text, afterSeq, stored?, error?}
  const newest = highestSeq(timeline.t);

  // A send stays pending until the room's stream brings it back. Its
  // RECEIPT usually comes first (the MESSAGE takes the pub/sub hop): the
  // receipt only marks it stored, so it never leaves the screen between
  // the two.
  const deliver = useCallback((text, key = `local-${++nextLocal}`) => {
    setPending((p) => [...p.filter((x) => x.key !== key), { key, text, afterSeq: newest }]);
    send(text).then(
      () => setPending((p) => p.map((x) => (x.key === key ? { ...x, stored: true } : x))),
      (err) => setPending((p) => p.map((x) => (x.key === key ? { ...x, error: err.message } : x))),
    );
  }, [send, newest]);

  // A pending message already in the room's stream is not shown twice: it
  // may arrive before or after its RECEIPT, or be stored although the
  // connection dropped before the RECEIPT came. Matched sends are dropped.
  const visible = useMemo(() => unconfirmed(pending, timeline.t.messages, me), [pending, timeline.t.messages, me]);
  useEffect(() => {
    setPending((p) => {
      const left = unconfirmed(p, timeline.t.messages, me);
      return left.length === p.length ? p : left;
    });
  }, [timeline.t.messages, me]);

  const discard = (key) => setPending((p) => p.filter((x) => x.key !== key));

  return (
    <section className="room" aria-labelledby={`${id}-title`}>
      <header className="room-head">
        <button type="button" className="back" onClick={onClose} aria-label="Back to rooms">
          <span aria-hidden="true">←</span>
        </button>
        <div className="room-head-text">
          <h2 id={`${id}-title`}>{title}</h2>
          <PresenceList room={room} me={me} online={online} />
        </div>
      </header>
      <MessageList
        key={room.id}
        title={title}
        me={me}
        isGroup={room.type === 'group'}
        timeline={timeline}
        readBy={readBy}
        pending={visible}
        onRetry={(p) => deliver(p.text, p.key)}
        onDiscard={discard}
      />
      <p className="typing" aria-live="polite" aria-atomic="true">{typingText(typingIds ?? [], me)}</p>
      <Composer key={room.id} label={`Message ${title}`} connected={connected} onSend={deliver} onTyping={onTyping} />
    </section>
  );
}

