// useChatSocket runs one ChatSocket while the session and the open room stay
// the same (switching rooms reconnects into the new room, like the seed's
// connectHeaders). Handlers may change on every render.

import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { ChatSocket, Status } from './socket.js';

/** enabled=false holds the connection back (while the open room loads). */
export function useChatSocket({ url, session, roomId, enabled = true, generation, watchIds, handlers }) {
  const [status, setStatus] = useState({ state: Status.CONNECTING, detail: '' });
  const latest = useRef(handlers);
  useLayoutEffect(() => {
    latest.current = handlers;
  });
  const sockRef = useRef(null);
  const watchRef = useRef(watchIds);
  watchRef.current = watchIds;

  useEffect(() => {
    if (!enabled) return undefined;
    const h = () => latest.current;
    const sock = new ChatSocket({
      url,
      userId: session.userId,
      roomId,
      getToken: session.getToken,
      getLastSeq: () => h().getLastSeq?.(),
      on: {
        status: (state, detail = '') => setStatus({ state, detail }),
        message: (m) => h().onMessage?.(m),
        truncated: (info) => h().onTruncated?.(info),
        reset: (info) => h().onReset?.(info),
        event: (e) => h().onEvent?.(e),
        notification: (n) => h().onNotification?.(n),
        connected: () => h().onConnected?.(),
        fatal: (text) => h().onFatal?.(text),
      },
    });
    sockRef.current = sock;
    sock.watch(watchRef.current);
    sock.start();
    return () => {
      sock.stop();
      if (sockRef.current === sock) sockRef.current = null;
    };
  }, [url, session, roomId, enabled, generation]);

  const key = watchIds.join(',');
  useEffect(() => {
    sockRef.current?.watch(watchRef.current);
  }, [key]);

  return {
    status,
    markRead: (seq) => Boolean(sockRef.current?.markRead(seq)),
    typing: (on) => Boolean(sockRef.current?.typing(on)),
    send: (text) => (sockRef.current ? sockRef.current.send(text) : Promise.reject(new Error('Not connected.'))),
  };
}
