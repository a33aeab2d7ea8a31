// A room's timeline: the messages shown, oldest first, as one contiguous
// window of seqs [first, last]. Pure functions, so they are unit-tested
// without a browser (tests/unit/timeline.test.js).
//
// Shape: {messages: [...ascending by seq], hasMore: bool (older exist on the
// server), loaded: bool (the newest page has arrived)}.

export const emptyTimeline = Object.freeze({ messages: [], hasMore: false, loaded: false });

function byId(messages) {
  return new Set(messages.map((m) => m.seq));
}

function sorted(messages) {
  return messages.sort((a, b) => a.seq - b.seq);
}

/**
 * addLive adds a message received live (or replayed on resume). Duplicates
 * are dropped; so is a message older than the window while older pages
 * remain on the server (it arrives again with those pages), which keeps the
 * window free of holes.
 */
export function addLive(t, msg) {
  if (typeof msg?.seq !== 'number') return t;
  const { messages } = t;
  if (messages.length && msg.seq < messages[0].seq && t.hasMore) return t;
  const last = messages[messages.length - 1];
  if (!last || msg.seq > last.seq) return { ...t, messages: [...messages, msg] };
  if (byId(messages).has(msg.seq)) return t;
  return { ...t, messages: sorted([...messages, msg]) };
}

/**
 * addNewestPage merges the first history page (newest first, as the API
 * answers) with whatever arrived live meanwhile.
 */
export function addNewestPage(t, page) {
  const seen = byId(t.messages);
  const fresh = page.messages.filter((m) => !seen.has(m.seq));
  return { messages: sorted([...t.messages, ...fresh]), hasMore: page.hasMore, loaded: true };
}

/** addOlderPage prepends a page fetched with before=<oldest seq shown>. */
export function addOlderPage(t, page) {
  const seen = byId(t.messages);
  const older = page.messages.filter((m) => !seen.has(m.seq));
  return { ...t, messages: sorted([...older, ...t.messages]), hasMore: page.hasMore };
}

/**
 * replaceWithNewestPage starts over from a fresh newest page: used when a
 * resume was truncated (history no longer reaches the last seq shown).
 * Live messages newer than the page are kept.
 */
export function replaceWithNewestPage(t, page) {
  const newest = page.messages.reduce((n, m) => Math.max(n, m.seq), 0);
  const kept = t.messages.filter((m) => m.seq > newest);
  return addNewestPage({ ...emptyTimeline, messages: kept }, page);
}

/**
 * resetToNewestPage drops everything shown for a fresh newest page: used
 * when a resume was reset (the client's last seq is past the room's latest,
 * so what it shows no longer matches the server's history).
 */
export function resetToNewestPage(_t, page) {
  return addNewestPage(emptyTimeline, page);
}

/**
 * replaceMessage swaps in a newer version of a message already shown (an
 * edit, or a deletion's tombstone {seq, deleted: true}); others are ignored.
 */
export function replaceMessage(t, msg) {
  const i = t.messages.findIndex((m) => m.seq === msg?.seq);
  if (i < 0) return t;
  const messages = t.messages.slice();
  messages[i] = msg;
  return { ...t, messages };
}

/** highestSeq is the newest seq shown (0 when none). */
export function highestSeq(t) {
  return t.messages.length ? t.messages[t.messages.length - 1].seq : 0;
}

/** oldestSeq is the oldest seq shown (0 when none). */
export function oldestSeq(t) {
  return t.messages.length ? t.messages[0].seq : 0;
}

/** historyGone reports that older messages existed but history no longer has them. */
export function historyGone(t) {
  return t.loaded && !t.hasMore && oldestSeq(t) > 1;
}

/**
 * unconfirmed returns the pending sends ({text, afterSeq}) not yet matched
 * by a message of mine newer than afterSeq with the same text: a sent
 * message may arrive before its RECEIPT, or be stored although the
 * connection dropped first. Each message matches one pending send.
 */
export function unconfirmed(pending, messages, me) {
  const used = new Set();
  return pending.filter((p) => {
    const m = messages.find((x) => x.sendId === me && x.seq > p.afterSeq && x.message === p.text && !used.has(x.seq));
    if (!m) return true;
    used.add(m.seq);
    return false;
  });
}
