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
import { useSystem, collect, eventually, within } from '../lib/index.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
const sys = useSystem('nginx');
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
  await startGateway();
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
