// The harness's Redis goes through shared/testsupport/redistest's command (run.sh builds
// it): `redistest cluster|sentinel -stdin` starts a Redis Cluster or a
// Sentinel set-up with the bring-up the Go tests use and takes requests
// (failover, moveslot, master); `redistest call URL` runs Redis commands
// through the client the services use (on a cluster: KEYS and PUBSUB NUMSUB
// over every master). Both speak JSON lines: a JSON array a line on stdin,
// {"ok": ...} or {"error": ...} a line back, in order.

import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const E2E = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** REDISTEST is the command's binary: E2E_REDISTEST, or where run.sh builds it. */
export const REDISTEST = path.resolve(process.env.E2E_REDISTEST ?? path.join(E2E, 'artifacts', 'bin', 'redistest'));

/**
 * Lines talks to a running `redistest` child process (spawned with stdin and
 * stdout as pipes): listing() reads its start-up listing, request() sends one
 * request and resolves with the answer's "ok" part.
 */
export class Lines {
  constructor(child, name) {
    this.child = child;
    this.name = name;
    this.pending = [];
    this.waiters = [];
    this.lines = [];
    this.closed = false;
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const w = this.waiters.shift();
      if (w) w.resolve(line); else this.lines.push(line);
    });
    child.on('exit', (code, signal) => {
      this.closed = true;
      const err = new Error(`${name} exited (code ${code}, signal ${signal})`);
      for (const w of this.waiters.splice(0)) w.reject(err);
    });
  }

  #next() {
    if (this.lines.length) return Promise.resolve(this.lines.shift());
    if (this.closed) return Promise.reject(new Error(`${this.name} has exited`));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /**
   * listing resolves at the "ready" line with {url, procs: [{role, addr,
   * pid, dir}]} (the processes of a cluster or Sentinel set-up).
   */
  async listing() {
    const out = { procs: [] };
    for (;;) {
      const line = await this.#next();
      if (line === 'ready') return out;
      const [role, addr, pid, dir] = line.split(' ');
      if (role === 'url') out.url = addr;
      else out.procs.push({ role, addr, pid: Number(pid), dir });
    }
  }

  /** request sends words (strings and numbers) and resolves with the answer, or rejects with its error. */
  async request(...words) {
    if (this.closed) throw new Error(`${this.name} has exited`);
    const answer = this.#next();
    this.child.stdin.write(`${JSON.stringify(words.map((w) => (typeof w === 'number' ? w : String(w))))}\n`);
    const a = JSON.parse(await answer);
    if ('error' in a) throw new Error(`redis ${words.join(' ')}: ${a.error}`);
    return a.ok;
  }
}

/** pairs turns a flat [k1, v1, k2, v2] reply (a stream entry's fields) into an object. */
export function pairs(flat) {
  const o = {};
  for (let i = 0; i + 1 < flat.length; i += 2) o[flat[i]] = flat[i + 1];
  return o;
}
