// stompload: the bench's second load client (issue 18), written against the
// real @stomp/stompjs exactly as the seed React app uses it, so roomwire's
// figures are reproduced by a client the server was not tuned for. It
// shares no code with chatload (Go): rooms are created over the REST API,
// every user is a stompjs Client with the seed's CONNECT headers
// (Authorization, chatRoomId, sendId, rcvId) and stompjs's defaults
// (heart-beat 10000,10000), subscribes to its room with a receipt, and
// publishes like the seed's sendMessage: /pub/send-message, a JSON body
// {chatRoomId, sendId, rcvId, message}, no headers of its own. Every
// MESSAGE is JSON.parse'd, as the app does.
//
//   node e2e/bench/stompload.mjs -name W2s -ws ws://127.0.0.1:8081/ws \
//     -api http://127.0.0.1:8080 -jwt-secret S -server-pids P -redis-pid R \
//     -rooms 1000 -rate 1 -duration 30 -payload 100 -drain 5
//   ... -idle -rooms 5000 -connect-parallel 50 -settle 3     (W1s)
//
// Users connect -connect-parallel at a time; the connect figure is first
// dial to last SUBSCRIBE receipt, with the servers' and Redis's CPU (from
// /proc) over it. With -idle that is all, plus RSS per connection after
// -settle seconds. Otherwise every user sends -rate msg/s for -duration
// seconds, each from its own random phase, and the run reports deliveries,
// loss (a subscriber missing a seq of its room sent in the window),
// duplicates, send-to-MESSAGE latency (one process, one monotonic clock,
// so it includes this client's own event-loop delays, whose p99 it reports
// beside it) and the servers' and
// Redis's CPU per delivery over the send window. One JSON line in
// chatload's result format goes to stdout (so `chatload table` prints it),
// the human summary to stderr. Exit status 1 when a connect failed or a
// message was lost.

import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from '@stomp/stompjs';
import WebSocket from 'ws';
import { mintWith } from '../lib/token.mjs';

const SUBPROTOCOLS = ['v12.stomp', 'v11.stomp', 'v10.stomp'];
const CLOCK_TICK = 100; // USER_HZ: utime and stime in /proc are in 1/100 s

function flags(argv) {
  const o = {
    name: 'stompload', ws: '', api: '', 'jwt-secret': '', 'server-pids': '', 'redis-pid': '',
    rooms: 1000, rate: 1, duration: 30, payload: 100, drain: 5, 'connect-parallel': 50,
    idle: false, settle: 3, 'user-base': 0, json: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^-+/, '');
    if (!(k in o)) throw new Error(`stompload: unknown flag ${argv[i]}`);
    if (typeof o[k] === 'boolean') { o[k] = true; continue; }
    const v = argv[++i];
    if (v === undefined) throw new Error(`stompload: flag -${k} needs a value`);
    o[k] = typeof o[k] === 'number' ? Number(v) : v;
    if (Number.isNaN(o[k])) throw new Error(`stompload: -${k} ${v} is not a number`);
  }
  for (const k of ['ws', 'api', 'jwt-secret']) if (!o[k]) throw new Error(`stompload: -${k} is required`);
  return o;
}

// ---------------------------------------------------------------- /proc
function procStat(pid) {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' '); // f[0] is field 3
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuS: (Number(f[11]) + Number(f[12])) / CLOCK_TICK, rssKiB: rss ? Number(rss[1]) : 0 };
  } catch {
    return { cpuS: 0, rssKiB: 0 };
  }
}
const pidList = (s) => String(s).split(',').map((p) => p.trim()).filter(Boolean);
function sample(o) {
  const sum = (pids) => pids.map(procStat).reduce((a, b) => ({ cpuS: a.cpuS + b.cpuS, rssKiB: a.rssKiB + b.rssKiB }), { cpuS: 0, rssKiB: 0 });
  const u = process.cpuUsage();
  return {
    at: performance.now(), server: sum(pidList(o['server-pids'])), redis: sum(pidList(o['redis-pid'])),
    clientCpuS: (u.user + u.system) / 1e6, clientRssKiB: Math.round(process.memoryUsage().rss / 1024),
  };
}
const diff = (a, b) => ({
  s: (b.at - a.at) / 1000, server: b.server.cpuS - a.server.cpuS, redis: b.redis.cpuS - a.redis.cpuS, client: b.clientCpuS - a.clientCpuS,
});

function pct(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

// ---------------------------------------------------------------- rooms
async function createRoom(o, a, b) {
  const res = await fetch(`${o.api.replace(/\/$/, '')}/api/v1/chat-rooms`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${mintWith(o['jwt-secret'], a)}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ type: 'direct', memberIds: [b] }),
  });
  const body = await res.json().catch(() => ({}));
  const id = body.id ?? body.chatRoomId;
  if (!res.ok || !Number.isInteger(id)) throw new Error(`create room ${a}-${b}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return id;
}

async function pool(n, parallel, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, async () => {
    while (next < n) await fn(next++);
  }));
}

// ---------------------------------------------------------------- users
// A user is one stompjs Client in its direct room, set up like the seed app.
class User {
  constructor(o, room, id, peer, stats) {
    Object.assign(this, { o, room, id, peer, stats });
    this.seen = new Set(); // seqs of the room delivered to this user
    this.closed = false;
  }

  /** open connects and subscribes; resolves with the time it took (ms), rejects on failure. */
  open() {
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const fail = (why) => { this.closed = true; reject(new Error(`user ${this.id}: ${why}`)); };
      this.client = new Client({
        webSocketFactory: () => new WebSocket(this.o.ws, SUBPROTOCOLS),
        connectHeaders: {
          Authorization: `Bearer ${mintWith(this.o['jwt-secret'], this.id)}`,
          chatRoomId: String(this.room), sendId: String(this.id), rcvId: String(this.peer),
        },
        reconnectDelay: 0, // a lost connection is counted, not hidden by a reconnect
        onConnect: () => {
          const receipt = `sub-${this.id}`;
          this.client.watchForReceipt(receipt, () => resolve(performance.now() - t0));
          this.client.subscribe(`/sub/chat/room/${this.room}`, (m) => this.onMessage(m), { receipt });
        },
        onStompError: (f) => fail(`ERROR ${f.headers.message}`),
        onWebSocketClose: (e) => {
          if (!this.closed && !this.stopping) this.stats.disconnected++;
          fail(`socket closed ${e.code} ${e.reason}`);
        },
      });
      this.client.activate();
    });
  }

  onMessage(m) {
    const at = performance.now();
    const msg = JSON.parse(m.body); // as the seed app does
    const st = this.stats;
    const stamp = /^~(\d+(?:\.\d+)?)~/.exec(msg.message ?? '');
    if (!stamp) { st.foreign++; return; }
    if (this.seen.has(msg.seq)) { st.duplicates++; return; }
    this.seen.add(msg.seq);
    st.received++;
    if (st.inWindow) st.windowDeliveries++;
    st.lat.push(at - Number(stamp[1]));
  }

  send() {
    if (!this.client.connected) { this.stats.sendFailed++; return; }
    const stamp = `~${performance.now().toFixed(3)}~`;
    const message = stamp.padEnd(this.o.payload, 'x');
    this.client.publish({
      destination: '/pub/send-message',
      body: JSON.stringify({ chatRoomId: this.room, sendId: this.id, rcvId: this.peer, message }),
    });
    this.stats.sent++;
  }

  stop() { this.stopping = true; return this.client.deactivate(); }
}

// ---------------------------------------------------------------- run
async function main() {
  const o = flags(process.argv.slice(2));
  const log = (s) => process.stderr.write(`stompload: ${s}\n`);
  const base = o['user-base'] || 1_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
  const stats = { sent: 0, sendFailed: 0, received: 0, windowDeliveries: 0, duplicates: 0, foreign: 0, disconnected: 0, lat: [], inWindow: false };

  const t0 = performance.now();
  const rooms = new Array(o.rooms);
  await pool(o.rooms, 20, async (i) => { rooms[i] = await createRoom(o, base + 2 * i, base + 2 * i + 1); });
  log(`${o.rooms} direct rooms of 2 ready in ${((performance.now() - t0) / 1000).toFixed(1)}s (REST API)`);
  const users = [];
  rooms.forEach((room, i) => {
    users.push(new User(o, room, base + 2 * i, base + 2 * i + 1, stats));
    users.push(new User(o, room, base + 2 * i + 1, base + 2 * i, stats));
  });

  // Connect and subscribe everyone, -connect-parallel at a time.
  const before = sample(o);
  const connectMs = [];
  let failed = 0;
  await pool(users.length, o['connect-parallel'], async (i) => {
    try {
      connectMs.push(await users[i].open());
    } catch (e) {
      if (failed++ < 5) log(e.message);
    }
  });
  const connected = sample(o);
  const c = diff(before, connected);
  connectMs.sort((a, b) => a - b);
  const ok = connectMs.length;
  log(`${ok}/${users.length} connected and subscribed in ${c.s.toFixed(2)}s (p50 ${pct(connectMs, 50).toFixed(1)}ms, p99 ${pct(connectMs, 99).toFixed(1)}ms), ${failed} failed`);
  log(`  connecting took CPU: server ${c.server.toFixed(2)}s, redis ${c.redis.toFixed(2)}s, client ${c.client.toFixed(2)}s: ${Math.round(((c.server + c.redis) * 1e6) / Math.max(ok, 1))} CPU-µs per connection (server + Redis)`);

  const r = {
    name: o.name, date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), mode: o.idle ? 'idle' : 'publish', phase: 0,
    conns: users.length, rooms: o.rooms, roomSize: 2, publishersPerRoom: o.idle ? 1 : 2, payloadBytes: o.payload,
    connected: ok, connectFailed: failed, subscribed: ok, connectS: c.s, subscribedS: c.s,
    connectP50Ms: pct(connectMs, 50), connectP99Ms: pct(connectMs, 99), connectMaxMs: connectMs.at(-1) ?? 0,
    connectServerCpuS: c.server, connectRedisCpuS: c.redis, connectClientCpuS: c.client,
    cpuUsPerConnect: ((c.server + c.redis) * 1e6) / Math.max(ok, 1),
    client: 'stompjs',
  };

  let end;
  if (o.idle) {
    await delay(o.settle * 1000);
    end = sample(o);
    const delta = end.server.rssKiB + end.redis.rssKiB - before.server.rssKiB - before.redis.rssKiB;
    Object.assign(r, {
      measuredS: 0, serverRssKiB: end.server.rssKiB, redisRssKiB: end.redis.rssKiB, clientRssKiB: end.clientRssKiB,
      baseServerRssKiB: before.server.rssKiB, baseRedisRssKiB: before.redis.rssKiB, rssDeltaKiB: delta,
      kbPerConn: (delta * 1.024) / Math.max(ok, 1),
    });
    log(`  RSS: server ${(end.server.rssKiB / 1024).toFixed(1)} MiB, redis ${(end.redis.rssKiB / 1024).toFixed(1)} MiB: ${r.kbPerConn.toFixed(1)} KB per connection (server + Redis)`);
  } else {
    // Every user sends o.rate msg/s from a random phase, evenly spread.
    const period = 1000 / o.rate;
    const timers = [];
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const w0 = sample(o);
    stats.inWindow = true;
    for (const u of users) {
      timers.push(setTimeout(() => { u.send(); timers.push(setInterval(() => u.send(), period)); }, Math.random() * period));
    }
    await delay(o.duration * 1000);
    for (const t of timers) { clearTimeout(t); clearInterval(t); }
    const w1 = sample(o);
    loop.disable();
    stats.inWindow = false;
    const w = diff(w0, w1);
    const expected = stats.sent * 2; // the sender and its peer both subscribe to the room
    const dl = performance.now() + o.drain * 1000;
    while (stats.received < expected && performance.now() < dl) await delay(50);
    stats.lat.sort((a, b) => a - b);
    const lost = Math.max(0, expected - stats.received);
    Object.assign(r, {
      ratePerPublisher: o.rate, totalRate: o.rate * users.length, durationS: o.duration, sentPerS: stats.sent / o.duration,
      sent: stats.sent, sendFailed: stats.sendFailed, expected, received: stats.received, lost,
      lostPct: expected ? (100 * lost) / expected : 0, duplicates: stats.duplicates, foreign: stats.foreign,
      disconnected: stats.disconnected, deliveriesPerS: stats.windowDeliveries / w.s,
      latP50Ms: pct(stats.lat, 50), latP90Ms: pct(stats.lat, 90), latP99Ms: pct(stats.lat, 99), latMaxMs: stats.lat.at(-1) ?? 0,
      latMeanMs: stats.lat.reduce((a, b) => a + b, 0) / Math.max(stats.lat.length, 1),
      clientLoopP99Ms: loop.percentile(99) / 1e6,
      measuredS: w.s, serverCpuS: w.server, redisCpuS: w.redis, clientCpuS: w.client,
      cpuUsPerDelivery: ((w.server + w.redis) * 1e6) / Math.max(stats.windowDeliveries, 1),
      serverCpuUsPerDelivery: (w.server * 1e6) / Math.max(stats.windowDeliveries, 1),
      serverRssKiB: w1.server.rssKiB, redisRssKiB: w1.redis.rssKiB, clientRssKiB: w1.clientRssKiB,
    });
    log(`  sent ${stats.sent} (failed ${stats.sendFailed}), expected ${expected}, received ${stats.received}, lost ${lost}, duplicates ${stats.duplicates}, foreign ${stats.foreign}, disconnected ${stats.disconnected}`);
    log(`  latency p50 ${r.latP50Ms.toFixed(2)}ms p90 ${r.latP90Ms.toFixed(2)}ms p99 ${r.latP99Ms.toFixed(2)}ms max ${r.latMaxMs.toFixed(2)}ms; ${r.deliveriesPerS.toFixed(0)} deliveries/s; this client's event loop was late by p99 ${r.clientLoopP99Ms.toFixed(2)}ms`);
    log(`  CPU over ${w.s.toFixed(1)}s: server ${w.server.toFixed(2)}s, redis ${w.redis.toFixed(2)}s, client ${w.client.toFixed(2)}s; ${r.cpuUsPerDelivery.toFixed(1)} CPU-µs per delivery (server alone ${r.serverCpuUsPerDelivery.toFixed(1)})`);
  }
  if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
  await Promise.all(users.map((u) => u.stop().catch(() => {})));
  process.exitCode = failed > 0 || (r.lost ?? 0) > 0 ? 1 : 0;
}

main().catch((e) => {
  process.stderr.write(`stompload: ${e.stack ?? e}\n`);
  process.exit(2);
});
