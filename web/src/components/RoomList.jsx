// The user's rooms, newest activity first, each with its last message.
// unreadCount is shown only when the API provides it.

import { formatTime, lastMessageOf, roomTitle, userLabel } from '../chat/rooms.js';

export default function RoomList({ rooms, loaded, error, me, openId, onRefresh }) {
  return (
    <section className="rooms" aria-labelledby="rooms-title">
      <div className="section-head">
        <h2 id="rooms-title">Rooms</h2>
        <button type="button" className="icon" onClick={onRefresh} aria-label="Refresh rooms" title="Refresh rooms">
          <span aria-hidden="true">↻</span>
        </button>
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      {loaded && rooms.length === 0 && !error && <p className="muted pad">No rooms yet. Start one below.</p>}
      {!loaded && <p className="muted pad">Loading rooms…</p>}
      <ul className="room-list">
        {rooms.map((r) => (
          <RoomItem key={r.id} room={r} me={me} open={r.id === openId} />
        ))}
      </ul>
    </section>
  );
}

function RoomItem({ room, me, open }) {
  const last = lastMessageOf(room);
  const title = roomTitle(room, me);
  const unread = typeof room.unreadCount === 'number' && room.unreadCount > 0 ? room.unreadCount : 0;
  return (
    <li>
      <a href={`#/rooms/${room.id}`} className={`room-item ${open ? 'open' : ''}`} aria-current={open ? 'page' : undefined}>
        <span className="avatar" aria-hidden="true">{avatarText(room, title)}</span>
        <span className="room-text">
          <span className="room-title">
            <span className="name">{title}</span>
            {last && <time dateTime={last.sentAt}>{formatTime(last.sentAt)}</time>}
          </span>
          <span className="preview">
            {last ? `${userLabel(last.sendId, me)}: ${typeof last.message === 'string' ? last.message : 'message deleted'}` : <em>No messages yet</em>}
          </span>
        </span>
        {unread > 0 && <span className="badge" aria-label={`${unread} unread`}>{unread}</span>}
      </a>
    </li>
  );
}

/** avatarText: "#" for a group, the other user's id (up to 3 digits) otherwise. */
function avatarText(room, title) {
  if (room.type === 'group') return '#';
  const digits = title.replace(/\D+/g, '');
  return digits.length > 3 ? `…${digits.slice(-2)}` : digits || '?';
}
