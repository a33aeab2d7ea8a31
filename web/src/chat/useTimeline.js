// The open room's messages (see timeline.js): the newest page over REST,
// older pages on demand, live messages from the socket, and a reload when a
// resume comes back truncated.

import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import {
  addLive, addNewestPage, addOlderPage, emptyTimeline, highestSeq, oldestSeq, replaceMessage, replaceWithNewestPage, resetToNewestPage,
} from './timeline.js';
import { mergeReadBy } from './rooms.js';

// readBy: every member's read position, {"<userId>": seq}, from history
// pages, READ events and the messages themselves (a sender has read theirs).
const fresh = (roomId) => ({ roomId, t: emptyTimeline, readBy: {}, error: '', loadingOlder: false });

/**
 * useTimeline(api, roomId, openedAtSeq): openedAtSeq is the room's lastSeq
 * as the room list knew it when the room was opened; until the first page
 * arrives, a (re)subscription resumes from it.
 */
export function useTimeline(api, roomId, openedAtSeq) {
  const [state, setState] = useState(() => fresh(roomId));
  const ref = useRef(state);
  useLayoutEffect(() => {
    ref.current = state;
  });
  const opened = useRef(openedAtSeq);
  const olderBusy = useRef(false);

  const update = useCallback((id, fn) => setState((s) => (s.roomId === id ? fn(s) : s)), []);

  const loadNewest = useCallback(async (id, merge) => {
    try {
      const page = await api.history(id);
      update(id, (s) => ({ ...s, error: '', t: merge(s.t, page), readBy: mergeReadBy(s.readBy, page.readBy) }));
    } catch (err) {
      update(id, (s) => ({ ...s, error: err.message }));
    }
  }, [api, update]);

  useEffect(() => {
    if (!roomId) return;
    opened.current = openedAtSeq;
    olderBusy.current = false;
    setState(fresh(roomId));
    loadNewest(roomId, addNewestPage);
    // openedAtSeq is read once per room on purpose: later list refreshes
    // must not move the resume point past messages never shown.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [roomId, loadNewest]);

  const onLive = useCallback((msg) => update(msg.chatRoomId, (s) => ({
    ...s,
    t: addLive(s.t, msg),
    readBy: typeof msg.sendId === 'number' ? mergeReadBy(s.readBy, { [msg.sendId]: msg.seq }) : s.readBy,
  })), [update]);

  /** onRead applies a READ event: userId has read up to seq. */
  const onRead = useCallback((evt) => update(evt.chatRoomId, (s) => ({
    ...s, readBy: mergeReadBy(s.readBy, { [evt.userId]: evt.seq }),
  })), [update]);

  const onReplace = useCallback((msg) => update(msg.chatRoomId, (s) => ({ ...s, t: replaceMessage(s.t, msg) })), [update]);

  const onTruncated = useCallback(() => {
    if (roomId) loadNewest(roomId, replaceWithNewestPage);
  }, [roomId, loadNewest]);

  const onReset = useCallback(() => {
    if (roomId) loadNewest(roomId, resetToNewestPage);
  }, [roomId, loadNewest]);

  const retry = useCallback(() => {
    if (roomId) loadNewest(roomId, addNewestPage);
  }, [roomId, loadNewest]);

  const loadOlder = useCallback(async () => {
    const s = ref.current;
    if (!roomId || s.roomId !== roomId || !s.t.hasMore || olderBusy.current) return;
    olderBusy.current = true;
    update(roomId, (x) => ({ ...x, loadingOlder: true }));
    try {
      const page = await api.history(roomId, { before: oldestSeq(s.t) });
      update(roomId, (x) => ({ ...x, loadingOlder: false, t: addOlderPage(x.t, page), readBy: mergeReadBy(x.readBy, page.readBy) }));
    } catch (err) {
      update(roomId, (x) => ({ ...x, loadingOlder: false, error: err.message }));
    } finally {
      olderBusy.current = false;
    }
  }, [api, roomId, update]);

  /** getLastSeq: where a (re)subscription resumes; never past a message not shown. */
  const getLastSeq = useCallback(() => {
    const s = ref.current;
    if (s.roomId === roomId && s.t.loaded) return highestSeq(s.t);
    return opened.current ?? 0;
  }, [roomId]);

  const current = state.roomId === roomId ? state : fresh(roomId);
  return { ...current, onLive, onRead, onReplace, onTruncated, onReset, loadOlder, retry, getLastSeq };
}
