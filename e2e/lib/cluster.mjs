// Redis Cluster for the e2e harness: start three masters (and optionally one
// replica each) on loopback ports with redis-cli --cluster create, a small
// client that routes a command to the master of its key's slot and follows
// MOVED / ASK redirects, and the operations the fault tests need (manual
// failover, moving one slot to another master while traffic runs).

import { execFile } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { Resp } from './resp.mjs';

const run = promisify(execFile);
const SLOTS = 16384;
const HOST = '127.0.0.1';

// CRC16/XMODEM (polynomial 0x1021), the hash of Redis Cluster's key slots.
const CRC16 = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

function crc16(buf) {
  let crc = 0;
  for (const b of buf) crc = ((crc << 8) & 0xffff) ^ CRC16[((crc >> 8) ^ b) & 0xff];
  return crc;
}

/**
 * slotOf returns the hash slot of a key or channel: CRC16 of the first
 * non-empty "{...}" hash tag, else of the whole name, modulo 16384.
 */
export function slotOf(key) {
  const s = Buffer.from(String(key));
  const open = s.indexOf('{');
  if (open >= 0) {
    const close = s.indexOf('}', open + 1);
    if (close > open + 1) return crc16(s.subarray(open + 1, close)) % SLOTS;
  }
  return crc16(s) % SLOTS;
}

// Commands without a key: sent to any master.
const NO_KEY = new Set(['PING', 'INFO', 'CLUSTER', 'CONFIG', 'COMMAND', 'PUBSUB', 'SCRIPT', 'FUNCTION', 'CLIENT',
  'ECHO', 'TIME', 'ROLE', 'LASTSAVE', 'SLOWLOG', 'MEMORY', 'LATENCY', 'WAIT', 'FLUSHALL', 'FLUSHDB', 'DBSIZE', 'KEYS',
  'PUBLISH', 'SCAN', 'RANDOMKEY']);

/** keyOf returns the key that routes a command, or undefined for keyless commands. */
export function keyOf(args) {
  const cmd = String(args[0]).toUpperCase();
  if (NO_KEY.has(cmd)) return undefined;
  if (cmd === 'XREAD' || cmd === 'XREADGROUP') {
    const i = args.findIndex((a) => String(a).toUpperCase() === 'STREAMS');
    return i > 0 ? args[i + 1] : undefined;
  }
  if (cmd === 'XGROUP' || cmd === 'XINFO' || cmd === 'OBJECT') return args[2];
  if (cmd === 'EVAL' || cmd === 'EVALSHA' || cmd === 'FCALL') return Number(args[2]) > 0 ? args[3] : undefined;
  if (cmd === 'SPUBLISH') return args[1];
  return args[1];
}

/**
 * ClusterClient talks to a Redis Cluster like a cluster-aware client: it
 * keeps a slot → master map (CLUSTER SLOTS), sends a keyed command to its
 * slot's master and follows MOVED (refreshing the map) and ASK (ASKING on
 * the target) redirects; TRYAGAIN, CLUSTERDOWN and refused connections are
 * retried for up to retryMs. KEYS, DBSIZE and FLUSHALL run on every master
 * (KEYS results concatenated, DBSIZE summed).
 */
export class ClusterClient {
  constructor(seeds, { retryMs = 5000 } = {}) {
    this.seeds = [...seeds];
    this.retryMs = retryMs;
    this.conns = new Map(); // port -> Promise<Resp>
    this.slots = new Array(SLOTS).fill(undefined);
    this.masters = [];
  }

  static async connect(seeds, opts) {
    const c = new ClusterClient(seeds, opts);
    await c.refresh();
    return c;
  }

  /** node returns the (cached) connection to one node. */
  node(port) {
    let p = this.conns.get(port);
    if (!p) {
      p = Resp.connect(port);
      this.conns.set(port, p);
      p.then((rc) => rc.sock.on('close', () => { if (this.conns.get(port) === p) this.conns.delete(port); }),
        () => { if (this.conns.get(port) === p) this.conns.delete(port); });
    }
    return p;
  }

  /** at runs one command on the node at port, without redirects. */
  async at(port, ...args) { return (await this.node(port)).call(...args); }

  /** refresh reloads the slot map from the first node that answers CLUSTER SLOTS. */
  async refresh() {
    let last;
    for (const port of [...new Set([...this.masters, ...this.seeds])]) {
      try {
        const ranges = await this.at(port, 'CLUSTER', 'SLOTS');
        const slots = new Array(SLOTS).fill(undefined);
        const masters = new Set();
        for (const [from, to, [, masterPort]] of ranges) {
          for (let s = from; s <= to; s++) slots[s] = masterPort;
          masters.add(masterPort);
        }
        this.slots = slots;
        this.masters = [...masters].sort((a, b) => a - b);
        return;
      } catch (err) { last = err; }
    }
    throw new Error(`no cluster node answered CLUSTER SLOTS: ${last?.message}`);
  }

  /** masterOf returns the port of the master that serves key's slot (by the cached map). */
  masterOf(key) { return this.slots[slotOf(key)]; }

  async call(...args) {
    const cmd = String(args[0]).toUpperCase();
    if (cmd === 'KEYS') return (await this.#eachMaster(args)).flat();
    if (cmd === 'DBSIZE') return (await this.#eachMaster(args)).reduce((a, b) => a + b, 0);
    if (cmd === 'FLUSHALL' || cmd === 'FLUSHDB') { await this.#eachMaster(args); return 'OK'; }
    const key = keyOf(args);
    let port = key === undefined ? this.masters[0] ?? this.seeds[0] : this.slots[slotOf(key)];
    let asking = false;
    const deadline = Date.now() + this.retryMs;
    for (let hop = 0; ; hop++) {
      try {
        if (port === undefined) { await this.refresh(); port = key === undefined ? this.masters[0] : this.slots[slotOf(key)]; }
        const rc = await this.node(port);
        if (asking) {
          const [, reply] = await Promise.all([rc.call('ASKING'), rc.call(...args)]);
          return reply;
        }
        return await rc.call(...args);
      } catch (err) {
        const m = /(?:^|: )(MOVED|ASK) \d+ ([^:\s]+):(\d+)/.exec(err.message);
        if (m && hop < 16) {
          port = Number(m[3]);
          asking = m[1] === 'ASK';
          if (!asking) this.refresh().catch(() => {});
          continue;
        }
        const transient = /TRYAGAIN|CLUSTERDOWN|ECONNREFUSED|ECONNRESET|connection closed|LOADING/.test(err.message);
        if (!transient || Date.now() > deadline) throw err;
        await delay(100);
        asking = false;
        port = undefined; // reload the map, then retry
      }
    }
  }

  async #eachMaster(args) {
    if (!this.masters.length) await this.refresh();
    return Promise.all(this.masters.map((p) => this.at(p, ...args)));
  }

  close() {
    for (const p of this.conns.values()) p.then((rc) => rc.close(), () => {});
    this.conns.clear();
  }
}

/** parseNodes turns CLUSTER NODES into [{id, port, flags, master, slots}]. */
export function parseNodes(text) {
  return text.trim().split('\n').map((line) => {
    const [id, addr, flags, master, , , , link, ...slots] = line.split(' ');
    return {
      id, port: Number(addr.split('@')[0].split(':')[1]), flags: flags.split(','),
      master: master === '-' ? undefined : master, link, slots,
      get isMaster() { return this.flags.includes('master'); },
    };
  });
}

/** info parses an INFO / CLUSTER INFO reply into an object. */
export function info(text) {
  const o = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) o[line.slice(0, i)] = line.slice(i + 1);
  }
  return o;
}

/** redisClusterArgs are the redis-server arguments of one cluster node. */
export function redisClusterArgs(port, dir, nodeTimeoutMs) {
  mkdirSync(dir, { recursive: true });
  return ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir,
    '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
    '--cluster-node-timeout', String(nodeTimeoutMs), '--cluster-require-full-coverage', 'yes'];
}

/**
 * createCluster joins running, empty redis-servers into a cluster: masters
 * share the slots (redis-cli --cluster create ... --cluster-replicas 0
 * --cluster-yes), then replicas[i] (if any) becomes a replica of
 * masters[i]. Resolves once every node reports cluster_state:ok, knows every
 * node and agrees on the slot map, and every replica's link is up.
 * note(line) logs progress.
 */
export async function createCluster({ masters, replicas = [], dir, note = () => {}, timeoutMs = 30000 }) {
  const t0 = Date.now();
  const cli = path.join(dir, 'redis-cli.log');
  const log = (out) => appendFileSync(cli, out);
  const args = ['--cluster', 'create', ...masters.map((p) => `${HOST}:${p}`), '--cluster-replicas', '0', '--cluster-yes'];
  note(`redis-cli ${args.join(' ')}`);
  try {
    const { stdout } = await run('redis-cli', args, { timeout: timeoutMs });
    log(stdout);
    note(`redis-cli --cluster create: ${stdout.replace(/\x1b\[[0-9;]*m/g, '').split('\n').filter((l) => /OK|ERR|slots/i.test(l)).slice(-3).join(' | ')}`);
  } catch (err) {
    log(`${err.stdout ?? ''}${err.stderr ?? ''}`);
    throw new Error(`redis-cli --cluster create failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''} (log: ${cli})`);
  }
  const all = [...masters, ...replicas];
  const cc = new ClusterClient(masters);
  try {
    const ids = {};
    for (const p of masters) ids[p] = await cc.at(p, 'CLUSTER', 'MYID');
    for (const [i, p] of replicas.entries()) {
      await cc.at(p, 'CLUSTER', 'MEET', HOST, masters[i]);
    }
    // A replica can only follow a master it knows.
    await until(async () => {
      for (const [i, p] of replicas.entries()) {
        const known = parseNodes(await cc.at(p, 'CLUSTER', 'NODES'));
        if (!known.some((n) => n.id === ids[masters[i]] && n.isMaster)) return `replica ${p} does not know master ${masters[i]} yet`;
      }
      return true;
    }, t0 + timeoutMs);
    for (const [i, p] of replicas.entries()) await cc.at(p, 'CLUSTER', 'REPLICATE', ids[masters[i]]);
    await until(async () => {
      let slotsOf;
      for (const p of all) {
        const ci = info(await cc.at(p, 'CLUSTER', 'INFO'));
        if (ci.cluster_state !== 'ok') return `${p}: cluster_state ${ci.cluster_state}`;
        if (Number(ci.cluster_known_nodes) !== all.length) return `${p}: knows ${ci.cluster_known_nodes} of ${all.length} nodes`;
        const view = JSON.stringify(parseNodes(await cc.at(p, 'CLUSTER', 'NODES')).filter((n) => n.isMaster)
          .map((n) => [n.port, n.slots.join(' ')]).sort());
        if (slotsOf !== undefined && view !== slotsOf) return `${p}: another view of the masters' slots`;
        slotsOf = view;
      }
      for (const p of replicas) {
        const ri = info(await cc.at(p, 'INFO', 'replication'));
        if (ri.role !== 'slave' || ri.master_link_status !== 'up') return `replica ${p}: role ${ri.role}, link ${ri.master_link_status}`;
      }
      return true;
    }, t0 + timeoutMs);
  } finally {
    cc.close();
  }
  note(`cluster ok in ${Date.now() - t0} ms: masters ${masters.join(',')}${replicas.length ? `, replicas ${replicas.join(',')}` : ''}`);
}

/** until calls check until it returns true; past deadline it throws with check's last answer. */
async function until(check, deadline, intervalMs = 100) {
  let last;
  for (;;) {
    try { last = await check(); } catch (err) { last = err.message; }
    if (last === true) return;
    if (Date.now() > deadline) throw new Error(`redis cluster not ready: ${last}`);
    await delay(intervalMs);
  }
}

/**
 * Cluster operations on a running test cluster (sys.cluster): the topology
 * as the nodes see it, a manual failover and a slot migration.
 */
export class ClusterOps {
  constructor(client, ports, note) {
    Object.assign(this, { client, ports, note });
  }

  /** nodes returns CLUSTER NODES as seen by the first node that answers. */
  async nodes() {
    let last;
    for (const p of this.ports) {
      try { return parseNodes(await this.client.at(p, 'CLUSTER', 'NODES')); } catch (err) { last = err; }
    }
    throw last;
  }

  /** ownerOf returns {port, id} of the master that serves slot, as the nodes see it. */
  async ownerOf(slot) {
    await this.client.refresh();
    const port = this.client.slots[slot];
    const n = (await this.nodes()).find((x) => x.port === port);
    return { port, id: n.id };
  }

  /** replicasOf returns the ports of master port's replicas. */
  async replicasOf(port) {
    const all = await this.nodes();
    const m = all.find((n) => n.port === port);
    return all.filter((n) => n.master === m.id).map((n) => n.port);
  }

  /**
   * failover runs CLUSTER FAILOVER on replica port (a coordinated manual
   * failover: the master stops writes, the replica catches up and takes
   * over) and waits until every node sees it as master. Returns the ms taken.
   */
  async failover(port, timeoutMs = 15000) {
    const t0 = Date.now();
    this.note(`harness: CLUSTER FAILOVER on ${port}`);
    await this.client.at(port, 'CLUSTER', 'FAILOVER');
    await until(async () => {
      for (const p of this.ports) {
        const me = parseNodes(await this.client.at(p, 'CLUSTER', 'NODES')).find((n) => n.port === port);
        if (!me?.isMaster) return `${p} does not see ${port} as master yet`;
      }
      return true;
    }, t0 + timeoutMs, 20);
    await this.client.refresh();
    this.note(`harness: ${port} is master after ${Date.now() - t0} ms`);
    return Date.now() - t0;
  }

  /**
   * migrateSlot moves slot from its master to the master at toPort while
   * clients keep using it: SETSLOT IMPORTING on the target, MIGRATING on the
   * source, MIGRATE of its keys in batches, then SETSLOT NODE on both and on
   * every other master. batch keys per MIGRATE, pauseMs between batches
   * (to keep the slot half-moved for a while). Returns {ms, keys}.
   */
  async migrateSlot(slot, toPort, { batch = 10, pauseMs = 0, timeoutMs = 20000 } = {}) {
    const t0 = Date.now();
    const from = await this.ownerOf(slot);
    const masters = (await this.nodes()).filter((n) => n.isMaster && !n.flags.includes('fail'));
    const to = masters.find((n) => n.port === toPort);
    if (!to) throw new Error(`${toPort} is not a master`);
    if (from.port === toPort) throw new Error(`slot ${slot} is on ${toPort} already`);
    this.note(`harness: migrate slot ${slot} from ${from.port} to ${toPort}`);
    await this.client.at(toPort, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', from.id);
    await this.client.at(from.port, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', to.id);
    let keys = 0;
    for (;;) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`slot ${slot}: keys still on ${from.port} after ${timeoutMs} ms`);
      const batchKeys = await this.client.at(from.port, 'CLUSTER', 'GETKEYSINSLOT', slot, batch);
      if (!batchKeys.length) break;
      await this.client.at(from.port, 'MIGRATE', HOST, toPort, '', 0, 5000, 'KEYS', ...batchKeys);
      keys += batchKeys.length;
      if (pauseMs) await delay(pauseMs);
    }
    await this.client.at(toPort, 'CLUSTER', 'SETSLOT', slot, 'NODE', to.id);
    await this.client.at(from.port, 'CLUSTER', 'SETSLOT', slot, 'NODE', to.id);
    for (const m of masters) {
      if (m.port !== toPort && m.port !== from.port) await this.client.at(m.port, 'CLUSTER', 'SETSLOT', slot, 'NODE', to.id);
    }
    await this.client.refresh();
    this.note(`harness: slot ${slot} on ${toPort} after ${Date.now() - t0} ms (${keys} keys)`);
    return { ms: Date.now() - t0, keys };
  }
}
