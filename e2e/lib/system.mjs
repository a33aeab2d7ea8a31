// The system under test, started per test file: a private redis-server, the
// api and two ws nodes (ws-a, ws-b) on free loopback ports, each process's
// output captured under e2e/artifacts/<name>/ and printed when a test fails.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, afterEach, before } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Resp, pairs } from './resp.mjs';
import { stomp } from './stomp.mjs';
import { mintWith } from './token.mjs';
import { within } from './wait.mjs';

const E2E = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// E2E_BIN points at another build of api and ws (default: the repository's bin/).
const BIN = path.resolve(process.env.E2E_BIN ?? path.resolve(E2E, '..', 'bin'));
const READY_MS = 20000;
const STOP_GRACE_MS = 5000;

/**
 * useSystem registers before/after hooks that start and stop a System for the
 * calling test file and returns it (usable once `before` has run).
 * opts.prefix sets REDIS_PREFIX (unset: the services' default, "chat").
 * opts.redisArgs are extra redis-server arguments (e.g. ['--appendonly', 'yes']);
 * opts.env is added to the environment of api and both ws nodes, opts.apiEnv
 * to the api's, opts.wsEnv to both nodes' and opts.nodeEnv.a / .b to one node's.
 */
export function useSystem(name, opts = {}) {
  const sys = new System(name, opts);
  before(() => sys.start(), { timeout: 60000 });
  afterEach((t) => { if (!t.passed) sys.failed = true; });
  after(() => sys.stop(), { timeout: 30000 });
  return sys;
}

export class System {
  constructor(name, { prefix, redisArgs = [], env = {}, apiEnv = {}, wsEnv = {}, nodeEnv = {} } = {}) {
    this.name = name;
    this.opts = { redisArgs, env, apiEnv, wsEnv, nodeEnv };
    this.prefix = prefix ?? 'chat';
    this.envPrefix = prefix; // undefined: leave REDIS_PREFIX unset
    this.dir = path.join(E2E, 'artifacts', name);
    this.secret = randomBytes(32).toString('hex');
    this.procs = [];
    this.clients = [];
    this.failed = false;
  }

  /** k joins a key or channel name under the prefix: k('session', id). */
  k(...parts) { return [this.prefix, ...parts].join(':'); }

  async start() {
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(path.join(this.dir, 'redis'), { recursive: true });
    try {
      for (const b of ['api', 'ws']) {
        if (!existsSync(path.join(BIN, b))) throw new Error(`${path.join(BIN, b)} is missing: run \`make build\` at the repo root`);
      }
      const [redisPort, apiPort, aPort, bPort] = await freePorts(4);
      this.redisPort = redisPort;
      this.apiURL = `http://127.0.0.1:${apiPort}`;
      this.nodes = {
        a: { id: 'ws-a', http: `http://127.0.0.1:${aPort}`, url: `ws://127.0.0.1:${aPort}/ws` },
        b: { id: 'ws-b', http: `http://127.0.0.1:${bPort}`, url: `ws://127.0.0.1:${bPort}/ws` },
      };
      this.redisArgv = ['--port', String(redisPort), '--bind', '127.0.0.1',
        '--save', '', '--appendonly', 'no', '--dir', path.join(this.dir, 'redis'), ...this.opts.redisArgs];
      const redis = this.#spawn('redis', '/usr/bin/redis-server', this.redisArgv, {});
      this.redisProc = redis;
      this.rc = await this.#connectRedis(redis);
      const common = {
        REDIS_URL: `redis://127.0.0.1:${redisPort}/0`,
        JWT_SECRET: this.secret,
        LOG_LEVEL: 'debug',
        LOG_FORMAT: 'json',
        ...(this.envPrefix ? { REDIS_PREFIX: this.envPrefix } : {}),
        ...this.opts.env,
      };
      const { apiEnv, wsEnv, nodeEnv } = this.opts;
      const api = this.#spawn('api', path.join(BIN, 'api'), [], { ...common, ...apiEnv, API_ADDR: `127.0.0.1:${apiPort}` });
      const wsA = this.#spawn('ws-a', path.join(BIN, 'ws'), [], { ...common, ...wsEnv, ...nodeEnv.a, WS_ADDR: `127.0.0.1:${aPort}`, NODE_ID: 'ws-a' });
      const wsB = this.#spawn('ws-b', path.join(BIN, 'ws'), [], { ...common, ...wsEnv, ...nodeEnv.b, WS_ADDR: `127.0.0.1:${bPort}`, NODE_ID: 'ws-b' });
      this.nodes.a.proc = wsA;
      this.nodes.b.proc = wsB;
      await Promise.all([
        waitReady(api, `${this.apiURL}/readyz`),
        waitReady(wsA, `${this.nodes.a.http}/readyz`),
        waitReady(wsB, `${this.nodes.b.http}/readyz`),
      ]);
      this.note(`system up: redis ${redisPort}, api ${this.apiURL}, ws-a ${this.nodes.a.url}, ws-b ${this.nodes.b.url}`);
    } catch (err) {
      this.failed = true;
      throw err;
    }
  }

  async stop() {
    for (const c of this.clients) {
      try { await within(c.client.deactivate({ force: true }), 2000, 'forced deactivate'); } catch { /* already gone */ }
    }
    this.rc?.close();
    const services = this.procs.filter((p) => p.name !== 'redis');
    await Promise.all(services.map((p) => terminate(p)));
    await Promise.all(this.procs.filter((p) => p.name === 'redis').map((p) => terminate(p)));
    const crashed = services.filter((p) => p.unexpectedExit);
    for (const p of this.procs) this.note(`${p.name} exited code=${p.exitCode} signal=${p.exitSignal}${p.unexpectedExit ? ' (UNEXPECTED, before stop)' : ''}`);
    if (this.failed || crashed.length) this.dump();
    if (crashed.length) throw new Error(`service(s) exited during the tests: ${crashed.map((p) => `${p.name} code=${p.exitCode} signal=${p.exitSignal}`).join(', ')}`);
  }

  /** note appends a line to artifacts/<name>/harness.log. */
  note(line) { appendFileSync(path.join(this.dir, 'harness.log'), `${new Date().toISOString()} ${line}\n`); }

  /** dump prints the tail of every captured log to stderr. */
  dump() {
    const out = [`\n===== artifacts of ${this.name}: ${this.dir} =====`];
    for (const f of readdirSync(this.dir).filter((f) => f.endsWith('.log')).sort()) {
      const lines = readFileSync(path.join(this.dir, f), 'utf8').split('\n');
      const n = f.startsWith('stomp-') ? 40 : 120;
      out.push(`----- ${f} (last ${Math.min(n, lines.length)} of ${lines.length} lines) -----`, ...lines.slice(-n));
    }
    process.stderr.write(out.join('\n') + '\n');
  }

  /**
   * killRedis SIGKILLs the private redis-server (no shutdown, no final save)
   * and waits for it to exit; startRedis starts it again with the same port,
   * arguments and directory (so an AOF written before the kill is loaded).
   * sys.redis() fails between the two.
   */
  async killRedis() {
    const p = this.redisProc;
    p.stopping = true;
    this.rc?.close();
    this.rc = undefined;
    this.note('harness: SIGKILL redis-server');
    p.child.kill('SIGKILL');
    await within(p.exit, STOP_GRACE_MS, 'redis-server to exit after SIGKILL');
  }

  async startRedis() {
    const p = this.#spawn('redis', '/usr/bin/redis-server', this.redisArgv, {});
    this.redisProc = p;
    this.rc = await this.#connectRedis(p);
    this.note(`harness: redis-server restarted on ${this.redisPort}`);
  }

  /**
   * kill sends signal (default SIGKILL) to ws node 'a' or 'b' and waits for it
   * to exit; the exit is expected, so stop() does not report it as a crash.
   */
  async kill(node, signal = 'SIGKILL') {
    const p = this.nodes[node].proc;
    p.stopping = true;
    this.note(`harness: ${signal} ${p.name}`);
    p.child.kill(signal);
    await within(p.exit, STOP_GRACE_MS + 1000, `${p.name} to exit after ${signal}`);
    return { code: p.exitCode, signal: p.exitSignal };
  }

  /** redis runs one command on the private Redis and returns the parsed reply. */
  redis(...args) {
    if (!this.rc) return Promise.reject(new Error('redis-server is down (killed by the test)'));
    return this.rc.call(...args);
  }

  /** hgetall returns a hash as an object ({} when the key does not exist). */
  async hgetall(key) { return pairs(await this.redis('HGETALL', key)); }

  /** mint returns a valid token for userId signed with this system's secret (opts: see token.mjs). */
  mint(userId, opts) { return mintWith(this.secret, userId, opts); }

  /**
   * api calls the REST API and never throws on an HTTP status:
   * returns {status, contentType, body (parsed JSON or undefined), text}.
   */
  async api(method, urlPath, token, body) {
    const headers = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(this.apiURL + urlPath, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10000),
    });
    const text = await res.text();
    let json;
    try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
    const r = { status: res.status, contentType: res.headers.get('content-type'), body: json, text };
    this.note(`${method} ${urlPath} ${body === undefined ? '' : JSON.stringify(body)} -> ${r.status} ${text.slice(0, 500)}`);
    r.toString = () => `${method} ${urlPath} -> HTTP ${r.status} ${r.contentType}: ${text}`;
    return r;
  }

  /** stomp connects a client to node 'a' or 'b' (see stomp.mjs for the other options). */
  stomp({ node = 'a', label, ...opts }) {
    const name = label ?? `client${this.clients.length + 1}`;
    const c = stomp({ url: this.nodes[node].url, label: `${name}@${this.nodes[node].id}`, logFile: path.join(this.dir, `stomp-${name}.log`), ...opts });
    c.name = name;
    this.clients.push(c);
    return c;
  }

  #spawn(name, cmd, args, env) {
    const logFile = path.join(this.dir, `${name}.log`);
    appendFileSync(logFile, '');
    const child = spawn(cmd, args, {
      env: { PATH: process.env.PATH, HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const p = { name, child, logFile, exited: false, stopping: false };
    const sink = (chunk) => appendFileSync(logFile, chunk);
    child.stdout.on('data', sink);
    child.stderr.on('data', sink);
    p.exit = new Promise((resolve) => child.on('exit', (code, signal) => {
      Object.assign(p, { exited: true, exitCode: code, exitSignal: signal, unexpectedExit: !p.stopping });
      resolve();
    }));
    child.on('error', (err) => appendFileSync(logFile, `harness: spawn failed: ${err.message}\n`));
    process.on('exit', () => { if (!p.exited) child.kill('SIGKILL'); });
    this.procs.push(p);
    this.note(`started ${name}: ${cmd} ${args.join(' ')} env ${JSON.stringify({ ...env, JWT_SECRET: '<random>' })}`);
    return p;
  }

  async #connectRedis(p) {
    const deadline = Date.now() + READY_MS;
    for (;;) {
      if (p.exited) throw new Error(`redis-server exited (code ${p.exitCode}): ${tail(p.logFile)}`);
      try {
        const rc = await Resp.connect(this.redisPort);
        if ((await rc.call('PING')) === 'PONG') return rc;
        rc.close();
      } catch { /* not up yet */ }
      if (Date.now() > deadline) throw new Error(`redis-server not answering PING on ${this.redisPort} after ${READY_MS} ms`);
      await delay(50);
    }
  }
}

async function waitReady(p, url) {
  const deadline = Date.now() + READY_MS;
  let last = 'no answer';
  for (;;) {
    if (p.exited) throw new Error(`${p.name} exited during start-up (code ${p.exitCode}, signal ${p.exitSignal}):\n${tail(p.logFile)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
      last = `HTTP ${res.status} ${await res.text()}`;
    } catch (err) { last = err.cause?.code ?? err.message; }
    if (Date.now() > deadline) throw new Error(`${p.name}: ${url} not 200 after ${READY_MS} ms (last: ${last}):\n${tail(p.logFile)}`);
    await delay(100);
  }
}

async function terminate(p) {
  p.stopping = !p.exited;
  if (p.exited) return;
  p.child.kill('SIGTERM');
  const killed = await Promise.race([p.exit.then(() => false), delay(STOP_GRACE_MS).then(() => true)]);
  if (killed) {
    appendFileSync(p.logFile, `harness: no exit ${STOP_GRACE_MS} ms after SIGTERM, sending SIGKILL\n`);
    p.child.kill('SIGKILL');
    await p.exit;
  }
}

function tail(file, n = 40) {
  try { return readFileSync(file, 'utf8').split('\n').slice(-n).join('\n'); } catch { return '(no log)'; }
}

/** freePorts reserves n distinct loopback ports by binding them together, then releases them. */
async function freePorts(n) {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
