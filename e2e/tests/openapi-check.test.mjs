// The contract check of lib/openapi.mjs on its own, without the system: it
// passes exchanges that follow api/openapi.yaml and catches each kind of
// drift with a message that names it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpecViolation, checkExchange, loadSpec } from '../lib/openapi.mjs';

const json = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
const problemHeaders = { 'content-type': 'application/problem+json', 'cache-control': 'no-store' };
const problem = (status, title, detail) => JSON.stringify({ type: 'about:blank', title, status, detail });
const room = { id: 2, type: 'direct', createdBy: 8, createdAt: '2026-11-26T15:40:00.000Z', memberIds: [3, 8], memberCount: 2, lastSeq: 0 };
const message = { id: '2-1', chatRoomId: 2, seq: 1, sendId: 8, rcvId: 3, message: 'hi', sentAt: '2026-11-26T15:44:02.123Z' };

/** violations returns what checkExchange reports (none: []). */
function violations(req, res) {
  try {
    checkExchange({ token: 'tok', ...req }, res);
    return [];
  } catch (err) {
    assert.ok(err instanceof SpecViolation, err.stack);
    return err.violations;
  }
}

/** caught asserts that the exchange is refused with a violation matching re, and returns the message. */
function caught(req, res, re) {
  let message;
  assert.throws(() => checkExchange({ token: 'tok', ...req }, res), (err) => {
    assert.ok(err instanceof SpecViolation, err.stack);
    message = err.message;
    return err.violations.some((v) => re.test(v));
  }, `want a violation matching ${re}`);
  return message;
}

test('the spec loads once and its routes are known', () => {
  assert.equal(loadSpec(), loadSpec());
  assert.ok(loadSpec().routes.some((r) => r.template === '/api/v1/chat-rooms/{id}/messages'));
});

test('conforming exchanges pass', () => {
  assert.deepEqual(violations({ method: 'POST', url: '/api/v1/chat-rooms', body: { type: 'direct', memberIds: [3] } },
    { status: 201, headers: json, text: JSON.stringify(room) }), []);
  assert.deepEqual(violations({ method: 'POST', url: '/api/v1/chat-rooms/2/messages', body: { message: 'hi' } },
    { status: 201, headers: json, text: JSON.stringify(message) }), []);
  assert.deepEqual(violations({ method: 'GET', url: '/api/v1/chat-rooms/2/messages?limit=2&order=asc' },
    { status: 200, headers: json, text: JSON.stringify({ messages: [message], hasMore: true, readBy: { 8: 1 } }) }), []);
  assert.deepEqual(violations({ method: 'GET', url: '/api/v1/presence?userIds=63,64' },
    { status: 200, headers: json, text: JSON.stringify({ users: [{ userId: 63, online: false, sessions: 0 }, { userId: 64, online: true, sessions: 1 }] }) }), []);
  assert.deepEqual(violations({ method: 'DELETE', url: '/api/v1/chat-rooms/2/members/5' },
    { status: 204, headers: { 'cache-control': 'no-store' }, text: '' }), []);
  assert.deepEqual(violations({ method: 'GET', url: '/api/v1/chat-rooms/2' },
    { status: 404, headers: problemHeaders, text: problem(404, 'Not Found', 'room not found') }), []);
});

test('a wrong response shape is caught', () => {
  const { lastSeq, ...noSeq } = room;
  caught({ method: 'POST', url: '/api/v1/chat-rooms', body: { type: 'direct', memberIds: [3] } },
    { status: 201, headers: json, text: JSON.stringify(noSeq) }, /body: .*lastSeq/);
  caught({ method: 'POST', url: '/api/v1/chat-rooms', body: { type: 'direct', memberIds: [3] } },
    { status: 201, headers: json, text: JSON.stringify({ ...room, secret: 1 }) }, /body: .*"secret"/);
  caught({ method: 'POST', url: '/api/v1/chat-rooms/2/messages', body: { message: 'hi' } },
    { status: 201, headers: json, text: JSON.stringify({ ...message, seq: '1' }) }, /body: \/seq must be integer/);
  caught({ method: 'GET', url: '/api/v1/chat-rooms' }, { status: 200, headers: json, text: 'not json' }, /not JSON/);
});

test('an undocumented status is caught, with a readable message', () => {
  const msg = caught({ method: 'POST', url: '/api/v1/chat-rooms/2/messages', body: { message: 'hi' } },
    { status: 202, headers: json, text: JSON.stringify(message) }, /status 202 is not documented/);
  assert.match(msg, /^POST \/api\/v1\/chat-rooms\/2\/messages -> 202 breaks .*openapi\.yaml:\n {2}- response: status 202 is not documented for POST \/api\/v1\/chat-rooms\/\{id\}\/messages/);
  assert.match(msg, /answer: HTTP 202 application\/json/);
  caught({ method: 'GET', url: '/api/v1/chat-rooms' }, { status: 409, headers: problemHeaders, text: problem(409, 'Conflict', 'x') },
    /status 409 is not documented/);
});

test('errors must be problem documents', () => {
  caught({ method: 'GET', url: '/api/v1/chat-rooms/2' }, { status: 404, headers: json, text: '{"error":"not found"}' },
    /must be application\/problem\+json/);
  caught({ method: 'GET', url: '/api/v1/chat-rooms/2' }, { status: 404, headers: problemHeaders, text: problem(400, 'Not Found', 'x') },
    /status/);
  caught({ method: 'GET', url: '/api/v1/chat-rooms' }, { status: 401, headers: problemHeaders, text: problem(401, 'Unauthorized', 'missing token') },
    /header WWW-Authenticate is required/);
});

test('off-spec requests fail unless marked, and their answers are still checked', () => {
  const unknown = { method: 'GET', url: '/api/v1/no-such-thing' };
  const notFound = { status: 404, headers: problemHeaders, text: problem(404, 'Not Found', 'no such route') };
  caught(unknown, notFound, /request: path \/api\/v1\/no-such-thing is not in the spec/);
  assert.deepEqual(violations({ ...unknown, offSpec: 'probing' }, notFound), []);
  caught({ ...unknown, offSpec: 'probing' }, { status: 200, headers: json, text: '{}' }, /unknown path must be answered 404/);

  const badBody = { method: 'POST', url: '/api/v1/chat-rooms/2/messages', body: { message: 'hi', recvId: 3 } };
  caught(badBody, { status: 400, headers: problemHeaders, text: problem(400, 'Bad Request', 'unknown field "recvId"') }, /request: body: .*"recvId"/);
  assert.deepEqual(violations({ ...badBody, offSpec: 'unknown field' },
    { status: 400, headers: problemHeaders, text: problem(400, 'Bad Request', 'unknown field "recvId"') }), []);
  caught({ ...badBody, offSpec: 'unknown field' }, { status: 201, headers: json, text: JSON.stringify(message) },
    /the spec refuses this request, yet it was answered 201/);

  caught({ method: 'GET', url: '/api/v1/chat-rooms', token: undefined },
    { status: 401, headers: { ...problemHeaders, 'www-authenticate': 'Bearer realm="roomwire"' }, text: problem(401, 'Unauthorized', 'missing token') },
    /needs a bearer token/);
  caught({ method: 'GET', url: '/api/v1/chat-rooms/abc' }, { status: 400, headers: problemHeaders, text: problem(400, 'Bad Request', 'x') },
    /path parameter id="abc"/);
  caught({ method: 'GET', url: '/api/v1/chat-rooms/2/messages?limit=0' }, { status: 400, headers: problemHeaders, text: problem(400, 'Bad Request', 'x') },
    /query parameter limit=/);
  caught({ method: 'GET', url: '/api/v1/chat-rooms/2/messages?page=2' }, { status: 200, headers: json, text: '{"messages":[],"hasMore":false,"readBy":{}}' },
    /query parameter page is not documented/);
  caught({ method: 'PUT', url: '/api/v1/chat-rooms/2' }, { status: 405, headers: problemHeaders, text: problem(405, 'Method Not Allowed', 'x') },
    /PUT is not an operation/);
});

test('a conforming request marked offSpec is reported, so marks cannot go stale', () => {
  caught({ method: 'GET', url: '/api/v1/chat-rooms/2', offSpec: 'not really' },
    { status: 404, headers: problemHeaders, text: problem(404, 'Not Found', 'room not found') }, /marked offSpec but it conforms/);
});
