#!/usr/bin/env node
// A tiny static server for the built client (web/dist), used by `make run`
// and `make test-web`. It answers /config.js from its own settings, so one
// build talks to any api/ws:
//
//   node serve.mjs [--port 5173] [--host 127.0.0.1] [--dir dist]
//                  [--api http://localhost:8080] [--ws ws://localhost:8081/ws] [--dev]
//
// Environment (flags win): WEB_PORT, WEB_HOST, WEB_API_URL, WEB_WS_URL,
// WEB_DEV_MODE=1. Port 0 picks a free port. The first line on stdout is
// "serving <dir> at http://<host>:<port>" once it listens. Unknown paths
// without a file extension get index.html (the app routes in the #hash).

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const env = process.env;
const { values: opt } = parseArgs({
  options: {
    port: { type: 'string', default: env.WEB_PORT ?? '5173' },
    host: { type: 'string', default: env.WEB_HOST ?? '127.0.0.1' },
    dir: { type: 'string', default: path.join(here, 'dist') },
    api: { type: 'string', default: env.WEB_API_URL ?? 'http://localhost:8080' },
    ws: { type: 'string', default: env.WEB_WS_URL ?? 'ws://localhost:8081/ws' },
    dev: { type: 'boolean', default: ['1', 'true', 'yes'].includes((env.WEB_DEV_MODE ?? '').toLowerCase()) },
  },
});

const root = path.resolve(opt.dir);
const configJS = `window.__ROOMWIRE_CONFIG__ = ${JSON.stringify({ apiURL: opt.api, wsURL: opt.ws, devMode: opt.dev })};\n`;

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

async function file(p) {
  try {
    const s = await stat(p);
    if (s.isFile()) return { p, s };
    if (s.isDirectory()) return file(path.join(p, 'index.html'));
  } catch {
    // not there
  }
  return null;
}

function send(res, status, type, body, extra = {}) {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

const server = http.createServer(async (req, res) => {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'text/plain', 'method not allowed\n', { Allow: 'GET, HEAD' });
    return;
  }
  let urlPath;
  try {
    urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  } catch {
    send(res, 400, 'text/plain', 'bad request\n');
    return;
  }
  if (urlPath === '/config.js') {
    send(res, 200, TYPES['.js'], configJS, { 'Cache-Control': 'no-cache' });
    return;
  }
  const target = path.join(root, path.normalize(urlPath));
  if (target !== root && !target.startsWith(root + path.sep)) {
    send(res, 403, 'text/plain', 'forbidden\n');
    return;
  }
  let f = await file(target);
  if (!f && !path.extname(urlPath)) f = await file(path.join(root, 'index.html'));
  if (!f) {
    send(res, 404, 'text/plain', 'not found\n');
    return;
  }
  const hashed = f.p.startsWith(path.join(root, 'assets') + path.sep);
  res.writeHead(200, {
    'Content-Type': TYPES[path.extname(f.p)] ?? 'application/octet-stream',
    'Content-Length': f.s.size,
    'Cache-Control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(f.p).pipe(res);
});

server.on('error', (err) => {
  console.error(`serve: ${err.code === 'EADDRINUSE' ? `port ${opt.port} is in use` : err.message}`);
  process.exit(1);
});
server.listen(Number(opt.port), opt.host, () => {
  const { port } = server.address();
  const host = opt.host.includes(':') ? `[${opt.host}]` : opt.host;
  console.log(`serving ${root} at http://${host}:${port} (api ${opt.api}, ws ${opt.ws}, dev sign-in ${opt.dev ? 'on' : 'off'})`);
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
