// ChatSocket: one @stomp/stompjs Client for one signed-in tab, connected
// "into" the open room like the seed's App (CONNECT with chatRoomId and
// sendId), which is what makes the room's presence and ENTER/LEAVE events
// see us. It subscribes to
//   /sub/chat/room/{open}          with last-seq: <highest seq shown>, so a
//                                  reconnect resumes with no gap and no duplicate;
//   /sub/chat/room/{open}/events   presence changes;
//   /sub/chat/room/{other}         for every other listed room, to keep the
//                                  room list's last message current;
//   /user/queue/notifications      MESSAGE/UNREAD/ADDED/REMOVED for the room
//                                  list's unread counts and membership.
// It also SENDs read positions (/pub/chat/room/{id}/read) and typing
// state (/pub/chat/room/{id}/typing) for the open room.
// The client reconnects by itself (exponential back-off, 1 s to 15 s) and
// subscribes again on every CONNECTED.

import { Client, ReconnectionTimeMode } from '@stomp/stompjs';

const roomDest = (id) => `/sub/chat/room/${id}`;

/** Status values reported through on.status. */
export const Status = Object.freeze({
  CONNECTING: 'connecting',
  ONLINE: 'online',
  RECONNECTING: 'reconnecting',
  STOPPED: 'stopped',
});

export class ChatSocket {
  /**
   * opts: url, userId, roomId (0: none open), getToken() -> Promise<string>,
   * getLastSeq() -> highest seq shown in the open room, or undefined while
   * unknown; on: {status(s, detail), message(msg), truncated(info), reset(info),
   * event(evt), notification(n), connected(), fatal(text)} (all optional).
   */
  constructor({ url, userId, roomId, getToken, getLastSeq, on = {} }) {
    Object.assign(this, { url, userId, roomId, getToken, getLastSeq, on });
    this.watched = new Map(); // room id -> subscription (or null while offline)
    this.pending = new Map(); // receipt id -> {resolve, reject}
    this.receipts = 0;
    this.everConnected = false;
  }

  start() {
    const client = new Client({
      brokerURL: this.url,
      reconnectDelay: 1000,
      maxReconnectDelay: 15000,
      reconnectTimeMode: ReconnectionTimeMode.EXPONENTIAL,
      connectionTimeout: 10000,
      heartbeatIncoming: 10000,
      heartbeatOutgoing: 10000,
      beforeConnect: () => this.#beforeConnect(),
      onConnect: () => this.#onConnect(),
      onStompError: (frame) => this.#onStompError(frame),
      onWebSocketClose: (evt) => this.#onClose(evt),
    });
    this.client = client;
    client.activate();
  }

  /** stop disconnects (DISCONNECT, then close) and stops reconnecting. */
  stop() {
    this.stopped = true;
    this.#failPending('disconnected');
    return this.client?.deactivate();
  }

  get connected() {
    return Boolean(this.client?.connected);
  }

  /**
   * send publishes a message to the open room and resolves once the server's
   * RECEIPT says it is stored and published; it rejects when the server
   * refuses it or the connection drops first (the message may then be
   * stored or not: the room's stream shows which).
   */
  send(text) {
    if (!this.connected) return Promise.reject(new Error('Not connected.'));
    const receipt = `send-${++this.receipts}`;
    const done = new Promise((resolve, reject) => this.pending.set(receipt, { resolve, reject }));
    this.client.watchForReceipt(receipt, () => {
      this.pending.get(receipt)?.resolve();
      this.pending.delete(receipt);
    });
    try {
      this.client.publish({
        destination: '/pub/send-message',
        headers: { receipt },
        body: JSON.stringify({ chatRoomId: this.roomId, sendId: this.userId, message: text }),
      });
    } catch (err) {
      this.pending.delete(receipt);
      return Promise.reject(err);
    }
    return done;
  }

  /**
   * markRead moves the user's read position in the open room to seq (the
   * server ignores a smaller one). Returns false when offline: CONNECT
   * with chatRoomId marks the room read anyway.
   */
  markRead(seq) {
    return this.#publish(`/pub/chat/room/${this.roomId}/read`, { seq });
  }

  /** typing tells the open room's members whether the user is typing. */
  typing(on) {
    return this.#publish(`/pub/chat/room/${this.roomId}/typing`, { typing: Boolean(on) });
  }

  #publish(destination, body) {
    if (!this.connected || !this.roomId) return false;
    try {
      this.client.publish({ destination, body: JSON.stringify(body) });
      return true;
    } catch {
      return false;
    }
  }

  /** watch sets the other rooms whose messages update the room list. */
  watch(roomIds) {
    const want = new Set(roomIds.filter((id) => id !== this.roomId));
    for (const [id, sub] of this.watched) {
      if (!want.has(id)) {
        if (this.connected) sub?.unsubscribe();
        this.watched.delete(id);
      }
    }
    for (const id of want) {
      if (!this.watched.has(id)) this.watched.set(id, this.connected ? this.#subscribeWatched(id) : null);
    }
  }

  async #beforeConnect() {
    this.on.status?.(this.everConnected ? Status.RECONNECTING : Status.CONNECTING);
    try {
      const token = await this.getToken();
      this.client.connectHeaders = {
        Authorization: `Bearer ${token}`,
        sendId: String(this.userId),
        ...(this.roomId ? { chatRoomId: String(this.roomId) } : {}),
      };
    } catch (err) {
      this.#fatal(err.message);
    }
  }

  #onConnect() {
    this.everConnected = true;
    const c = this.client;
    if (this.roomId) {
      const last = this.getLastSeq?.();
      c.subscribe(roomDest(this.roomId), (frame) => this.#onRoomMessage(frame),
        last === undefined ? {} : { 'last-seq': String(last) });
      c.subscribe(`${roomDest(this.roomId)}/events`, (frame) => {
        const evt = parse(frame.body);
        if (evt) this.on.event?.(evt);
      });
    }
    for (const id of this.watched.keys()) this.watched.set(id, this.#subscribeWatched(id));
    c.subscribe('/user/queue/notifications', (frame) => {
      const n = parse(frame.body);
      if (n && typeof n.type === 'string') this.on.notification?.(n);
    });
    this.on.status?.(Status.ONLINE);
    this.on.connected?.();
  }

  #subscribeWatched(id) {
    return this.client.subscribe(roomDest(id), (frame) => {
      const msg = parse(frame.body);
      if (msg && typeof msg.seq === 'number') this.on.message?.(msg);
    });
  }

  #onRoomMessage(frame) {
    const body = parse(frame.body);
    if (!body) return;
    if (frame.headers['x-resume-truncated'] === 'true') {
      this.on.truncated?.(body);
      return;
    }
    if (frame.headers['x-resume-reset'] === 'true') {
      // last-seq was past the room's latest seq (the server's data was
      // replaced): what is shown is stale, start over from REST.
      this.on.reset?.(body);
      return;
    }
    this.on.message?.(body);
  }

  #onStompError(frame) {
    const text = frame.headers.message || 'server error';
    const receipt = frame.headers['receipt-id'];
    if (receipt && this.pending.has(receipt)) {
      this.pending.get(receipt).reject(new Error(text));
      this.pending.delete(receipt);
    }
    // The server closes the socket after any ERROR. Authentication and
    // membership failures would fail again on every retry: stop instead.
    if (/^(authentication failed|forbidden)/i.test(text)) this.#fatal(text);
    else this.lastError = text;
  }

  #onClose(evt) {
    this.#failPending('connection lost');
    for (const id of this.watched.keys()) this.watched.set(id, null);
    if (this.stopped) return;
    const why = this.lastError || (evt?.reason ? evt.reason : evt?.code ? `closed (${evt.code})` : 'closed');
    this.lastError = undefined;
    this.on.status?.(Status.RECONNECTING, why);
  }

  #failPending(why) {
    for (const p of this.pending.values()) p.reject(new Error(why));
    this.pending.clear();
  }

  #fatal(text) {
    if (this.stopped) return;
    this.stopped = true;
    this.#failPending(text);
    this.client.deactivate();
    this.on.status?.(Status.STOPPED, text);
    this.on.fatal?.(text);
  }
}

function parse(body) {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
