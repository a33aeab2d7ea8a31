// Assertions about the contract's JSON shapes, shared by the test files.

import assert from 'node:assert/strict';

export const SENT_AT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
export const EVENT_TYPES = ['ENTER', 'LEAVE', 'MEMBER_ADDED', 'MEMBER_REMOVED'];

/** assertChatMessage checks one chat message body against what was sent. */
export function assertChatMessage(m, { room, sendId, rcvId, message }, where = '') {
  const ctx = `${where} ${JSON.stringify(m)}`;
  assert.equal(m.chatRoomId, room, `chatRoomId ${ctx}`);
  assert.equal(m.sendId, sendId, `sendId ${ctx}`);
  if (rcvId !== undefined) assert.equal(m.rcvId, rcvId, `rcvId ${ctx}`);
  assert.equal(m.message, message, `message ${ctx}`);
  assert.ok(Number.isInteger(m.seq) && m.seq > 0, `seq is a positive integer ${ctx}`);
  assert.equal(m.id, `${room}-${m.seq}`, `id is "<room>-<seq>" ${ctx}`);
  assert.match(String(m.sentAt), SENT_AT, `sentAt is RFC 3339 UTC ${ctx}`);
}

/** assertConsecutive checks that seqs go up by exactly one. */
export function assertConsecutive(msgs, where = '') {
  const seqs = msgs.map((m) => m.seq);
  for (let i = 1; i < seqs.length; i++) {
    assert.equal(seqs[i], seqs[i - 1] + 1, `${where} seq must increase by one per message: ${JSON.stringify(seqs)}`);
  }
}

/** assertMessageFrame checks the STOMP headers of a MESSAGE delivered to collector col. */
export function assertMessageFrame(frame, col) {
  assert.equal(frame.headers.destination, col.destination, `MESSAGE destination ${JSON.stringify(frame.headers)}`);
  assert.equal(frame.headers.subscription, col.subscription.id, `MESSAGE subscription ${JSON.stringify(frame.headers)}`);
  assert.ok(frame.headers['message-id'], `MESSAGE carries message-id ${JSON.stringify(frame.headers)}`);
}

/** assertChatOnly / assertEventsOnly: chat and event destinations never mix. */
export function assertChatOnly(col, who) {
  for (const m of col.items) {
    assert.ok(m.type === undefined && Number.isInteger(m.seq) && typeof m.message === 'string',
      `${who}: only chat messages on ${col.destination}, got ${JSON.stringify(m)}`);
  }
}
export function assertEventsOnly(col, who) {
  for (const e of col.items) {
    assert.ok(EVENT_TYPES.includes(e.type) && e.seq === undefined && e.message === undefined,
      `${who}: only events on ${col.destination}, got ${JSON.stringify(e)}`);
    assert.match(String(e.at), SENT_AT, `${who}: event "at" ${JSON.stringify(e)}`);
  }
}

/** assertProblem checks an application/problem+json error response. */
export function assertProblem(r, status) {
  assert.equal(r.status, status, String(r));
  assert.match(String(r.contentType), /^application\/problem\+json/, `content-type of ${r}`);
  assert.equal(r.body?.status, status, `problem.status in ${r}`);
  for (const f of ['type', 'title', 'detail']) assert.equal(typeof r.body?.[f], 'string', `problem.${f} in ${r}`);
}

/** pick keeps the contract fields of a chat message, for comparisons across transports. */
export const pick = ({ id, chatRoomId, seq, sendId, message, sentAt }) => ({ id, chatRoomId, seq, sendId, message, sentAt });

/** byNumber sorts numerically. */
export const byNumber = (a, b) => a - b;
