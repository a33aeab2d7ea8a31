// A ws node dies (SIGKILL: no shutdown, no registry cleanup). Both nodes run
// with NODE_TTL=3s: they heart-beat every 0.5 s and look for dead nodes every
// 1 s, so ws-a's sessions must leave the registry within TTL + TTL/3 = 4 s of
// its last beat, removed by ws-b, each announced as LEAVE "node-lost" when it
// was the user's last session in the room. Meanwhile ws-a's clients that
// reconnect (beforeConnect moves them to ws-b) resume with last-seq and
// must miss nothing while a sender on ws-b keeps sending.
//
// Room of 31..36:
//   31 ws-a, in the room, reconnects to ws-b (so 31 never leaves the room)
//   36 ws-a, only subscribed (CONNECT without chatRoomId), reconnects to ws-b
//   34 ws-a, in the room, does not reconnect -> LEAVE node-lost expected
//   33 ws-a and ws-b, in the room, ws-a one does not reconnect -> no LEAVE (still on ws-b)
//   32 ws-b, observer of /sub/chat/room/{id}/events
//   35 ws-b, sender (receipts) throughout

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import {
  useSystem, collect, eventually, resumingSubscriber, StompSender, range, seqReport, roomLastSeq, short, now, every,
} from '../lib/index.mjs';

const TTL_MS = 3000;
const sys = useSystem('node-kill', { wsEnv: { NODE_TTL: '3s' } });
const S = {};
const roomKey = (suffix) => `chat:room:{${S.room}}:${suffix}`;

test('setup: room of 31..36 with sessions on both nodes; observer on ws-b; sender on ws-b', async () => {
  S.tok = Object.fromEntries([31, 32, 33, 34, 35, 36].map((u) => [u, sys.mint(u)]));
  const r = await sys.api('POST', '/api/v1/chat-rooms', S.tok[31], { type: 'group', name: 'node kill', memberIds: [32, 33, 34, 35, 36] });
  assert.equal(r.status, 201, String(r));
  S.room = r.body.id;
  const inRoom = (u) => ({ chatRoomId: S.room, sendId: u });

  S.observer = sys.stomp({ node: 'b', label: 'observer32', token: S.tok[32], headers: inRoom(32) });
  await S.observer.ready();
  S.events = collect(S.observer, `/sub/chat/room/${S.room}/events`);
  await S.events.ready;

  // Every connect after the first goes to ws-b (an app's node list).
  const moving = (u, headers) => {
    let target = sys.nodes.a.url;
    return resumingSubscriber(sys, {
      room: S.room, label: `u${u}-moving`, token: S.tok[u], headers, reconnectDelay: 200,
      url: () => target, beforeConnect: (c) => { if (c.connects > 0) target = sys.nodes.b.url; },
    });
  };
  S.u31 = moving(31, inRoom(31));
  S.u36 = moving(36, { sendId: 36 });
  S.u34 = sys.stomp({ node: 'a', label: 'u34-stays-away', token: S.tok[34], headers: inRoom(34) });
  S.u33a = sys.stomp({ node: 'a', label: 'u33a', token: S.tok[33], headers: inRoom(33) });
  S.u33b = sys.stomp({ node: 'b', label: 'u33b', token: S.tok[33], headers: inRoom(33) });
  S.u35 = sys.stomp({ node: 'b', label: 'sender35', token: S.tok[35], headers: { sendId: 35 } });
  for (const r of [S.u31, S.u36]) await r.ready();
  for (const c of [S.u34, S.u33a, S.u33b, S.u35]) await c.ready();

  S.deadSessions = [S.u31.c.session, S.u36.c.session, S.u34.session, S.u33a.session].sort();
  await eventually(async () => {
    assert.deepEqual((await sys.redis('SMEMBERS', 'chat:node:ws-a:sessions')).sort(), S.deadSessions);
    assert.deepEqual(await sys.hgetall(roomKey('presence')), { 31: '1', 32: '1', 33: '2', 34: '1' });
  });
  assert.notEqual(await sys.redis('ZSCORE', 'chat:nodes', 'ws-a'), null, 'ws-a heart-beats into chat:nodes');
});

test('SIGKILL ws-a: its sessions leave the registry within TTL + TTL/3 (+margin), LEAVE node-lost for 34 only; movers miss nothing', async () => {
  const sender = new StompSender(S.u35, { room: S.room, sendId: 35, tag: 'nk' });
  const pacer = every(20, () => sender.send());
  await eventually(() => assert.ok(S.u31.maxSeq >= 30 && S.u36.maxSeq >= 30, 'traffic reaches the clients on ws-a'));
  const eventsBefore = S.events.items.length;

  const t0 = now();
  const killedAtWall = Date.now();
  const exit = await sys.kill('a', 'SIGKILL');
  assert.equal(exit.signal, 'SIGKILL');
  const lastBeat = Number(await sys.redis('ZSCORE', 'chat:nodes', 'ws-a')); // ws-a's last heartbeat (unix ms)

  // Registry: poll until nothing of ws-a is left; bounded by TTL + TTL/3 + 2 s.
  const registry = (async () => {
    let last;
    const deadline = TTL_MS + TTL_MS / 3 + 2000;
    while (now() - t0 < deadline) {
      const [nodeSet, room, nodes, ...sessions] = await Promise.all([
        sys.redis('SMEMBERS', 'chat:node:ws-a:sessions'),
        sys.hgetall(roomKey('sessions')),
        sys.redis('ZRANGE', 'chat:nodes', 0, -1),
        ...S.deadSessions.map((id) => sys.redis('EXISTS', `chat:session:${id}`)),
      ]);
      last = { nodeSet, roomHolds: S.deadSessions.filter((id) => id in room), nodes, sessionKeys: sessions.reduce((a, b) => a + b, 0) };
      if (nodeSet.length === 0 && last.roomHolds.length === 0 && last.sessionKeys === 0 && !nodes.includes('ws-a')) {
        return { ms: Math.round(now() - t0), last };
      }
      await delay(25); // polling interval
    }
    return { ms: Infinity, last };
  })();

  // The movers reconnect to ws-b and resume.
  for (const r of [S.u31, S.u36]) {
    await eventually(() => assert.equal(r.subs.length, 2, `${r.c.label} resubscribed\n${r.c.describe()}`), 5000);
    await r.subs[1].ready;
  }
  const resumedAt = Math.round(now() - t0);
  await delay(1000); // ~1 s more traffic after both resumed
  await pacer.stop();
  await sender.settle();
  assert.equal(await sender.send(), 'acked', 'closing message');
  const final = await roomLastSeq(sys, S.room, S.tok[31]);
  for (const r of [S.u31, S.u36]) await r.waitFor(final, 10000);

  const reg = await registry;
  const sinceLastBeat = reg.ms === Infinity ? Infinity : Math.round(killedAtWall + reg.ms - lastBeat);
  console.log(`node kill: registry free of ws-a after ${reg.ms} ms from SIGKILL (${sinceLastBeat} ms after its last beat; bound ${TTL_MS + TTL_MS / 3} ms + margin); last look ${JSON.stringify(reg.last)}`);
  console.log(`node kill: movers resubscribed on ws-b ${resumedAt} ms after the kill; sender acked ${sender.acked.length}, unacked ${sender.unacked.length}; room lastSeq ${final}`);
  for (const r of [S.u31, S.u36]) {
    const rep = seqReport(r.seqs, 1, final);
    console.log(`node kill: ${r.c.label}: received ${rep.received} of ${final}, duplicates ${rep.duplicates.length}, missing ${rep.missing.length}, out of order ${rep.disorder}, resubscribed with last-seq ${r.subs[1].lastSeq}, urls ${JSON.stringify(r.c.urls)}`);
  }
  const newEvents = S.events.items.slice(eventsBefore);
  console.log(`node kill: events seen by the observer after the kill: ${JSON.stringify(newEvents.map(({ type, userId, reason }) => ({ type, userId, reason })))}`);

  assert.deepEqual(sender.unacked, [], 'the sender on ws-b lost nothing');
  for (const r of [S.u31, S.u36]) {
    assert.deepEqual(r.c.urls, [sys.nodes.a.url, sys.nodes.b.url], `${r.c.label} moved to ws-b`);
    const rep = seqReport(r.seqs, 1, final);
    assert.deepEqual(rep.duplicates, [], `${r.c.label}: no duplicate ${short(rep.duplicates)}`);
    assert.deepEqual(rep.missing, [], `${r.c.label}: nothing missing ${short(rep.missing)}`);
    assert.deepEqual(r.seqs, range(1, final), `${r.c.label}: every seq once, in order`);
  }
  assert.ok(reg.ms <= TTL_MS + TTL_MS / 3 + 1000,
    `ws-a's sessions left the registry within TTL + TTL/3 + 1 s of the kill: took ${reg.ms} ms; left: ${JSON.stringify(reg.last)}`);

  await eventually(() => {
    const leaves = S.events.items.slice(eventsBefore).filter((e) => e.type === 'LEAVE');
    assert.deepEqual(leaves.map(({ userId, reason, chatRoomId }) => ({ userId, reason, chatRoomId })),
      [{ userId: 34, reason: 'node-lost', chatRoomId: S.room }], `LEAVE node-lost for 34 only: ${JSON.stringify(leaves)}`);
  }, 2000);
  assert.deepEqual(await sys.hgetall(roomKey('presence')), { 31: '1', 32: '1', 33: '1' },
    'presence: 31 back via ws-b, 33 via its ws-b session, 34 gone');
  const roomSessions = await sys.hgetall(roomKey('sessions'));
  assert.deepEqual(Object.values(roomSessions).sort(), ['31', '32', '33'], JSON.stringify(roomSessions));
  const wsB = (await sys.redis('SMEMBERS', 'chat:node:ws-b:sessions')).sort();
  assert.deepEqual(wsB, [S.observer.session, S.u33b.session, S.u35.session, S.u31.c.session, S.u36.c.session].sort(), 'ws-b holds the survivors and the movers');
  for (const id of wsB) assert.equal((await sys.hgetall(`chat:session:${id}`)).node, 'ws-b');
});
