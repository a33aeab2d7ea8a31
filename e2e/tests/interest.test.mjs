// Interest-based fan-out, read from the nodes' own counters: a ws node
// subscribes to a room's channel only while it has a local subscriber of
// the room, so a node without one receives none of the room's traffic.
//
// Three ws nodes (in both Redis modes). Busy room X (61..65): subscribers
// 62@ws-a and 63@ws-b, senders 61@ws-a (STOMP, receipts), 64@ws-c (STOMP,
// CONNECT without chatRoomId: sending needs no subscription) and 65 (REST).
// Quiet room Y (66, 67): subscriber 66@ws-c, sender 67 (REST).
//
// Per node, from /metrics (deltas over a traffic window):
//   chat     roomwire_ws_fanout_latency_seconds_count: chat messages received
//            live from Redis (one per message per node, any room)
//   probes   roomwire_ws_pubsub_lag_seconds_count: the node's own latency
//            probe messages received (one every 5 s)
//   received roomwire_ws_redis_messages_received_total: everything the hub
//            received from Redis (chat, events, notifications, control, probe)
// ws-c must show chat = received − probes = Y's messages exactly, ws-a and
// ws-b exactly X's. Then 63 unsubscribes: after the unsubscribe linger
// ws-b's channel gauge drops by one and further X traffic no longer reaches it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { useSystem, collect, eventually, within, StompSender, RestSender, assertConsecutive, roomLastSeq } from '../lib/index.mjs';

// WS_CHANNEL_LINGER: how long a node stays subscribed after the last local
// subscriber of a channel left (default 2s); 1s here, and the drop must not
// come much earlier (churn) nor much later.
const LINGER_MS = 1000;
const sys = useSystem('interest', { wsNodes: 3, wsEnv: { WS_CHANNEL_LINGER: `${LINGER_MS}ms` } });
const QUIET_MS = 500; // proving that nothing more arrives needs a window
const LINGER_WAIT_MS = 15000;
const S = {};

const M = {
  chat: 'roomwire_ws_fanout_latency_seconds_count',
  probes: 'roomwire_ws_pubsub_lag_seconds_count',
  received: 'roomwire_ws_redis_messages_received_total',
  channels: 'roomwire_ws_redis_channels_subscribed',
  delivered: 'roomwire_ws_messages_delivered_total',
  backfilled: 'roomwire_ws_redis_messages_backfilled_total',
};

async function snapshot() {
  const out = {};
  for (const node of Object.keys(sys.nodes)) {
    const m = await sys.metrics(node);
    out[node] = Object.fromEntries(Object.entries(M).map(([k, name]) => {
      assert.ok(name in m, `${sys.nodes[node].id} /metrics has ${name}`);
      return [k, m[name]];
    }));
  }
  return out;
}

/** delta returns after − before per node, with other = received − probes − chat. */
function delta(before, after) {
  const out = {};
  for (const node of Object.keys(after)) {
    const d = Object.fromEntries(Object.keys(M).map((k) => [k, after[node][k] - before[node][k]]));
    d.nonProbe = d.received - d.probes;
    out[node] = d;
  }
  return out;
}

const fmt = (d) => Object.entries(d).map(([n, v]) => `${sys.nodes[n].id} ${JSON.stringify(v)}`).join('; ');

async function sendAll(sender, n) {
  for (let i = 0; i < n; i++) assert.equal(await sender.send(), 'acked', `${sender.tag}: message ${i + 1} acknowledged`);
}

test('setup: busy room X with subscribers on ws-a and ws-b only, quiet room Y with a subscriber on ws-c', { skip: sys.skip }, async () => {
  S.tok = Object.fromEntries([61, 62, 63, 64, 65, 66, 67].map((u) => [u, sys.mint(u)]));
  const x = await sys.api('POST', '/api/v1/chat-rooms', S.tok[61], { type: 'group', name: 'busy', memberIds: [62, 63, 64, 65] });
  assert.equal(x.status, 201, String(x));
  const y = await sys.api('POST', '/api/v1/chat-rooms', S.tok[66], { type: 'group', name: 'quiet', memberIds: [67] });
  assert.equal(y.status, 201, String(y));
  S.x = x.body.id;
  S.y = y.body.id;
  S.xChannel = `chat:room:{${S.x}}:messages`;
  const sub = async (u, node, room) => {
    const c = sys.stomp({ node, label: `sub${u}`, token: S.tok[u], headers: { chatRoomId: room, sendId: u } });
    await c.ready();
    const col = collect(c, `/sub/chat/room/${room}`);
    await col.ready;
    return { c, col };
  };
  S.subA = await sub(62, 'a', S.x);
  S.subB = await sub(63, 'b', S.x);
  S.subC = await sub(66, 'c', S.y);
  const sender = async (u, node) => {
    const c = sys.stomp({ node, label: `send${u}`, token: S.tok[u], headers: { sendId: u } });
    await c.ready();
    return new StompSender(c, { room: S.x, sendId: u, tag: `x${u}` });
  };
  S.sendA = await sender(61, 'a');
  S.sendC = await sender(64, 'c');
  S.restX = new RestSender(sys, { room: S.x, token: S.tok[65], tag: 'x65' });
  S.restY = new RestSender(sys, { room: S.y, token: S.tok[67], tag: 'y67' });
  // Redis agrees: the room's channel has exactly two subscribers (ws-a, ws-b).
  assert.equal(await sys.subscribers(S.xChannel), 2, `${S.xChannel}: subscribed by ws-a and ws-b only`);
});

test('ws-c, with no subscriber of X, receives none of X\'s messages while ws-a and ws-b receive all of them', { skip: sys.skip }, async () => {
  const X_REST = 100;
  const X_A = 100;
  const X_C = 50;
  const Y_N = 20;
  const before = await snapshot();
  await Promise.all([
    sendAll(S.sendA, X_A),
    sendAll(S.sendC, X_C),
    (async () => { for (let i = 0; i < X_REST; i++) assert.equal(await S.restX.send(), 'acked', `REST X ${i + 1}`); })(),
    (async () => { for (let i = 0; i < Y_N; i++) assert.equal(await S.restY.send(), 'acked', `REST Y ${i + 1}`); })(),
  ]);
  const xN = X_REST + X_A + X_C;
  await eventually(() => {
    for (const s of [S.subA, S.subB]) assert.equal(s.col.items.length, xN, `${s.c.label} got X's ${xN} messages`);
    assert.equal(S.subC.col.items.length, Y_N, `sub66@ws-c got Y's ${Y_N} messages`);
  }, 10000);
  for (const s of [S.subA, S.subB]) assertConsecutive(s.col.items, s.c.label);
  assert.equal(await roomLastSeq(sys, S.x, S.tok[61]), xN);
  await delay(QUIET_MS);
  let d;
  await eventually(async () => {
    d = delta(before, await snapshot());
    assert.equal(d.c.chat, Y_N, `ws-c: chat messages received = Y's ${Y_N}, none of X's ${xN}: ${fmt(d)}`);
    assert.equal(d.c.nonProbe, Y_N, `ws-c: everything but its probe = Y's ${Y_N}: ${fmt(d)}`);
    for (const n of ['a', 'b']) {
      assert.equal(d[n].chat, xN, `${sys.nodes[n].id}: X's ${xN} chat messages received once: ${fmt(d)}`);
      assert.equal(d[n].nonProbe, xN, `${sys.nodes[n].id}: nothing but X and its probe: ${fmt(d)}`);
    }
  }, 3000);
  console.log(`interest [${sys.mode}]: X ${xN} messages (REST ${X_REST}, STOMP ws-a ${X_A}, STOMP ws-c ${X_C}), Y ${Y_N}; ` +
    `counter deltas: ${fmt(d)}`);
  assert.equal(d.c.delivered, Y_N, `ws-c delivered Y's messages to sub66 only: ${fmt(d)}`);
  assert.equal(await sys.subscribers(S.xChannel), 2, `${S.xChannel}: still ws-a and ws-b only`);
});

test('the last subscriber on ws-b leaves X: after the linger ws-b unsubscribes and X\'s traffic no longer reaches it', { skip: sys.skip }, async () => {
  const chBefore = (await snapshot()).b.channels;
  const receipt = 'interest-unsub';
  const unsubscribed = new Promise((resolve) => S.subB.c.client.watchForReceipt(receipt, resolve));
  S.subB.col.subscription.unsubscribe({ receipt });
  await within(unsubscribed, 5000, 'RECEIPT for UNSUBSCRIBE of sub63@ws-b');
  const t0 = Date.now();
  await eventually(async () => {
    const ch = (await snapshot()).b.channels;
    assert.equal(ch, chBefore - 1, `ws-b channels: ${ch}, was ${chBefore} with sub63 subscribed`);
  }, LINGER_WAIT_MS, 100);
  const lingerMs = Date.now() - t0;
  assert.ok(lingerMs >= LINGER_MS / 2, `ws-b kept the channel for the linger (${LINGER_MS} ms), not ${lingerMs} ms`);
  await eventually(async () => assert.equal(await sys.subscribers(S.xChannel), 1, `${S.xChannel}: only ws-a left`), 5000);

  const before = await snapshot();
  const N = 60;
  const have = S.subA.col.items.length;
  await Promise.all([
    sendAll(S.sendA, N / 2),
    (async () => { for (let i = 0; i < N / 2; i++) assert.equal(await S.restX.send(), 'acked', `REST X ${i + 1}`); })(),
  ]);
  await eventually(() => assert.equal(S.subA.col.items.length, have + N, 'sub62@ws-a got the new messages'), 10000);
  await delay(QUIET_MS);
  const d = delta(before, await snapshot());
  console.log(`interest [${sys.mode}]: ws-b's channel gauge dropped ${lingerMs} ms after sub63's UNSUBSCRIBE; ` +
    `then ${N} X messages; counter deltas: ${fmt(d)}`);
  assert.equal(d.b.chat, 0, `ws-b received no X message after it unsubscribed: ${fmt(d)}`);
  assert.equal(d.b.nonProbe, 0, `ws-b received nothing but its probe: ${fmt(d)}`);
  assert.equal(d.b.delivered, 0, `ws-b delivered nothing: ${fmt(d)}`);
  assert.equal(d.c.chat, 0, `ws-c still received no X message: ${fmt(d)}`);
  assert.equal(d.a.chat, N, `ws-a received the ${N} X messages: ${fmt(d)}`);
  assert.equal(S.subB.col.items.length, 250, 'sub63 got nothing after UNSUBSCRIBE');
  for (const c of [S.subA.c, S.subB.c, S.subC.c, S.sendA.c, S.sendC.c]) await c.deactivate();
});
