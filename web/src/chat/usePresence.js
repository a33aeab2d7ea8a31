// Who is online in the open room: GET …/presence, refreshed (coalesced) on
// the room's ENTER/LEAVE/MEMBER_* events and on every (re)connect.

import { useCallback, useEffect, useRef, useState } from 'react';

export function usePresence(api, roomId) {
  const [online, setOnline] = useState({ roomId, list: [] });
  const timer = useRef(null);

  const load = useCallback(async () => {
    if (!roomId) return;
    try {
      const list = await api.presence(roomId);
      setOnline({ roomId, list });
    } catch {
      // Presence is a hint; the next event or reconnect tries again.
    }
  }, [api, roomId]);

  useEffect(() => {
    load();
    return () => clearTimeout(timer.current);
  }, [load]);

  /** refresh asks again shortly; bursts of events make one request. */
  const refresh = useCallback(() => {
    clearTimeout(timer.current);
    timer.current = setTimeout(load, 150);
  }, [load]);

  return { online: online.roomId === roomId ? online.list : [], refresh };
}
