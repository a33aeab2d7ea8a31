// The conversation: oldest at the top, scrolled to the newest. Scrolling
// near the top (or the "Load older messages" button) fetches the page
// before the oldest message shown, keeping the view where it was.

import { useLayoutEffect, useRef, useState } from 'react';
import { formatTime, readByOthers, userLabel } from '../chat/rooms.js';
import { highestSeq, historyGone, oldestSeq } from '../chat/timeline.js';

const NEAR = 120; // px from an edge that counts as "at" it

export default function MessageList({ title, me, isGroup, timeline, readBy, pending, onRetry, onDiscard }) {
  const { t, error, loadingOlder, loadOlder, retry } = timeline;
  const scroller = useRef(null);
  const atBottom = useRef(true);
  const prev = useRef({ first: 0, last: 0, height: 0, pending: 0 });
  const [unseen, setUnseen] = useState(0);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const first = oldestSeq(t);
    const last = highestSeq(t);
    const p = prev.current;
    const newest = t.messages[t.messages.length - 1];
    if (p.first && first < p.first && last === p.last) {
      el.scrollTop += el.scrollHeight - p.height; // older page above: stay put
    } else if (atBottom.current || (last > p.last && newest?.sendId === me) || pending.length > p.pending) {
      el.scrollTop = el.scrollHeight;
      atBottom.current = true;
    } else if (last > p.last) {
      setUnseen((n) => n + (t.messages.filter((m) => m.seq > p.last).length));
    }
    prev.current = { first, last, height: el.scrollHeight, pending: pending.length };
    if (t.loaded && t.hasMore && el.scrollHeight <= el.clientHeight + NEAR) loadOlder();
  }, [t, pending, me, loadOlder]);

  function onScroll() {
    const el = scroller.current;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR;
    if (atBottom.current && unseen) setUnseen(0);
    if (el.scrollTop < NEAR && t.hasMore) loadOlder();
  }

  function toBottom() {
    const el = scroller.current;
    el.scrollTop = el.scrollHeight;
    atBottom.current = true;
    setUnseen(0);
  }

  return (
    <div className="messages-wrap">
      <div className="scroller" ref={scroller} onScroll={onScroll} tabIndex={0} role="region" aria-label={`Conversation with ${title}`}>
        <div className="history-edge">
          {t.hasMore && (
            <button type="button" className="link" onClick={loadOlder} disabled={loadingOlder}>
              {loadingOlder ? 'Loading older messages…' : 'Load older messages'}
            </button>
          )}
          {historyGone(t) && <p className="muted">Earlier messages are no longer kept.</p>}
          {t.loaded && !t.hasMore && !historyGone(t) && t.messages.length > 0 && <p className="muted">Start of the conversation</p>}
          {!t.loaded && !error && <p className="muted" role="status">Loading messages…</p>}
          {error && (
            <p className="error" role="alert">
              {error} <button type="button" className="link" onClick={retry}>Try again</button>
            </p>
          )}
        </div>
        {t.loaded && t.messages.length === 0 && pending.length === 0 && (
          <p className="muted center">No messages yet. Say hello!</p>
        )}
        <ol className="messages">
          {t.messages.map((m, i) => (
            <Message key={m.seq} m={m} me={me} isGroup={isGroup} first={startsRun(t.messages[i - 1], m)} readBy={readBy} />
          ))}
          {pending.map((p) => (
            <li key={p.key} className={`msg mine pending ${p.error ? 'failed' : ''}`}>
              <div className="bubble">
                <p className="text">{p.text}</p>
                <p className="meta">
                  {p.error ? (
                    <>
                      <span role="alert">Not sent: {p.error}</span>{' '}
                      <button type="button" className="link" onClick={() => onRetry(p)}>Retry</button>{' '}
                      <button type="button" className="link" onClick={() => onDiscard(p.key)}>Discard</button>
                    </>
                  ) : p.stored ? 'Sent' : 'Sending…'}
                </p>
              </div>
            </li>
          ))}
        </ol>
      </div>
      {unseen > 0 && (
        <button type="button" className="jump" onClick={toBottom}>
          {unseen === 1 ? '1 new message' : `${unseen} new messages`} <span aria-hidden="true">↓</span>
        </button>
      )}
    </div>
  );
}

function startsRun(prev, m) {
  return !prev || prev.sendId !== m.sendId || Date.parse(m.sentAt) - Date.parse(prev.sentAt) > 5 * 60 * 1000;
}

// first: the message starts a run of one sender's messages. Senders are
// named in groups only (a direct room has one other person).
function Message({ m, me, isGroup, first, readBy }) {
  const mine = m.sendId === me;
  const showSender = first && isGroup && !mine;
  const deleted = m.deleted || typeof m.message !== 'string';
  return (
    <li className={`msg ${mine ? 'mine' : 'theirs'} ${first ? 'first' : ''}`} data-seq={m.seq}>
      <div className="bubble">
        {showSender && <p className="sender">{userLabel(m.sendId, me)}</p>}
        {deleted ? <p className="text deleted">Message deleted</p> : <p className="text">{m.message}</p>}
        <p className="meta">
          <span className="visually-hidden">{mine ? 'Sent' : `From ${userLabel(m.sendId, me)},`} </span>
          <time dateTime={m.sentAt} title={new Date(m.sentAt).toLocaleString()}>{formatTime(m.sentAt)}</time>
          {m.editedAt && !deleted && <span className="edited"> · edited</span>}
          {mine && <Receipt read={readByOthers(readBy, m.seq, me)} />}
        </p>
      </div>
    </li>
  );
}

/** Receipt: ✓ sent, ✓✓ read by someone else in the room. */
function Receipt({ read }) {
  return (
    <span className={`receipt ${read ? 'read' : 'sent'}`} data-receipt={read ? 'read' : 'sent'} title={read ? 'Read' : 'Sent'}>
      <span aria-hidden="true"> {read ? '✓✓' : '✓'}</span>
      <span className="visually-hidden">{read ? ', read' : ', not read yet'}</span>
    </span>
  );
}
