// make soak: a soak under attack (issue 14). One api and one ws node on a
// private Redis, default limits. A healthy pair chats with @stomp/stompjs
// (each user SENDs with a receipt every SOAK_PERIOD_MS), first alone for
// SOAK_QUIET_S, then for SOAK_ATTACK_S while one hostile user runs the
// memory and budget attacks of cases 1, 2, 3 and 7 at full speed
// (attacker.mjs). It prints, for both phases: the healthy pair's messages
// acknowledged / delivered / lost, latency p50 / p99 / max, and the peak RSS
// of ws and api; then what the attacker got. It exits 1 when the healthy pair
// lost an acknowledged message in either phase or a peak RSS passes its
// bound (SOAK_WS_RSS_MB, SOAK_API_RSS_MB); latency is printed, not judged.
// SOAK_ATTACKS=tx,churn,packed,resume,rest runs only some of the attacks;
// SOAK_ENV="K=V,K=V" sets service variables for the run.

import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { System } from '../lib/system.mjs';
import { within } from '../lib/wait.mjs';
import { collect } from '../lib/stomp.mjs';
import { StompSender, every, now, percentiles, stampOf } from '../lib/traffic.mjs';
import { frame, Attacker } from './attacker.mjs';

const num = (name, d) => Number(process.env[name] ?? d);
const QUIET_S = num('SOAK_QUIET_S', 30);
const ATTACK_S = num('SOAK_ATTACK_S', 60);
const PERIOD_MS = num('SOAK_PERIOD_MS', 100);
const WS_RSS_MB = num('SOAK_WS_RSS_MB', 160);
const API_RSS_MB = num('SOAK_API_RSS_MB', 100);
const BACKLOG = num('SOAK_BACKLOG', 1000);

function rssMB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch { return 0; }
}

/** peaks samples the RSS of the named pids every 200 ms until stopped. */
function peaks(pids) {
  const peak = Object.fromEntries(Object.keys(pids).map((k) => [k, 0]));
  const t = setInterval(() => { for (const [k, pid] of Object.entries(pids)) peak[k] = Math.max(peak[k], rssMB(pid)); }, 200);
  return { peak, stop: () => clearInterval(t) };
}

/** pair connects two users into their direct room, like the seed app, and returns their senders and readers. */
async function pair(sys, room, a, b) {
  const side = async (user, other, tag) => {
    const c = sys.stomp({ label: tag, token: sys.mint(user), headers: { chatRoomId: String(room), sendId: String(user), rcvId: String(other) } });
    await c.ready();
    const col = collect(c, `/sub/chat/room/${room}`);
    await col.ready;
    return { c, col, sender: new StompSender(c, { room, sendId: user, tag }) };
  };
  const A = await side(a, b, `A${a}`);
  const B = await side(b, a, `B${b}`);
  return [A, B];
}

/** phase runs the pair's traffic for seconds and reports delivery and latency. */
async function phase(name, sides, seconds, pids) {
  const start = sides.map((s) => s.col.items.length);
  const sent0 = sides.map((s) => s.sender.acked.length);
  const unacked0 = sides.map((s) => s.sender.unacked.length);
  const rss = peaks(pids);
  const pacers = sides.map((s, i) => {
    const p = { stop: null };
    // Random phase per sender, then a fixed schedule.
    const t = setTimeout(() => { const e = every(PERIOD_MS, () => s.sender.send()); p.stop = e.stop; }, Math.random() * PERIOD_MS * (i + 1));
    p.cancel = () => clearTimeout(t);
    return p;
  });
  await delay(seconds * 1000);
  // A send still waiting for its RECEIPT after the bound counts as unacknowledged.
  for (const p of pacers) { p.cancel(); await within(p.stop?.() ?? Promise.resolve(), 20000, 'the last RECEIPTs').catch(() => {}); }
  for (const s of sides) await s.sender.settle(15000).catch(() => {});
  await delay(1000); // the last deliveries
  rss.stop();
  const report = { name, acked: 0, delivered: 0, lost: 0, unacked: 0 };
  const lat = [];
  sides.forEach((s, i) => {
    const other = sides[1 - i];
    const acked = new Set(s.sender.acked.slice(sent0[i]));
    report.acked += acked.size;
    report.unacked += s.sender.unacked.length - unacked0[i] + s.sender.pending.size;
    for (const [j, item] of other.col.items.entries()) {
      if (j < start[1 - i] || !acked.has(item.message)) continue;
      report.delivered++;
      acked.delete(item.message);
      const at = other.col.frames[j].receivedAt ?? now();
      lat.push(at - stampOf(item.message));
    }
    report.lost += acked.size;
  });
  Object.assign(report, percentiles(lat), { wsMB: Math.round(rss.peak.ws), apiMB: Math.round(rss.peak.api) });
  return report;
}

async function main() {
  // SOAK_ENV="K=V,K=V" is added to the services' environment (to try a limit).
  const extra = Object.fromEntries((process.env.SOAK_ENV ?? '').split(',').filter(Boolean).map((kv) => kv.split('=')));
  const sys = new System('soak', { wsNodes: 1, env: { LOG_LEVEL: 'info', ...extra } });
  await sys.start();
  let failed = false;
  try {
    const pids = { ws: sys.nodes.a.proc.child.pid, api: sys.procs.find((p) => p.name === 'api').child.pid };
    // The healthy pair (users 1 and 2) and the attacker (user 666) with its own group.
    const tA = sys.mint(1);
    const direct = await sys.api('POST', '/api/v1/chat-rooms', tA, { type: 'direct', memberIds: [2] });
    const room = direct.body.id;
    const tX = sys.mint(666);
    const group = await sys.api('POST', '/api/v1/chat-rooms', tX, { type: 'group', name: 'attack', memberIds: [667] });
    const xroom = group.body.id;

    // The attacker's backlog: BACKLOG messages of 4000 '<' (the worst case for escaping).
    const x = new Attacker({ wsURL: sys.nodes.a.url, apiURL: sys.apiURL, token: tX, userId: 666, room: xroom });
    const s = await x.connect((f, sess) => { if (f.startsWith('RECEIPT')) sess.receipt?.(); });
    const body = `{"chatRoomId":${xroom},"message":"${'<'.repeat(4000)}"}`;
    for (let i = 1; i <= BACKLOG; i++) {
      const h = { destination: '/pub/send-message' };
      if (i === BACKLOG) h.receipt = 'last';
      x.send(s, frame('SEND', h, body));
      if (i % 100 === 0) { await x.drain(s, 1 << 20); await delay(100); }
    }
    await Promise.race([new Promise((r) => { s.receipt = r; }), delay(30000)]);
    console.error(`soak: backlog of ${BACKLOG} messages in room ${xroom} sent`);
    s.ws.close();
    x.stats = { ...x.stats, connects: 0, framesSent: 0, bytesSent: 0 };

    // Each receiver stamps arrival times (stompjs gives none).
    const sides = await pair(sys, room, 1, 2);
    for (const sd of sides) {
      const orig = sd.col.frames.push.bind(sd.col.frames);
      sd.col.frames.push = (m) => { m.receivedAt = now(); return orig(m); };
    }
    await delay(2000);
    console.error(`soak: quiet phase, ${QUIET_S} s`);
    const quiet = await phase('quiet', sides, QUIET_S, pids);
    console.error(`soak: attack phase, ${ATTACK_S} s`);
    // The attack runs in its own process, so its work never delays the
    // healthy pair's event loop (and so their measured latency).
    const child = fork(fileURLToPath(new URL('./attacker.mjs', import.meta.url)), ['child']);
    const only = process.env.SOAK_ATTACKS ? process.env.SOAK_ATTACKS.split(',') : undefined;
    child.send({ start: { wsURL: x.wsURL, apiURL: x.apiURL, token: x.token, userId: x.userId, room: x.room, only } });
    const attack = await phase('under attack', sides, ATTACK_S, pids);
    const stats = await new Promise((resolve) => {
      child.on('message', (m) => { if (m.stats) resolve(m.stats); });
      child.send({ stop: true });
    });
    x.stats = stats;
    console.error('soak: attacker stopped');

    const row = (r) => `${r.name.padEnd(13)} acked ${String(r.acked).padStart(5)}  delivered ${String(r.delivered).padStart(5)}  lost ${r.lost}  unacked ${r.unacked}  p50 ${r.p50} ms  p99 ${r.p99} ms  max ${r.max} ms  peak RSS ws ${r.wsMB} MiB, api ${r.apiMB} MiB`;
    console.log('\n== soak: healthy pair (2 users, 1 msg each per %d ms) on one ws node and one api', PERIOD_MS);
    console.log(row(quiet));
    console.log(row(attack));
    console.log(`p99 under attack / quiet: ${(attack.p99 / quiet.p99).toFixed(2)}x (goal: within 2x)`);
    console.log('== attacker (user 666):', JSON.stringify(x.stats));
    for (const r of [quiet, attack]) {
      if (r.lost > 0) { failed = true; console.log(`FAIL: ${r.name}: the healthy pair lost ${r.lost} acknowledged messages`); }
      if (r.wsMB > WS_RSS_MB) { failed = true; console.log(`FAIL: ${r.name}: ws peak RSS ${r.wsMB} MiB > ${WS_RSS_MB}`); }
      if (r.apiMB > API_RSS_MB) { failed = true; console.log(`FAIL: ${r.name}: api peak RSS ${r.apiMB} MiB > ${API_RSS_MB}`); }
    }
    console.log(failed ? 'soak: FAILED' : 'soak: healthy pair lost nothing; RSS within bounds');
  } finally {
    sys.failed = failed;
    await sys.stop().catch((err) => { console.error(err.message); failed = true; });
  }
  process.exit(failed ? 1 : 0);
}

main().catch((err) => { console.error(err); process.exit(1); });
