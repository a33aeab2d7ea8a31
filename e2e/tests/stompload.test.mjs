// The bench's stompjs load client (bench/stompload.mjs, make bench's W1s and
// W2s) at a small scale against a real system: it must count what it sent
// and got right, report the services' CPU, and fail loudly when it cannot
// connect. The figures themselves are the bench's business, not asserted.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { useSystem } from '../lib/index.mjs';

const TOOL = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bench', 'stompload.mjs');
const sys = useSystem('stompload');

/** run starts stompload against node a; resolves {code, result (its JSON line), stderr}. */
function run(args, { secret = sys.secret } = {}) {
  const pids = sys.mode === 'single' ? ['-redis-pid', String(sys.redisProc.child.pid)] : [];
  const child = spawn(process.execPath, [TOOL, '-ws', sys.nodes.a.url, '-api', sys.apiURL, '-jwt-secret', secret,
    '-server-pids', String(sys.nodes.a.proc.child.pid), ...pids, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b) => { out += b; });
  child.stderr.on('data', (b) => { err += b; });
  return new Promise((resolve) => child.on('exit', (code) => {
    const line = out.trim().split('\n').filter(Boolean).at(-1);
    resolve({ code, result: line ? JSON.parse(line) : undefined, stderr: err });
  }));
}

test('W2s at small scale: every message sent reaches both members once, with latency and CPU reported', { timeout: 60000 }, async () => {
  const { code, result: r, stderr } = await run(['-name', 'smoke', '-rooms', '15', '-rate', '4', '-duration', '2', '-drain', '5']);
  assert.equal(code, 0, stderr);
  assert.equal(r.name, 'smoke');
  assert.equal(r.connected, 30, stderr);
  assert.equal(r.connectFailed, 0);
  assert.ok(r.sent >= 30 * 4 * 2 * 0.8, `sent ${r.sent}, about 240 expected: ${stderr}`);
  assert.equal(r.expected, 2 * r.sent);
  assert.equal(r.received, r.expected, stderr);
  assert.equal(r.lost, 0);
  assert.equal(r.duplicates, 0);
  assert.equal(r.foreign, 0);
  assert.ok(r.latP99Ms > 0 && r.latP99Ms >= r.latP50Ms, stderr);
  assert.ok(r.clientLoopP99Ms > 0, `the client's own event-loop delay is reported: ${stderr}`);
  assert.ok(r.serverCpuS > 0 && r.cpuUsPerDelivery > 0, `the node's CPU must be read from /proc: ${stderr}`);
});

test('W1s at small scale: connect time, CPU per connection and memory per connection are reported', { timeout: 60000 }, async () => {
  const { code, result: r, stderr } = await run(['-name', 'idle', '-idle', '-rooms', '10', '-settle', '1']);
  assert.equal(code, 0, stderr);
  assert.equal(r.mode, 'idle');
  assert.equal(r.connected, 20, stderr);
  assert.ok(r.connectS > 0 && r.connectP99Ms >= r.connectP50Ms, stderr);
  assert.ok(r.connectServerCpuS >= 0 && r.cpuUsPerConnect >= 0);
  assert.ok(r.serverRssKiB > 0, stderr);
});

test('a run whose users cannot connect fails, with every failure counted', { timeout: 60000 }, async () => {
  const { code, result: r, stderr } = await run(['-name', 'refused', '-idle', '-rooms', '2', '-settle', '0', '-ws', 'ws://127.0.0.1:1/ws']);
  assert.equal(code, 1, stderr);
  assert.equal(r.connected, 0);
  assert.equal(r.connectFailed, 4);
  assert.match(stderr, /0\/4 connected and subscribed.*4 failed/);
});

test('a run the REST API refuses (wrong secret) stops before connecting, and says why', { timeout: 60000 }, async () => {
  const wrong = sys.secret.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
  const { code, result: r, stderr } = await run(['-name', 'unauthorised', '-idle', '-rooms', '2', '-settle', '0'], { secret: wrong });
  assert.equal(code, 2, stderr);
  assert.equal(r, undefined);
  assert.match(stderr, /create room .*HTTP 401/);
});
