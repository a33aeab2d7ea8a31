// Resume after a reconnect: user 3 reads a room with @stomp/stompjs while
// user 8 sends 300 messages with receipts; user 3's socket is dropped
// mid-stream, stompjs reconnects (reconnectDelay 200 ms) and onConnect
// subscribes again with last-seq = the highest seq received, as an app
// would. Every seq must arrive exactly once, in order: messages published
// while user 3 was away come from history, then live ones, no gap, no
// duplicate. Once on the same node, once moved to the other node.
//
// A second system keeps only 20 messages per room (HISTORY_LEN=20 for api
// and ws: the send path trims), so a last-seq older than that window gets a
// RESUME_TRUNCATED notice as the subscription's first MESSAGE.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import {
  useSystem, eventually, pick, resumingSubscriber, StompSender, range, seqReport, roomLastSeq, short, assertChatMessage,
} from '../lib/index.mjs';

const sys = useSystem('resume');
const trunc = useSystem('resume-truncated', { env: { HISTORY_LEN: '20' } });
const S = {};
const TOTAL = 300; // messages per case
const TICK_MS = 100;
const PER_TICK = 15; // 300 messages over ~2 s

test('setup: direct room of 8 and 3; user 8 sends from ws-b with receipts', async () => {
  S.tok = { 8: sys.mint(8), 3: sys.mint(3) };
  const r = await sys.api('POST', '/api/v1/chat-rooms', S.tok[8], { type: 'direct', memberIds: [3] });
  assert.equal(r.status, 201, String(r));
  S.room = r.body.id;
  S.u8 = sys.stomp({ node: 'b', label: 'sender8', token: S.tok[8], headers: { chatRoomId: S.room, sendId: 8 } });
  await S.u8.ready();
});

/**
 * streamWithDrop sends TOTAL messages as user 8 while r reads them; once r
 * has seen `dropAfter` messages of this run, drop() cuts r's socket. Returns
 * what the run measured.
 */
async function streamWithDrop(r, from, drop, dropAfter = 100) {
  const sender = new StompSender(S.u8, { room: S.room, sendId: 8, tag: `resume-${from}` });
  const sending = (async () => {
    for (let t = 0; t < TOTAL / PER_TICK; t++) {
      for (let i = 0; i < PER_TICK; i++) sender.send();
      await delay(TICK_MS); // traffic shape, not synchronisation
    }
  })();
  await r.waitFor(from + dropAfter);
  const atDrop = { maxSeq: r.maxSeq, sent: sender.n, connects: r.c.connects };
  drop();
  // stompjs reconnects after 200 ms; onConnect subscribes with last-seq.
  await eventually(() => assert.ok(r.subs.length === atDrop.connects + 1,
    `${r.c.label} reconnected and subscribed again (${r.subs.length} subscriptions)\n${r.c.describe()}`), 5000);
  const resub = r.subs.at(-1);
  await resub.ready;
  const ackedAtResub = sender.acked.length;
  await sending;
  await sender.settle();
  // A last message after all the others: a duplicate of an earlier seq
  // would be delivered before it, so once it is in, the record is complete.
  assert.equal(await sender.send(), 'acked', 'the closing message is acknowledged');
  assert.deepEqual(sender.unacked, [], 'user 8 lost no message: its connection stayed up');
  assert.equal(sender.acked.length, TOTAL + 1);
  const last = await roomLastSeq(sys, S.room, S.tok[3]);
  assert.equal(last, from + TOTAL + 1, 'only user 8 sends: the room ends at from + 301');
  await r.waitFor(last, 10000);
  const rep = seqReport(r.seqs, from + 1, last);
  const stats = {
    received: r.seqs.length, expected: last - from, dropAtSeq: atDrop.maxSeq, sentAtDrop: atDrop.sent,
    resubscribeLastSeq: Number(resub.lastSeq), publishedWhileAway: ackedAtResub - (Number(resub.lastSeq) - from),
    duplicates: rep.duplicates.length, missing: rep.missing.length, outOfOrder: rep.disorder, urls: r.c.urls,
  };
  return { stats, rep, last, atDrop, resub };
}

test('forceDisconnect() mid-stream, reconnect to the same node, resubscribe with last-seq: 1..300 exactly once, in order', async () => {
  const r = resumingSubscriber(sys, { room: S.room, node: 'a', label: 'user3', token: S.tok[3], headers: { chatRoomId: S.room, sendId: 3 } });
  S.r1 = r;
  await r.ready();
  const { stats, rep, last, atDrop, resub } = await streamWithDrop(r, 0, () => r.c.client.forceDisconnect());
  console.log(`resume same node: ${JSON.stringify(stats)}`);
  assert.ok(atDrop.sent < TOTAL, `the drop happened mid-stream (${atDrop.sent} of ${TOTAL} sent)`);
  assert.equal(r.c.connects, 2, `one reconnect\n${r.c.describe()}`);
  assert.ok(Number(resub.lastSeq) >= atDrop.maxSeq, `resubscribed with last-seq ${resub.lastSeq} >= ${atDrop.maxSeq}`);
  assert.ok(stats.publishedWhileAway > 0, `messages were published while user 3 was away (${stats.publishedWhileAway}), so the resume replayed history`);
  assert.deepEqual(rep.duplicates, [], `no seq twice: ${short(rep.duplicates)}`);
  assert.deepEqual(rep.missing, [], `no seq missing: ${short(rep.missing)}`);
  assert.deepEqual(r.seqs, range(1, last), `every seq once, in order: ${short(r.seqs, 400)}`);
  assert.deepEqual(r.notices, [], 'history reaches back: no RESUME_TRUNCATED notice');

  const h = await sys.api('GET', `/api/v1/chat-rooms/${S.room}/messages?order=asc&limit=500`, S.tok[3]);
  assert.equal(h.status, 200, String(h));
  assert.deepEqual(r.items.map(pick), h.body.messages.map(pick), 'user 3 received the stored messages, byte for byte the same fields');
  for (const m of r.items) assertChatMessage(m, { room: S.room, sendId: 8, rcvId: 3, message: m.message }, 'resumed');
  await r.c.deactivate();
});

test('socket killed mid-stream, beforeConnect moves user 3 to ws-b, last-seq resume: every seq once, in order', async () => {
  const from = await roomLastSeq(sys, S.room, S.tok[3]);
  let target = sys.nodes.a.url;
  // Like an app with a node list: every connect after the first goes to the other node.
  const r = resumingSubscriber(sys, {
    room: S.room, lastSeq: from, label: 'user3-moving', token: S.tok[3], headers: { chatRoomId: S.room, sendId: 3 },
    url: () => target,
    beforeConnect: (c) => { if (c.connects > 0) target = sys.nodes.b.url; },
  });
  await r.ready();
  assert.equal(r.subs[0].lastSeq, String(from), 'the first SUBSCRIBE already resumes from the seq the app knew');
  const { stats, rep, last, atDrop } = await streamWithDrop(r, from, () => r.c.socket.terminate());
  console.log(`resume other node: ${JSON.stringify(stats)}`);
  assert.ok(atDrop.sent < TOTAL, `the drop happened mid-stream (${atDrop.sent} of ${TOTAL} sent)`);
  assert.deepEqual(r.c.urls, [sys.nodes.a.url, sys.nodes.b.url], `connected to ws-a, then ws-b\n${r.c.describe()}`);
  assert.equal((await sys.hgetall(`chat:session:${r.c.session}`)).node, 'ws-b', 'the new session lives on ws-b');
  assert.ok(stats.publishedWhileAway > 0, `messages were published while user 3 was away (${stats.publishedWhileAway})`);
  assert.deepEqual(rep.duplicates, [], `no seq twice: ${short(rep.duplicates)}`);
  assert.deepEqual(rep.missing, [], `no seq missing: ${short(rep.missing)}`);
  assert.deepEqual(r.seqs, range(from + 1, last), `every seq once, in order: ${short(r.seqs, 400)}`);
  assert.deepEqual(r.notices, []);
  await r.c.deactivate();
});

test('HISTORY_LEN=20: last-seq older than the window gets x-resume-truncated first, then what history still has', async () => {
  const T = { 8: trunc.mint(8), 3: trunc.mint(3) };
  const cr = await trunc.api('POST', '/api/v1/chat-rooms', T[8], { type: 'direct', memberIds: [3] });
  assert.equal(cr.status, 201, String(cr));
  const room = cr.body.id;
  for (let i = 1; i <= 50; i++) {
    const p = await trunc.api('POST', `/api/v1/chat-rooms/${room}/messages`, T[8], { message: `kept or trimmed ${i}` });
    assert.equal(p.status, 201, String(p));
  }
  const h = await trunc.api('GET', `/api/v1/chat-rooms/${room}/messages?limit=100`, T[3]);
  assert.deepEqual(h.body.messages.map((m) => m.seq), range(31, 50).reverse(), `only the last 20 are kept: ${h}`);

  const sub = (label, lastSeq) => {
    const r = resumingSubscriber(trunc, { room, lastSeq, node: 'a', label, reconnectDelay: 0, token: T[3], headers: { sendId: 3 } });
    return r;
  };
  const old = sub('from5', 5);
  await old.ready();
  await old.waitFor(50);
  const edge = sub('from30', 30);
  await edge.ready();
  await edge.waitFor(50);
  console.log(`truncated resume: last-seq 5 -> notices ${JSON.stringify(old.notices.map((n) => n.body))}, seqs ${short(old.seqs)}; last-seq 30 -> notices ${edge.notices.length}, seqs ${short(edge.seqs)}`);

  assert.equal(old.notices.length, 1, `one RESUME_TRUNCATED notice\n${old.c.describe()}`);
  const n = old.notices[0];
  assert.equal(n.index, 0, 'the notice is the first MESSAGE of the subscription');
  assert.equal(n.headers['x-resume-truncated'], 'true');
  assert.equal(n.headers.destination, `/sub/chat/room/${room}`);
  assert.equal(n.headers.subscription, old.subs[0].handle.id);
  assert.deepEqual(n.body, { type: 'RESUME_TRUNCATED', chatRoomId: room, lastSeq: 5, oldestSeq: 31 });
  assert.deepEqual(old.seqs, range(31, 50), 'then everything history still holds, in order');
  assert.deepEqual(edge.notices, [], 'last-seq 30: history starts at 31, nothing is missing');
  assert.deepEqual(edge.seqs, range(31, 50));

  // One more message trims seq 31: the same last-seq 30 is now too old.
  const p = await trunc.api('POST', `/api/v1/chat-rooms/${room}/messages`, T[8], { message: 'live 51' });
  assert.equal(p.status, 201, String(p));
  await old.waitFor(51);
  await edge.waitFor(51);
  assert.deepEqual(old.seqs, range(31, 51), 'live messages follow the replay');
  assert.deepEqual(edge.seqs, range(31, 51));
  const late = sub('late30', 30);
  await late.ready();
  await late.waitFor(51);
  assert.equal(late.notices.length, 1, `seq 31 is gone now: notice expected\n${late.c.describe()}`);
  assert.deepEqual(late.notices[0].body, { type: 'RESUME_TRUNCATED', chatRoomId: room, lastSeq: 30, oldestSeq: 32 });
  assert.deepEqual(late.seqs, range(32, 51));
  for (const r of [old, edge, late]) await r.c.deactivate();
});
