// A client that stops reading must not slow anybody else down. ws nodes run
// with WS_QUEUE_BYTES=262144: above 3/4 of it the chat subscription stops
// queueing and would catch up from history (a slow reader is late, not
// cut); a client that reads nothing at all acknowledges nothing of what is
// written to it and is disconnected when the write timeout (10 s) passes
// (its registry entry disappears). A raw `ws` client speaks
// STOMP by hand (CONNECT, SUBSCRIBE with receipt), then pauses its socket;
// a sender pushes a few MB of ~2 KB messages, more than the kernel buffers
// and the queue hold. Three healthy @stomp/stompjs subscribers (two on the
// slow client's node) must receive everything in order, and their delivery
// latency must stay close to a baseline run made without the slow client.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import WebSocket from 'ws';
import {
  useSystem, collect, eventually, within, resumingSubscriber, StompSender, range, seqReport, roomLastSeq, short, now,
  stampOf, percentiles, SUBPROTOCOLS,
} from '../lib/index.mjs';

const QUEUE_BYTES = 262144;
const sys = useSystem('slow-consumer', { wsEnv: { WS_QUEUE_BYTES: String(QUEUE_BYTES) } });
const S = {};
const N = 3000; // messages per phase
const PAD = 'x'.repeat(2000); // ~2 KB per message: ~6 MB per phase
const BURST = 5;
const BURST_MS = 5; // ~1000 messages/s

test('setup: room of 41..45; sender 41@ws-a; healthy subscribers 42@ws-a, 43@ws-a, 44@ws-b', async () => {
  S.tok = Object.fromEntries([41, 42, 43, 44, 45].map((u) => [u, sys.mint(u)]));
  const r = await sys.api('POST', '/api/v1/chat-rooms', S.tok[41], { type: 'group', name: 'slow', memberIds: [42, 43, 44, 45] });
  assert.equal(r.status, 201, String(r));
  S.room = r.body.id;
  S.healthy = [[42, 'a'], [43, 'a'], [44, 'b']].map(([u, node]) => resumingSubscriber(sys, {
    room: S.room, node, label: `healthy${u}`, token: S.tok[u], reconnectDelay: 0, headers: { chatRoomId: S.room, sendId: u },
  }));
  for (const h of S.healthy) await h.ready();
  S.events = collect(S.healthy[2].c, `/sub/chat/room/${S.room}/events`);
  await S.events.ready;
  S.sc = sys.stomp({ node: 'a', label: 'sender41', token: S.tok[41], headers: { sendId: 41 } });
  await S.sc.ready();
});

/** phase sends N messages tagged `tag` at ~1000/s and returns the healthy subscribers' latencies. */
async function phase(tag) {
  const sender = new StompSender(S.sc, { room: S.room, sendId: 41, tag, pad: PAD });
  const t0 = now();
  while (sender.n < N) {
    for (let i = 0; i < BURST && sender.n < N; i++) sender.send();
    await delay(BURST_MS); // traffic shape
  }
  const sendMs = Math.round(now() - t0);
  await sender.settle(15000);
  assert.deepEqual(sender.unacked, [], `${tag}: every SEND acknowledged`);
  const last = await roomLastSeq(sys, S.room, S.tok[41]);
  for (const h of S.healthy) await h.waitFor(last, 15000);
  const stats = {};
  const all = [];
  for (const h of S.healthy) {
    const lat = [];
    h.items.forEach((m, i) => { if (m.message.startsWith(`${tag}#`)) lat.push(h.recvAt[i] - stampOf(m.message)); });
    assert.equal(lat.length, N, `${h.c.label} got all ${N} messages of ${tag}`);
    stats[h.c.label] = percentiles(lat);
    all.push(...lat);
  }
  // When the last message reached the subscribers of ws-a, it had also been
  // queued (or refused) for every other subscription of ws-a.
  const doneAt = Math.max(...S.healthy.filter((h) => h.c.url === sys.nodes.a.url).map((h) => h.recvAt.at(-1)));
  return { sendMs, last, doneAt, perSubscriber: stats, all: percentiles(all), mb: Math.round((N * (PAD.length + 60)) / 1e5) / 10 };
}

/** rawClient connects a hand-written STOMP client; resolves once its SUBSCRIBE has a RECEIPT. */
async function rawClient(node, user) {
  const ws = new WebSocket(sys.nodes[node].url, SUBPROTOCOLS);
  let text = '';
  const seen = (needle) => eventually(() => assert.ok(text.includes(needle), `raw client: waiting for ${JSON.stringify(needle)}, got ${JSON.stringify(text.slice(0, 300))}`), 5000, 10);
  ws.on('message', (d) => { text += d.toString(); });
  ws.on('error', () => {});
  await within(new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); }), 5000, 'raw socket open');
  ws.send(`CONNECT\naccept-version:1.2\nheart-beat:0,0\nAuthorization:Bearer ${S.tok[user]}\nchatRoomId:${S.room}\n\n\0`);
  await seen('CONNECTED\n');
  const session = /\nsession:([^\n]+)\n/.exec(text)?.[1];
  ws.send(`SUBSCRIBE\nid:slow-0\ndestination:/sub/chat/room/${S.room}\nreceipt:slow-sub\n\n\0`);
  await seen('receipt-id:slow-sub');
  return { ws, session, received: () => text.length };
}

test('a client that stops reading is cut off (eventually); healthy subscribers get everything, in order, on time', async () => {
  const base = await phase('base');
  console.log(`slow consumer baseline (no slow client): ${N} x ~2 KB (${base.mb} MB) sent in ${base.sendMs} ms; latency ms all ${JSON.stringify(base.all)}; per subscriber ${JSON.stringify(base.perSubscriber)}`);

  const slow = await rawClient('a', 45);
  S.slow = slow;
  assert.ok(slow.session, 'CONNECTED carries a session');
  assert.equal((await sys.hgetall(`chat:session:${slow.session}`)).node, 'ws-a');
  slow.ws._socket.pause(); // stop reading: the kernel buffers fill, then the server's queue
  const pausedAt = now();
  const gone = (async () => {
    // Poll the registry until the slow session is gone; bounded.
    while (now() - pausedAt < 25000) {
      if (await sys.redis('EXISTS', `chat:session:${slow.session}`) === 0) return now();
      await delay(25);
    }
    return Infinity;
  })();

  const slowPhase = await phase('slow');
  console.log(`slow consumer with a paused client on ws-a: ${N} x ~2 KB (${slowPhase.mb} MB) sent in ${slowPhase.sendMs} ms; latency ms all ${JSON.stringify(slowPhase.all)}; per subscriber ${JSON.stringify(slowPhase.perSubscriber)}`);
  const goneAt = await gone;
  const goneMs = Math.round(goneAt - pausedAt);
  const afterTraffic = Math.round(goneAt - slowPhase.doneAt);
  const leave = await eventually(() => {
    const e = S.events.items.find((x) => x.type === 'LEAVE' && x.userId === 45);
    assert.ok(e, `LEAVE of 45: ${JSON.stringify(S.events.items)}`);
    return e;
  }, 2000).catch((err) => ({ missing: err.message }));
  console.log(`slow consumer: paused client's session left the registry ${goneMs} ms after it paused, ${afterTraffic} ms after the last message ` +
    `reached ws-a's healthy subscribers (slow phase traffic took ${slowPhase.sendMs} ms); LEAVE ${JSON.stringify(leave)}`);

  for (const h of S.healthy) {
    const rep = seqReport(h.seqs, 1, slowPhase.last);
    assert.deepEqual(h.seqs, range(1, slowPhase.last), `${h.c.label}: everything in order; dup ${short(rep.duplicates)} missing ${short(rep.missing)}`);
    assert.equal(h.c.connects, 1, `${h.c.label} stayed connected`);
    assert.ok(!h.c.isClosed, `${h.c.label} was not disconnected\n${h.c.describe()}`);
  }
  assert.notEqual(goneAt, Infinity, `the paused client's session left the registry (chat:session:${slow.session}) within 25 s`);
  assert.ok(!(await sys.redis('SMEMBERS', 'chat:node:ws-a:sessions')).includes(slow.session), 'and ws-a\'s session set');
  assert.equal(leave.type, 'LEAVE', `the observer saw user 45 leave: ${JSON.stringify(leave)}`);
  assert.ok(slowPhase.all.p99 < base.all.p99 + 500,
    `healthy p99 with a slow client (${slowPhase.all.p99} ms) within baseline p99 (${base.all.p99} ms) + 500 ms`);

  // The slow client, reading again, finds the connection closed by the server.
  slow.ws._socket.resume();
  const closed = await within(new Promise((resolve) => {
    if (slow.ws.readyState === WebSocket.CLOSED) resolve({ code: 'already closed' });
    slow.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  }), 15000, 'the slow client\'s socket to close');
  console.log(`slow consumer: paused client's socket closed ${JSON.stringify(closed)} after reading ${slow.received()} bytes`);
  S.timing = { afterTraffic, goneMs, leave };
});

test('the paused client is cut off by the write timeout (it acknowledged nothing), its queue never past its bound', () => {
  assert.ok(S.timing, 'the previous test measured the cut-off');
  const { afterTraffic, goneMs, leave } = S.timing;
  // Chat messages stop being queued at 3/4 of the queue (catch-up from
  // history), so what cuts a client that reads nothing is its blocked
  // write: 10 s (the node's write timeout) after the socket stopped
  // taking bytes, which happened before the last message was sent.
  assert.equal(leave.reason, 'slow-consumer', `LEAVE reason: ${JSON.stringify(leave)}`);
  assert.ok(afterTraffic <= 10000 + 2000,
    `the paused client is disconnected within the write timeout: its session left the registry ${afterTraffic} ms after the last ` +
    `message was queued (${goneMs} ms after it paused); LEAVE ${JSON.stringify(leave)}`);
});

test('cleanup: the raw client', () => { S.slow?.ws.terminate(); });
