// The system under test, started per test file: a private redis-server, the
// api and two ws nodes (ws-a, ws-b) on free loopback ports, each process's
// output captured under e2e/artifacts/<name>/ and printed when a test fails.
// With E2E_REDIS=cluster: a three-master Redis Cluster (optionally one
// replica per master) instead of the one redis-server, and three ws nodes
// (ws-a, ws-b, ws-c); artifacts go to e2e/artifacts/cluster/<name>/.
// With E2E_REDIS=sentinel: a master, its replica and three sentinels
// (redis-server --sentinel) watching master set "e2e", REDIS_URL
// redis+sentinel://…/e2e, two ws nodes; artifacts in e2e/artifacts/sentinel/<name>/.
// Cluster and Sentinel set-ups come from `redistest cluster|sentinel`, and
// sys.redis() goes through `redistest call` (lib/redis.mjs).
// With the archive option: a private PostgreSQL database (lib/postgres.mjs),
// bin/archiver, and ARCHIVE_DATABASE_URL for the api and every ws node.

import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, afterEach, before } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { createDB, dropDB, psql } from './postgres.mjs';
import { Lines, REDISTEST } from './redis.mjs';
import { stomp } from './stomp.mjs';
import { mintWith } from './token.mjs';
import { within } from './wait.mjs';

const E2E = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// E2E_BIN points at another build of api, ws, archiver and chatctl (default: the repository's bin/).
const BIN = path.resolve(process.env.E2E_BIN ?? path.resolve(E2E, '..', 'bin'));
const READY_MS = 20000;
const STOP_GRACE_MS = 5000;

// Processes still running when node exits are SIGKILLed, but for redistest,
// which gets SIGTERM so that it stops the Redis processes it started (one
// exit listener for all of them).
const LIVE = new Set();
process.on('exit', () => { for (const p of LIVE) if (!p.exited) p.child.kill(p.lines ? 'SIGTERM' : 'SIGKILL'); });

/**
 * REDIS_MODE is E2E_REDIS: 'single' (default, one redis-server), 'cluster' (a
 * 3-master Redis Cluster) or 'sentinel' (a master and a replica under three sentinels).
 */
export const REDIS_MODE = process.env.E2E_REDIS || 'single';
if (!['single', 'cluster', 'sentinel'].includes(REDIS_MODE)) throw new Error(`E2E_REDIS=${REDIS_MODE}: expected single, cluster or sentinel`);
const SENTINEL_MASTER = 'e2e';

/**
 * useSystem registers before/after hooks that start and stop a System for the
 * calling test file and returns it (usable once `before` has run).
 * opts.prefix sets REDIS_PREFIX (unset: the services' default, "chat").
 * opts.redisArgs are extra redis-server arguments (e.g. ['--appendonly', 'yes']);
 * opts.env is added to the environment of api and both ws nodes, opts.apiEnv
 * to the api's, opts.wsEnv to every node's and opts.nodeEnv.a / .b / .c to one node's.
 * opts.wsNodes is the number of ws nodes (2 on a single Redis, 3 on a cluster;
 * at most 3: a, b, c); opts.replicas (cluster mode) gives every master that
 * many replicas. opts.only = 'single' | 'cluster' with opts.why: in the
 * other mode nothing starts and sys.skip holds the reason, for
 * test(name, { skip: sys.skip }, fn).
 * opts.archive = true turns the PostgreSQL archive on: a database
 * e2e_archive_<hex> on the local server (lib/postgres.mjs), dropped WITH
 * (FORCE) at the end; bin/archiver (opts.archiverEnv added to its
 * environment) with /readyz at sys.archiverURL; ARCHIVE_DATABASE_URL
 * (sys.archiveURL) for the api and every ws node (opts.env, apiEnv or wsEnv can
 * override it). Then sys.archiveStatus(), sys.psql(sql) and
 * sys.chatctl(args) work.
 */
export function useSystem(name, opts = {}) {
  const sys = new System(name, opts);
  if (opts.only && opts.only !== REDIS_MODE) {
    sys.skip = `${opts.only} Redis only (E2E_REDIS=${REDIS_MODE}): ${opts.why ?? 'not meaningful in this mode'}`;
    console.log(`${name}: skipped: ${sys.skip}`);
    return sys;
  }
  before(() => sys.start(), { timeout: 60000 });
  afterEach((t) => { if (!t.passed) sys.failed = true; });
  after(() => sys.stop(), { timeout: 30000 });
  return sys;
}

export class System {
  constructor(name, { prefix, redisArgs = [], env = {}, apiEnv = {}, wsEnv = {}, nodeEnv = {}, wsNodes, replicas = 0, archive = false, archiverEnv = {} } = {}) {
    this.name = name;
    this.mode = REDIS_MODE;
    this.opts = { redisArgs, env, apiEnv, wsEnv, nodeEnv, replicas, archive, archiverEnv };
    this.wsNodes = Math.min(3, wsNodes ?? (this.mode === 'cluster' ? 3 : 2));
    this.prefix = prefix ?? 'chat';
    this.envPrefix = prefix; // undefined: leave REDIS_PREFIX unset
    this.dir = this.mode === 'single' ? path.join(E2E, 'artifacts', name) : path.join(E2E, 'artifacts', this.mode, name);
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
      const bins = ['api', 'ws', ...(this.opts.archive ? ['archiver', 'chatctl'] : [])];
      for (const b of bins.map((n) => path.join(BIN, n))) {
        if (!existsSync(b)) throw new Error(`${b} is missing: run \`make build\` at the repo root`);
      }
      if (!existsSync(REDISTEST)) throw new Error(`${REDISTEST} is missing: run the suite with e2e/run.sh, which builds it`);
      const letters = ['a', 'b', 'c'].slice(0, this.wsNodes);
      const [apiPort, archiverPort, ...ports] = await freePorts(2 + letters.length + (this.mode === 'single' ? 1 : 0));
      const [wsPorts, redisPort] = [ports.slice(0, letters.length), ports[letters.length]];
      this.apiURL = `http://127.0.0.1:${apiPort}`;
      this.nodes = Object.fromEntries(letters.map((l, i) => [l,
        { id: `ws-${l}`, http: `http://127.0.0.1:${wsPorts[i]}`, url: `ws://127.0.0.1:${wsPorts[i]}/ws` }]));
      let redisURL;
      if (this.mode === 'single') {
        this.redisPort = redisPort;
        this.redisArgv = ['--port', String(redisPort), '--bind', '127.0.0.1',
          '--save', '', '--appendonly', 'no', '--dir', path.join(this.dir, 'redis'), ...this.opts.redisArgs];
        this.redisProc = this.#spawn('redis', '/usr/bin/redis-server', this.redisArgv, {});
        redisURL = `redis://127.0.0.1:${redisPort}/0`;
      } else {
        redisURL = await this.#startSetUp();
      }
      this.redisURL = redisURL;
      this.rc = new Lines(this.#spawn('redis-call', REDISTEST, ['call', redisURL], {}, { lines: true }).child, 'redistest call');
      await this.#redisAnswers();
      if (this.opts.archive) {
        const db = await createDB();
        [this.archiveDB, this.archiveURL] = [db.name, db.url];
        this.note(`harness: created database ${db.name} (${db.url})`);
      }
      const common = {
        REDIS_URL: redisURL,
        JWT_SECRET: this.secret,
        LOG_LEVEL: 'debug',
        LOG_FORMAT: 'json',
        ...(this.envPrefix ? { REDIS_PREFIX: this.envPrefix } : {}),
        ...(this.archiveURL ? { ARCHIVE_DATABASE_URL: this.archiveURL } : {}),
        ...this.opts.env,
      };
      const { apiEnv, wsEnv, nodeEnv, archiverEnv } = this.opts;
      const api = this.#spawn('api', path.join(BIN, 'api'), [], { ...common, ...apiEnv, API_ADDR: `127.0.0.1:${apiPort}` });
      for (const [l, n] of Object.entries(this.nodes)) {
        n.proc = this.#spawn(n.id, path.join(BIN, 'ws'), [], { ...common, ...wsEnv, ...nodeEnv[l], WS_ADDR: new URL(n.http).host, NODE_ID: n.id });
      }
      const waits = [
        waitReady(api, `${this.apiURL}/readyz`),
        ...Object.values(this.nodes).map((n) => waitReady(n.proc, `${n.http}/readyz`)),
      ];
      if (this.opts.archive) {
        this.archiverURL = `http://127.0.0.1:${archiverPort}`;
        this.archiver = this.#spawn('archiver', path.join(BIN, 'archiver'), [], {
          REDIS_URL: redisURL, LOG_LEVEL: 'debug', LOG_FORMAT: 'json', ARCHIVE_DATABASE_URL: this.archiveURL,
          ...(this.envPrefix ? { REDIS_PREFIX: this.envPrefix } : {}),
          ARCHIVER_CONSUMER: 'e2e', ...archiverEnv, ARCHIVER_ADDR: `127.0.0.1:${archiverPort}`,
        });
        waits.push(waitReady(this.archiver, `${this.archiverURL}/readyz`));
      }
      await Promise.all(waits);
      this.note(`system up: redis ${redisURL}, api ${this.apiURL}, ${Object.values(this.nodes).map((n) => `${n.id} ${n.url}`).join(', ')}${this.archiverURL ? `, archiver ${this.archiverURL}, database ${this.archiveDB}` : ''}`);
    } catch (err) {
      this.failed = true;
      throw err;
    }
  }

  async stop() {
    for (const c of this.clients) {
      try { await within(c.client.deactivate({ force: true }), 2000, 'forced deactivate'); } catch { /* already gone */ }
    }
    const isRedis = (p) => p.name.startsWith('redis');
    const services = this.procs.filter((p) => !isRedis(p));
    await Promise.all(services.map((p) => terminate(p)));
    await Promise.all(this.procs.filter(isRedis).map((p) => terminate(p)));
    let dropErr;
    if (this.archiveDB) {
      try {
        await dropDB(this.archiveDB);
        this.note(`harness: dropped database ${this.archiveDB}`);
      } catch (err) {
        dropErr = err;
        this.note(`harness: ${err.message}`);
      }
    }
    const crashed = services.filter((p) => p.unexpectedExit);
    for (const p of this.procs) this.note(`${p.name} exited code=${p.exitCode} signal=${p.exitSignal}${p.unexpectedExit ? ' (UNEXPECTED, before stop)' : ''}`);
    if (this.failed || crashed.length || this.procs.some((p) => isRedis(p) && p.unexpectedExit)) this.dump();
    if (crashed.length) throw new Error(`service(s) exited during the tests: ${crashed.map((p) => `${p.name} code=${p.exitCode} signal=${p.exitSignal}`).join(', ')}`);
    if (dropErr) throw dropErr;
  }

  /** note appends a line to artifacts/<name>/harness.log. */
  note(line) { appendFileSync(path.join(this.dir, 'harness.log'), `${new Date().toISOString()} ${line}\n`); }

  /** dump prints the tail of every captured log to stderr (with the logs redistest's servers keep in redis/<port>/). */
  dump() {
    const out = [`\n===== artifacts of ${this.name}: ${this.dir} =====`];
    const kept = readdirSync(path.join(this.dir, 'redis'), { withFileTypes: true }).filter((d) => d.isDirectory())
      .flatMap((d) => ['redis.log', 'sentinel.log'].map((f) => path.join('redis', d.name, f)))
      .filter((f) => existsSync(path.join(this.dir, f)));
    for (const f of [...readdirSync(this.dir).filter((f) => f.endsWith('.log')).sort(), ...kept.sort()]) {
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
    if (this.mode !== 'single') throw new Error(`killRedis: ${this.mode} mode has no single Redis`);
    const p = this.redisProc;
    p.stopping = true;
    this.redisDown = true;
    this.note('harness: SIGKILL redis-server');
    p.child.kill('SIGKILL');
    await within(p.exit, STOP_GRACE_MS, 'redis-server to exit after SIGKILL');
  }

  async startRedis() {
    this.redisProc = this.#spawn('redis', '/usr/bin/redis-server', this.redisArgv, {});
    await this.#redisAnswers();
    this.redisDown = false;
    this.note(`harness: redis-server restarted on ${this.redisPort}`);
  }

  /** nodeIds lists the NODE_IDs of the ws nodes (ws-a, ws-b[, ws-c]). */
  get nodeIds() { return Object.values(this.nodes).map((n) => n.id); }

  /**
   * kill sends signal (default SIGKILL) to ws node 'a', 'b' or 'c' and waits for it
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

  /**
   * redis runs one command on the private Redis (`redistest call`, through
   * the services' client: on a cluster to its key's master; KEYS and PUBSUB
   * NUMSUB over every master) and returns the RESP3 reply as JSON: hashes as
   * objects, nil as null, doubles as numbers.
   */
  redis(...args) {
    if (this.redisDown) return Promise.reject(new Error('redis-server is down (killed by the test)'));
    return this.rc.request(...args);
  }

  /** hgetall returns a hash as an object ({} when the key does not exist). */
  async hgetall(key) { return this.redis('HGETALL', key); }

  /**
   * subscribers counts the Redis connections subscribed to channel: PUBSUB
   * NUMSUB (on a cluster summed over every master) plus SHARDNUMSUB (sharded
   * pub/sub, on the channel's master).
   */
  async subscribers(channel) {
    const [[, plain], [, sharded]] = await Promise.all([
      this.redis('PUBSUB', 'NUMSUB', channel), this.redis('PUBSUB', 'SHARDNUMSUB', channel)]);
    return plain + sharded;
  }

  /**
   * metrics scrapes ws node 'a' | 'b' | 'c' (GET /metrics) and returns
   * {name or name{labels}: number} for every sample line.
   */
  async metrics(node) {
    const res = await fetch(`${this.nodes[node].http}/metrics`, { signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${this.nodes[node].id} /metrics: HTTP ${res.status} ${text.slice(0, 200)}`);
    const out = {};
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const i = line.lastIndexOf(' ');
      out[line.slice(0, i)] = Number(line.slice(i + 1));
    }
    return out;
  }

  /**
   * archiveStatus returns the archiver's /readyz body: {status, redis,
   * postgres, archive: {backlogEntries, lagSeconds, archived, lastError}}
   * (also when it answers 503).
   */
  async archiveStatus() {
    const res = await fetch(`${this.archiverURL}/readyz`, { signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    try { return JSON.parse(text); } catch { throw new Error(`archiver /readyz: HTTP ${res.status} ${text.slice(0, 200)}`); }
  }

  /** psql runs sql on this system's archive database; resolves with rows of column strings. */
  psql(sql) { return psql(this.archiveURL, sql); }

  /**
   * chatctl runs bin/chatctl with args and this system's REDIS_URL,
   * REDIS_PREFIX and ARCHIVE_DATABASE_URL (plus env); never rejects on an
   * exit status: resolves {code, stdout, stderr}, logged to chatctl.log.
   */
  chatctl(args, env = {}) {
    const full = {
      PATH: process.env.PATH, HOME: process.env.HOME ?? '/tmp', REDIS_URL: this.redisURL,
      ...(this.envPrefix ? { REDIS_PREFIX: this.envPrefix } : {}),
      ...(this.archiveURL ? { ARCHIVE_DATABASE_URL: this.archiveURL } : {}),
      ...env,
    };
    return new Promise((resolve) => {
      execFile(path.join(BIN, 'chatctl'), args, { env: full, timeout: 60000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        appendFileSync(path.join(this.dir, 'chatctl.log'), `${new Date().toISOString()} chatctl ${args.join(' ')} -> exit ${code}\n${stdout}${stderr}`);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** mint returns a valid token for userId signed with this system's secret (opts: see token.mjs). */
  mint(userId, opts) { return mintWith(this.secret, userId, opts); }

  /**
   * api calls the REST API and never throws on an HTTP status:
   * returns {status, contentType, requestId, body (parsed JSON or undefined), text}.
   * Request and answer are checked against api/openapi.yaml (lib/openapi.mjs):
   * a mismatch throws a SpecViolation. A request that is off-spec on purpose
   * (hostile input, no token) passes opts.offSpec = 'why'; its answer is
   * still checked.
   */
  async api(method, urlPath, token, body, { offSpec } = {}) {
    const headers = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(this.apiURL + urlPath, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10000),
    });
    const text = await res.text();
    let json;
    try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
    const r = { status: res.status, contentType: res.headers.get('content-type'), requestId: res.headers.get('x-request-id'), body: json, text };
    this.note(`${method} ${urlPath} ${body === undefined ? '' : JSON.stringify(body)} -> ${r.status} [${r.requestId}] ${text.slice(0, 500)}`);
    r.toString = () => `${method} ${urlPath} -> HTTP ${r.status} ${r.contentType}: ${text}`;
    const { checkExchange } = await import('./openapi.mjs'); // loaded once, on first use
    checkExchange({ method, url: urlPath, token, body, offSpec }, { status: res.status, headers: res.headers, text });
    return r;
  }

  /** stomp connects a client to node 'a', 'b' or 'c' (see stomp.mjs for the other options). */
  stomp({ node = 'a', label, ...opts }) {
    const name = label ?? `client${this.clients.length + 1}`;
    const c = stomp({ url: this.nodes[node].url, label: `${name}@${this.nodes[node].id}`, logFile: path.join(this.dir, `stomp-${name}.log`), ...opts });
    c.name = name;
    this.clients.push(c);
    return c;
  }

  /**
   * #spawn starts a process with its output in artifacts/<name>.log; with
   * lines (a redistest process), its stdin and stdout are for lib/redis.mjs
   * and only stderr is logged.
   */
  #spawn(name, cmd, args, env, { lines = false } = {}) {
    const logFile = path.join(this.dir, `${name}.log`);
    appendFileSync(logFile, '');
    const child = spawn(cmd, args, {
      env: { PATH: process.env.PATH, HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: [lines ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const p = { name, child, logFile, exited: false, stopping: false, lines };
    const sink = (chunk) => appendFileSync(logFile, chunk);
    if (!lines) child.stdout.on('data', sink);
    child.stderr.on('data', sink);
    p.exit = new Promise((resolve) => child.on('exit', (code, signal) => {
      Object.assign(p, { exited: true, exitCode: code, exitSignal: signal, unexpectedExit: !p.stopping });
      resolve();
    }));
    child.on('error', (err) => appendFileSync(logFile, `harness: spawn failed: ${err.message}\n`));
    LIVE.add(p);
    p.exit.then(() => LIVE.delete(p));
    this.procs.push(p);
    this.note(`started ${name}: ${cmd} ${args.join(' ')} env ${JSON.stringify({ ...env, JWT_SECRET: '<random>' })}`);
    return p;
  }

  /**
   * #startSetUp starts `redistest cluster` (3 masters, opts.replicas
   * replicas of each) or `redistest sentinel` (master set "e2e", down-after
   * 2 s) with the servers' files in artifacts/…/redis/<port>/, waits for its
   * listing and returns the URL; in cluster mode sys.cluster takes requests.
   */
  async #startSetUp() {
    const args = this.mode === 'cluster'
      ? ['cluster', '-masters', '3', '-replicas', String(this.opts.replicas)]
      : ['sentinel', '-name', SENTINEL_MASTER, '-down-after', '2s'];
    const p = this.#spawn(`redis-${this.mode}`, REDISTEST,
      [...args, '-dir', path.join(this.dir, 'redis'), '-stdin', '--', ...this.opts.redisArgs], {}, { lines: true });
    const lines = new Lines(p.child, `redistest ${this.mode}`);
    let listing;
    try {
      listing = await within(lines.listing(), READY_MS + 10000, `redistest ${this.mode} to be ready`);
    } catch (err) {
      throw new Error(`${err.message}:\n${tail(p.logFile)}`);
    }
    this.note(`${this.mode} set-up: ${listing.procs.map((x) => `${x.role} ${x.addr}`).join(', ')}`);
    if (this.mode === 'cluster') this.cluster = new ClusterControl(lines, (l) => this.note(l));
    return listing.url;
  }

  /** #redisAnswers waits until sys.redis('PING') answers PONG. */
  async #redisAnswers() {
    const deadline = Date.now() + READY_MS;
    for (let last;;) {
      const down = this.procs.find((p) => p.name.startsWith('redis') && p.unexpectedExit);
      if (down) throw new Error(`${down.name} exited (code ${down.exitCode}): ${tail(down.logFile)}`);
      try {
        if ((await this.rc.request('PING')) === 'PONG') return;
      } catch (err) { last = err.message; }
      if (Date.now() > deadline) throw new Error(`Redis not answering PING after ${READY_MS} ms: ${last}`);
      await delay(50);
    }
  }
}

/**
 * ClusterControl is sys.cluster: the requests `redistest cluster` takes,
 * each about the slot of a key.
 */
class ClusterControl {
  constructor(lines, note) { Object.assign(this, { lines, note }); }

  async #ask(...words) {
    this.note(`harness: ${words.join(' ')}`);
    const r = await this.lines.request(...words);
    this.note(`harness: ${words[0]} -> ${JSON.stringify(r)}`);
    return r;
  }

  /** master returns {slot, addr}: the master serving key's slot. */
  master(key) { return this.#ask('master', key); }

  /**
   * failover promotes a replica of the master of key's slot (CLUSTER
   * FAILOVER, then every node agrees) and returns {slot, from, to, ms}.
   */
  failover(key) { return this.#ask('failover', key); }

  /**
   * moveSlot migrates key's slot to another master while clients use it
   * (SETSLOT IMPORTING / MIGRATING, MIGRATE of batch keys at a time with
   * pauseMs after each, SETSLOT NODE on every master) and returns {slot,
   * from, to, keys, ms}.
   */
  moveSlot(key, { batch = 100, pauseMs = 0 } = {}) { return this.#ask('moveslot', key, batch, `${pauseMs}ms`); }
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

/**
 * freePorts reserves n distinct loopback ports by binding them together,
 * then releases them. They are taken outside the kernel's ephemeral range
 * (ip_local_port_range; below it, or above it where it starts low), where
 * no outgoing connection (to Redis, between the services) and no listen(0)
 * of another process can take one between this check and the service
 * binding it: a port inside the range could be taken so (a ws node failed
 * to start with EADDRINUSE in a CI rehearsal).
 */
async function freePorts(n) {
  let [low, high] = [32768, 60999];
  try {
    const [l, h] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (l > 0 && h >= l) [low, high] = [l, h];
  } catch { /* not Linux */ }
  // Below the ephemeral range, else above it; a range that leaves neither
  // 2,000 ports below nor above (rare) falls back to its upper part.
  const [from, to] = low > 12000 ? [10000, low]
    : high < 63536 ? [high + 1, 65536]
      : [Math.max(1024, high - 20000), high + 1];
  const bind = (port) => new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(null));
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
  for (let attempt = 0; attempt < 50; attempt++) {
    const want = new Set();
    while (want.size < n) want.add(from + Math.floor(Math.random() * (to - from)));
    const servers = await Promise.all([...want].map(bind));
    await Promise.all(servers.filter(Boolean).map((s) => new Promise((r) => s.close(r))));
    if (servers.every(Boolean)) return [...want];
  }
  throw new Error(`no ${n} free loopback ports in ${from}-${to - 1}`);
}
