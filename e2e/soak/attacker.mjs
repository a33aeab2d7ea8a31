// The hostile user of the soak (issue 14, cases 1, 2, 3 and 7): raw STOMP
// over WebSocket from the `ws` package, with no politeness beyond not
// buffering unbounded bytes in this process. Every loop reconnects after the
// server cuts it and runs until stop() is called; what the server answered
// is counted by kind so the soak can print it.

import WebSocket from 'ws';
import { setTimeout as delay } from 'node:timers/promises';
import { SUBPROTOCOLS } from '../lib/stomp.mjs';

/** frame encodes one STOMP 1.2 frame (headers are plain: no escapes needed here). */
export function frame(command, headers = {}, body = '') {
  let s = `${command}\n`;
  for (const [k, v] of Object.entries(headers)) s += `${k}:${v}\n`;
  return `${s}\n${body}\0`;
}

/**
 * Attacker runs the hostile loops for one user against one ws node and the
 * api. stats: frames and bytes sent, connections made, ERROR messages by
 * text, HTTP statuses, messages received by the resuming reader.
 */
export class Attacker {
  constructor({ wsURL, apiURL, token, userId, room }) {
    Object.assign(this, { wsURL, apiURL, token, userId, room });
    this.running = false;
    this.loops = [];
    this.stats = { connects: 0, refused: 0, framesSent: 0, bytesSent: 0, errors: {}, http: {}, resumed: 0, resumeRounds: 0, resumeFull: 0 };
  }

  /** connect opens a socket, sends CONNECT and resolves once CONNECTED (or null when refused/closed). */
  async connect(onFrame) {
    const ws = new WebSocket(this.wsURL, SUBPROTOCOLS, { maxPayload: 64 << 20 });
    const s = { ws, closed: false };
    let buf = '';
    const connected = new Promise((resolve) => {
      ws.on('open', () => {
        this.send(s, frame('CONNECT', { 'accept-version': '1.2', 'heart-beat': '0,0', Authorization: `Bearer ${this.token}` }));
      });
      ws.on('message', (data) => {
        buf += data.toString();
        let i;
        while ((i = buf.indexOf('\0')) >= 0) {
          const f = buf.slice(0, i).replace(/^\n+/, '');
          buf = buf.slice(i + 1);
          if (f.startsWith('CONNECTED')) { this.stats.connects++; resolve(s); continue; }
          if (f.startsWith('ERROR')) {
            const m = /\nmessage:([^\n]*)/.exec(f)?.[1] ?? '?';
            const key = m.replace(/\d+/g, 'N').slice(0, 80);
            this.stats.errors[key] = (this.stats.errors[key] ?? 0) + 1;
            continue;
          }
          onFrame?.(f, s);
        }
      });
      ws.on('unexpected-response', (_req, res) => { this.stats.refused++; this.stats.http[`ws ${res.statusCode}`] = (this.stats.http[`ws ${res.statusCode}`] ?? 0) + 1; resolve(null); });
      ws.on('error', () => resolve(null));
      ws.on('close', () => { s.closed = true; resolve(null); });
    });
    s.done = new Promise((resolve) => ws.on('close', resolve));
    return connected;
  }

  send(s, data) {
    if (s.closed || s.ws.readyState !== WebSocket.OPEN) {
      s.closed = true; // the loops stop on it (the close event may not have run yet)
      return false;
    }
    s.ws.send(data);
    this.stats.framesSent++;
    this.stats.bytesSent += data.length;
    return true;
  }

  /**
   * drain waits while this process holds more than limit bytes for the
   * socket; it always yields to the event loop, so socket events (close,
   * messages) are seen between writes.
   */
  async drain(s, limit = 4 << 20) {
    await new Promise(setImmediate);
    while (this.running && !s.closed && s.ws.bufferedAmount > limit) await delay(5);
  }

  /** loop runs body(session) on fresh connections until stop, pausing between reconnects. */
  loop(name, body) {
    const run = (async () => {
      while (this.running) {
        const s = await this.connect(body.onFrame);
        if (!s) { await delay(200); continue; }
        try { await body(s); } catch { /* the server cut us */ }
        s.ws.terminate();
        await delay(50);
      }
    })();
    this.loops.push(run);
  }

  /**
   * start runs the attacks named in only (default all): tx (case 1), churn
   * and packed (case 2), resume (case 3), rest (case 7).
   */
  start({ restParallel = 40, listParallel = 10, only = ['tx', 'churn', 'packed', 'resume', 'rest'] } = {}) {
    this.running = true;
    const on = (name) => only.includes(name);
    const big = 'x'.repeat(60 << 10);
    // Case 1: four connections fill transactions with 60 KiB SENDs.
    for (let k = 0; k < (on('tx') ? 4 : 0); k++) {
      this.loop(`tx${k}`, async (s) => {
        for (let t = 0; this.running && !s.closed; t++) {
          this.send(s, frame('BEGIN', { transaction: `t${t}` }));
          for (let i = 0; i < 128 && this.running && !s.closed; i++) {
            this.send(s, frame('SEND', { destination: '/pub/send-message', transaction: `t${t}`, 'content-type': 'application/json' },
              `{"chatRoomId":${this.room},"message":"${big}"}`));
            await this.drain(s);
          }
        }
      });
    }
    // Case 2: SUBSCRIBE/UNSUBSCRIBE churn with last-seq:0, 50 pairs a message.
    if (on('churn')) this.loop('churn', async (s) => {
      for (let n = 0; this.running && !s.closed; n++) {
        let batch = '';
        for (let i = 0; i < 50; i++) {
          batch += frame('SUBSCRIBE', { id: `c${n}-${i}`, destination: `/sub/chat/room/${this.room}`, 'last-seq': '0' });
          batch += frame('UNSUBSCRIBE', { id: `c${n}-${i}` });
        }
        this.send(s, batch);
        await this.drain(s, 1 << 20);
        await delay(0);
      }
    });
    // Case 2: 64 resuming SUBSCRIBEs packed into one WebSocket message.
    if (on('packed')) this.loop('packed', async (s) => {
      let batch = '';
      for (let i = 0; i < 64; i++) batch += frame('SUBSCRIBE', { id: `p${i}`, destination: `/sub/chat/room/${this.room}`, 'last-seq': '0' });
      this.send(s, batch);
      await Promise.race([s.done, delay(2000)]);
    });
    // Case 3: a fast reader resuming from 0 over the whole backlog, again and again.
    const reader = async (s) => {
      this.stats.resumeRounds++;
      s.got = 0;
      this.send(s, frame('SUBSCRIBE', { id: 'r', destination: `/sub/chat/room/${this.room}`, 'last-seq': '0' }));
      await Promise.race([s.done, delay(3000)]);
      if (s.got >= 1000) this.stats.resumeFull++;
    };
    reader.onFrame = (f, s) => { if (f.startsWith('MESSAGE')) { this.stats.resumed++; s.got = (s.got ?? 0) + 1; } };
    if (on('resume')) this.loop('resume', reader);
    // Case 7: parallel heavy REST reads.
    const rest = async (path) => {
      while (this.running) {
        try {
          const res = await fetch(this.apiURL + path, { headers: { authorization: `Bearer ${this.token}` }, signal: AbortSignal.timeout(15000) });
          await res.arrayBuffer();
          this.stats.http[res.status] = (this.stats.http[res.status] ?? 0) + 1;
          if (res.status === 429) await delay(Number(res.headers.get('retry-after') ?? 1) * 1000);
        } catch (err) {
          this.stats.http[err.name] = (this.stats.http[err.name] ?? 0) + 1;
          await delay(100);
        }
      }
    };
    if (!on('rest')) return;
    for (let i = 0; i < restParallel; i++) this.loops.push(rest(`/api/v1/chat-rooms/${this.room}/messages?limit=500`));
    for (let i = 0; i < listParallel; i++) this.loops.push(rest('/api/v1/chat-rooms'));
  }

  async stop() {
    this.running = false;
    await Promise.allSettled(this.loops);
  }
}

// Run as a child process (soak.mjs forks it, so the attack's own work never
// delays the healthy pair's event loop): the parent sends {start: opts},
// then {stop: true}; the child answers {stats} and exits.
if (process.send && process.argv[2] === 'child') {
  let x;
  process.on('message', async (m) => {
    if (m.start) {
      x = new Attacker(m.start);
      x.start(m.start.only ? { only: m.start.only } : {});
    } else if (m.stop) {
      await x?.stop();
      process.send({ stats: x?.stats }, () => process.exit(0));
    }
  });
}
