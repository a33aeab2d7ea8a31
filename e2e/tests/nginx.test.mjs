// The nginx gateway of deploy/nginx/locations.conf, run for real (Debian's
// nginx) in front of the api and both ws nodes: the seed flow goes through
// one port, /api to the api and /ws upgraded to either ws node, as the
// seed's brokerURL "ws://localhost:80/ws" expects.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import WebSocket from 'ws';
import { useSystem, collect, eventually, within } from '../lib/index.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
// nginx runs on 127.0.0.1, which api and ws trust for X-Forwarded-For; the
// per-address limits are small so that one test client can use them up.
// Each ws node has burst 5: the seed flow's connections (all from
// 127.0.0.1) fit in it.
const sys = useSystem('nginx', {
  apiEnv: { API_TRUSTED_PROXIES: '127.0.0.1', API_RATE_PER_IP: '0.1', API_RATE_BURST_PER_IP: '3' },
  wsEnv: { WS_TRUSTED_PROXIES: '127.0.0.1', WS_CONNECT_RATE: '0.1', WS_CONNECT_BURST: '5' },
});
const gw = {};

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

async function startGateway() {
  assert.ok(NGINX, 'nginx is not installed (apt-get install nginx); .ci/run installs it');
  gw.port = await freePort();
  gw.dir = path.join(sys.dir, 'nginx');
  mkdirSync(gw.dir, { recursive: true });
  const hostPort = (u) => new URL(u).host;
  // The deploy file's routes, verbatim; only upstreams and paths differ.
  writeFileSync(path.join(gw.dir, 'nginx.conf'), `
daemon off;
master_process off;
pid ${gw.dir}/nginx.pid;
error_log ${gw.dir}/error.log info;
events { worker_connections 1024; }
http {
  access_log ${gw.dir}/access.log;
  client_body_temp_path ${gw.dir}/body; proxy_temp_path ${gw.dir}/proxy;
  fastcgi_temp_path ${gw.dir}/fcgi; uwsgi_temp_path ${gw.dir}/uwsgi; scgi_temp_path ${gw.dir}/scgi;
  upstream roomwire_api { server ${hostPort(sys.apiURL)}; }
  upstream roomwire_ws  { least_conn; server ${hostPort(sys.nodes.a.http)}; server ${hostPort(sys.nodes.b.http)}; }
  upstream roomwire_web { server 127.0.0.1:9; }
  server {
    listen 127.0.0.1:${gw.port};
    include ${ROOT}/deploy/nginx/locations.conf;
  }
}
`);
  gw.proc = spawn(NGINX, ['-c', path.join(gw.dir, 'nginx.conf'), '-p', gw.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  gw.proc.stderr.on('data', (d) => { gw.stderr = (gw.stderr ?? '') + d; });
  gw.base = `http://127.0.0.1:${gw.port}`;
  await eventually(async () => {
    const r = await fetch(gw.base + '/healthz');
    assert.equal(r.status, 200, `nginx on ${gw.port}: ${gw.stderr ?? ''}`);
  });
}

after(() => { gw.proc?.kill('SIGTERM'); });

async function api(method, p, token, body) {
  const res = await fetch(gw.base + p, {
    method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, text };
}

test('the seed flow works through the nginx gateway: /api and /ws on one port', async () => {
  if (!gw.base) await startGateway();
  const t8 = sys.mint(8), t3 = sys.mint(3);
  const created = await api('POST', '/api/v1/chat-rooms', t8, { type: 'direct', memberIds: [3] });
  assert.equal(created.status, 201, created.text);
  const room = created.body.id;
  const url = `ws://127.0.0.1:${gw.port}/ws`;
  const clients = [[8, 3, t8], [3, 8, t3]].map(([me, peer, token]) => sys.stomp({
    url, token, label: `gw-user${me}`, headers: { chatRoomId: room, sendId: me, rcvId: peer },
    onConnect: (_f, c) => { c.chat = collect(c, `/sub/chat/room/${room}`); },
  }));
  for (const c of clients) {
    await c.ready();
    await c.chat.ready;
  }
  clients[0].client.publish({ destination: '/pub/send-message', body: JSON.stringify({ chatRoomId: room, sendId: 8, rcvId: 3, message: 'via nginx' }) });
  const posted = await api('POST', `/api/v1/chat-rooms/${room}/messages`, t3, { message: 'rest via nginx' });
  assert.equal(posted.status, 201, posted.text);
  for (const c of clients) {
    await eventually(() => assert.deepEqual(c.chat.items.map((b) => b.message).sort(), ['rest via nginx', 'via nginx'],
      `${c.label} receives both messages`));
  }
  // Both sessions went through the gateway to ws nodes and are registered.
  const sessions = await sys.hgetall(`chat:room:{${room}}:sessions`);
  assert.equal(Object.keys(sessions).length, 2, JSON.stringify(sessions));
  const gone = await api('POST', '/api/v1/chat-room/disconnect', t8, { sendId: 8, rcvId: 3, chatRoomId: room });
  assert.deepEqual(gone.body, { disconnected: 1 }, gone.text);
  await within(clients[1].client.deactivate(), 10000, 'deactivate() through the gateway gets its RECEIPT');
  const log = readFileSync(path.join(gw.dir, 'access.log'), 'utf8');
  assert.match(log, /GET \/ws HTTP\/1\.1" 101/, 'the upgrade went through nginx');

  // nginx names each request (X-Request-ID = $request_id): the api echoes
  // the id and logs it with the request's lines.
  const listed = await fetch(gw.base + '/api/v1/chat-rooms', { headers: { authorization: `Bearer ${t8}` } });
  const id = listed.headers.get('x-request-id');
  assert.match(id ?? '', /^[0-9a-f]{32}$/, 'the answer carries nginx\'s request id');
  await eventually(() => assert.match(readFileSync(path.join(sys.dir, 'api.log'), 'utf8'), new RegExp(`"request_id":"${id}"`),
    'the api logged the request under nginx\'s id'));
});

/** upgrade tries one WebSocket upgrade of /ws through nginx as client xff; resolves to the HTTP status (101 if accepted). */
function upgrade(xff) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${gw.base}/ws`, {
      headers: {
        connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'), 'sec-websocket-protocol': 'v12.stomp',
        'x-forwarded-for': xff,
      },
      timeout: 10000,
    });
    req.on('upgrade', (res, socket) => { socket.destroy(); resolve(res.statusCode); });
    req.on('response', (res) => { res.resume(); resolve(res.statusCode); });
    req.on('timeout', () => req.destroy(new Error('upgrade timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** gwGet sends GET /api/v1/chat-rooms through nginx as client xff with the Authorization value authz. */
async function gwGet(xff, authz) {
  const res = await fetch(gw.base + '/api/v1/chat-rooms', {
    headers: { 'x-forwarded-for': xff, authorization: authz }, signal: AbortSignal.timeout(10000),
  });
  const text = await res.text();
  return { status: res.status, text, retryAfter: res.headers.get('retry-after'), type: res.headers.get('content-type') };
}

// nginx's own peer is always this test, on 127.0.0.1: to stand for two
// clients the test sends X-Forwarded-For itself, and nginx appends
// 127.0.0.1 ($proxy_add_x_forwarded_for), e.g. "198.51.100.1, 127.0.0.1".
// api and ws trust 127.0.0.1 only, so reading the list from the right they
// skip nginx's entry and take the test's: the setup of a trusted load
// balancer in front of nginx. Before WS_TRUSTED_PROXIES and
// API_TRUSTED_PROXIES every client behind nginx shared nginx's bucket.
test('behind nginx one client using up its per-address limits leaves another client alone', async () => {
  if (!gw.base) await startGateway();
  const A = '198.51.100.1', B = '198.51.100.2';
  // A upgrades until both ws nodes refuse it: nginx spreads the attempts
  // over the two nodes, so four 429s in a row cover both.
  let refused = 0;
  for (let tries = 1; refused < 4; tries++) {
    assert.ok(tries <= 40, `client A was never refused: WS_CONNECT_BURST=5 per node (${tries} attempts)`);
    refused = (await upgrade(A)) === 429 ? refused + 1 : 0;
  }
  for (let i = 0; i < 4; i++) assert.equal(await upgrade(B), 101, `client B's upgrade ${i + 1} through nginx, while A is over its limit`);

  // B's session is registered with its own address.
  const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/ws`, ['v12.stomp'], { headers: { 'x-forwarded-for': B } });
  try {
    const connected = new Promise((resolve, reject) => {
      ws.on('message', (d) => resolve(String(d)));
      ws.on('error', reject);
    });
    await within(new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); }), 10000, 'B opens a WebSocket');
    ws.send(`CONNECT\naccept-version:1.2\nAuthorization:Bearer ${sys.mint(8)}\n\n\0`);
    const frame = await within(connected, 10000, 'CONNECTED');
    const session = /\nsession:([^\n]+)/.exec(frame)?.[1];
    assert.ok(frame.startsWith('CONNECTED') && session, frame);
    const h = await sys.hgetall(sys.k('session', session));
    assert.equal(h.remoteAddr, B, `the registry names the forwarded client: ${JSON.stringify(h)}`);
  } finally {
    ws.terminate();
  }

  // The api: A's requests without a valid token run out (burst 3), then
  // 429 problem+json with Retry-After; B is still answered on its merits.
  let r;
  for (let tries = 1; (r = await gwGet(A, 'Bearer not-a-token')).status === 401; tries++) {
    assert.ok(tries <= 3, 'client A got more than API_RATE_BURST_PER_IP=3 answers 401');
  }
  assert.equal(r.status, 429, r.text);
  assert.equal(r.type, 'application/problem+json');
  assert.ok(Number(r.retryAfter) >= 1, `Retry-After ${r.retryAfter}`);
  assert.equal((await gwGet(B, 'Bearer not-a-token')).status, 401, 'B\'s bad token is 401, not A\'s 429');
  const ok = await gwGet(B, `Bearer ${sys.mint(3)}`);
  assert.equal(ok.status, 200, ok.text);
  await eventually(() => assert.match(readFileSync(path.join(sys.dir, 'api.log'), 'utf8'), /"remote":"198\.51\.100\.2"/,
    'the api logs the forwarded client'));
});
