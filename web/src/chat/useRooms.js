// The signed-in user's rooms: loaded over REST, refreshed every 60 s, when
// the tab becomes visible and on demand, and updated live by every message
// the socket sees and by the personal notifications (unread counts, rooms
// added and removed).

import { useCallback, useEffect, useRef, useState } from 'react';
import { mergeListed, upsertRoom, withMessage, withUnread, withoutRoom } from './rooms.js';

const POLL_MS = 60000; // a safety net: notifications keep the list current

export function useRooms(api) {
  const [rooms, setRooms] = useState([]);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState('');
  const busy = useRef(false);

  const refresh = useCallback(async () => {
    if (busy.current) return;
    busy.current = true;
    try {
      const list = await api.listRooms();
      // Keep a newer last message seen live while the request was out, and
      // the members of a group opened meanwhile.
      setRooms((old) => mergeListed(old, list));
      setError('');
    } catch (err) {
      setError(err.message);
    } finally {
      busy.current = false;
      setLoaded(true);
    }
  }, [api]);

  useEffect(() => {
    refresh();
    const timer = setInterval(refresh, POLL_MS);
    const onVisible = () => document.visibilityState === 'visible' && refresh();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [refresh]);

  const applyMessage = useCallback((msg) => setRooms((rs) => withMessage(rs, msg)), []);
  const upsert = useCallback((room) => setRooms((rs) => upsertRoom(rs, room)), []);

  const setUnread = useCallback((id, count) => setRooms((rs) => withUnread(rs, id, count)), []);
  const remove = useCallback((id) => setRooms((rs) => withoutRoom(rs, id)), []);

  return { rooms, loaded, error, refresh, applyMessage, upsert, setUnread, remove };
}
