// @stomp/stompjs clients configured like the seed React app, with the `ws`
// package as the WebSocket implementation. Every callback the app could see
// is turned into a promise or a log entry so tests can await it with a bound
// and print what happened when an assertion fails.

import { EventEmitter } from 'node:events';
import { appendFileSync } from 'node:fs';
import { Client } from '@stomp/stompjs';
import WebSocket from 'ws';
import { deferred, within, WAIT_MS } from './wait.mjs';

/** The subprotocols the seed's client offers, in its order. */
export const SUBPROTOCOLS = ['v12.stomp', 'v11.stomp', 'v10.stomp'];

let receipts = 0;

/**
 * stomp builds and activates a client.
 *   url            ws://host:port/ws, or a function returning it, called before
 *                  every (re)connect (so a test can move a client to another node)
 *   token          sets connectHeaders.Authorization = "Bearer <token>" (omit for none)
 *   headers        further CONNECT headers (chatRoomId, sendId, rcvId, passcode...)
 *   reconnectDelay 0 (no reconnect) unless a test asks otherwise
 *   onConnect      (frame, c) => void, run inside the client's onConnect, like the seed's subscribe()
 *                  (on every CONNECTED when the client reconnects)
 *   beforeConnect  (c) => void, passed to stompjs (runs before every connect attempt)
 *   label, logFile name used in failure messages; the stompjs debug log goes to logFile
 * Returns a handle: client, connected / error / closed / disconnected
 * (promises of the CONNECTED frame, ERROR frame, socket close event and
 * DISCONNECT receipt), session, protocol, log (one line per notable event).
 * The four promises settle once; a reconnecting client's later connections
 * are reported by c.emitter ('connect' frame, 'stompError' frame, 'close'
 * {code, reason}), c.connects (CONNECTED count) and c.urls (URL of every
 * socket opened).
 */
export function stomp({ url, token, headers = {}, reconnectDelay = 0, onConnect, beforeConnect, label = 'client', logFile }) {
  const c = {
    label,
    emitter: new EventEmitter(),
    connects: 0,
    urls: [],
    log: [],
    unhandled: [],
    connected: deferred(),
    error: deferred(),
    closed: deferred(),
    disconnected: deferred(),
    session: undefined,
    protocol: undefined,
    socket: undefined,
  };
  const note = (line) => {
    c.log.push(line);
    if (logFile) appendFileSync(logFile, `${new Date().toISOString()} [${label}] ${line}\n`);
  };
  const connectHeaders = { ...(token !== undefined ? { Authorization: `Bearer ${token}` } : {}), ...headers };
  c.client = new Client({
    connectHeaders,
    reconnectDelay,
    ...(beforeConnect ? { beforeConnect: () => beforeConnect(c) } : {}),
    webSocketFactory: () => {
      const target = typeof url === 'function' ? url() : url;
      c.urls.push(target);
      c.url = target;
      const ws = new WebSocket(target, SUBPROTOCOLS);
      ws.on('open', () => { c.protocol = ws.protocol; note(`socket open, subprotocol=${JSON.stringify(ws.protocol)}`); });
      ws.on('unexpected-response', (_req, res) => note(`handshake refused: HTTP ${res.statusCode}`));
      c.socket = ws;
      return ws;
    },
    debug: (s) => { if (logFile) appendFileSync(logFile, `${new Date().toISOString()} [${label}] debug ${s}\n`); },
    onConnect: (frame) => {
      c.session = frame.headers.session;
      c.connects++;
      note(`CONNECTED ${JSON.stringify(frame.headers)}${c.connects > 1 ? ` (connection ${c.connects}, ${c.url})` : ''}`);
      if (onConnect) onConnect(frame, c);
      c.connected.resolve(frame);
      c.emitter.emit('connect', frame);
    },
    onStompError: (frame) => {
      note(`ERROR ${JSON.stringify(frame.headers)} body=${JSON.stringify(frame.body)}`);
      c.error.resolve(frame);
      c.emitter.emit('stompError', frame);
    },
    onDisconnect: (frame) => {
      note(`onDisconnect (RECEIPT ${JSON.stringify(frame.headers)})`);
      c.disconnectFrame = frame;
      c.disconnected.resolve(frame);
    },
    onWebSocketClose: (evt) => {
      note(`socket closed code=${evt.code} reason=${JSON.stringify(String(evt.reason ?? ''))}`);
      c.isClosed = true;
      c.closed.resolve({ code: evt.code, reason: String(evt.reason ?? '') });
      c.emitter.emit('close', { code: evt.code, reason: String(evt.reason ?? '') });
    },
    onWebSocketError: (evt) => note(`socket error ${evt?.message ?? evt?.error?.message ?? evt}`),
    onUnhandledMessage: (m) => { c.unhandled.push(m); note(`unhandled MESSAGE ${JSON.stringify(m.headers)} ${m.body}`); },
    onUnhandledReceipt: (f) => note(`unhandled RECEIPT ${JSON.stringify(f.headers)}`),
    onUnhandledFrame: (f) => note(`unhandled frame ${f.command} ${JSON.stringify(f.headers)}`),
  });
  c.describe = () => `${label}:\n  ${c.log.join('\n  ') || '(nothing happened)'}`;

  /** ready waits for CONNECTED; an ERROR or close first is a failure. */
  c.ready = (ms = WAIT_MS) => within(Promise.race([
    c.connected,
    c.error.then((f) => { throw new Error(`expected CONNECTED, got ERROR message=${JSON.stringify(f.headers.message)}\n${c.describe()}`); }),
    c.closed.then((e) => { throw new Error(`expected CONNECTED, socket closed (code ${e.code})\n${c.describe()}`); }),
  ]), ms, () => `CONNECTED for ${label}\n${c.describe()}`);

  /** rejected waits for ERROR then the server closing the socket; CONNECTED is not expected. */
  c.rejected = async (ms = WAIT_MS) => {
    const frame = await within(Promise.race([
      c.error,
      c.closed.then(() => null),
    ]), ms, () => `ERROR frame for ${label}\n${c.describe()}`);
    if (!frame) throw new Error(`socket closed without an ERROR frame\n${c.describe()}`);
    const closed = await within(c.closed, ms, () => `server to close ${label}'s socket after ERROR\n${c.describe()}`);
    return { frame, closed };
  };

  /** publish sends like the seed; with receipt=true it resolves on RECEIPT and rejects on ERROR. */
  c.publish = (destination, body, { receipt = false, headers = {} } = {}) => {
    if (!receipt) {
      c.client.publish({ destination, body: typeof body === 'string' ? body : JSON.stringify(body), headers });
      return Promise.resolve();
    }
    const id = `e2e-rcpt-${++receipts}`;
    const got = deferred();
    c.client.watchForReceipt(id, (f) => got.resolve(f));
    c.client.publish({ destination, body: typeof body === 'string' ? body : JSON.stringify(body), headers: { ...headers, receipt: id } });
    return within(Promise.race([got, c.error.then((f) => { throw new Error(`ERROR instead of RECEIPT ${id}: ${f.headers.message}\n${c.describe()}`); })]),
      WAIT_MS, () => `RECEIPT ${id} for SEND ${destination} from ${label}\n${c.describe()}`);
  };

  /** deactivate runs client.deactivate() with a bound. */
  c.deactivate = (ms = WAIT_MS) => within(c.client.deactivate(), ms, () => `deactivate() of ${label} to resolve\n${c.describe()}`);

  c.client.activate();
  return c;
}

/**
 * collect subscribes c to destination and gathers parsed JSON bodies in
 * items (raw MESSAGE frames in frames). With receipt (default) the SUBSCRIBE
 * carries a receipt header and `ready` resolves on the RECEIPT, so a test
 * knows the subscription is in place before anything is sent; an ERROR first
 * rejects `ready`. Call it inside onConnect or after c.ready().
 */
export function collect(c, destination, { receipt = true, headers = {} } = {}) {
  const col = { destination, items: [], frames: [] };
  const sub = { ...headers };
  const got = deferred();
  if (receipt) {
    sub.receipt = `e2e-sub-${++receipts}`;
    c.client.watchForReceipt(sub.receipt, (f) => got.resolve(f));
  } else got.resolve(null);
  col.subscription = c.client.subscribe(destination, (m) => {
    col.frames.push(m);
    let v;
    try { v = JSON.parse(m.body); } catch { v = { unparsedBody: m.body }; }
    col.items.push(v);
  }, sub);
  col.ready = within(Promise.race([
    got,
    c.error.then((f) => { throw new Error(`ERROR instead of RECEIPT for SUBSCRIBE ${destination}: ${f.headers.message}\n${c.describe()}`); }),
  ]), WAIT_MS, () => `RECEIPT for SUBSCRIBE ${destination} (${c.label})\n${c.describe()}`);
  col.ready.catch(() => {}); // awaited by tests; avoid unhandled-rejection noise
  return col;
}
