// Who else is typing in the open room, from its TYPING events. An indicator
// expires EXPIRE_MS after the last "typing: true" (a "false" may be dropped
// by the server's rate limit or never sent), and ends early on "false" or
// on a message from that user.

import { useCallback, useEffect, useState } from 'react';

const EXPIRE_MS = 5000;

export function useTyping(roomId) {
  const [state, setState] = useState({ roomId, until: {} }); // until: userId -> ms

  useEffect(() => setState({ roomId, until: {} }), [roomId]);

  const until = state.roomId === roomId ? state.until : {};
  const ids = Object.keys(until).map(Number);

  // Drop expired indicators; the timer runs only while someone is typing.
  const nextExpiry = ids.length ? Math.min(...Object.values(until)) : 0;
  useEffect(() => {
    if (!nextExpiry) return undefined;
    const timer = setTimeout(() => {
      const now = Date.now();
      setState((s) => ({ ...s, until: Object.fromEntries(Object.entries(s.until).filter(([, t]) => t > now)) }));
    }, Math.max(0, nextExpiry - Date.now()) + 50);
    return () => clearTimeout(timer);
  }, [nextExpiry]);

  const set = useCallback((id, userId, on) => setState((s) => {
    if (s.roomId !== id) return s;
    if (!on && !(userId in s.until)) return s;
    const next = { ...s.until };
    if (on) next[userId] = Date.now() + EXPIRE_MS;
    else delete next[userId];
    return { ...s, until: next };
  }), []);

  /** onEvent applies a TYPING event. */
  const onEvent = useCallback((evt) => set(evt.chatRoomId, evt.userId, evt.typing !== false), [set]);
  /** stopped: userId sent a message (or left), so is no longer typing. */
  const stopped = useCallback((id, userId) => set(id, userId, false), [set]);

  return { typing: ids, onEvent, stopped };
}
