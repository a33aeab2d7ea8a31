// The open room lives in the URL (#/rooms/12) so a reload reopens it and the
// browser's back button closes it.

import { useCallback, useEffect, useState } from 'react';

function parse() {
  const m = /^#\/rooms\/([1-9][0-9]*)$/.exec(window.location.hash);
  return m ? Number(m[1]) : 0;
}

export function useHashRoom() {
  const [roomId, setRoomId] = useState(parse);
  useEffect(() => {
    const on = () => setRoomId(parse());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  const open = useCallback((id) => {
    window.location.hash = id ? `#/rooms/${id}` : '#/';
  }, []);
  return [roomId, open];
}
