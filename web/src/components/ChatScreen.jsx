// The signed-in screen: header, room list, and the open room. It owns the
// socket and routes what arrives to the room list, the open room's
// timeline, its presence and the screen-reader announcer.

import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { createApi } from '../api/rest.js';
import { config } from '../config.js';
import { userLabel } from '../chat/rooms.js';
import { useChatSocket } from '../chat/useChatSocket.js';
import { useHashRoom } from '../chat/useHashRoom.js';
import { usePresence } from '../chat/usePresence.js';
import { useRooms } from '../chat/useRooms.js';
import { useTimeline } from '../chat/useTimeline.js';
import { useTyping } from '../chat/useTyping.js';
import { highestSeq } from '../chat/timeline.js';
import ConnectionStatus from './ConnectionStatus.jsx';
import NewRoomForm from './NewRoomForm.jsx';
import RoomList from './RoomList.jsx';
import RoomView from './RoomView.jsx';

export default function ChatScreen({ session, onSignOut }) {
  const me = session.userId;
  const api = useMemo(() => createApi(config.apiURL, session.getToken), [session]);
  const rooms = useRooms(api);
  const [roomId, openRoom] = useHashRoom();
  const [fetched, setFetched] = useState(null); // an open room missing from the list
  const [roomError, setRoomError] = useState('');
  const [generation, setGeneration] = useState(0);
  const [announcement, setAnnouncement] = useState('');
  const lastRestart = useRef(0);
  const marked = useRef({ roomId: 0, seq: 0 }); // the last read position sent

  const listed = rooms.rooms.find((r) => r.id === roomId);
  const room = listed ?? (fetched?.id === roomId ? fetched : null);

  // A room opened from the URL before (or without) the list knowing it,
  // or a group the list has without its members (the list leaves them out).
  useEffect(() => {
    setRoomError('');
    if (!roomId || listed?.memberIds || !rooms.loaded) return;
    let cancelled = false;
    api.getRoom(roomId).then(
      (r) => !cancelled && (setFetched(r), rooms.upsert(r)),
      (err) => {
        if (cancelled) return;
        setFetched(null);
        setRoomError(err.status === 404 ? `Room ${roomId} does not exist or you are not a member.` : err.message);
      },
    );
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, roomId, Boolean(listed?.memberIds), rooms.loaded]);

  // Connect into the open room only once its metadata (lastSeq) is known.
  const socketRoom = room ? room.id : 0;
  const timeline = useTimeline(api, socketRoom, room?.lastSeq ?? 0);
  const presence = usePresence(api, socketRoom);
  const typing = useTyping(socketRoom);
  const visible = useVisible();
  const watchIds = useMemo(() => rooms.rooms.map((r) => r.id), [rooms.rooms]);

  const onFatal = useCallback((text) => {
    if (/^authentication failed/i.test(text)) {
      onSignOut(`Signed out: ${text}.`);
      return;
    }
    // forbidden: a room we no longer belong to. Reload the list and reconnect
    // (at most every 10 s, so a persistent refusal cannot spin).
    rooms.refresh();
    const wait = Math.max(0, lastRestart.current + 10000 - Date.now());
    setTimeout(() => {
      lastRestart.current = Date.now();
      setGeneration((g) => g + 1);
    }, wait);
  }, [onSignOut, rooms]);

  const socket = useChatSocket({
    url: config.wsURL,
    session,
    roomId: socketRoom,
    enabled: !roomId || Boolean(room) || Boolean(roomError),
    generation,
    watchIds,
    handlers: {
      getLastSeq: timeline.getLastSeq,
      onMessage: (msg) => {
        rooms.applyMessage(msg);
        if (msg.chatRoomId === socketRoom) {
          timeline.onLive(msg);
          typing.stopped(msg.chatRoomId, msg.sendId);
          // Read while visible (the effect below sends it); else it counts.
          if (msg.sendId !== me && !isVisible() && msg.seq > (timeline.getLastSeq() ?? 0)) {
            rooms.setUnread(socketRoom, (n) => n + 1);
          }
          if (msg.sendId !== me) {
            // A repeated text must still change the live region to be read.
            const text = `${userLabel(msg.sendId, me)}: ${msg.message}`;
            setAnnouncement((prev) => (prev === text ? `${text}\u00a0` : text));
          }
        }
      },
      onTruncated: timeline.onTruncated,
      onReset: timeline.onReset,
      onEvent: (evt) => {
        // Edits and deletions (when the server has them) carry the new version.
        if (evt.message && typeof evt.message === 'object') timeline.onReplace(evt.message);
        if (evt.type === 'READ') timeline.onRead(evt);
        if (evt.type === 'TYPING' && evt.userId !== me) typing.onEvent(evt);
        if (evt.type === 'LEAVE' || evt.type === 'MEMBER_REMOVED') typing.stopped(evt.chatRoomId, evt.userId);
        if (!['ENTER', 'LEAVE', 'MEMBER_ADDED', 'MEMBER_REMOVED'].includes(evt.type)) return;
        presence.refresh();
        if (evt.type === 'MEMBER_ADDED' || evt.type === 'MEMBER_REMOVED') {
          rooms.refresh();
          // The list leaves a group's members out: reload the open room's.
          if (evt.chatRoomId === socketRoom && !(evt.type === 'MEMBER_REMOVED' && evt.userId === me)) {
            api.getRoom(socketRoom).then(rooms.upsert, () => {});
          }
        }
        if (evt.type === 'MEMBER_REMOVED' && evt.userId === me) openRoom(0);
      },
      onNotification: (n) => {
        const id = n.chatRoomId;
        switch (n.type) {
          case 'MESSAGE':
            if (!rooms.rooms.some((r) => r.id === id)) rooms.refresh();
            else if (id !== socketRoom || !isVisible()) rooms.setUnread(id, n.unreadCount ?? ((c) => c + 1));
            break;
          case 'UNREAD':
            rooms.setUnread(id, n.unreadCount ?? 0);
            break;
          case 'ADDED':
            api.getRoom(id).then(rooms.upsert, () => rooms.refresh());
            break;
          case 'REMOVED':
            rooms.remove(id);
            if (id === roomId) openRoom(0);
            break;
          default:
        }
      },
      onConnected: () => {
        presence.refresh();
        rooms.refresh();
        // CONNECT with chatRoomId marked the open room read.
        if (socketRoom) rooms.setUnread(socketRoom, 0);
        marked.current = { roomId: socketRoom, seq: 0 };
      },
      onFatal,
    },
  });

  // Mark the open room read while it is visible: as messages arrive (live or
  // resumed) and when the tab comes back into view.
  const newest = highestSeq(timeline.t) ?? 0;
  const online = socket.status.state === 'online';
  useEffect(() => {
    if (!socketRoom || !online || !visible || !newest) return;
    const m = marked.current;
    if (m.roomId === socketRoom && m.seq >= newest) return;
    if (socket.markRead(newest)) {
      marked.current = { roomId: socketRoom, seq: newest };
      rooms.setUnread(socketRoom, 0);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [socketRoom, newest, online, visible]);

  const signOut = () => onSignOut('');

  return (
    <div className={`app ${roomId ? 'has-room' : ''}`}>
      {room && (
        <a className="skip" href="#composer" onClick={(e) => { e.preventDefault(); document.getElementById('composer')?.focus(); }}>
          Skip to message box
        </a>
      )}
      <header className="topbar">
        <h1 className="brand">roomwire</h1>
        <ConnectionStatus status={socket.status} />
        <p className="whoami">
          Signed in as <strong>User {me}</strong>
          {session.name ? ` (${session.name})` : ''}
          {session.mode === 'dev' && <span className="tag" title="Development token">dev</span>}
        </p>
        <button type="button" onClick={signOut}>Sign out</button>
      </header>
      <nav className="sidebar" aria-label="Rooms">
        <RoomList rooms={rooms.rooms} loaded={rooms.loaded} error={rooms.error} me={me} openId={roomId} onRefresh={rooms.refresh} />
        <NewRoomForm api={api} onOpened={(r) => { rooms.upsert(r); openRoom(r.id); }} />
      </nav>
      <main className="main" aria-label={room ? undefined : 'Conversation'}>
        {roomId ? (
          room ? (
            <RoomView
              key={room.id}
              room={room}
              me={me}
              timeline={timeline}
              online={presence.online}
              readBy={timeline.readBy}
              typingIds={typing.typing}
              onTyping={socket.typing}
              connected={socket.status.state === 'online'}
              send={socket.send}
              onClose={() => openRoom(0)}
            />
          ) : (
            <div className="empty">
              <p role={roomError ? 'alert' : 'status'}>{roomError || 'Opening room…'}</p>
              {roomError && <button type="button" onClick={() => openRoom(0)}>Back to rooms</button>}
            </div>
          )
        ) : (
          <div className="empty">
            <h2>No room open</h2>
            <p className="muted">Pick a room on the left, or start a conversation with someone by their user id.</p>
          </div>
        )}
      </main>
      <div className="visually-hidden" aria-live="polite" aria-atomic="true">{announcement}</div>
    </div>
  );
}

const isVisible = () => document.visibilityState === 'visible';

/** useVisible: whether the tab is visible (the user can see new messages). */
function useVisible() {
  const [visible, setVisible] = useState(isVisible);
  useEffect(() => {
    const on = () => setVisible(isVisible());
    document.addEventListener('visibilitychange', on);
    return () => document.removeEventListener('visibilitychange', on);
  }, []);
  return visible;
}
