// The timeline stays one contiguous window of seqs whatever order pages and
// live (or replayed) messages arrive in.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addLive, addNewestPage, addOlderPage, emptyTimeline, highestSeq, historyGone, oldestSeq, replaceMessage, replaceWithNewestPage, resetToNewestPage, unconfirmed,
} from '../../src/chat/timeline.js';

const m = (seq) => ({ id: `1-${seq}`, chatRoomId: 1, seq, sendId: 8, message: `m${seq}`, sentAt: '2026-01-01T00:00:00Z' });
const page = (from, to, hasMore) => ({ messages: Array.from({ length: to - from + 1 }, (_, i) => m(to - i)), hasMore });
const seqs = (t) => t.messages.map((x) => x.seq);

test('newest page then live messages append in order', () => {
  let t = addNewestPage(emptyTimeline, page(51, 100, true));
  t = addLive(t, m(101));
  t = addLive(t, m(102));
  assert.deepEqual(seqs(t).slice(-3), [100, 101, 102]);
  assert.equal(highestSeq(t), 102);
  assert.equal(oldestSeq(t), 51);
});

test('live messages before the first page merge without duplicates', () => {
  let t = addLive(emptyTimeline, m(101));
  t = addLive(t, m(102));
  t = addNewestPage(t, page(53, 102, true));
  assert.deepEqual(seqs(t), Array.from({ length: 50 }, (_, i) => 53 + i));
  assert.equal(t.loaded, true);
});

test('a replay after a reconnect drops what is already shown', () => {
  let t = addNewestPage(emptyTimeline, page(1, 10, false));
  for (const s of [9, 10, 11, 12]) t = addLive(t, m(s));
  assert.deepEqual(seqs(t), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
});

test('older pages prepend; a live message below the window waits for its page', () => {
  let t = addNewestPage(emptyTimeline, page(51, 100, true));
  t = addLive(t, m(20));
  assert.equal(oldestSeq(t), 51, 'no hole: 20 comes with an older page');
  t = addOlderPage(t, page(1, 50, false));
  assert.deepEqual(seqs(t), Array.from({ length: 100 }, (_, i) => i + 1));
  assert.equal(t.hasMore, false);
  assert.equal(historyGone(t), false);
});

test('a truncated resume restarts from the newest page', () => {
  let t = addNewestPage(emptyTimeline, page(1, 5, false));
  t = addLive(t, m(40)); // replayed after the notice, newer than the page? no: page covers it
  t = replaceWithNewestPage(t, page(31, 60, false));
  t = addLive(t, m(61));
  assert.deepEqual(seqs(t), Array.from({ length: 31 }, (_, i) => 31 + i));
  assert.equal(historyGone(t), true);
});

test('a reset resume drops the stale messages for the newest page', () => {
  let t = addNewestPage(emptyTimeline, page(40, 90, true)); // from a Redis since replaced
  t = resetToNewestPage(t, page(1, 12, false));
  t = addLive(t, m(13));
  assert.deepEqual(seqs(t), Array.from({ length: 13 }, (_, i) => i + 1));
});

test('an edit or deletion replaces the shown message in place', () => {
  let t = addNewestPage(emptyTimeline, page(1, 3, false));
  t = replaceMessage(t, { ...m(2), message: 'fixed', editedAt: '2026-01-01T00:01:00Z' });
  t = replaceMessage(t, { id: '1-3', chatRoomId: 1, seq: 3, sendId: 8, deleted: true, sentAt: '2026-01-01T00:00:00Z' });
  assert.deepEqual(t.messages.map((x) => x.message ?? 'deleted'), ['m1', 'fixed', 'deleted']);
  assert.equal(replaceMessage(t, m(9)), t, 'a message not shown changes nothing');
});

test('a pending send disappears once its message is in the stream, one for one', () => {
  const mine = (seq, message) => ({ ...m(seq), sendId: 8, message });
  const pending = [{ key: 'a', text: 'ok', afterSeq: 3 }, { key: 'b', text: 'ok', afterSeq: 3 }, { key: 'c', text: 'later', afterSeq: 3 }];
  const stream = [mine(2, 'ok'), { ...m(4), sendId: 3, message: 'ok' }, mine(5, 'ok')];
  assert.deepEqual(unconfirmed(pending, stream, 8).map((p) => p.key), ['b', 'c']);
});
