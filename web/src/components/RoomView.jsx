// The open room: its header with who is online, the messages, who is
// typing, the composer.

import { useCallback, useId, useMemo, useState } from 'react';
import { roomTitle, typingText } from '../chat/rooms.js';
import { highestSeq, unconfirmed } from '../chat/timeline.js';
import Composer from './Composer.jsx';
import MessageList from './MessageList.jsx';
import PresenceList from './PresenceList.jsx';

let nextLocal = 0;

export default function RoomView({ room, me, timeline, online, readBy, typingIds, onTyping, connected, send, onClose }) {
  const id = useId();
  const title = roomTitle(room, me);
  const [pending, setPending] = useState([]); // {key, text, afterSeq, error?}
  const newest = highestSeq(timeline.t);

  const deliver = useCallback((text, key = `local-${++nextLocal}`) => {
    setPending((p) => [...p.filter((x) => x.key !== key), { key, text, afterSeq: newest }]);
    send(text).then(
      () => setPending((p) => p.filter((x) => x.key !== key)),
      (err) => setPending((p) => p.map((x) => (x.key === key ? { ...x, error: err.message } : x))),
    );
  }, [send, newest]);

  // A pending message already in the room's stream is not shown twice: it
  // may arrive before its RECEIPT, or be stored although the connection
  // dropped before the RECEIPT came.
  const visible = useMemo(() => unconfirmed(pending, timeline.t.messages, me), [pending, timeline.t.messages, me]);

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

