// Fan-out across ws nodes: three users of one group room spread over ws-a and
// ws-b (user 13 with a session on each), messages sent concurrently through
// both nodes and the REST API; every session must see every message once, in
// one order shared by all. Membership events and the REST disconnect cross
// nodes too.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useSystem, collect, eventually, within, WAIT_MS, assertChatMessage, assertConsecutive, assertChatOnly,
  assertEventsOnly, pick, byNumber,
} from '../lib/index.mjs';

const PREFIX = 'e2enodes';
const sys = useSystem('nodes', { prefix: PREFIX });
const S = {};
const ROUNDS = 10;

const roomKey = (suffix) => `${PREFIX}:room:{${S.room}}:${suffix}`;

test('setup: group room of 11, 12, 13; sessions 11@ws-a, 12@ws-b, 13@ws-a and 13@ws-b', async () => {
  S.tok = { 11: sys.mint(11), 12: sys.mint(12), 13: sys.mint(13) };
  const r = await sys.api('POST', '/api/v1/chat-rooms', S.tok[11], { type: 'group', name: 'e2e nodes', memberIds: [12, 13] });
  assert.equal(r.status, 201, String(r));
  assert.equal(r.body.type, 'group', String(r));
  assert.equal(r.body.name, 'e2e nodes', String(r));
  assert.deepEqual([...r.body.memberIds].sort(byNumber), [11, 12, 13], String(r));
  S.room = r.body.id;

  const layout = [[11, 'a', 'u11'], [12, 'b', 'u12'], [13, 'a', 'u13a'], [13, 'b', 'u13b']];
  S.clients = layout.map(([user, node, label]) => {
    const c = sys.stomp({ node, label, token: S.tok[user], headers: { chatRoomId: S.room, sendId: user } });
    Object.assign(c, { user, node });
    return c;
  });
  for (const c of S.clients) {
    await c.ready();
    c.chat = collect(c, `/sub/chat/room/${S.room}`);
    c.events = collect(c, `/sub/chat/room/${S.room}/events`);
    await c.chat.ready;
    await c.events.ready;
  }
});

test('registry and presence see the four sessions on the right nodes', async () => {
  const expected = Object.fromEntries(S.clients.map((c) => [c.session, String(c.user)]));
  await eventually(async () => {
    assert.deepEqual(await sys.hgetall(roomKey('sessions')), expected);
    assert.deepEqual(await sys.hgetall(roomKey('presence')), { 11: '1', 12: '1', 13: '2' });
  });
  for (const [node, id] of [['a', 'ws-a'], ['b', 'ws-b']]) {
    const want = S.clients.filter((c) => c.node === node).map((c) => c.session).sort();
    assert.deepEqual((await sys.redis('SMEMBERS', `${PREFIX}:node:${id}:sessions`)).sort(), want, id);
  }
  const p = await sys.api('GET', `/api/v1/chat-rooms/${S.room}/presence`, S.tok[12]);
  assert.equal(p.status, 200, String(p));
  const online = p.body.online.map(({ userId, sessions, inRoom }) => ({ userId, sessions, inRoom })).sort((x, y) => x.userId - y.userId);
  assert.deepEqual(online, [
    { userId: 11, sessions: 1, inRoom: true },
    { userId: 12, sessions: 1, inRoom: true },
    { userId: 13, sessions: 2, inRoom: true },
  ], String(p));
});

test('interleaved sends through ws-a, ws-b and REST: every session gets all, once, in one shared order', async () => {
  const sent = []; // {label, sendId, message} in the order each sender issued them
  const rest = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of S.clients) {
      const message = `round ${round} from ${c.label}`;
      sent.push({ label: c.label, sendId: c.user, message });
      c.client.publish({ destination: '/pub/send-message', body: JSON.stringify({ chatRoomId: S.room, sendId: c.user, message }) });
    }
    if (round % 3 === 1) {
      const message = `round ${round} from REST`;
      sent.push({ label: 'rest', sendId: 12, message });
      rest.push(sys.api('POST', `/api/v1/chat-rooms/${S.room}/messages`, S.tok[12], { message }));
    }
  }
  for (const r of await Promise.all(rest)) assert.equal(r.status, 201, String(r));

  const total = sent.length;
  await eventually(() => {
    for (const c of S.clients) assert.equal(c.chat.items.length, total, `${c.label} has ${c.chat.items.length}/${total}`);
  }, 15000);

  const reference = S.clients[0].chat.items;
  for (const c of S.clients) {
    assert.deepEqual(c.chat.items.map(pick), reference.map(pick), `${c.label} sees the same order as ${S.clients[0].label}`);
    assertConsecutive(c.chat.items, c.label);
  }
  const bySender = new Map(sent.map((s) => [s.message, s]));
  assert.equal(new Set(reference.map((m) => m.message)).size, total, 'no message delivered twice');
  for (const m of reference) {
    const s = bySender.get(m.message);
    assert.ok(s, `unexpected message ${JSON.stringify(m)}`);
    assertChatMessage(m, { room: S.room, sendId: s.sendId, message: s.message }, 'fan-out');
  }
  for (const label of [...S.clients.map((c) => c.label), 'rest']) {
    const mine = sent.filter((s) => s.label === label).map((s) => s.message);
    const seen = reference.map((m) => m.message).filter((t) => mine.includes(t));
    if (label !== 'rest') assert.deepEqual(seen, mine, `${label}'s messages keep the order it sent them in`);
    else assert.deepEqual([...seen].sort(), [...mine].sort());
  }

  const h = await sys.api('GET', `/api/v1/chat-rooms/${S.room}/messages?limit=100`, S.tok[13]);
  assert.equal(h.status, 200, String(h));
  assert.deepEqual([...h.body.messages].reverse().map(pick), reference.map(pick), 'history matches the delivered order');
});

test('MEMBER_ADDED and MEMBER_REMOVED reach the events destination on both nodes', async () => {
  const add = await sys.api('POST', `/api/v1/chat-rooms/${S.room}/members`, S.tok[11], { userId: 14 });
  assert.ok(add.status >= 200 && add.status < 300, String(add));
  const room = await sys.api('GET', `/api/v1/chat-rooms/${S.room}`, S.tok[11]);
  assert.deepEqual([...room.body.memberIds].sort(byNumber), [11, 12, 13, 14], String(room));
  const del = await sys.api('DELETE', `/api/v1/chat-rooms/${S.room}/members/14`, S.tok[11]);
  assert.ok(del.status >= 200 && del.status < 300, String(del));
  assert.equal((await sys.api('GET', `/api/v1/chat-rooms/${S.room}`, sys.mint(14))).status, 404, 'user 14 is no member any more');

  await eventually(() => {
    for (const c of S.clients) {
      const types = c.events.items.filter((e) => e.userId === 14).map((e) => e.type);
      assert.deepEqual(types, ['MEMBER_ADDED', 'MEMBER_REMOVED'], `${c.label}: ${JSON.stringify(c.events.items)}`);
    }
  });
  for (const c of S.clients) {
    assertChatOnly(c.chat, c.label);
    assertEventsOnly(c.events, c.label);
    for (const e of c.events.items) assert.equal(e.chatRoomId, S.room, JSON.stringify(e));
  }
});

test('deactivate() of 12 on ws-b: LEAVE seen on ws-a, registry updated', async () => {
  const [u11, u12] = S.clients;
  await u12.deactivate();
  assert.ok(u12.disconnectFrame, u12.describe());
  await eventually(() => assert.ok(u11.events.items.some((e) => e.type === 'LEAVE' && e.userId === 12),
    `u11 on ws-a sees LEAVE of 12: ${JSON.stringify(u11.events.items)}`));
  await eventually(async () => {
    assert.deepEqual(await sys.hgetall(roomKey('presence')), { 11: '1', 13: '2' });
    assert.equal(await sys.redis('EXISTS', `${PREFIX}:session:${u12.session}`), 0);
  });
});

test('the REST disconnect of user 13 closes its sessions on both nodes: {"disconnected":2}', async () => {
  const [u11, , u13a, u13b] = S.clients;
  const body = { sendId: 13, rcvId: 11, chatRoomId: S.room };
  const r = await sys.api('POST', '/api/v1/chat-room/disconnect', S.tok[13], body);
  assert.equal(r.status, 200, String(r));
  assert.equal(r.body.disconnected, 2, String(r));
  for (const c of [u13a, u13b]) await within(c.closed, WAIT_MS, () => `${c.label} closed by the server\n${c.describe()}`);
  await eventually(async () => {
    assert.deepEqual(await sys.hgetall(roomKey('sessions')), { [u11.session]: '11' });
    assert.deepEqual(await sys.hgetall(roomKey('presence')), { 11: '1' });
    assert.deepEqual(await sys.hgetall(`${PREFIX}:user:{u13}:sessions`), {});
    assert.deepEqual(await sys.redis('SMEMBERS', `${PREFIX}:node:ws-b:sessions`), []);
  });
  await eventually(() => assert.ok(u11.events.items.some((e) => e.type === 'LEAVE' && e.userId === 13),
    `u11 sees LEAVE of 13: ${JSON.stringify(u11.events.items)}`));

  const after = await sys.api('POST', `/api/v1/chat-rooms/${S.room}/messages`, S.tok[12], { message: 'still here, 11?' });
  assert.equal(after.status, 201, String(after));
  await eventually(() => assert.equal(u11.chat.items.at(-1)?.message, 'still here, 11?', u11.describe()));
  assert.equal(u11.isClosed, undefined, u11.describe());
});
