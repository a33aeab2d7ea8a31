// The PostgreSQL archive end to end, with the real binaries and
// @stomp/stompjs: api and every ws node with ARCHIVE_DATABASE_URL and
// HISTORY_LEN=50, bin/archiver, a private database e2e_archive_<hex>
// (useSystem's archive option), REDIS_PREFIX=e2earc.
//
// 1. User 8 sends 400 messages over STOMP (receipts) while user 3 reads them
//    live. Once the archiver has copied them, Redis holds only the newest 50,
//    yet a new client's SUBSCRIBE with last-seq: 0 replays all 400 in order
//    with no x-resume-truncated notice (from PostgreSQL, then Redis's window),
//    then goes live, and REST pages walk all of them with `before`.
// 2. Redis loss: every key under the prefix deleted (the services keep
//    running), `chatctl restore` (which first refuses a Redis holding rooms),
//    then the seed flow works again: CONNECT with the seed's headers,
//    SUBSCRIBE, SEND, the message comes back with the next seq; the room list
//    shows the rooms; a resume from 0 still returns everything; the archive
//    goes on.
//
// Runs in the single and the cluster pass (about 11 s and 28 s): on a cluster
// the archive streams are one per hash slot, the archiver finds a new room's
// slot within 5 s and refreshes its backlog figure every 5 s, hence the
// longer waits there. Not in the Sentinel subset.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useSystem, collect, eventually, pick, range, short, resumingSubscriber, StompSender, assertChatMessage, byNumber,
} from '../lib/index.mjs';

const HISTORY_LEN = 50;
const TOTAL = 400; // messages user 8 sends over STOMP in phase 1
const GROUP_N = 3; // messages in the second (group) room
const BATCH = 50; // SENDs in flight at once

const sys = useSystem('archive', {
  prefix: 'e2earc',
  archive: true,
  env: { HISTORY_LEN: String(HISTORY_LEN) },
  wsEnv: { WS_MAX_REPLAY: '2000' },
});
const S = {};

/** drained waits until PostgreSQL holds seq 1..last of room: archivedSeq, the archiver's backlog and the table agree. */
async function drained(room, last, ms = 30000) {
  await eventually(async () => {
    const st = await sys.archiveStatus();
    assert.equal(st.status, 'ready', JSON.stringify(st));
    assert.equal(st.archive.backlogEntries, 0, `archiver backlog: ${JSON.stringify(st)}`);
    const meta = await sys.hgetall(sys.k(`room:{${room}}`, 'meta'));
    assert.equal(Number(meta.archivedSeq), last, `room ${room} meta: ${JSON.stringify(meta)}`);
  }, ms, 100);
  const [[n, lo, hi]] = await sys.psql(`SELECT count(*), min(seq), max(seq) FROM messages WHERE room_id = ${room}`);
  assert.deepEqual([n, lo, hi].map(Number), [last, 1, last], `PostgreSQL holds room ${room}'s seq 1..${last} once each`);
}

/** redisWindow returns the [oldest, newest] seq of room's history in Redis and its size. */
async function redisWindow(room) {
  const key = sys.k(`room:{${room}}`, 'history');
  const [size, oldest, newest] = await Promise.all([
    sys.redis('ZCARD', key), sys.redis('ZRANGE', key, 0, 0, 'WITHSCORES'), sys.redis('ZRANGE', key, -1, -1, 'WITHSCORES')]);
  const seqOf = (r) => (r.length ? JSON.parse(Array.isArray(r[0]) ? r[0][0] : r[0]).seq : 0);
  return { size, oldest: seqOf(oldest), newest: seqOf(newest) };
}

/** walkPages reads room's whole history newest first with `before` = the last seq of each page. */
async function walkPages(room, token, limit) {
  const all = [];
  let pages = 0;
  for (let before = 0; ;) {
    const r = await sys.api('GET', `/api/v1/chat-rooms/${room}/messages?before=${before}&limit=${limit}`, token);
    assert.equal(r.status, 200, String(r));
    pages++;
    all.push(...r.body.messages);
    if (!r.body.hasMore) break;
    assert.ok(r.body.messages.length > 0, `hasMore with an empty page: ${r}`);
    before = r.body.messages.at(-1).seq;
  }
  return { all, pages };
}

test('setup: a direct room of 8 and 3 and a group of 8, 3 and 4 over REST; the archiver is ready', async () => {
  S.tok = { 8: sys.mint(8), 3: sys.mint(3), 4: sys.mint(4) };
  const d = await sys.api('POST', '/api/v1/chat-rooms', S.tok[8], { type: 'direct', memberIds: [3] });
  assert.equal(d.status, 201, String(d));
  S.room = d.body.id;
  const g = await sys.api('POST', '/api/v1/chat-rooms', S.tok[8], { type: 'group', name: 'archive team', memberIds: [3, 4] });
  assert.equal(g.status, 201, String(g));
  S.group = g.body.id;
  for (let i = 1; i <= GROUP_N; i++) {
    const p = await sys.api('POST', `/api/v1/chat-rooms/${S.group}/messages`, S.tok[4], { message: `group message ${i}` });
    assert.equal(p.status, 201, String(p));
  }
  const st = await sys.archiveStatus();
  assert.equal(st.status, 'ready', JSON.stringify(st));
  assert.equal(st.postgres, 'ok', JSON.stringify(st));
});

test(`${TOTAL} messages over STOMP are archived; Redis keeps the newest ${HISTORY_LEN}`, async () => {
  S.live = sys.stomp({
    node: 'b', label: 'live3', token: S.tok[3], headers: { chatRoomId: S.room, sendId: 3, rcvId: 8 },
    onConnect: (_f, c) => { c.chat = collect(c, `/sub/chat/room/${S.room}`); },
  });
  await S.live.ready();
  await S.live.chat.ready;
  S.u8 = sys.stomp({ node: 'a', label: 'sender8', token: S.tok[8], headers: { chatRoomId: S.room, sendId: 8, rcvId: 3 } });
  await S.u8.ready();
  S.sender = new StompSender(S.u8, { room: S.room, sendId: 8, tag: 'archived' });
  const t0 = Date.now();
  // The first TOTAL - 1 in batches; once they are archived, the last one
  // trims Redis to exactly HISTORY_LEN (the trim guard then allows it).
  for (let sent = 0; sent < TOTAL - 1;) {
    const n = Math.min(BATCH, TOTAL - 1 - sent);
    const results = await Promise.all(Array.from({ length: n }, () => S.sender.send()));
    assert.deepEqual(results.filter((r) => r !== 'acked'), [], `every SEND acknowledged: ${JSON.stringify(S.sender.unacked)}`);
    sent += n;
  }
  const sentMs = Date.now() - t0;
  await drained(S.room, TOTAL - 1);
  const drainMs = Date.now() - t0 - sentMs;
  assert.equal(await S.sender.send(), 'acked');
  await drained(S.room, TOTAL);
  await eventually(() => assert.equal(S.live.chat.items.length, TOTAL, S.live.describe()), 10000);
  assert.deepEqual(S.live.chat.items.map((m) => m.seq), range(1, TOTAL), 'the live reader got 1..400 in order');
  S.sent = S.live.chat.items;
  S.sent.forEach((m, i) => assertChatMessage(m, { room: S.room, sendId: 8, rcvId: 3, message: S.sender.acked[i] }, 'live'));

  const w = await redisWindow(S.room);
  console.log(`archive: ${TOTAL - 1} sent in ${sentMs} ms, archived ${drainMs} ms later; Redis history ${JSON.stringify(w)}; archiver ${JSON.stringify((await sys.archiveStatus()).archive)}`);
  assert.deepEqual(w, { size: HISTORY_LEN, oldest: TOTAL - HISTORY_LEN + 1, newest: TOTAL },
    'Redis holds only the newest HISTORY_LEN messages: the rest is only in PostgreSQL');
});

test('a new stompjs client SUBSCRIBEs with last-seq: 0 and receives all 400 in order, no x-resume-truncated, then live ones', async () => {
  const r = resumingSubscriber(sys, {
    room: S.room, lastSeq: 0, node: 'b', label: 'replay3', reconnectDelay: 0, token: S.tok[3], headers: { chatRoomId: S.room, sendId: 3, rcvId: 8 },
  });
  await r.ready();
  assert.equal(r.subs[0].lastSeq, '0', 'the SUBSCRIBE carried last-seq: 0');
  await r.waitFor(TOTAL, 15000);
  // A live message after the replay: a duplicate of an older seq would come before it.
  assert.equal(await S.sender.send(), 'acked');
  S.last = TOTAL + 1;
  await r.waitFor(S.last);
  await eventually(() => assert.equal(S.live.chat.items.length, S.last, S.live.describe()));
  assert.deepEqual(r.notices, [], `no RESUME_TRUNCATED notice: ${JSON.stringify(r.notices.map((n) => n.body))}`);
  assert.deepEqual(r.seqs, range(1, S.last), `every seq once, in order: ${short(r.seqs, 60)}`);
  assert.deepEqual(r.items, S.live.chat.items, 'the replay (PostgreSQL, then Redis) equals what was delivered live, field for field');
  assert.deepEqual(r.c.unhandled, []);
  await r.c.deactivate();
});

test('REST pages with before= walk all of them, newest first, once each', async () => {
  const { all, pages } = await walkPages(S.room, S.tok[3], 100);
  console.log(`archive: REST walk of ${all.length} messages in ${pages} pages of 100`);
  assert.deepEqual(all.map((m) => m.seq), range(1, S.last).reverse(), `seqs ${short(all.map((m) => m.seq), 60)}`);
  assert.deepEqual([...all].reverse().map(pick), S.live.chat.items.map(pick), 'REST pages hold the messages as delivered');
  const one = await sys.api('GET', `/api/v1/chat-rooms/${S.room}/messages?order=asc&limit=500`, S.tok[8]);
  assert.equal(one.status, 200, String(one));
  assert.equal(one.body.hasMore, false, String(one).slice(0, 300));
  assert.deepEqual(one.body.messages.map(pick), S.live.chat.items.map(pick), 'one page oldest first, across PostgreSQL and Redis');
  await drained(S.room, S.last);
});

test('Redis loss: chatctl restore refuses a Redis with rooms, restores an emptied one', async () => {
  for (const c of [S.live, S.u8]) await c.deactivate();
  const refused = await sys.chatctl(['restore']);
  assert.equal(refused.code, 1, `restore into a Redis holding rooms fails: ${JSON.stringify(refused)}`);
  assert.match(refused.stderr, /refusing to restore/, JSON.stringify(refused));

  const keys = await sys.redis('KEYS', `${sys.prefix}:*`);
  assert.ok(keys.length > 10, `the system's keys: ${short(keys)}`);
  await Promise.all(keys.map((k) => sys.redis('DEL', k))); // one key at a time: on a cluster they span slots
  console.log(`archive: deleted ${keys.length} keys under ${sys.prefix}:`);
  const gone = await sys.api('GET', `/api/v1/chat-rooms/${S.room}`, S.tok[3]);
  assert.equal(gone.status, 404, `the room is gone with Redis: ${gone}`);
  const none = await sys.api('GET', '/api/v1/chat-rooms', S.tok[3]);
  assert.deepEqual(none.body.rooms, [], String(none));

  const res = await sys.chatctl(['restore', '-recent', String(HISTORY_LEN)]);
  assert.equal(res.code, 0, JSON.stringify(res));
  assert.match(res.stdout, new RegExp(`^restored 2 rooms and ${HISTORY_LEN + GROUP_N} messages$`, 'm'), JSON.stringify(res));
  assert.deepEqual(await redisWindow(S.room), { size: HISTORY_LEN, oldest: S.last - HISTORY_LEN + 1, newest: S.last });
});

test('after the restore: the room list shows the rooms and the seed flow goes on at the next seq', async () => {
  const list = await sys.api('GET', '/api/v1/chat-rooms', S.tok[3]);
  assert.equal(list.status, 200, String(list));
  const rooms = Object.fromEntries(list.body.rooms.map((r) => [r.id, r]));
  assert.deepEqual(Object.keys(rooms).map(Number).sort(byNumber), [S.room, S.group].sort(byNumber), String(list));
  assert.equal(rooms[S.room].type, 'direct');
  assert.deepEqual([...rooms[S.room].memberIds].sort(byNumber), [3, 8], String(list));
  assert.equal(rooms[S.room].lastSeq, S.last, String(list));
  assert.deepEqual(pick(rooms[S.room].lastMessage), pick(S.live.chat.items.at(-1)), String(list));
  assert.equal(rooms[S.group].name, 'archive team', String(list));
  assert.equal(rooms[S.group].lastSeq, GROUP_N, String(list));
  const g = await sys.api('GET', `/api/v1/chat-rooms/${S.group}`, S.tok[4]);
  assert.equal(g.status, 200, String(g));
  assert.deepEqual([...g.body.memberIds].sort(byNumber), [3, 4, 8], `group members restored: ${g}`);

  // The seed's connect(): these connectHeaders, subscribe() in onConnect.
  const seed = (user, peer, node) => sys.stomp({
    node, label: `seed${user}`, token: S.tok[user], headers: { chatRoomId: S.room, sendId: user, rcvId: peer },
    onConnect: (_f, c) => { c.chat = collect(c, `/sub/chat/room/${S.room}`); },
  });
  const [u8, u3] = [seed(8, 3, 'a'), seed(3, 8, 'b')];
  for (const c of [u8, u3]) {
    await c.ready();
    await c.chat.ready;
  }
  const text = 'hello again after the restore';
  u3.client.publish({ destination: '/pub/send-message', body: JSON.stringify({ chatRoomId: S.room, sendId: 3, rcvId: 8, message: text }) });
  await eventually(() => { for (const c of [u8, u3]) assert.equal(c.chat.items.length, 1, c.describe()); });
  const reply = 'and the answer';
  u8.client.publish({ destination: '/pub/send-message', body: JSON.stringify({ chatRoomId: S.room, sendId: 8, rcvId: 3, message: reply }) });
  await eventually(() => { for (const c of [u8, u3]) assert.equal(c.chat.items.length, 2, c.describe()); });
  for (const c of [u8, u3]) {
    assertChatMessage(c.chat.items[0], { room: S.room, sendId: 3, rcvId: 8, message: text }, c.label);
    assertChatMessage(c.chat.items[1], { room: S.room, sendId: 8, rcvId: 3, message: reply }, c.label);
    assert.deepEqual(c.chat.items.map((m) => m.seq), [S.last + 1, S.last + 2], `the seqs go on after the archived ${S.last}`);
  }
  S.after = u3.chat.items;
  S.last += 2;
  const h = await sys.api('GET', `/api/v1/chat-rooms/${S.room}/messages?limit=3`, S.tok[8]);
  assert.deepEqual(h.body.messages.map((m) => m.seq), [S.last, S.last - 1, S.last - 2], String(h));
  for (const c of [u8, u3]) await c.deactivate();
});

test('after the restore: a resume from 0 returns every message, and the archive goes on', async () => {
  const r = resumingSubscriber(sys, {
    room: S.room, lastSeq: 0, node: 'a', label: 'replay-after-restore', reconnectDelay: 0, token: S.tok[8], headers: { sendId: 8 },
  });
  await r.ready();
  await r.waitFor(S.last, 15000);
  assert.deepEqual(r.notices, []);
  assert.deepEqual(r.seqs, range(1, S.last), short(r.seqs, 60));
  assert.deepEqual(r.items.map(pick), [...S.live.chat.items, ...S.after].map(pick));
  await r.c.deactivate();
  await drained(S.room, S.last);
});
