// The system under test for the browser tests: a private redis-server, the
// api and one ws node from ../bin (make build) in development mode (the
// public secret the app signs its tokens with), and serve.mjs serving
// web/dist, all on free loopback ports. Process output goes to
// web/artifacts/logs/<name>.log and is printed when a test fails.

import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';

export const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ARTIFACTS = path.join(WEB, 'artifacts');
const BIN = path.resolve(WEB, '..', 'bin');
const LOGS = path.join(ARTIFACTS, 'logs');
const DEV_SECRET = 'roomwire-dev-secret-not-for-production';

/** freePort asks the kernel for an unused loopback port. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** mint signs a development token for userId, as chatctl does with DEV_MODE=1. */
export function mint(userId, ttlSeconds = 3600) {
  const b = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const input = `${b({ alg: 'HS256', typ: 'JWT' })}.${b({ sub: String(userId), iat: now, exp: now + ttlSeconds })}`;
  return `${input}.${createHmac('sha256', DEV_SECRET).update(input).digest('base64url')}`;
}

/** eventually polls fn until it returns a truthy value or timeoutMs passes. */
export async function eventually(fn, what, timeoutMs = 10000) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await delay(100);
  }
}

// Service settings of the caller's shell must not leak into the services.
const SERVICE_ENV = /^(JWT_|WS_|API_|REDIS_|LONGPOLL_|LOG_|DEV_MODE$|HISTORY_LEN$|MAX_MESSAGE_BYTES$|NODE_ID$|NODE_TTL$|SHUTDOWN_TIMEOUT$)/;

function inherited() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !SERVICE_ENV.test(k)));
}

export class System {
  constructor({ env = {} } = {}) {
    this.env = env;
    this.procs = new Map();
  }

  async start() {
    for (const b of ['api', 'ws']) {
      if (!existsSync(path.join(BIN, b))) throw new Error(`${path.join(BIN, b)} is missing: run \`make build\` first`);
    }
    if (!existsSync(path.join(WEB, 'dist', 'index.html'))) throw new Error('web/dist is missing: run `npm run build` in web/');
    rmSync(LOGS, { recursive: true, force: true });
    mkdirSync(path.join(LOGS, 'redis'), { recursive: true });
    const [redis, api, ws, web, webTokens] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    this.ports = { redis, api, ws, web, webTokens };
    this.apiURL = `http://127.0.0.1:${api}`;
    this.wsURL = `ws://127.0.0.1:${ws}/ws`;
    this.webURL = `http://127.0.0.1:${web}`; // dev sign-in
    this.webTokensURL = `http://127.0.0.1:${webTokens}`; // paste-a-token sign-in
    this.origins = `${this.webURL},${this.webTokensURL}`;

    this.redisArgs = ['--port', String(redis), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', path.join(LOGS, 'redis')];
    this.#spawn('redis', 'redis-server', this.redisArgs, {});
    await this.#waitPort(redis, 'redis-server');
    this.common = {
      REDIS_URL: `redis://127.0.0.1:${redis}/0`,
      DEV_MODE: '1', // no JWT_SECRET: the development secret the app signs with
      LOG_LEVEL: 'debug',
      ...this.env,
    };
    this.#spawn('api', path.join(BIN, 'api'), [], { ...this.common, API_ADDR: `127.0.0.1:${api}`, API_ALLOWED_ORIGINS: this.origins });
    this.startWS();
    const serve = (port, ...flags) => [path.join(WEB, 'serve.mjs'), '--port', String(port), '--host', '127.0.0.1',
      '--api', this.apiURL, '--ws', this.wsURL, ...flags];
    this.#spawn('web', process.execPath, serve(web, '--dev'), {});
    this.#spawn('web-tokens', process.execPath, serve(webTokens), {});
    await Promise.all([
      this.#waitHTTP(`${this.apiURL}/readyz`, 'api'),
      this.waitWS(),
      this.#waitHTTP(`${this.webURL}/config.js`, 'web'),
      this.#waitHTTP(`${this.webTokensURL}/config.js`, 'web-tokens'),
    ]);
  }

  /** startWS starts the ws node (again) on its port. */
  startWS() {
    this.#spawn('ws', path.join(BIN, 'ws'), [], {
      ...this.common, WS_ADDR: `127.0.0.1:${this.ports.ws}`, NODE_ID: 'ws-web', WS_ALLOWED_ORIGINS: this.origins, SHUTDOWN_TIMEOUT: '2s',
    });
  }

  waitWS() {
    return this.#waitHTTP(`http://127.0.0.1:${this.ports.ws}/readyz`, 'ws');
  }

  /** stopProc sends SIGTERM (then SIGKILL after 5 s) and waits for the exit. */
  async stopProc(name) {
    const p = this.procs.get(name);
    if (!p || p.exited) return;
    p.stopping = true;
    p.child.kill('SIGTERM');
    const timer = setTimeout(() => p.child.kill('SIGKILL'), 5000);
    await p.exit;
    clearTimeout(timer);
  }

  async stop() {
    for (const name of ['web', 'web-tokens', 'ws', 'api']) await this.stopProc(name);
    await this.stopProc('redis');
  }

  /** crashed lists processes that exited without being asked to. */
  crashed() {
    return [...this.procs.values()].filter((p) => p.exited && !p.stopping).map((p) => `${p.name} (code ${p.code})`);
  }

  /** dump prints the end of every log (after a failure). */
  dump() {
    for (const name of this.procs.keys()) {
      const file = path.join(LOGS, `${name}.log`);
      if (!existsSync(file)) continue;
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
      process.stderr.write(`----- ${file} (last 60 of ${lines.length}) -----\n${lines.slice(-60).join('\n')}\n`);
    }
  }

  /** api calls the REST API as userId and returns the parsed body (throws on HTTP errors). */
  async api(userId, method, urlPath, body) {
    const res = await fetch(`${this.apiURL}/api/v1${urlPath}`, {
      method,
      headers: { Authorization: `Bearer ${mint(userId)}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(10000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${urlPath} -> ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }

  #spawn(name, cmd, args, env) {
    const log = createWriteStream(path.join(LOGS, `${name}.log`), { flags: 'a' });
    const child = spawn(cmd, args, { env: { ...inherited(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    const p = { name, child, exited: false, stopping: false };
    p.exit = new Promise((resolve) => child.on('exit', (code, signal) => {
      Object.assign(p, { exited: true, code: code ?? signal });
      log.write(`\n[${name} exited: ${code ?? signal}]\n`);
      resolve();
    }));
    child.on('error', (err) => log.write(`[${name}: ${err.message}]\n`));
    this.procs.set(name, p);
    return p;
  }

  async #waitPort(port, what) {
    await eventually(() => new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    }), `${what} on port ${port}`, 20000);
  }

  async #waitHTTP(url, what) {
    await eventually(async () => (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok, `${what} at ${url}`, 20000);
  }
}
