// Traffic helpers for the fault tests: senders that know exactly which of
// their messages were acknowledged, subscribers that resume with last-seq
// after a reconnect, a long-polling reader, and the sequence checks they all
// share. Every message text a test sends is unique, so a duplicate delivery
// or a lost acknowledged message is visible by its text as well as its seq.

import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { deferred, eventually } from './wait.mjs';
import { pick } from './checks.mjs';

let receiptIds = 0;

/** now is a monotonic clock in ms, shared by senders and receivers of one process. */
export const now = () => performance.now();

/** stampOf extracts the send time a sender put into a text ("... @<ms>"), or NaN. */
export const stampOf = (text) => Number(/@(\d+(?:\.\d+)?)$/.exec(text)?.[1]);

/**
 * StompSender publishes chat messages through a (possibly reconnecting)
 * stompjs handle c, each with a receipt. A message is acknowledged when its
 * RECEIPT arrives; it is unacknowledged when an ERROR frame or a socket
 * close comes first. Nothing is ever re-sent: after a reconnect the sender
 * goes on with new texts. While c is not connected, send() sends nothing
 * and reports 'skipped'.
 */
export class StompSender {
  constructor(c, { room, sendId, tag, pad = '' }) {
    Object.assign(this, { c, room, sendId, tag, pad });
    this.n = 0;
    this.acked = []; // texts, in RECEIPT order
    this.ackMs = []; // SEND -> RECEIPT time of each acknowledged message
    this.unacked = []; // {text, why}
    this.skipped = 0;
    this.pending = new Map(); // receipt id -> {text, resolve}
    const fail = (why) => {
      for (const p of this.pending.values()) {
        this.unacked.push({ text: p.text, why });
        p.resolve('unacked');
      }
      this.pending.clear();
    };
    c.emitter.on('stompError', (f) => fail(`ERROR ${f.headers.message}`));
    c.emitter.on('close', (e) => fail(`socket closed ${e.code}`));
  }

  get sent() { return this.acked.length + this.unacked.length + this.pending.size; }

  /** send publishes one new message; resolves 'acked', 'unacked' or 'skipped'. */
  send() {
    if (!this.c.client.connected) {
      this.skipped++;
      return Promise.resolve('skipped');
    }
    const t = now();
    const text = `${this.tag}#${++this.n}${this.pad} @${t.toFixed(3)}`;
    const receipt = `${this.tag}-rcpt-${++receiptIds}`;
    const done = deferred();
    this.pending.set(receipt, { text, resolve: done.resolve });
    try {
      this.c.client.watchForReceipt(receipt, () => {
        if (this.pending.delete(receipt)) {
          this.acked.push(text);
          this.ackMs.push(now() - t);
          done.resolve('acked');
        }
      });
      this.c.client.publish({
        destination: '/pub/send-message',
        body: JSON.stringify({ chatRoomId: this.room, sendId: this.sendId, message: text }),
        headers: { receipt },
      });
    } catch (err) {
      // The connection went away between the check and the publish: the
      // frame may or may not have left; count it as sent, unacknowledged.
      if (this.pending.delete(receipt)) {
        this.unacked.push({ text, why: `publish threw: ${err.message}` });
        done.resolve('unacked');
      }
    }
    return done;
  }

  /** settle waits (bounded) until no message is waiting for its RECEIPT. */
  settle(ms = 10000) {
    return eventually(() => assert.equal(this.pending.size, 0, `${this.tag}: ${this.pending.size} SENDs still waiting for RECEIPT`), ms);
  }
}

/**
 * RestSender posts chat messages one at a time. 201 is an acknowledgement;
 * any other status or a network error leaves the message unacknowledged.
 */
export class RestSender {
  constructor(sys, { room, token, tag, timeoutMs = 5000 }) {
    Object.assign(this, { sys, room, token, tag, timeoutMs });
    this.n = 0;
    this.acked = [];
    this.ackMs = [];
    this.unacked = [];
    this.statuses = {};
  }

  get sent() { return this.acked.length + this.unacked.length; }

  async send() {
    const t = now();
    const text = `${this.tag}#${++this.n} @${t.toFixed(3)}`;
    try {
      const res = await fetch(`${this.sys.apiURL}/api/v1/chat-rooms/${this.room}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message: text }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const body = await res.text();
      this.statuses[res.status] = (this.statuses[res.status] ?? 0) + 1;
      if (res.status === 201) {
        this.acked.push(text);
        this.ackMs.push(now() - t);
        return 'acked';
      }
      this.unacked.push({ text, why: `HTTP ${res.status} ${body.slice(0, 200)}` });
    } catch (err) {
      this.statuses.network = (this.statuses.network ?? 0) + 1;
      this.unacked.push({ text, why: `fetch failed: ${err.cause?.code ?? err.message}` });
    }
    return 'unacked';
  }
}

/**
 * LongPoller reads a room like a client without WebSocket: GET
 * .../messages?after=<last seq seen>&wait=<wait> in a loop, recording every
 * message in the order received (items, recvAt). Failed polls (non-200, network errors) are
 * recorded and retried after retryMs. stop() aborts a poll in flight.
 */
export class LongPoller {
  constructor(sys, { room, token, wait = '5s', waitMs = 5000, retryMs = 100, label = 'longpoll' }) {
    Object.assign(this, { sys, room, token, wait, waitMs, retryMs, label });
    this.items = [];
    this.recvAt = []; // now() when each item arrived
    this.errors = [];
    this.polls = 0;
    this.empty = 0;
    this.last = 0;
    this.stopped = false;
  }

  start(after = 0) {
    this.last = after;
    this.running = this.#loop();
    return this;
  }

  get seqs() { return this.items.map((m) => m.seq); }

  async #loop() {
    while (!this.stopped) {
      this.abort = new AbortController();
      try {
        const res = await fetch(`${this.sys.apiURL}/api/v1/chat-rooms/${this.room}/messages?after=${this.last}&wait=${this.wait}`, {
          headers: { authorization: `Bearer ${this.token}` },
          signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.waitMs + 5000)]),
        });
        const text = await res.text();
        if (res.status !== 200) {
          this.errors.push(`HTTP ${res.status} ${text.slice(0, 200)}`);
          await delay(this.retryMs, undefined, { ref: false });
          continue;
        }
        const body = JSON.parse(text);
        this.polls++;
        if (body.messages.length === 0) this.empty++;
        const t = now();
        for (const m of body.messages) {
          this.items.push(m);
          this.recvAt.push(t);
        }
        if (body.messages.length) this.last = body.messages.at(-1).seq;
      } catch (err) {
        if (this.stopped) break;
        this.errors.push(`fetch: ${err.cause?.code ?? err.name + ' ' + err.message}`);
        await delay(this.retryMs, undefined, { ref: false });
      }
    }
  }

  async stop() {
    this.stopped = true;
    this.abort?.abort();
    await this.running;
  }
}

/**
 * resumingSubscriber is a stompjs client that subscribes to a room's chat
 * destination in every onConnect, the way an app that survives reconnects
 * would: with last-seq = the highest seq it has received (no header before
 * it has received anything, unless opts.lastSeq gives a starting point).
 * It records every chat message (items, seqs, recvAt) and every
 * RESUME_TRUNCATED notice across all its connections; subs lists each
 * SUBSCRIBE it made ({lastSeq, url, ready} with ready the RECEIPT promise).
 */
export function resumingSubscriber(sys, { room, lastSeq, ...opts }) {
  const r = { items: [], seqs: [], recvAt: [], notices: [], subs: [], maxSeq: lastSeq ?? 0 };
  const dest = `/sub/chat/room/${room}`;
  r.c = sys.stomp({
    reconnectDelay: 200,
    ...opts,
    onConnect: (_frame, c) => {
      const headers = { receipt: `resub-${++receiptIds}` };
      if (r.maxSeq > 0 || lastSeq !== undefined) headers['last-seq'] = String(r.maxSeq);
      const sub = { lastSeq: headers['last-seq'], url: c.url, ready: deferred(), at: now() };
      c.client.watchForReceipt(headers.receipt, () => sub.ready.resolve());
      sub.handle = c.client.subscribe(dest, (m) => {
        const t = now();
        if (m.headers['x-resume-truncated'] !== undefined) {
          r.notices.push({ headers: m.headers, body: JSON.parse(m.body), index: r.items.length });
          return;
        }
        const v = JSON.parse(m.body);
        r.items.push(v);
        r.seqs.push(v.seq);
        r.recvAt.push(t);
        if (v.seq > r.maxSeq) r.maxSeq = v.seq;
      }, headers);
      r.subs.push(sub);
    },
  });
  r.ready = async () => {
    await r.c.ready();
    await eventually(() => assert.ok(r.subs.length > 0, `${r.c.label} subscribed`));
    return r.subs.at(-1).ready;
  };
  r.waitFor = (seq, ms = 10000) => eventually(() => assert.ok(r.maxSeq >= seq,
    `${r.c.label} has seq up to ${r.maxSeq}, waiting for ${seq}; connections ${r.c.connects}\n${r.c.describe()}`), ms);
  return r;
}

/** range returns [from, from+1, ..., to]. */
export const range = (from, to) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/**
 * seqReport describes a received seq list against the expected from..to:
 * duplicates, missing seqs and out-of-order steps, for logs and messages.
 */
export function seqReport(seqs, from, to) {
  const seen = new Map();
  for (const s of seqs) seen.set(s, (seen.get(s) ?? 0) + 1);
  const duplicates = [...seen].filter(([, n]) => n > 1).map(([s]) => s);
  const missing = range(from, to).filter((s) => !seen.has(s));
  let disorder = 0;
  for (let i = 1; i < seqs.length; i++) if (seqs[i] <= seqs[i - 1]) disorder++;
  const extra = [...seen.keys()].filter((s) => s < from || s > to);
  return { received: seqs.length, duplicates, missing, disorder, extra };
}

/** readerLabel names a reader: a resumingSubscriber by its client, a LongPoller by its label. */
const readerLabel = (r) => r.c?.label ?? r.label;

/**
 * deliveryReport sets what every reader received against what the senders
 * (StompSender / RestSender) sent, once traffic has stopped and final is the
 * room's lastSeq. readers are resumingSubscribers and LongPollers (anything
 * with items, seqs and a label, or a stompjs handle c). It returns
 *   acked: text -> sender tag, unacked: text -> why, sent: every text sent,
 *   unackedByCause: why (first 70 chars) -> count,
 *   report: reader label -> { delivered, connections, duplicateSeqs,
 *     duplicateTexts, missingSeqs (in 1..final), outOfOrder, lostAcked,
 *     unackedDelivered (a count), unknownTexts },
 * and final and readers, for assertDelivery.
 */
export function deliveryReport({ senders, readers, final }) {
  const acked = new Map();
  const unacked = new Map();
  for (const s of senders) {
    for (const t of s.acked) acked.set(t, s.tag);
    for (const u of s.unacked) unacked.set(u.text, u.why);
  }
  const sent = new Set([...acked.keys(), ...unacked.keys()]);
  const unackedByCause = {};
  for (const w of unacked.values()) unackedByCause[w.slice(0, 70)] = (unackedByCause[w.slice(0, 70)] ?? 0) + 1;
  const report = {};
  for (const r of readers) {
    const count = new Map();
    for (const m of r.items) count.set(m.message, (count.get(m.message) ?? 0) + 1);
    const rep = seqReport(r.seqs, 1, final);
    report[readerLabel(r)] = {
      delivered: r.items.length,
      connections: r.c?.connects,
      duplicateSeqs: rep.duplicates,
      duplicateTexts: [...count].filter(([, n]) => n > 1).map(([t]) => t),
      missingSeqs: rep.missing,
      outOfOrder: rep.disorder,
      lostAcked: [...acked.keys()].filter((t) => !count.has(t)),
      unackedDelivered: [...unacked.keys()].filter((t) => count.has(t)).length,
      unknownTexts: [...count.keys()].filter((t) => !sent.has(t)),
    };
  }
  return { final, readers, acked, unacked, sent, unackedByCause, report };
}

/** logDelivery prints a deliveryReport: the totals, then one line per reader. */
export function logDelivery(prefix, { acked, unacked, report }) {
  console.log(`${prefix} totals: acknowledged ${acked.size}, sent-but-unacknowledged ${unacked.size}`);
  for (const [label, r] of Object.entries(report)) {
    console.log(`${prefix} reader ${label}: delivered ${r.delivered}, duplicates ${r.duplicateSeqs.length} seq / ${r.duplicateTexts.length} text, ` +
      `gaps (missing seqs) ${r.missingSeqs.length}, lost acknowledged ${r.lostAcked.length}, out of order ${r.outOfOrder}, ` +
      `unacknowledged-but-delivered ${r.unackedDelivered}, unknown ${r.unknownTexts.length}, connections ${r.connections ?? '-'}`);
  }
}

/**
 * assertDelivery checks a deliveryReport: every reader got every
 * acknowledged message exactly once, in seq order, no gap in 1..final and
 * nothing that was not sent (unacknowledged messages may be missing); then
 * throws catchUpError if the readers did not catch up with final; then all
 * readers hold the same messages (contract fields) as the first, and
 * final lies between the acknowledged and the sent count.
 */
export function assertDelivery({ final, readers, acked, sent, report }, { catchUpError } = {}) {
  for (const [label, r] of Object.entries(report)) {
    // Counts compared, lists in the message: a diff of hundreds of texts says less.
    assert.equal(r.lostAcked.length, 0, `${label}: every acknowledged message delivered; lost ${short(r.lostAcked)}`);
    assert.equal(r.duplicateSeqs.length, 0, `${label}: no seq twice: ${short(r.duplicateSeqs)}`);
    assert.equal(r.duplicateTexts.length, 0, `${label}: no text twice (a send executed twice): ${short(r.duplicateTexts)}`);
    assert.equal(r.missingSeqs.length, 0, `${label}: no gap in 1..${final}: missing ${short(r.missingSeqs)}`);
    assert.equal(r.outOfOrder, 0, `${label}: seqs in order`);
    assert.equal(r.unknownTexts.length, 0, `${label}: nothing that was not sent: ${short(r.unknownTexts)}`);
  }
  if (catchUpError) throw catchUpError;
  const [first, ...rest] = readers;
  const ref = first.items.map(pick);
  for (const r of rest) assert.deepEqual(r.items.map(pick), ref, `${readerLabel(r)} received what ${readerLabel(first)} received`);
  assert.ok(final >= acked.size && final <= sent.size, `room lastSeq ${final} between acknowledged ${acked.size} and sent ${sent.size}`);
}

/** short prints the first few elements of a list and its length. */
export const short = (list, n = 20) => (list.length > n ? `${JSON.stringify(list.slice(0, n)).slice(0, -1)},... (${list.length})]` : JSON.stringify(list));

/** percentiles returns p50/p99/max (ms, one decimal) of a list of numbers. */
export function percentiles(values) {
  const v = [...values].sort((a, b) => a - b);
  const at = (p) => (v.length ? v[Math.min(v.length - 1, Math.ceil((p / 100) * v.length) - 1)] : NaN);
  const r1 = (x) => Math.round(x * 10) / 10;
  return { n: v.length, p50: r1(at(50)), p99: r1(at(99)), max: r1(v.at(-1) ?? NaN) };
}

/**
 * every runs fn every periodMs (a traffic shape, not synchronisation) until
 * stop() is called; fn's promises are collected so they can be awaited. The
 * timer does not keep the process alive, so a test that fails before stop()
 * cannot hang its file.
 */
export function every(periodMs, fn) {
  const promises = [];
  const timer = setInterval(() => { promises.push(fn()); }, periodMs);
  timer.unref();
  return {
    promises,
    stop: () => { clearInterval(timer); return Promise.allSettled(promises); },
  };
}

/**
 * mixedTraffic drives StompSenders (each paced by every(periodMs)) and one
 * RestSender (a request at a time, periodMs between them) until stopped.
 * all lists every sender. stop() ends the traffic, waits for the REST loop
 * and until no SEND waits for its RECEIPT; halt() only ends it (for a
 * finally after a failure).
 */
export function mixedTraffic({ stomp, rest, periodMs }) {
  const pacers = stomp.map((s) => every(periodMs, () => s.send()));
  let running = true;
  const restLoop = (async () => {
    while (running) {
      await rest.send();
      await delay(periodMs, undefined, { ref: false }); // traffic shape
    }
  })();
  return {
    all: [...stomp, rest],
    async stop() {
      await Promise.all(pacers.map((p) => p.stop()));
      running = false;
      await restLoop;
      for (const s of stomp) await s.settle();
    },
    halt() {
      for (const p of pacers) p.stop();
      running = false;
    },
  };
}

/**
 * catchUp waits (bounded) until every reader (resumingSubscriber: maxSeq,
 * LongPoller: last) has reached seq final; it resolves to the error when
 * one has not (for assertDelivery to throw after its figures), else to
 * undefined.
 */
export function catchUp(readers, final, ms = 15000) {
  return eventually(() => {
    for (const r of readers) {
      const at = r.maxSeq ?? r.last;
      assert.ok(at >= final, `${readerLabel(r)} at ${at} of ${final}`);
    }
  }, ms).then(() => undefined, (err) => err);
}

/** roomLastSeq reads the room's lastSeq through the REST API. */
export async function roomLastSeq(sys, room, token) {
  const r = await sys.api('GET', `/api/v1/chat-rooms/${room}`, token);
  assert.equal(r.status, 200, String(r));
  return r.body.lastSeq;
}
