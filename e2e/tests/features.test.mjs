// The chat features of issue 5 across two ws nodes, driven by @stomp/stompjs:
// room events (ENTER/LEAVE in order, READ, TYPING, MESSAGE_EDITED/DELETED),
// read positions and unread counts, personal notifications on
// /user/queue/notifications reaching every session of a user on both nodes,
// and the offline outbox (per-user streams and the pending index). Steps
// share state and run in order.
//
// Group room of 61..64 (and 65, added later):
//   61 ws-a, the sender, CONNECTed without a room, observes the events
//   62 ws-b, enters and leaves the room (one DISCONNECT, one killed socket),
//      then stays in the room (viewing it)
//   63 two sessions, one on each node, neither in the room: notifications
//   64 never connects: offline, so its messages land in the outbox

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useSystem, collect, eventually, within, WAIT_MS, SENT_AT, byNumber, pairs } from '../lib/index.mjs';

const PREFIX = 'e2efeat';
const sys = useSystem('features', { prefix: PREFIX });
const S = {};
const OUTBOX64 = `${PREFIX}:user:{u64}:outbox`; // 64's offline records
const PENDING = `${PREFIX}:notifications:pending`; // users with records

const eventsOf = (col, types, userId) => col.items.filter((e) => types.includes(e.type) && (userId === undefined || e.userId === userId));
const unreadOf = async (user) => {
  const r = await sys.api('GET', '/api/v1/chat-rooms', S.tok[user]);
  assert.equal(r.status, 200, String(r));
  const room = r.body.rooms.find((x) => x.id === S.room);
  assert.ok(room, `room ${S.room} listed for ${user}: ${r}`);
  assert.equal(typeof room.unreadCount, 'number', String(r));
  return room.unreadCount;
};
const send = (c, message) => c.publish('/pub/send-message', { chatRoomId: S.room, message }, { receipt: true });
const inRoom = (u) => ({ chatRoomId: S.room, sendId: u });

test('setup: group of 61..64; 61 on ws-a watches the events destination', async () => {
  S.tok = Object.fromEntries([61, 62, 63, 64, 65].map((u) => [u, sys.mint(u)]));
  const r = await sys.api('POST', '/api/v1/chat-rooms', S.tok[61], { type: 'group', name: 'features', memberIds: [62, 63, 64] });
  assert.equal(r.status, 201, String(r));
  S.room = r.body.id;
  S.u61 = sys.stomp({ node: 'a', label: 'u61', token: S.tok[61], headers: { sendId: 61 } });
  await S.u61.ready();
  S.u61.events = collect(S.u61, `/sub/chat/room/${S.room}/events`);
  await S.u61.events.ready;
});

test('ENTER and LEAVE of 62 on ws-b arrive in order on ws-a, including a killed connection', async () => {
  const first = sys.stomp({ node: 'b', label: 'u62-first', token: S.tok[62], headers: inRoom(62) });
  await first.ready();
  await eventually(() => assert.equal(eventsOf(S.u61.events, ['ENTER', 'LEAVE'], 62).length, 1, JSON.stringify(S.u61.events.items)));
  await first.deactivate();

  const killed = sys.stomp({ node: 'b', label: 'u62-killed', token: S.tok[62], headers: inRoom(62) });
  await killed.ready();
  await eventually(() => assert.equal(eventsOf(S.u61.events, ['ENTER', 'LEAVE'], 62).length, 3, JSON.stringify(S.u61.events.items)));
  killed.socket.terminate(); // no DISCONNECT, no close handshake: the TCP connection just ends
  await within(killed.closed, WAIT_MS, () => `killed socket to close\n${killed.describe()}`);

  await eventually(() => {
    const seen = eventsOf(S.u61.events, ['ENTER', 'LEAVE'], 62);
    assert.deepEqual(seen.map((e) => e.type), ['ENTER', 'LEAVE', 'ENTER', 'LEAVE'], JSON.stringify(seen));
    assert.equal(seen[1].reason, 'disconnect', JSON.stringify(seen[1]));
    assert.equal(seen[3].reason, 'closed', JSON.stringify(seen[3]));
    for (const e of seen) {
      assert.equal(e.chatRoomId, S.room);
      assert.match(String(e.at), SENT_AT, JSON.stringify(e));
    }
  });
  assert.deepEqual(await sys.hgetall(`${PREFIX}:room:{${S.room}}:presence`), {}, 'presence is empty again');
});

test('notification sessions: 63 on both nodes and 62 viewing the room subscribe to /user/queue/notifications', async () => {
  S.u63a = sys.stomp({ node: 'a', label: 'u63a', token: S.tok[63], headers: { sendId: 63 } });
  S.u63b = sys.stomp({ node: 'b', label: 'u63b', token: S.tok[63], headers: { sendId: 63 } });
  S.u62 = sys.stomp({ node: 'b', label: 'u62', token: S.tok[62], headers: inRoom(62) });
  for (const c of [S.u63a, S.u63b, S.u62]) {
    await c.ready();
    c.notes = collect(c, '/user/queue/notifications');
    await c.notes.ready;
  }
  S.u62.events = collect(S.u62, `/sub/chat/room/${S.room}/events`);
  await S.u62.events.ready;
});

test('three messages from 61: unread counts, MESSAGE notifications on both nodes, outbox only for offline 64', async () => {
  for (const m of ['one', 'two', 'three']) await send(S.u61, m);
  assert.equal(await unreadOf(61), 0, 'a sender has read their own messages');
  assert.equal(await unreadOf(62), 3);
  assert.equal(await unreadOf(63), 3);
  assert.equal(await unreadOf(64), 3);

  await eventually(() => {
    for (const c of [S.u63a, S.u63b]) {
      const msgs = c.notes.items.filter((n) => n.type === 'MESSAGE');
      assert.deepEqual(msgs.map(({ chatRoomId, seq, sendId, preview, unreadCount }) => ({ chatRoomId, seq, sendId, preview, unreadCount })), [
        { chatRoomId: S.room, seq: 1, sendId: 61, preview: 'one', unreadCount: 1 },
        { chatRoomId: S.room, seq: 2, sendId: 61, preview: 'two', unreadCount: 2 },
        { chatRoomId: S.room, seq: 3, sendId: 61, preview: 'three', unreadCount: 3 },
      ], `${c.label}: ${JSON.stringify(c.notes.items)}`);
      assert.equal(c.notes.frames[0].headers.destination, '/user/queue/notifications');
    }
  });
  assert.deepEqual(S.u62.notes.items, [], '62 is viewing the room: no notification');

  // The post-send step runs after the publish: the records may lag the notes.
  const records = await eventually(async () => {
    const recs = (await sys.redis('XRANGE', OUTBOX64, '-', '+')).map(([id, kv]) => ({ id, ...pairs(kv) }));
    assert.deepEqual(recs.map(({ userId, chatRoomId, seq, sendId, preview }) => ({ userId, chatRoomId, seq, sendId, preview })), [
      { userId: '64', chatRoomId: String(S.room), seq: '1', sendId: '61', preview: 'one' },
      { userId: '64', chatRoomId: String(S.room), seq: '2', sendId: '61', preview: 'two' },
      { userId: '64', chatRoomId: String(S.room), seq: '3', sendId: '61', preview: 'three' },
    ], JSON.stringify(recs));
    return recs;
  });
  for (const r of records) assert.match(r.sentAt, SENT_AT, JSON.stringify(r));

  // The pending index names 64 alone; a push worker that sent the three
  // pushes deletes them and takes 64 off the index.
  await eventually(async () => {
    const pending = await sys.redis('ZRANGE', PENDING, 0, -1);
    assert.deepEqual(pending, ['64'], JSON.stringify(pending));
  });
  const [ms, n] = records[2].id.split('-');
  assert.equal(await sys.redis('XTRIM', OUTBOX64, 'MINID', `${ms}-${Number(n) + 1}`), 3);
  assert.equal(await sys.redis('ZREM', PENDING, '64'), 1);
});

test('reads: STOMP read on ws-b and REST read move positions; READ events, UNREAD notifications, readBy in history', async () => {
  await S.u62.publish(`/pub/chat/room/${S.room}/read`, { seq: 2 }, { receipt: true });
  assert.equal(await unreadOf(62), 1);
  await eventually(() => assert.deepEqual(eventsOf(S.u61.events, ['READ'], 62).map((e) => e.seq), [2], JSON.stringify(S.u61.events.items)));

  const r = await sys.api('POST', `/api/v1/chat-rooms/${S.room}/read`, S.tok[63], { seq: 99 });
  assert.equal(r.status, 200, String(r));
  assert.deepEqual(r.body, { chatRoomId: S.room, userId: 63, seq: 3, unreadCount: 0 }, String(r));
  assert.equal(await unreadOf(63), 0);
  await eventually(() => {
    for (const c of [S.u63a, S.u63b]) {
      assert.deepEqual(c.notes.items.filter((n) => n.type === 'UNREAD').map(({ chatRoomId, unreadCount }) => ({ chatRoomId, unreadCount })),
        [{ chatRoomId: S.room, unreadCount: 0 }], `${c.label}: ${JSON.stringify(c.notes.items)}`);
    }
    assert.deepEqual(eventsOf(S.u61.events, ['READ'], 63).map((e) => e.seq), [3]);
  });
  const again = await sys.api('POST', `/api/v1/chat-rooms/${S.room}/read`, S.tok[63], { seq: 1 });
  assert.equal(again.body.seq, 3, `never backwards: ${again}`);

  const h = await sys.api('GET', `/api/v1/chat-rooms/${S.room}/messages`, S.tok[64]);
  assert.equal(h.status, 200, String(h));
  assert.deepEqual(h.body.readBy, { 61: 3, 62: 2, 63: 3 }, String(h));
  // Per message: who (besides the sender) has read it.
  const readers = (seq) => Object.entries(h.body.readBy).filter(([, s]) => s >= seq).map(([u]) => Number(u)).sort(byNumber);
  assert.deepEqual(readers(3), [61, 63]);
  assert.deepEqual(readers(2), [61, 62, 63]);

  // Entering the room over STOMP marks it read up to the latest message.
  const enter = sys.stomp({ node: 'a', label: 'u62-enters', token: S.tok[62], headers: inRoom(62) });
  await enter.ready();
  await eventually(() => assert.deepEqual(eventsOf(S.u61.events, ['READ'], 62).map((e) => e.seq), [2, 3]));
  assert.equal(await unreadOf(62), 0);
  await enter.deactivate();
});

test('typing reaches the others only, not any session of the typist', async () => {
  S.u62twin = sys.stomp({ node: 'a', label: 'u62-twin', token: S.tok[62], headers: { sendId: 62 } });
  await S.u62twin.ready();
  S.u62twin.events = collect(S.u62twin, `/sub/chat/room/${S.room}/events`);
  await S.u62twin.events.ready;

  await S.u62.publish(`/pub/chat/room/${S.room}/typing`, '', { receipt: true });
  await eventually(() => {
    const typing = eventsOf(S.u61.events, ['TYPING'], 62);
    assert.equal(typing.length, 1, JSON.stringify(S.u61.events.items));
    assert.equal(typing[0].typing, true);
    assert.equal(typing[0].chatRoomId, S.room);
    assert.match(String(typing[0].at), SENT_AT);
  });
  await S.u62.publish(`/pub/chat/room/${S.room}/typing`, { typing: false }, { receipt: true });
  await eventually(() => assert.deepEqual(eventsOf(S.u61.events, ['TYPING'], 62).map((e) => e.typing), [true, false]));

  // 61 types: once 62's sessions have 61's TYPING, anything of 62's own
  // (published earlier on the same channel) would have arrived before it.
  await S.u61.publish(`/pub/chat/room/${S.room}/typing`, { typing: true }, { receipt: true });
  for (const c of [S.u62, S.u62twin]) {
    await eventually(() => assert.equal(eventsOf(c.events, ['TYPING'], 61).length, 1, `${c.label}: ${JSON.stringify(c.events.items)}`));
    assert.deepEqual(eventsOf(c.events, ['TYPING'], 62), [], `${c.label} must not see its own user's typing`);
  }
  assert.deepEqual(eventsOf(S.u61.events, ['TYPING'], 61), [], '61 must not see its own typing');
  const history = await sys.api('GET', `/api/v1/chat-rooms/${S.room}/messages`, S.tok[61]);
  assert.equal(history.body.messages.length, 3, 'typing is never stored');
});

test('edit and delete by the author: visible in history and announced on the events destination', async () => {
  const edit = await sys.api('PATCH', `/api/v1/chat-rooms/${S.room}/messages/1`, S.tok[61], { message: 'one (edited)' });
  assert.equal(edit.status, 200, String(edit));
  assert.equal(edit.body.message, 'one (edited)');
  assert.match(String(edit.body.editedAt), SENT_AT, String(edit));
  const del = await sys.api('DELETE', `/api/v1/chat-rooms/${S.room}/messages/2`, S.tok[61]);
  assert.equal(del.status, 200, String(del));
  assert.equal(del.body.deleted, true, String(del));
  assert.equal(del.body.message, undefined, String(del));

  const notAuthor = await sys.api('PATCH', `/api/v1/chat-rooms/${S.room}/messages/3`, S.tok[62], { message: 'mine now' });
  assert.equal(notAuthor.status, 403, String(notAuthor));

  await eventually(() => {
    for (const c of [S.u61, S.u62]) {
      const changes = eventsOf(c.events, ['MESSAGE_EDITED', 'MESSAGE_DELETED']);
      assert.deepEqual(changes.map(({ type, seq, userId }) => ({ type, seq, userId })), [
        { type: 'MESSAGE_EDITED', seq: 1, userId: 61 },
        { type: 'MESSAGE_DELETED', seq: 2, userId: 61 },
      ], `${c.label}: ${JSON.stringify(c.events.items)}`);
      assert.deepEqual(changes[0].message, edit.body);
      assert.deepEqual(changes[1].message, del.body);
    }
  });
  const h = await sys.api('GET', `/api/v1/chat-rooms/${S.room}/messages?order=asc`, S.tok[63]);
  const [m1, m2, m3] = h.body.messages;
  assert.deepEqual(m1, edit.body, String(h));
  assert.deepEqual(m2, { id: `${S.room}-2`, chatRoomId: S.room, seq: 2, sendId: 61, deleted: true, sentAt: m2.sentAt, deletedAt: m2.deletedAt }, String(h));
  assert.equal(m3.message, 'three');
});

test('membership notifications and bulk presence', async () => {
  S.u65 = sys.stomp({ node: 'b', label: 'u65', token: S.tok[65], headers: { sendId: 65 } });
  await S.u65.ready();
  S.u65.notes = collect(S.u65, '/user/queue/notifications');
  await S.u65.notes.ready;
  assert.equal((await sys.api('POST', `/api/v1/chat-rooms/${S.room}/members`, S.tok[61], { userId: 65 })).status, 201);
  assert.equal(await unreadOf(65), 0, 'a new member starts with the past read');
  assert.equal((await sys.api('DELETE', `/api/v1/chat-rooms/${S.room}/members/65`, S.tok[61])).status, 204);
  await eventually(() => assert.deepEqual(S.u65.notes.items.map(({ type, chatRoomId }) => ({ type, chatRoomId })),
    [{ type: 'ADDED', chatRoomId: S.room }, { type: 'REMOVED', chatRoomId: S.room }], JSON.stringify(S.u65.notes.items)));

  await S.u63b.deactivate();
  // The DISCONNECT RECEIPT comes before the node has removed the session from
  // the registry (on a cluster that takes a few round trips), so poll.
  await eventually(async () => {
    const p = await sys.api('GET', '/api/v1/presence?userIds=63,64,62', S.tok[61]);
    assert.equal(p.status, 200, String(p));
    const [u63, u64, u62] = p.body.users;
    assert.deepEqual([u63.userId, u63.online, u63.sessions], [63, true, 1], String(p));
    assert.deepEqual([u64.userId, u64.online, u64.sessions, u64.lastSeen], [64, false, 0, undefined], String(p));
    assert.deepEqual([u62.userId, u62.online, u62.sessions], [62, true, 2], String(p));
  });
  await S.u63a.deactivate();
  await eventually(async () => {
    const after = await sys.api('GET', '/api/v1/presence?userIds=63', S.tok[61]);
    assert.equal(after.body.users[0].online, false, String(after));
    assert.match(String(after.body.users[0].lastSeen), SENT_AT, String(after));
  });
});
