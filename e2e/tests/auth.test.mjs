// Who may connect, subscribe and send. Every refusal is an ERROR frame with a
// `message` header followed by the server closing the socket, and leaves no
// trace in the registry or the history. Meanwhile two healthy clients in the
// same room (user 8 on ws-a, user 3 on ws-b) keep receiving.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useSystem, collect, eventually, mintWith, assertChatMessage, assertConsecutive, assertProblem, pick,
} from '../lib/index.mjs';

const PREFIX = 'e2eauth';
const sys = useSystem('auth', { prefix: PREFIX });
const S = {};

/** baseline snapshots the registry so a refused client can be shown to have left nothing. */
async function registrySnapshot() {
  return {
    sessions: (await sys.redis('KEYS', `${PREFIX}:session:*`)).sort(),
    room: await sys.hgetall(`${PREFIX}:room:{${S.room}}:sessions`),
    presence: await sys.hgetall(`${PREFIX}:room:{${S.room}}:presence`),
    user8: await sys.hgetall(`${PREFIX}:user:{u8}:sessions`),
    user5: await sys.hgetall(`${PREFIX}:user:{u5}:sessions`),
  };
}

/** expectRefused waits for ERROR (with a message header) + server close, and checks nothing was registered. */
async function expectRefused(c, what) {
  const { frame } = await c.rejected();
  assert.ok(frame.headers.message, `${what}: ERROR carries a message header\n${c.describe()}`);
  assert.equal(c.session, undefined, `${what}: no CONNECTED before the ERROR\n${c.describe()}`);
  assert.deepEqual(await registrySnapshot(), S.baseline, `${what}: registry unchanged`);
}

async function history() {
  const r = await sys.api('GET', `/api/v1/chat-rooms/${S.room}/messages?limit=100`, S.tok3);
  assert.equal(r.status, 200, String(r));
  return [...r.body.messages].reverse();
}

test('setup: room of 8 and 3, room of 5 and 3; healthy clients 8@ws-a and 3@ws-b exchange a message', async () => {
  S.tok8 = sys.mint(8);
  S.tok3 = sys.mint(3);
  S.tok5 = sys.mint(5);
  const r = await sys.api('POST', '/api/v1/chat-rooms', S.tok8, { type: 'direct', memberIds: [3] });
  assert.equal(r.status, 201, String(r));
  S.room = r.body.id;
  const r5 = await sys.api('POST', '/api/v1/chat-rooms', S.tok5, { type: 'direct', memberIds: [3] });
  assert.equal(r5.status, 201, String(r5));
  S.room5 = r5.body.id;
  assert.notEqual(S.room5, S.room);

  S.h8 = sys.stomp({ node: 'a', label: 'healthy8', token: S.tok8, headers: { chatRoomId: S.room, sendId: 8, rcvId: 3 } });
  S.h3 = sys.stomp({ node: 'b', label: 'healthy3', token: S.tok3, headers: { chatRoomId: S.room, sendId: 3, rcvId: 8 } });
  for (const c of [S.h8, S.h3]) {
    await c.ready();
    c.chat = collect(c, `/sub/chat/room/${S.room}`);
    await c.chat.ready;
  }
  await S.h8.publish('/pub/send-message', { chatRoomId: S.room, sendId: 8, rcvId: 3, message: 'before the attacks' }, { receipt: true });
  await eventually(() => { for (const c of [S.h8, S.h3]) assert.equal(c.chat.items.length, 1, c.describe()); });
  await eventually(async () => assert.equal(Object.keys(await sys.hgetall(`${PREFIX}:room:{${S.room}}:sessions`)).length, 2));
  S.baseline = await registrySnapshot();
});

const connectHeaders = () => ({ chatRoomId: S.room, sendId: 8, rcvId: 3 });

test('CONNECT with a token signed by another secret is refused', async () => {
  const c = sys.stomp({ label: 'bad-signature', token: mintWith('not-the-secret', 8), headers: connectHeaders() });
  await expectRefused(c, 'bad signature');
});

test('CONNECT with an expired token is refused', async () => {
  const c = sys.stomp({ node: 'b', label: 'expired', token: sys.mint(8, { ttlSeconds: -3600 }), headers: connectHeaders() });
  await expectRefused(c, 'expired token');
});

test('CONNECT without any token is refused', async () => {
  const c = sys.stomp({ label: 'no-token', headers: connectHeaders() });
  await expectRefused(c, 'missing token');
});

test('CONNECT with a garbage bearer value is refused', async () => {
  const c = sys.stomp({ label: 'garbage-token', token: 'aaaa', headers: connectHeaders() }); // the seed's placeholder
  await expectRefused(c, 'garbage token');
});

test('a refused CONNECT\'s message reads as plain text in @stomp/stompjs (no 1.2 escapes before CONNECTED)', async () => {
  // stompjs unescapes header values only after a CONNECTED with version 1.2,
  // so an ERROR answering CONNECT must not carry escape sequences (\c for ':').
  const c = sys.stomp({ label: 'readable-error', token: mintWith('not-the-secret', 8), headers: connectHeaders() });
  const { frame } = await c.rejected();
  assert.doesNotMatch(frame.headers.message, /\\[cnr\\]/, `the app would show ${JSON.stringify(frame.headers.message)}\n${c.describe()}`);
});

test('the token is also accepted in passcode', async () => {
  const c = sys.stomp({ node: 'b', label: 'passcode', headers: { passcode: S.tok8, ...connectHeaders() } });
  await c.ready();
  await c.deactivate();
  assert.ok(c.disconnectFrame, c.describe());
  await eventually(async () => assert.deepEqual(await registrySnapshot(), S.baseline));
});

test('CONNECT with sendId 99 and user 8\'s token is refused', async () => {
  const c = sys.stomp({ label: 'spoofed-connect', token: S.tok8, headers: { chatRoomId: S.room, sendId: 99, rcvId: 3 } });
  await expectRefused(c, 'spoofed CONNECT sendId');
});

test('user 5, not a member, connecting with chatRoomId of the 8-3 room is refused', async () => {
  const c = sys.stomp({ node: 'b', label: 'outsider-connect', token: S.tok5, headers: { chatRoomId: S.room, sendId: 5, rcvId: 3 } });
  await expectRefused(c, 'non-member CONNECT');
});

for (const suffix of ['', '/events']) {
  test(`user 5 (connected to its own room) subscribing to /sub/chat/room/<8-3 room>${suffix} gets ERROR and is closed`, async () => {
    const c = sys.stomp({ label: `outsider-subscribe${suffix.replace('/', '-')}`, token: S.tok5, headers: { chatRoomId: S.room5, sendId: 5, rcvId: 3 } });
    await c.ready();
    const col = collect(c, `/sub/chat/room/${S.room}${suffix}`);
    await assert.rejects(col.ready, /ERROR instead of RECEIPT/, c.describe());
    const { frame } = await c.rejected();
    assert.ok(frame.headers.message, c.describe());
    assert.deepEqual(col.items, [], 'nothing delivered to the refused subscription');
  });
}

test('SEND with sendId of another member (3) over user 8\'s connection: ERROR, closed, not stored', async () => {
  const c = sys.stomp({ label: 'spoofed-send', token: S.tok8, headers: connectHeaders() });
  await c.ready();
  const text = 'spoofed: I am user 3';
  await assert.rejects(c.publish('/pub/send-message', { chatRoomId: S.room, sendId: 3, rcvId: 8, message: text }, { receipt: true }),
    /ERROR instead of RECEIPT/, c.describe());
  const { frame } = await c.rejected();
  assert.ok(frame.headers.message, c.describe());
  assert.ok(!(await history()).some((m) => m.message === text), 'the spoofed message is not in the history');
});

test('SEND from user 5 into the 8-3 room: ERROR, closed, not stored', async () => {
  const c = sys.stomp({ node: 'b', label: 'outsider-send', token: S.tok5, headers: { chatRoomId: S.room5, sendId: 5, rcvId: 3 } });
  await c.ready();
  const text = 'outsider writes into 8-3';
  await assert.rejects(c.publish('/pub/send-message', { chatRoomId: S.room, sendId: 5, rcvId: 3, message: text }, { receipt: true }),
    /ERROR instead of RECEIPT/, c.describe());
  const { frame } = await c.rejected();
  assert.ok(frame.headers.message, c.describe());
  assert.ok(!(await history()).some((m) => m.message === text), 'the outsider message is not in the history');
});

test('SEND without sendId is accepted and attributed to the token\'s user', async () => {
  await S.h8.publish('/pub/send-message', { chatRoomId: S.room, rcvId: 3, message: 'no sendId in the body' }, { receipt: true });
  await eventually(() => assert.equal(S.h3.chat.items.at(-1)?.message, 'no sendId in the body', S.h3.describe()));
  assertChatMessage(S.h3.chat.items.at(-1), { room: S.room, sendId: 8, message: 'no sendId in the body' }, 'healthy3');
});

test('the healthy clients kept their sessions and still receive: nothing refused leaked, seq has no gap', async () => {
  await S.h3.publish('/pub/send-message', { chatRoomId: S.room, sendId: 3, rcvId: 8, message: 'after the attacks' }, { receipt: true });
  await eventually(() => { for (const c of [S.h8, S.h3]) assert.equal(c.chat.items.at(-1)?.message, 'after the attacks', c.describe()); });
  for (const c of [S.h8, S.h3]) {
    assert.equal(c.isClosed, undefined, `${c.label} never closed\n${c.describe()}`);
    assert.deepEqual(c.chat.items.map((m) => m.message), ['before the attacks', 'no sendId in the body', 'after the attacks'], c.describe());
    assertConsecutive(c.chat.items, c.label);
  }
  assert.deepEqual((await history()).map(pick), S.h3.chat.items.map(pick));
  assert.deepEqual(await registrySnapshot(), S.baseline, 'only the healthy sessions are registered');
});

test('REST: no or bad token is 401, a non-member gets 404, all as problem+json', async () => {
  assertProblem(await sys.api('GET', '/api/v1/chat-rooms', undefined, undefined, { offSpec: 'no token' }), 401);
  assertProblem(await sys.api('GET', '/api/v1/chat-rooms', mintWith('not-the-secret', 8)), 401);
  assertProblem(await sys.api('GET', '/api/v1/chat-rooms', sys.mint(8, { ttlSeconds: -3600 })), 401);
  assertProblem(await sys.api('GET', `/api/v1/chat-rooms/${S.room}`, S.tok5), 404);
  assertProblem(await sys.api('GET', `/api/v1/chat-rooms/${S.room}/messages`, S.tok5), 404);
  assertProblem(await sys.api('GET', `/api/v1/chat-rooms/${S.room}/presence`, S.tok5), 404);
  assertProblem(await sys.api('POST', `/api/v1/chat-rooms/${S.room}/messages`, S.tok5, { message: 'rest intrusion' }), 404);
  const list = await sys.api('GET', '/api/v1/chat-rooms', S.tok5);
  assert.equal(list.status, 200, String(list));
  assert.deepEqual(list.body.rooms.map((r) => r.id), [S.room5], `user 5 only lists its own room: ${list}`);
  assert.ok(!(await history()).some((m) => m.message === 'rest intrusion'));
});
