// Long polling: GET /api/v1/chat-rooms/{id}/messages?after=N&wait=D answers
// at once when messages after N exist, otherwise when the next one is
// published, or with an empty list after D. A long-polling reader and a
// STOMP subscriber of one room must record the identical sequence while a
// STOMP sender and a REST sender send 100 messages; a poll with nothing new
// returns [] after its wait; a user may hold at most 4 open long polls.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import {
  useSystem, pick, resumingSubscriber, StompSender, RestSender, LongPoller, range, roomLastSeq, now, stampOf, percentiles,
  assertProblem, within, eventually,
} from '../lib/index.mjs';

const sys = useSystem('longpoll');
const S = {};

/** poll runs one long poll and reports status, body, elapsed ms. */
async function poll(user, after, wait, timeoutMs = 15000) {
  const t = now();
  const res = await fetch(`${sys.apiURL}/api/v1/chat-rooms/${S.room}/messages?after=${after}&wait=${wait}`, {
    headers: { authorization: `Bearer ${S.tok[user]}` }, signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { body = undefined; }
  return { status: res.status, contentType: res.headers.get('content-type'), body, text, ms: Math.round(now() - t), toString: () => `HTTP ${res.status} ${text.slice(0, 300)}` };
}

test('setup: room of 51..55; STOMP sender 51@ws-a, REST sender 52, STOMP reader 53@ws-b, long poller 54', async () => {
  S.tok = Object.fromEntries([51, 52, 53, 54, 55].map((u) => [u, sys.mint(u)]));
  const r = await sys.api('POST', '/api/v1/chat-rooms', S.tok[51], { type: 'group', name: 'poll', memberIds: [52, 53, 54, 55] });
  assert.equal(r.status, 201, String(r));
  S.room = r.body.id;
  S.reader = resumingSubscriber(sys, { room: S.room, node: 'b', label: 'reader53', token: S.tok[53], reconnectDelay: 0, headers: { sendId: 53 } });
  await S.reader.ready();
  S.sc = sys.stomp({ node: 'a', label: 'sender51', token: S.tok[51], headers: { sendId: 51 } });
  await S.sc.ready();
});

test('100 messages from a STOMP and a REST sender: the long poller and the STOMP subscriber record the same sequence', async () => {
  const poller = new LongPoller(sys, { room: S.room, token: S.tok[54], wait: '5s', waitMs: 5000 }).start(0);
  const stompSender = new StompSender(S.sc, { room: S.room, sendId: 51, tag: 'stomp' });
  const restSender = new RestSender(sys, { room: S.room, token: S.tok[52], tag: 'rest' });
  const stompDone = (async () => {
    for (let i = 0; i < 50; i++) {
      stompSender.send();
      await delay(10); // traffic shape
    }
    await stompSender.settle();
  })();
  const restDone = (async () => {
    for (let i = 0; i < 50; i++) await restSender.send();
  })();
  await Promise.all([stompDone, restDone]);
  assert.equal(stompSender.acked.length, 50, JSON.stringify(stompSender.unacked));
  assert.equal(restSender.acked.length, 50, JSON.stringify(restSender.unacked));
  const last = await roomLastSeq(sys, S.room, S.tok[54]);
  assert.equal(last, 100);
  await S.reader.waitFor(100, 5000);
  await within((async () => { while (poller.last < 100) await delay(20); })(), 5000, () => `long poller at ${poller.last} of 100 (errors ${poller.errors})`);
  await poller.stop();

  const lat = (r) => percentiles(r.items.map((m, i) => r.recvAt[i] - stampOf(m.message)));
  const stompLat = lat(S.reader);
  const pollLat = lat(poller);
  console.log(`long poll: ${poller.items.length} messages in ${poller.polls} polls (${poller.empty} empty, ${poller.errors.length} failed); ` +
    `latency ms long poll ${JSON.stringify(pollLat)}, STOMP ${JSON.stringify(stompLat)}`);

  assert.deepEqual(poller.errors, [], 'no failed poll');
  assert.deepEqual(poller.seqs, range(1, 100), 'the long poller got 1..100 once each, in order');
  assert.deepEqual(S.reader.seqs, range(1, 100), 'the STOMP subscriber got 1..100 once each, in order');
  assert.deepEqual(poller.items.map(pick), S.reader.items.map(pick), 'identical messages, identical order');
  const sent = new Set([...stompSender.acked, ...restSender.acked]);
  assert.deepEqual(new Set(poller.items.map((m) => m.message)), sent, 'exactly what was acknowledged');
  assert.ok(poller.polls < 100, `polls return batches, not one poll per message (${poller.polls})`);
});

test('a poll with nothing new answers [] after its wait ("1s" and "1")', async () => {
  const last = await roomLastSeq(sys, S.room, S.tok[54]);
  for (const wait of ['1s', '1']) {
    const r = await poll(54, last, wait);
    console.log(`long poll: nothing new, wait=${wait}: HTTP ${r.status} after ${r.ms} ms: ${r.text}`);
    assert.equal(r.status, 200, String(r));
    assert.deepEqual(r.body, { messages: [], hasMore: false }, String(r));
    assert.ok(r.ms >= 950 && r.ms < 2500, `answered after the 1 s wait, not before or much later: ${r.ms} ms`);
  }
});

test('a waiting poll answers as soon as a message is published', async () => {
  const last = await roomLastSeq(sys, S.room, S.tok[54]);
  const channel = `chat:room:{${S.room}}:messages`;
  const subscribers = () => sys.subscribers(channel); // on a cluster: sharded and plain, every master
  // ws-b, for reader53, only: the api's hub keeps a channel ~2 s (its linger)
  // after the previous test's last poll, so wait for that to end first.
  await eventually(async () => assert.equal(await subscribers(), 1, 'only ws-b (reader53) subscribed'), 10000);
  const before = 1;
  const waiting = poll(54, last, '10s');
  // The api subscribes to the room's channel for the poll before it reads
  // history: once Redis counts one more subscriber, the poll is waiting.
  await eventually(async () => assert.equal(await subscribers(), before + 1, 'the api subscribed for the poll'));
  const t = now();
  const sent = await sys.api('POST', `/api/v1/chat-rooms/${S.room}/messages`, S.tok[52], { message: 'wake up' });
  assert.equal(sent.status, 201, String(sent));
  const r = await waiting;
  const woke = Math.round(now() - t);
  console.log(`long poll: waiting poll answered ${woke} ms after the POST started (poll open ${r.ms} ms of its 10 s wait)`);
  assert.equal(r.status, 200, String(r));
  assert.deepEqual(r.body.messages.map(pick), [pick(sent.body)], String(r));
  assert.ok(woke < 1000, `answered promptly, not at the end of the wait: ${woke} ms`);
});

test('the 5th concurrent long poll of one user gets 429; other users are not limited; a slot frees when a poll ends', async () => {
  const last = await roomLastSeq(sys, S.room, S.tok[55]);
  const five = Array.from({ length: 5 }, () => poll(55, last, '2s'));
  const other = poll(54, last, '2s');
  const results = await Promise.all(five);
  const otherR = await other;
  const summary = results.map((r) => `${r.status} in ${r.ms} ms`);
  console.log(`long poll: 5 concurrent polls of user 55: ${JSON.stringify(summary)}; user 54 meanwhile: ${otherR.status} in ${otherR.ms} ms`);
  const refused = results.filter((r) => r.status === 429);
  const served = results.filter((r) => r.status === 200);
  assert.equal(refused.length, 1, `exactly one of five is refused: ${summary}`);
  assert.equal(served.length, 4, `four are served: ${summary}`);
  assertProblem(refused[0], 429);
  assert.ok(refused[0].ms < 1000, `the refusal is immediate: ${refused[0].ms} ms`);
  for (const r of served) {
    assert.deepEqual(r.body, { messages: [], hasMore: false }, String(r));
    assert.ok(r.ms >= 1900, `served polls waited their 2 s: ${r.ms} ms`);
  }
  assert.equal(otherR.status, 200, `another user is not limited: ${otherR}`);
  const again = await poll(55, last, '1s');
  assert.equal(again.status, 200, `after the four ended, user 55 may poll again: ${again}`);
});
