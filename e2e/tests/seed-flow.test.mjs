// The seed React app's flow, replayed with @stomp/stompjs: two users in a
// direct room on different ws nodes, the seed's CONNECT headers, subscribe in
// onConnect, publish to /pub/send-message, the REST disconnect call, then
// deactivate(). Steps share state and run in order.
//
// Runs with the default REDIS_PREFIX so the registry keys below are exactly
// the ones the contract documents (chat:session:<id>, chat:room:{<id>}:...).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useSystem, collect, eventually, within, WAIT_MS, assertChatMessage, assertConsecutive,
  assertMessageFrame, assertChatOnly, assertEventsOnly, pick, byNumber,
} from '../lib/index.mjs';

const sys = useSystem('seed-flow');
const S = {}; // room, tokens, clients: filled by the steps in order

const roomKey = (suffix) => `chat:room:{${S.room}}:${suffix}`;

/** seedClient connects like the seed's connect(): these connectHeaders, subscribe() in onConnect. */
function seedClient(user, peer, node, label) {
  return sys.stomp({
    node,
    label,
    token: S.tokens[user],
    headers: { chatRoomId: S.room, sendId: user, rcvId: peer }, // numbers, as in the seed
    onConnect: (_frame, c) => { c.chat = collect(c, `/sub/chat/room/${S.room}`); },
  });
}

/** seedSend is the seed's sendMessage(). */
function seedSend(c, sendId, rcvId, message) {
  c.client.publish({ destination: '/pub/send-message', body: JSON.stringify({ chatRoomId: S.room, sendId, rcvId, message }) });
}

async function registryOf(sessionId) {
  return sys.hgetall(`chat:session:${sessionId}`);
}

test('POST /api/v1/chat-rooms creates the direct room of users 8 and 3 (201, then 200 for the same pair)', async () => {
  S.tokens = { 8: sys.mint(8), 3: sys.mint(3) };
  const r = await sys.api('POST', '/api/v1/chat-rooms', S.tokens[8], { type: 'direct', memberIds: [3] });
  assert.equal(r.status, 201, String(r));
  assert.ok(Number.isInteger(r.body.id) && r.body.id > 0, String(r));
  assert.equal(r.body.type, 'direct', String(r));
  assert.equal(r.body.createdBy, 8, String(r));
  assert.deepEqual([...r.body.memberIds].sort(byNumber), [3, 8], String(r));
  S.room = r.body.id;

  const again = await sys.api('POST', '/api/v1/chat-rooms', S.tokens[3], { type: 'direct', memberIds: [8] });
  assert.equal(again.status, 200, `the existing direct room is returned: ${again}`);
  assert.equal(again.body.id, S.room, String(again));
});

test('user 8 on ws-a and user 3 on ws-b connect with the seed headers and subscribe in onConnect', async () => {
  S.u8 = seedClient(8, 3, 'a', 'user8');
  S.u3 = seedClient(3, 8, 'b', 'user3');
  for (const c of [S.u8, S.u3]) {
    const frame = await c.ready();
    assert.equal(c.protocol, 'v12.stomp', `highest offered subprotocol is accepted\n${c.describe()}`);
    assert.equal(frame.headers.version, '1.2', c.describe());
    assert.match(String(frame.headers['heart-beat']), /^\d+,\d+$/, c.describe());
    assert.ok(frame.headers.server, `CONNECTED carries server\n${c.describe()}`);
    assert.ok(frame.headers.session, `CONNECTED carries session\n${c.describe()}`);
    await c.chat.ready;
    c.events = collect(c, `/sub/chat/room/${S.room}/events`);
    await c.events.ready;
  }
  assert.notEqual(S.u8.session, S.u3.session);
});

test('8 sends, 3 replies: both receive both messages in the same order with consecutive seq', async () => {
  const first = 'hello 3, this is 8';
  const reply = '8, 3 here: hi!';
  seedSend(S.u8, 8, 3, first);
  await eventually(() => { for (const c of [S.u8, S.u3]) assert.equal(c.chat.items.length, 1, c.describe()); });
  seedSend(S.u3, 3, 8, reply); // user 3 answers what it received
  await eventually(() => { for (const c of [S.u8, S.u3]) assert.equal(c.chat.items.length, 2, c.describe()); });

  for (const c of [S.u8, S.u3]) {
    assertChatMessage(c.chat.items[0], { room: S.room, sendId: 8, rcvId: 3, message: first }, c.label);
    assertChatMessage(c.chat.items[1], { room: S.room, sendId: 3, rcvId: 8, message: reply }, c.label);
    assertConsecutive(c.chat.items, c.label);
    c.chat.frames.forEach((f) => assertMessageFrame(f, c.chat));
  }
  assert.deepEqual(S.u3.chat.items, S.u8.chat.items, 'both users see identical message bodies');
  assert.deepEqual(S.u8.unhandled, [], 'no MESSAGE without a matching subscription');
});

test('a message POSTed to the REST API reaches both STOMP subscribers', async () => {
  const before = S.u8.chat.items.at(-1).seq;
  const r = await sys.api('POST', `/api/v1/chat-rooms/${S.room}/messages`, S.tokens[8], { message: 'sent over REST by 8' });
  assert.equal(r.status, 201, String(r));
  assertChatMessage(r.body, { room: S.room, sendId: 8, message: 'sent over REST by 8' }, 'REST response');
  assert.equal(r.body.seq, before + 1, String(r));
  await eventually(() => { for (const c of [S.u8, S.u3]) assert.equal(c.chat.items.length, 3, c.describe()); });
  for (const c of [S.u8, S.u3]) assert.deepEqual(pick(c.chat.items[2]), pick(r.body), `${c.label} got the REST message as stored`);
});

test('GET .../messages returns the history newest first, identical to what subscribers received', async () => {
  const r = await sys.api('GET', `/api/v1/chat-rooms/${S.room}/messages`, S.tokens[3]);
  assert.equal(r.status, 200, String(r));
  assert.equal(r.body.hasMore, false, String(r));
  const oldestFirst = [...r.body.messages].reverse();
  assert.deepEqual(oldestFirst.map(pick), S.u3.chat.items.map(pick), String(r));

  const page = await sys.api('GET', `/api/v1/chat-rooms/${S.room}/messages?limit=2`, S.tokens[3]);
  assert.equal(page.status, 200, String(page));
  assert.deepEqual(page.body.messages.map((m) => m.seq), [S.u3.chat.items[2].seq, S.u3.chat.items[1].seq], String(page));
  assert.equal(page.body.hasMore, true, String(page));

  const room = await sys.api('GET', `/api/v1/chat-rooms/${S.room}`, S.tokens[8]);
  assert.equal(room.status, 200, String(room));
  assert.equal(room.body.lastSeq, S.u3.chat.items[2].seq, `room lastSeq: ${room}`);
});

test('the registry holds both sessions (room, session, user, presence and node keys) before disconnect', async () => {
  const [a, b] = [S.u8.session, S.u3.session];
  await eventually(async () => {
    assert.deepEqual(await sys.hgetall(roomKey('sessions')), { [a]: '8', [b]: '3' });
    assert.deepEqual(await sys.hgetall(roomKey('presence')), { 8: '1', 3: '1' });
  });
  for (const [sid, user, node] of [[a, 8, 'ws-a'], [b, 3, 'ws-b']]) {
    const h = await registryOf(sid);
    assert.equal(h.sessionId, sid, JSON.stringify(h));
    assert.equal(h.userId, String(user), JSON.stringify(h));
    assert.equal(h.roomId, String(S.room), JSON.stringify(h));
    assert.equal(h.node, node, JSON.stringify(h));
    assert.ok(h.connectedAt && h.remoteAddr, `connectedAt and remoteAddr set: ${JSON.stringify(h)}`);
    assert.deepEqual(await sys.hgetall(`chat:user:{u${user}}:sessions`), { [sid]: String(S.room) });
  }
  assert.deepEqual(await sys.redis('SMEMBERS', 'chat:node:ws-a:sessions'), [a]);
  assert.deepEqual(await sys.redis('SMEMBERS', 'chat:node:ws-b:sessions'), [b]);
  assert.deepEqual((await sys.redis('ZRANGE', 'chat:nodes', 0, -1)).sort(), sys.nodeIds);

  const p = await sys.api('GET', `/api/v1/chat-rooms/${S.room}/presence`, S.tokens[3]);
  assert.equal(p.status, 200, String(p));
  assert.equal(p.body.chatRoomId, S.room, String(p));
  const online = p.body.online.map(({ userId, sessions, inRoom }) => ({ userId, sessions, inRoom })).sort((x, y) => x.userId - y.userId);
  assert.deepEqual(online, [{ userId: 3, sessions: 1, inRoom: true }, { userId: 8, sessions: 1, inRoom: true }], String(p));
});

test('the seed disconnect call ends user 8 on ws-a: {"disconnected":1}, then 0; registry and events follow', async () => {
  const body = { sendId: 8, rcvId: 3, chatRoomId: S.room }; // the seed's disconnectApi() payload
  const first = await sys.api('POST', '/api/v1/chat-room/disconnect', S.tokens[8], body);
  assert.equal(first.status, 200, String(first));
  assert.equal(first.body.disconnected, 1, String(first));
  const second = await sys.api('POST', '/api/v1/chat-room/disconnect', S.tokens[8], body);
  assert.equal(second.status, 200, String(second));
  assert.equal(second.body.disconnected, 0, String(second));

  await within(S.u8.closed, WAIT_MS, () => `ws-a to close user 8's socket\n${S.u8.describe()}`);
  const gone = S.u8.session;
  await eventually(async () => {
    assert.equal(await sys.redis('EXISTS', `chat:session:${gone}`), 0, 'session hash of user 8 removed');
    assert.deepEqual(await sys.hgetall(roomKey('sessions')), { [S.u3.session]: '3' });
    assert.deepEqual(await sys.hgetall(roomKey('presence')), { 3: '1' });
    assert.deepEqual(await sys.hgetall('chat:user:{u8}:sessions'), {});
    assert.deepEqual(await sys.redis('SMEMBERS', 'chat:node:ws-a:sessions'), []);
  });
  assert.equal((await registryOf(S.u3.session)).userId, '3', "user 3's session is untouched");
  assert.deepEqual(await sys.hgetall('chat:user:{u3}:sessions'), { [S.u3.session]: String(S.room) });
  await eventually(() => assert.ok(
    S.u3.events.items.some((e) => e.type === 'LEAVE' && e.userId === 8 && e.chatRoomId === S.room),
    `user 3 sees LEAVE of user 8 on the events destination: ${JSON.stringify(S.u3.events.items)}`));
  assert.equal(S.u3.isClosed, undefined, `user 3 stays connected\n${S.u3.describe()}`);
});

test('user 8 comes back on ws-b, chats, then deactivate(): RECEIPT, onDisconnect, registry cleared', async () => {
  const u8 = seedClient(8, 3, 'b', 'user8-again');
  S.u8again = u8;
  await u8.ready();
  await u8.chat.ready;
  await eventually(async () => {
    const h = await registryOf(u8.session);
    assert.equal(h.node, 'ws-b', JSON.stringify(h));
    assert.equal(h.userId, '8', JSON.stringify(h));
  });
  await eventually(() => assert.ok(
    S.u3.events.items.findLastIndex((e) => e.type === 'ENTER' && e.userId === 8)
      > S.u3.events.items.findIndex((e) => e.type === 'LEAVE' && e.userId === 8),
    `ENTER of user 8 after its LEAVE: ${JSON.stringify(S.u3.events.items)}`));

  const seqBefore = S.u3.chat.items.at(-1).seq;
  seedSend(u8, 8, 3, 'back again');
  await eventually(() => { for (const c of [u8, S.u3]) assert.equal(c.chat.items.at(-1)?.message, 'back again', c.describe()); });
  assert.equal(S.u3.chat.items.at(-1).seq, seqBefore + 1);

  await u8.deactivate();
  assert.ok(u8.disconnectFrame, `onDisconnect fired, i.e. the server answered DISCONNECT's receipt\n${u8.describe()}`);
  await eventually(async () => {
    assert.equal(await sys.redis('EXISTS', `chat:session:${u8.session}`), 0);
    assert.deepEqual(await sys.hgetall(roomKey('sessions')), { [S.u3.session]: '3' });
    assert.deepEqual(await sys.hgetall('chat:user:{u8}:sessions'), {});
    assert.deepEqual(await sys.redis('SMEMBERS', 'chat:node:ws-b:sessions'), [S.u3.session]);
  });
  await eventually(() => assert.equal(
    S.u3.events.items.filter((e) => e.type === 'LEAVE' && e.userId === 8).length, 2,
    `a second LEAVE of user 8: ${JSON.stringify(S.u3.events.items)}`));
});

test('user 3 deactivate()s last: history complete, destinations never mixed, registry empty', async () => {
  await S.u3.deactivate();
  assert.ok(S.u3.disconnectFrame, `onDisconnect fired\n${S.u3.describe()}`);

  const r = await sys.api('GET', `/api/v1/chat-rooms/${S.room}/messages`, S.tokens[8]);
  assert.equal(r.status, 200, String(r));
  assert.deepEqual([...r.body.messages].reverse().map(pick), S.u3.chat.items.map(pick), String(r));
  assert.equal(S.u3.chat.items.length, 4, JSON.stringify(S.u3.chat.items));
  assertConsecutive(S.u3.chat.items, 'user 3');

  for (const c of [S.u8, S.u3, S.u8again]) {
    assertChatOnly(c.chat, c.label);
    if (c.events) assertEventsOnly(c.events, c.label);
  }
  await eventually(async () => {
    assert.deepEqual(await sys.redis('KEYS', 'chat:session:*'), []);
    assert.deepEqual(await sys.hgetall(roomKey('sessions')), {});
    assert.deepEqual(await sys.hgetall(roomKey('presence')), {});
  });
});
