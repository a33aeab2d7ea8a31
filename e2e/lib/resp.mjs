// A tiny RESP2 client for inspecting the private Redis: one connection,
// commands pipelined in order, replies parsed into strings, numbers, arrays
// and null. Error replies reject with the server's text.

import net from 'node:net';

export class Resp {
  /** connect opens a connection to 127.0.0.1:port. */
  static connect(port) {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: '127.0.0.1', port });
      sock.once('connect', () => { sock.removeListener('error', reject); resolve(new Resp(sock)); });
      sock.once('error', reject);
    });
  }

  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.pending = [];
    sock.on('data', (chunk) => { this.buf = Buffer.concat([this.buf, chunk]); this.#drain(); });
    const fail = (err) => { for (const p of this.pending.splice(0)) p.reject(err); };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('redis connection closed')));
  }

  /** call sends one command and resolves with its parsed reply. */
  call(...args) {
    const parts = [`*${args.length}\r\n`];
    for (const a of args) {
      const s = Buffer.from(String(a));
      parts.push(`$${s.length}\r\n`, s, '\r\n');
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject, cmd: args.join(' ') });
      this.sock.write(Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p)))));
    });
  }

  close() { this.sock.destroy(); }

  #drain() {
    while (this.pending.length) {
      const r = parse(this.buf, 0);
      if (!r) return;
      this.buf = this.buf.subarray(r.end);
      const p = this.pending.shift();
      if (r.value instanceof Error) {
        r.value.message = `redis ${p.cmd}: ${r.value.message}`;
        p.reject(r.value);
      } else p.resolve(r.value);
    }
  }
}

// parse reads one reply at off; undefined when the buffer is incomplete.
function parse(buf, off) {
  const eol = buf.indexOf('\r\n', off);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[off]);
  const line = buf.toString('utf8', off + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+': return { value: line, end: next };
    case '-': return { value: new Error(line), end: next };
    case ':': return { value: Number(line), end: next };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      if (buf.length < next + n + 2) return undefined;
      return { value: buf.toString('utf8', next, next + n), end: next + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const out = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const r = parse(buf, pos);
        if (!r) return undefined;
        out.push(r.value);
        pos = r.end;
      }
      return { value: out, end: pos };
    }
    default: throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
  }
}

/** pairs turns a flat [k1, v1, k2, v2] reply (HGETALL) into an object. */
export function pairs(flat) {
  const o = {};
  for (let i = 0; i + 1 < flat.length; i += 2) o[flat[i]] = flat[i + 1];
  return o;
}
