// Redis Cluster topology changes in the middle of traffic (E2E_REDIS=cluster
// only): three masters with one replica each, three ws nodes.
//
// Each test has its own room: STOMP senders 71@ws-a and 75@ws-b (receipts)
// and a REST sender 76 send unique texts; on ERROR / close / non-201 they
// go on with NEW texts (an unacknowledged text is never re-sent, so a
// duplicate stays visible). Subscribers 72@ws-a, 73@ws-b, 74@ws-c (resuming
// with last-seq if a node drops them) and a long poller (77) record
// everything. Meanwhile:
//   1. CLUSTER FAILOVER on the replica of the master that owns the room's
//      slot (the old master becomes its replica);
//   2. the room's slot migrates to another master (SETSLOT IMPORTING /
//      MIGRATING, MIGRATE key by key with pauses so traffic meets the slot
//      half-moved, SETSLOT NODE on every master).
// Afterwards every acknowledged message must have reached every reader
// exactly once, in seq order, with no gap in 1..lastSeq; unacknowledged
// ones may be missing but never doubled.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import {
  useSystem, eventually, resumingSubscriber, StompSender, RestSender, LongPoller, roomLastSeq,
  now, percentiles, mixedTraffic, catchUp, deliveryReport, logDelivery, assertDelivery,
} from '../lib/index.mjs';

const sys = useSystem('cluster-failover', {
  replicas: 1,
  only: 'cluster',
  why: 'fails over and reshards a Redis Cluster (run with E2E_REDIS=cluster)',
});
const PERIOD_MS = 20; // each sender: one message per 20 ms
const AFTER_MS = 1500; // traffic after every sender got through again
const USERS = [71, 72, 73, 74, 75, 76, 77];
const tok = {};

const HUB = {
  backfilled: 'roomwire_ws_redis_messages_backfilled_total',
  duplicates: 'roomwire_ws_redis_duplicates_dropped_total',
  received: 'roomwire_ws_redis_messages_received_total',
};
async function hubCounters() {
  const out = {};
  for (const [n, node] of Object.entries(sys.nodes)) {
    const m = await sys.metrics(n);
    out[node.id] = Object.fromEntries(Object.entries(HUB).map(([k, name]) => [k, m[name]]));
  }
  return out;
}

async function setup(name) {
  for (const u of USERS) tok[u] ??= sys.mint(u);
  const r = await sys.api('POST', '/api/v1/chat-rooms', tok[71], { type: 'group', name, memberIds: USERS.slice(1) });
  assert.equal(r.status, 201, String(r));
  const S = { name, room: r.body.id };
  S.key = `chat:room:{${S.room}}:messages`;
  S.slot = (await sys.cluster.master(S.key)).slot;
  S.subs = [[72, 'a'], [73, 'b'], [74, 'c']].map(([u, node]) => resumingSubscriber(sys, {
    room: S.room, node, label: `${name}-sub${u}`, token: tok[u], reconnectDelay: 200, headers: { chatRoomId: S.room, sendId: u },
  }));
  for (const s of S.subs) await s.ready();
  const stompSender = (u, node) => {
    const c = sys.stomp({ node, label: `${name}-send${u}`, token: tok[u], reconnectDelay: 200, headers: { chatRoomId: S.room, sendId: u } });
    c.errors = [];
    c.emitter.on('stompError', (f) => c.errors.push(f.headers.message));
    return c;
  };
  S.sa = stompSender(71, 'a');
  S.sb = stompSender(75, 'b');
  await S.sa.ready();
  await S.sb.ready();
  S.senders = [
    new StompSender(S.sa, { room: S.room, sendId: 71, tag: `${name}-A` }),
    new StompSender(S.sb, { room: S.room, sendId: 75, tag: `${name}-B` }),
  ];
  S.rest = new RestSender(sys, { room: S.room, token: tok[76], tag: `${name}-R`, timeoutMs: 6000 });
  S.poller = new LongPoller(sys, { room: S.room, token: tok[77], wait: '5s', waitMs: 5000, label: `${name}-longpoll` }).start(0);
  return S;
}

/** disrupt runs traffic, calls action() in the middle of it, then checks every reader. */
async function disrupt(S, what, action) {
  const t0 = now();
  const at = () => Math.round(now() - t0);
  const timeline = {};
  const hubBefore = await hubCounters();
  const traffic = mixedTraffic({ stomp: S.senders, rest: S.rest, periodMs: PERIOD_MS });
  const { all } = traffic;
  let ackedBefore, ackedAfter, final, catchUpError, detail;
  try {
    await eventually(() => { for (const s of all) assert.ok(s.acked.length >= 30, `${s.tag}: ${s.acked.length} acked`); }, 10000);
    ackedBefore = all.map((s) => s.acked.length);
    timeline.actionStart = at();
    detail = await action();
    timeline.actionDone = at();
    ackedAfter = all.map((s) => s.acked.length);
    await eventually(() => {
      all.forEach((s, i) => assert.ok(s.acked.length > ackedAfter[i], `${s.tag} acknowledged again after the ${what}`));
    }, 15000, 20);
    timeline.allSendersBack = at();
    await delay(AFTER_MS); // more traffic on the new topology
    await traffic.stop();
    timeline.trafficStopped = at();
    final = await roomLastSeq(sys, S.room, tok[72]);
    catchUpError = await catchUp([...S.subs, S.poller], final);
    timeline.caughtUp = at();
  } finally {
    traffic.halt();
    await S.poller.stop();
  }
  const hubAfter = await hubCounters();

  // ---- figures ----
  const d = deliveryReport({ senders: all, readers: [...S.subs, S.poller], final });
  const P = `cluster ${what} [${S.name}, room ${S.room}, slot ${S.slot}]`;
  console.log(`${P} ${JSON.stringify(detail)}; timeline (ms from traffic start): ${JSON.stringify(timeline)}`);
  console.log(`${P} senders: ${JSON.stringify(Object.fromEntries(all.map((s, i) => [s.tag, {
    acked: s.acked.length, unacked: s.unacked.length, notSentWhileDisconnected: s.skipped ?? 0, ackLatencyMs: percentiles(s.ackMs),
    ackedBefore: ackedBefore?.[i], ackedDuring: ackedAfter && ackedAfter[i] - ackedBefore[i],
  }])))}; REST statuses ${JSON.stringify(S.rest.statuses)}; room lastSeq ${final}`);
  logDelivery(P, d);
  const hubDelta = Object.fromEntries(Object.keys(hubAfter).map((id) => [id,
    Object.fromEntries(Object.keys(HUB).map((k) => [k, hubAfter[id][k] - hubBefore[id][k]]))]));
  console.log(`${P} hub counters (delta): ${JSON.stringify(hubDelta)}`);
  for (const c of [S.sa, S.sb]) console.log(`${P} ${c.label}: connections ${c.connects}, ERRORs ${JSON.stringify([...new Set(c.errors)])}`);
  console.log(`${P} long poller: ${S.poller.polls} polls, ${S.poller.errors.length} failed ${JSON.stringify([...new Set(S.poller.errors.map((e) => e.slice(0, 60)))])}`);
  console.log(`${P} unacknowledged by cause: ${JSON.stringify(d.unackedByCause)}`);

  // ---- assertions ----
  assertDelivery(d, { catchUpError });
  for (const r of S.subs) {
    assert.equal(r.c.connects, 1, `${r.c.label} stayed connected: the ws node follows the topology change, clients do not reconnect\n${r.c.describe()}`);
  }
  for (const c of [S.sa, S.sb]) await c.deactivate();
  for (const r of S.subs) await r.c.deactivate();
}

test('CLUSTER FAILOVER of the room\'s master mid-traffic: every acknowledged message reaches every reader exactly once, in order', { skip: sys.skip }, async () => {
  const S = await setup('failover');
  await disrupt(S, 'failover', async () => {
    const r = await sys.cluster.failover(S.key);
    assert.notEqual(r.to, r.from, 'a replica took over');
    assert.equal((await sys.cluster.master(S.key)).addr, r.to, `slot ${S.slot} is served by the promoted replica`);
    return r;
  });
});

test('the room\'s slot migrates to another master mid-traffic: every acknowledged message reaches every reader exactly once, in order', { skip: sys.skip }, async () => {
  const S = await setup('migrate');
  await disrupt(S, 'slot migration', async () => {
    // One key per MIGRATE with 100 ms pauses: senders meet the slot half-moved (ASK / TRYAGAIN).
    const r = await sys.cluster.moveSlot(S.key, { batch: 1, pauseMs: 100 });
    assert.notEqual(r.to, r.from, 'the slot moved to another master');
    assert.equal((await sys.cluster.master(S.key)).addr, r.to, `slot ${S.slot} is served by ${r.to}`);
    return r;
  });
});
