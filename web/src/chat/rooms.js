// Room list helpers: titles, previews and live updates. Pure functions.

/** otherMembers are the room's members other than me. */
export function otherMembers(room, me) {
  return (room?.memberIds ?? []).filter((id) => id !== me);
}

/** userLabel names a user; the API knows ids only. */
export function userLabel(id, me) {
  return id === me ? 'You' : `User ${id}`;
}

/** roomTitle: a group's name, or the other member of a direct room. */
export function roomTitle(room, me) {
  if (!room) return '';
  if (room.type === 'group') return room.name || `Group ${room.id}`;
  const others = otherMembers(room, me);
  return others.length ? `User ${others[0]}` : 'Just you';
}

/** lastMessageOf parses the room's lastMessage (a JSON document or string). */
export function lastMessageOf(room) {
  const m = room?.lastMessage;
  if (!m) return undefined;
  if (typeof m === 'string') {
    try {
      return JSON.parse(m);
    } catch {
      return undefined;
    }
  }
  return m;
}

/** activity is a room's last activity in ms (its creation when silent). */
function activity(room) {
  return Date.parse(room.lastMessageAt || lastMessageOf(room)?.sentAt || room.createdAt || 0) || 0;
}

/** sortRooms orders rooms newest activity first (like the API). */
export function sortRooms(rooms) {
  return [...rooms].sort((a, b) => activity(b) - activity(a) || b.id - a.id);
}

/**
 * withMessage returns rooms with msg recorded as its room's last message,
 * when it is newer than what the list has. Unknown rooms are left alone.
 */
export function withMessage(rooms, msg) {
  let changed = false;
  const next = rooms.map((r) => {
    if (r.id !== msg.chatRoomId || (r.lastSeq ?? 0) >= msg.seq) return r;
    changed = true;
    return { ...r, lastSeq: msg.seq, lastMessage: msg, lastMessageAt: msg.sentAt };
  });
  return changed ? sortRooms(next) : rooms;
}

/**
 * mergeListed takes a freshly fetched list, keeping from old a newer last
 * message seen live meanwhile, and the memberIds of a group that the list
 * leaves out (fetched with the room itself).
 */
export function mergeListed(old, list) {
  return sortRooms(list.map((r) => {
    const o = old.find((x) => x.id === r.id);
    if (!o) return r;
    let m = r;
    if ((o.lastSeq ?? 0) > (r.lastSeq ?? 0)) m = { ...m, ...pick(o) };
    if (!m.memberIds && o.memberIds) m = { ...m, memberIds: o.memberIds };
    return m;
  }));
}

/** upsertRoom adds or replaces room in the list. */
export function upsertRoom(rooms, room) {
  const old = rooms.find((r) => r.id === room.id);
  const merged = old && (old.lastSeq ?? 0) > (room.lastSeq ?? 0) ? { ...room, ...pick(old) } : room;
  return sortRooms([...rooms.filter((r) => r.id !== room.id), merged]);
}

function pick(r) {
  return { lastSeq: r.lastSeq, lastMessage: r.lastMessage, lastMessageAt: r.lastMessageAt };
}

/**
 * withUnread sets a room's unreadCount (count: a number, or a function of
 * the old count). Unknown rooms are left alone.
 */
export function withUnread(rooms, id, count) {
  let changed = false;
  const next = rooms.map((r) => {
    if (r.id !== id) return r;
    const n = Math.max(0, typeof count === 'function' ? count(r.unreadCount ?? 0) : count);
    if (n === r.unreadCount) return r;
    changed = true;
    return { ...r, unreadCount: n };
  });
  return changed ? next : rooms;
}

/** withoutRoom drops a room from the list. */
export function withoutRoom(rooms, id) {
  return rooms.some((r) => r.id === id) ? rooms.filter((r) => r.id !== id) : rooms;
}

/** mergeReadBy keeps, per user, the highest read position of a and b. */
export function mergeReadBy(a, b) {
  if (!b) return a;
  let out = a;
  for (const [user, seq] of Object.entries(b)) {
    if (typeof seq === 'number' && seq > (out[user] ?? -1)) {
      if (out === a) out = { ...a };
      out[user] = seq;
    }
  }
  return out;
}

/** readByOthers: whether any member other than sender has read seq. */
export function readByOthers(readBy, seq, sender) {
  return Object.entries(readBy ?? {}).some(([user, s]) => Number(user) !== sender && s >= seq);
}

/** typingText: "User 102 is typing…", "User 102 and User 103 are typing…". */
export function typingText(userIds, me) {
  const names = [...userIds].filter((u) => u !== me).sort((a, b) => a - b).map((u) => userLabel(u, me));
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length <= 3) return `${names.slice(0, -1).join(', ')} and ${names.at(-1)} are typing…`;
  return `${names.length} people are typing…`;
}

/** parseIds reads "3, 5 7" into [3, 5, 7]; it throws on anything else. */
export function parseIds(text) {
  const parts = String(text).split(/[\s,]+/).filter(Boolean);
  const ids = parts.map((p) => {
    if (!/^[1-9][0-9]*$/.test(p)) throw new Error(`"${p}" is not a user id (a positive whole number).`);
    return Number(p);
  });
  return [...new Set(ids)];
}

/** formatTime shows a message time: the time today, else the date too. */
export function formatTime(iso, now = new Date()) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const sameDay = d.toDateString() === now.toDateString();
  return sameDay
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString([], { month: 'short', day: 'numeric' }) + ' ' + d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}
