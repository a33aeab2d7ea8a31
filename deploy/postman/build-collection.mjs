// Writes roomwire.postman_collection.json, the Postman collection of the
// REST API: every route, in an order that runs end to end on an empty
// system, each request with example bodies and tests of status codes and
// JSON shapes. This file is the source of truth; after editing it run
//
//   node deploy/postman/build-collection.mjs          (rewrite the JSON)
//   node deploy/postman/build-collection.mjs --check  (fail when the JSON is stale; run.sh does)
//
// Tokens: a collection pre-request script mints HS256 tokens for the users
// userA, userB and userC with CryptoJS and the environment's jwtSecret
// (tokenA/tokenB/tokenC given in the environment win, for RS/ES/EdDSA
// set-ups). Empty user ids are drawn at random once per run, so the
// collection also runs against a system that has data already.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const out = fileURLToPath(new URL('roomwire.postman_collection.json', import.meta.url));

// ---- JSON Schemas (draft-07, as Postman's jsonSchema assertion reads them)
// of the answers; api/openapi.yaml is the full contract.
const id = { type: 'integer', minimum: 1 };
const count = { type: 'integer', minimum: 0 };
const ts = { type: 'string', pattern: '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$' };
const message = {
  type: 'object',
  required: ['id', 'chatRoomId', 'seq', 'sendId', 'message', 'sentAt'],
  properties: { id: { type: 'string', pattern: '^\\d+-\\d+$' }, chatRoomId: id, seq: id, sendId: id, rcvId: id,
    message: { type: 'string' }, sentAt: ts, editedAt: ts },
  additionalProperties: false,
};
const tombstone = {
  type: 'object',
  required: ['id', 'chatRoomId', 'seq', 'sendId', 'deleted', 'sentAt', 'deletedAt'],
  properties: { id: { type: 'string', pattern: '^\\d+-\\d+$' }, chatRoomId: id, seq: id, sendId: id, rcvId: id,
    deleted: { enum: [true] }, sentAt: ts, deletedAt: ts },
  additionalProperties: false,
};
const entry = { oneOf: [message, tombstone] };
const roomProps = { id, type: { enum: ['direct', 'group'] }, name: { type: 'string', minLength: 1 }, createdBy: id,
  createdAt: ts, memberIds: { type: 'array', items: id }, memberCount: count, lastSeq: count, lastMessageAt: ts, lastMessage: entry };
// A listed room has memberIds only when direct; a room answer always has them.
const listedRequired = ['id', 'type', 'createdBy', 'createdAt', 'memberCount', 'lastSeq'];
const roomRequired = [...listedRequired, 'memberIds'];
const roomSchema = { type: 'object', required: roomRequired, properties: roomProps, additionalProperties: false };
const roomWithUnread = { type: 'object', required: [...roomRequired, 'unreadCount'],
  properties: { ...roomProps, unreadCount: count }, additionalProperties: false };
const listedRoom = { type: 'object', required: [...listedRequired, 'unreadCount'],
  properties: { ...roomProps, unreadCount: count }, additionalProperties: false };
const schemas = {
  room: roomSchema,
  roomWithUnread,
  roomList: { type: 'object', required: ['rooms'],
    properties: { rooms: { type: 'array', items: listedRoom }, nextCursor: { type: 'string', minLength: 1 } }, additionalProperties: false },
  membership: { type: 'object', required: ['chatRoomId', 'userId', 'added'],
    properties: { chatRoomId: id, userId: id, added: { type: 'boolean' } }, additionalProperties: false },
  message,
  tombstone,
  history: { type: 'object', required: ['messages', 'hasMore', 'readBy'],
    properties: { messages: { type: 'array', items: entry }, hasMore: { type: 'boolean' },
      readBy: { type: 'object', additionalProperties: count, propertyNames: { pattern: '^\\d+$' } } },
    additionalProperties: false },
  longPoll: { type: 'object', required: ['messages', 'hasMore'],
    properties: { messages: { type: 'array', items: entry }, hasMore: { type: 'boolean' } }, additionalProperties: false },
  readState: { type: 'object', required: ['chatRoomId', 'userId', 'seq', 'unreadCount'],
    properties: { chatRoomId: id, userId: id, seq: count, unreadCount: count }, additionalProperties: false },
  roomPresence: { type: 'object', required: ['chatRoomId', 'online'],
    properties: { chatRoomId: id, online: { type: 'array', items: { type: 'object', required: ['userId', 'sessions', 'inRoom'],
      properties: { userId: id, sessions: id, inRoom: { type: 'boolean' } }, additionalProperties: false } } },
    additionalProperties: false },
  usersPresence: { type: 'object', required: ['users'],
    properties: { users: { type: 'array', items: { type: 'object', required: ['userId', 'online', 'sessions'],
      properties: { userId: id, online: { type: 'boolean' }, sessions: count, lastSeen: ts }, additionalProperties: false } } },
    additionalProperties: false },
  disconnected: { type: 'object', required: ['disconnected'], properties: { disconnected: count }, additionalProperties: false },
  problem: { type: 'object', required: ['type', 'title', 'status'],
    properties: { type: { enum: ['about:blank'] }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' } },
    additionalProperties: false },
};

// ---- test snippets (JavaScript source for the Postman sandbox)
const js = String.raw;
const status = (code) => js`pm.test("status ${code}", () => pm.response.to.have.status(${code}));`;
const shape = (name) => js`pm.test("body is a ${name}", () => pm.response.to.have.jsonSchema(${JSON.stringify(schemas[name])}));`;
const jsonType = js`pm.test("Content-Type is JSON", () => pm.expect(pm.response.headers.get("Content-Type")).to.match(/^application\/json/));`;
const ok = (code, name) => [status(code), jsonType, shape(name)];
const problem = (code, detail) => [
  status(code),
  js`pm.test("a problem+json", () => {
  pm.expect(pm.response.headers.get("Content-Type")).to.eql("application/problem+json");
  pm.response.to.have.jsonSchema(${JSON.stringify(schemas.problem)});
  const p = pm.response.json();
  pm.expect(p.status).to.eql(${code});
  pm.expect(p.title).to.eql(${JSON.stringify(httpTitle(code))});
});`,
  ...(detail ? [js`pm.test("detail mentions ${detail.replace(/"/g, "'")}", () => pm.expect(pm.response.json().detail).to.include(${JSON.stringify(detail)}));`] : []),
];
function httpTitle(code) {
  return { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
    409: 'Conflict', 413: 'Request Entity Too Large', 429: 'Too Many Requests', 500: 'Internal Server Error',
    503: 'Service Unavailable' }[code];
}

// ---- collection-level scripts
const prerequest = js`// Mints HS256 tokens for userA, userB and userC (CryptoJS is built into
// Postman and newman) unless the environment gives tokenA/tokenB/tokenC.
// Empty user ids are drawn at random once per run.
const vars = pm.collectionVariables;
for (const who of ["A", "B", "C"]) {
  if (!vars.get("user" + who)) {
    const given = pm.environment.get("user" + who);
    vars.set("user" + who, given ? String(given) : String(100000 + Math.floor(Math.random() * 900000000)));
  }
}
function b64url(words) {
  return CryptoJS.enc.Base64.stringify(words).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
}
function mint(sub, ttlSeconds) {
  const secret = pm.environment.get("jwtSecret");
  if (!secret) throw new Error("set jwtSecret (or tokenA, tokenB, tokenC) in the environment");
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: String(sub), iat: now, exp: now + ttlSeconds };
  if (pm.environment.get("jwtIssuer")) claims.iss = pm.environment.get("jwtIssuer");
  if (pm.environment.get("jwtAudience")) claims.aud = pm.environment.get("jwtAudience");
  const head = b64url(CryptoJS.enc.Utf8.parse(JSON.stringify({ alg: "HS256", typ: "JWT" })));
  const body = b64url(CryptoJS.enc.Utf8.parse(JSON.stringify(claims)));
  return head + "." + body + "." + b64url(CryptoJS.HmacSHA256(head + "." + body, secret));
}
const now = Math.floor(Date.now() / 1000);
if (Number(vars.get("tokensUntil") || 0) < now + 60) {
  for (const who of ["A", "B", "C"]) {
    vars.set("token" + who, pm.environment.get("token" + who) || mint(vars.get("user" + who), 3600));
  }
  // Signed correctly but expired an hour ago: for the 401 test.
  vars.set("expiredToken", pm.environment.get("jwtSecret") ? mint(vars.get("userA"), -3600) : "expired");
  vars.set("tokensUntil", String(now + 3600));
}`;
const collectionTests = js`// Every answer: no 5xx, and every error is an RFC 9457 problem.
pm.test("no server error", () => pm.expect(pm.response.code).to.be.below(500));
if (pm.response.code >= 400) {
  pm.test("errors are application/problem+json", () => {
    pm.expect(pm.response.headers.get("Content-Type")).to.eql("application/problem+json");
    const p = pm.response.json();
    pm.expect(p.type).to.eql("about:blank");
    pm.expect(p.status).to.eql(pm.response.code);
    pm.expect(p.detail).to.be.a("string");
  });
}`;

// ---- requests
let counter = 0;
/**
 * req builds one request. path is under {{baseUrl}} and may hold {{vars}};
 * opts: user ('A' | 'B' | 'C' | 'none' | a raw token expression), body
 * (object or raw string), query ([[k, v], ...]), tests and pre (arrays of
 * script lines), description.
 */
function req(name, method, path, opts = {}) {
  counter++;
  const [pathname] = path.split('?');
  const request = {
    method,
    header: [],
    url: {
      raw: `{{baseUrl}}${path}${opts.query ? '?' + opts.query.map(([k, v]) => `${k}=${v}`).join('&') : ''}`,
      host: ['{{baseUrl}}'],
      path: pathname.replace(/^\//, '').split('/'),
      ...(opts.query ? { query: opts.query.map(([key, value]) => ({ key, value })) } : {}),
    },
    description: opts.description ?? '',
  };
  const user = opts.user ?? 'A';
  if (user === 'none') request.auth = { type: 'noauth' };
  else if (user !== 'A') {
    const token = ['B', 'C'].includes(user) ? `{{token${user}}}` : user;
    request.auth = { type: 'bearer', bearer: [{ key: 'token', value: token, type: 'string' }] };
  }
  if (opts.body !== undefined) {
    request.header.push({ key: 'Content-Type', value: 'application/json' });
    // "{{userB}}" in an object body becomes a bare {{userB}}: ids are JSON numbers.
    const raw = typeof opts.body === 'string' ? opts.body
      : JSON.stringify(opts.body, null, 2).replace(/"(\{\{[A-Za-z]+\}\})"/g, '$1');
    request.body = { mode: 'raw', raw,
      options: { raw: { language: 'json' } } };
  }
  const event = [];
  if (opts.pre) event.push({ listen: 'prerequest', script: { type: 'text/javascript', exec: lines(opts.pre) } });
  if (opts.tests) event.push({ listen: 'test', script: { type: 'text/javascript', exec: lines(opts.tests) } });
  return { name, event, request, response: [] };
}
const lines = (snippets) => snippets.flatMap((s) => s.split('\n'));
const folder = (name, description, item) => ({ name, description, item });
const room = (v, rest = '') => `/api/v1/chat-rooms/{{${v}}}${rest}`;

const items = [
  folder('Health and docs', 'Public routes: no token.', [
    req('Liveness', 'GET', '/healthz', { user: 'none', tests: [status(200), jsonType,
      js`pm.test("status ok", () => pm.expect(pm.response.json()).to.eql({ status: "ok" }));`] }),
    req('Readiness', 'GET', '/readyz', { user: 'none', tests: [status(200),
      js`pm.test("ready", () => pm.expect(pm.response.json()).to.eql({ status: "ready" }));`] }),
    req('OpenAPI document', 'GET', '/openapi.yaml', { user: 'none', tests: [status(200),
      js`pm.test("YAML OpenAPI 3.1", () => {
  pm.expect(pm.response.headers.get("Content-Type")).to.eql("application/yaml");
  pm.expect(pm.response.text()).to.match(/^openapi: 3\.1/);
});`] }),
    req('Interactive docs page', 'GET', '/docs', { user: 'none', tests: [status(200),
      js`pm.test("an HTML page loading Swagger UI from this server", () => {
  pm.expect(pm.response.headers.get("Content-Type")).to.match(/^text\/html/);
  pm.expect(pm.response.text()).to.include("docs/assets/swagger-ui-bundle.js");
});`] }),
  ]),

  folder('Authentication errors', 'Every /api/v1 route needs a valid bearer token: 401 problems otherwise.', [
    req('No token', 'GET', '/api/v1/chat-rooms', { user: 'none', tests: [...problem(401, 'missing token'),
      js`pm.test("WWW-Authenticate: Bearer", () => pm.expect(pm.response.headers.get("WWW-Authenticate")).to.match(/^Bearer /));`] }),
    req('Garbage token', 'GET', '/api/v1/chat-rooms', { user: 'not-a-jwt', tests: problem(401, 'invalid token') }),
    req('Expired token', 'GET', '/api/v1/chat-rooms', { user: '{{expiredToken}}', tests: problem(401) }),
  ]),

  folder('Rooms', 'Direct rooms (one per pair of users) and groups.', [
    req('Create the direct room of A and B', 'POST', '/api/v1/chat-rooms', {
      body: { type: 'direct', memberIds: ['{{userB}}'] },
      description: 'The first call creates the room (201); later calls answer the same room (200).',
      tests: [...ok(201, 'room'), js`const r = pm.response.json();
pm.test("a direct room of A and B", () => {
  pm.expect(r.type).to.eql("direct");
  pm.expect(r.memberIds.map(String)).to.have.members([pm.collectionVariables.get("userA"), pm.collectionVariables.get("userB")]);
  pm.expect(r.lastSeq).to.eql(0);
  pm.expect(r).to.not.have.property("name");
});
pm.collectionVariables.set("directRoomId", r.id);`],
    }),
    req('Create it again: the same room', 'POST', '/api/v1/chat-rooms', {
      user: 'B', body: { type: 'direct', memberIds: ['{{userA}}'] },
      tests: [...ok(200, 'room'), js`pm.test("the same room", () => pm.expect(pm.response.json().id).to.eql(Number(pm.collectionVariables.get("directRoomId"))));`],
    }),
    req('Create a group of A and B', 'POST', '/api/v1/chat-rooms', {
      body: { type: 'group', name: 'postman team', memberIds: ['{{userB}}'] },
      tests: [...ok(201, 'room'), js`const r = pm.response.json();
pm.test("a group created by A", () => {
  pm.expect(r.type).to.eql("group");
  pm.expect(r.name).to.eql("postman team");
  pm.expect(String(r.createdBy)).to.eql(pm.collectionVariables.get("userA"));
  pm.expect(r.memberIds).to.have.lengthOf(2);
});
pm.collectionVariables.set("groupRoomId", r.id);`],
    }),
    req("List A's rooms", 'GET', '/api/v1/chat-rooms', {
      description: 'A page of up to 50 rooms (limit, at most 200), newest activity first; nextCursor while more follow.',
      tests: [...ok(200, 'roomList'), js`const rooms = pm.response.json().rooms;
const ids = rooms.map((r) => r.id);
pm.test("both rooms, newest first", () => {
  pm.expect(ids).to.include(Number(pm.collectionVariables.get("directRoomId")));
  pm.expect(ids.indexOf(Number(pm.collectionVariables.get("groupRoomId")))).to.be.below(ids.indexOf(Number(pm.collectionVariables.get("directRoomId"))));
});
pm.test("groups are listed with memberCount, without memberIds", () => {
  const g = rooms.find((r) => r.id === Number(pm.collectionVariables.get("groupRoomId")));
  pm.expect(g.memberCount).to.eql(2);
  pm.expect(g).to.not.have.property("memberIds");
});
pm.test("one page: no nextCursor", () => pm.expect(pm.response.json()).to.not.have.property("nextCursor"));`],
    }),
    req("Page A's rooms: the first of one", 'GET', '/api/v1/chat-rooms', {
      query: [['limit', '1']],
      description: 'Paging: pass nextCursor as cursor until an answer has none.',
      tests: [...ok(200, 'roomList'), js`const page = pm.response.json();
pm.test("the newest room, and a cursor", () => {
  pm.expect(page.rooms.map((r) => r.id)).to.eql([Number(pm.collectionVariables.get("groupRoomId"))]);
  pm.expect(page.nextCursor).to.be.a("string");
});
pm.collectionVariables.set("roomsCursor", page.nextCursor);`],
    }),
    req("Page A's rooms: the next one", 'GET', '/api/v1/chat-rooms', {
      query: [['limit', '1'], ['cursor', '{{roomsCursor}}']],
      tests: [...ok(200, 'roomList'), js`const page = pm.response.json();
pm.test("the next room, after the group", () => {
  pm.expect(page.rooms).to.have.lengthOf(1);
  pm.expect(page.rooms[0].id).to.not.eql(Number(pm.collectionVariables.get("groupRoomId")));
});`],
    }),
    req('A cursor this API did not give', 'GET', '/api/v1/chat-rooms', {
      query: [['cursor', 'bm9wZQ']], tests: problem(400, 'cursor'),
    }),
    req('Get the direct room as B', 'GET', room('directRoomId'), { user: 'B', tests: ok(200, 'roomWithUnread') }),
    req('A direct room needs exactly one other user', 'POST', '/api/v1/chat-rooms', {
      body: { type: 'direct', memberIds: ['{{userB}}', '{{userC}}'] }, tests: problem(400, 'exactly one other user'),
    }),
    req('Unknown room type', 'POST', '/api/v1/chat-rooms', { body: { type: 'channel', name: 'x' }, tests: problem(400, 'type must be') }),
    req('Unknown fields are refused', 'POST', '/api/v1/chat-rooms', {
      body: { type: 'group', name: 'x', memberIds: [], admin: true }, tests: problem(400, 'unknown field'),
    }),
    req('Malformed JSON', 'POST', '/api/v1/chat-rooms', { body: '{"type": "group",', tests: problem(400, 'malformed JSON') }),
  ]),

  folder('Members', 'Any member of a group may add users; only its creator may remove others; anyone may leave.', [
    req('Add C to the group', 'POST', room('groupRoomId', '/members'), {
      body: { userId: '{{userC}}' },
      tests: [...ok(201, 'membership'), js`pm.test("added", () => pm.expect(pm.response.json().added).to.eql(true));`],
    }),
    req('Add C again: already a member', 'POST', room('groupRoomId', '/members'), {
      user: 'B', body: { userId: '{{userC}}' },
      tests: [...ok(200, 'membership'), js`pm.test("not added twice", () => pm.expect(pm.response.json().added).to.eql(false));`],
    }),
    req('The members of a direct room cannot change', 'POST', room('directRoomId', '/members'), {
      body: { userId: '{{userC}}' }, tests: problem(409, 'direct room'),
    }),
    req('C sees the group', 'GET', room('groupRoomId'), {
      user: 'C', tests: [...ok(200, 'roomWithUnread'),
        js`pm.test("three members", () => pm.expect(pm.response.json().memberIds).to.have.lengthOf(3));`],
    }),
    req('C cannot see the direct room of A and B', 'GET', room('directRoomId'), { user: 'C', tests: problem(404, 'room not found') }),
  ]),

  folder('Messages', 'Sending (the STOMP send path), history pages and long polling.', [
    req('A sends in the direct room', 'POST', room('directRoomId', '/messages'), {
      body: { message: 'hello from Postman' },
      tests: [...ok(201, 'message'), js`const m = pm.response.json();
pm.test("seq 1, rcvId filled with B", () => {
  pm.expect(m.seq).to.eql(1);
  pm.expect(m.id).to.eql(pm.collectionVariables.get("directRoomId") + "-1");
  pm.expect(String(m.sendId)).to.eql(pm.collectionVariables.get("userA"));
  pm.expect(String(m.rcvId)).to.eql(pm.collectionVariables.get("userB"));
  pm.expect(m.message).to.eql("hello from Postman");
});`],
    }),
    req("B answers in the seed client's shape", 'POST', room('directRoomId', '/messages'), {
      user: 'B', body: { chatRoomId: '{{directRoomId}}', sendId: '{{userB}}', rcvId: '{{userA}}', message: 'hi A' },
      tests: [...ok(201, 'message'), js`pm.test("seq 2", () => pm.expect(pm.response.json().seq).to.eql(2));`],
    }),
    req('History, newest first', 'GET', room('directRoomId', '/messages'), {
      tests: [...ok(200, 'history'), js`const page = pm.response.json();
pm.test("both messages, newest first, nothing more", () => {
  pm.expect(page.messages.map((m) => m.seq)).to.eql([2, 1]);
  pm.expect(page.hasMore).to.eql(false);
});
pm.test("readBy: B has read 2, A has read 1", () => {
  pm.expect(page.readBy[pm.collectionVariables.get("userB")]).to.eql(2);
  pm.expect(page.readBy[pm.collectionVariables.get("userA")]).to.eql(1);
});`],
    }),
    req('History after seq 0, one at a time', 'GET', room('directRoomId', '/messages'), {
      query: [['after', '0'], ['limit', '1']],
      tests: [...ok(200, 'history'), js`pm.test("oldest first, more to come", () => {
  pm.expect(pm.response.json().messages.map((m) => m.seq)).to.eql([1]);
  pm.expect(pm.response.json().hasMore).to.eql(true);
});`],
    }),
    req('Long poll: messages exist, answered at once', 'GET', room('directRoomId', '/messages'), {
      query: [['after', '0'], ['wait', '5s']],
      tests: [...ok(200, 'longPoll'), js`pm.test("both messages, oldest first, without waiting", () => {
  pm.expect(pm.response.json().messages.map((m) => m.seq)).to.eql([1, 2]);
  pm.expect(pm.response.responseTime).to.be.below(4000);
});`],
    }),
    req('Long poll: nothing new, empty after the wait', 'GET', room('directRoomId', '/messages'), {
      query: [['after', '2'], ['wait', '1s']],
      tests: [...ok(200, 'longPoll'), js`pm.test("an empty page after about a second", () => {
  pm.expect(pm.response.json()).to.eql({ messages: [], hasMore: false });
  pm.expect(pm.response.responseTime).to.be.above(900);
});`],
    }),
    req('Long poll needs after', 'GET', room('directRoomId', '/messages'), { query: [['wait', '1s']], tests: problem(400, 'wait needs after') }),
    req('Limit out of range', 'GET', room('directRoomId', '/messages'), { query: [['limit', '0']], tests: problem(400, 'limit') }),
    req('sendId must be the caller', 'POST', room('directRoomId', '/messages'), {
      body: { sendId: '{{userB}}', message: 'spoofed' }, tests: problem(403, 'sendId'),
    }),
    req('Blank messages are refused', 'POST', room('directRoomId', '/messages'), { body: { message: '   ' }, tests: problem(400, 'empty') }),
    req('Messages over MAX_MESSAGE_BYTES', 'POST', room('directRoomId', '/messages'), {
      pre: [js`pm.variables.set("longText", "x".repeat(5000));`],
      body: '{"message": "{{longText}}"}', tests: problem(413, 'too long'),
    }),
    req('Bodies over 64 KiB', 'POST', room('directRoomId', '/messages'), {
      pre: [js`pm.variables.set("hugeText", "x".repeat(70 * 1024));`],
      body: '{"message": "{{hugeText}}"}', tests: problem(413, 'too large'),
    }),
    req('Non-members cannot send', 'POST', room('directRoomId', '/messages'), {
      user: 'C', body: { message: 'let me in' }, tests: problem(404, 'room not found'),
    }),
  ]),

  folder('Read state', "Read positions only move forwards; unread counts follow.", [
    req('A has one unread message', 'GET', '/api/v1/chat-rooms', {
      tests: [...ok(200, 'roomList'), js`const r = pm.response.json().rooms.find((r) => r.id === Number(pm.collectionVariables.get("directRoomId")));
pm.test("unreadCount 1, last message from B", () => {
  pm.expect(r.unreadCount).to.eql(1);
  pm.expect(r.lastSeq).to.eql(2);
  pm.expect(r.lastMessage.message).to.eql("hi A");
});`],
    }),
    req('A reads up to seq 2', 'POST', room('directRoomId', '/read'), {
      body: { seq: 2 },
      tests: [...ok(200, 'readState'), js`pm.test("position 2, nothing unread", () => {
  const s = pm.response.json();
  pm.expect(s.seq).to.eql(2);
  pm.expect(s.unreadCount).to.eql(0);
});`],
    }),
    req('A smaller seq changes nothing', 'POST', room('directRoomId', '/read'), {
      body: { seq: 1 }, tests: [...ok(200, 'readState'), js`pm.test("still 2", () => pm.expect(pm.response.json().seq).to.eql(2));`],
    }),
    req('seq must not be negative', 'POST', room('directRoomId', '/read'), { body: { seq: -1 }, tests: problem(400, 'seq') }),
  ]),

  folder('Edits and deletions', 'Only the author, within EDIT_WINDOW of sentAt.', [
    req('A edits message 1', 'PATCH', room('directRoomId', '/messages/1'), {
      body: { message: 'hello from Postman (edited)' },
      tests: [...ok(200, 'message'), js`pm.test("the new text, with editedAt", () => {
  const m = pm.response.json();
  pm.expect(m.seq).to.eql(1);
  pm.expect(m.message).to.eql("hello from Postman (edited)");
  pm.expect(m.editedAt).to.be.a("string");
});`],
    }),
    req('B may not edit A\'s message', 'PATCH', room('directRoomId', '/messages/1'), {
      user: 'B', body: { message: 'not mine' }, tests: problem(403, 'only the author'),
    }),
    req('B deletes message 2', 'DELETE', room('directRoomId', '/messages/2'), {
      user: 'B',
      tests: [...ok(200, 'tombstone'), js`pm.test("a tombstone without text", () => {
  const t = pm.response.json();
  pm.expect(t.deleted).to.eql(true);
  pm.expect(t).to.not.have.property("message");
});`],
    }),
    req('A tombstone cannot be deleted again', 'DELETE', room('directRoomId', '/messages/2'), { user: 'B', tests: problem(409, 'deleted') }),
    req('No such message', 'PATCH', room('directRoomId', '/messages/999'), { body: { message: 'x' }, tests: problem(404, 'message not found') }),
    req('History shows the edit and the tombstone', 'GET', room('directRoomId', '/messages'), {
      tests: [...ok(200, 'history'), js`const [two, one] = pm.response.json().messages;
pm.test("2 is a tombstone, 1 is edited", () => {
  pm.expect(two.deleted).to.eql(true);
  pm.expect(one.editedAt).to.be.a("string");
});`],
    }),
  ]),

  folder('Presence and sessions', 'With a live STOMP session of B in the direct room (run.sh starts one and sets liveSession=1), presence shows it and the disconnect ends it; without one, the same requests check shapes only.', [
    req('Room presence (waits for the live session)', 'GET', room('directRoomId', '/presence'), {
      pre: [js`// Retries wait a little: the session connects on its own schedule.
if (Number(pm.collectionVariables.get("presenceTries") || 0) > 0) setTimeout(() => {}, 200);`],
      tests: [js`const live = pm.environment.get("liveSession") === "1";
const tries = Number(pm.collectionVariables.get("presenceTries") || 0);
const b = pm.response.code === 200 ? pm.response.json().online.find((u) => String(u.userId) === pm.collectionVariables.get("userB")) : undefined;
if (live && !(b && b.inRoom) && tries < 100) {
  pm.collectionVariables.set("presenceTries", String(tries + 1));
  postman.setNextRequest(pm.info.requestName);
} else {
  pm.collectionVariables.unset("presenceTries");
  ${ok(200, 'roomPresence').join('\n  ')}
  if (live) pm.test("B is online, in the room", () => pm.expect(b).to.include({ sessions: 1, inRoom: true }));
}`],
    }),
    req('Presence of A, B and C', 'GET', '/api/v1/presence', {
      user: 'C', query: [['userIds', '{{userA}},{{userB}}'], ['userIds', '{{userC}}']],
      tests: [...ok(200, 'usersPresence'), js`const users = pm.response.json().users;
pm.test("in the order asked", () => pm.expect(users.map((u) => String(u.userId))).to.eql(
  ["A", "B", "C"].map((w) => pm.collectionVariables.get("user" + w))));
if (pm.environment.get("liveSession") === "1") pm.test("B is online", () => pm.expect(users[1]).to.include({ online: true, sessions: 1 }));`],
    }),
    req('userIds is required', 'GET', '/api/v1/presence', { tests: problem(400, 'userIds') }),
    req("B's disconnect: sendId must be the caller", 'POST', '/api/v1/chat-room/disconnect', {
      user: 'B', body: { sendId: '{{userA}}', rcvId: '{{userA}}', chatRoomId: '{{directRoomId}}' }, tests: problem(403, 'sendId'),
    }),
    req('B disconnects from the direct room', 'POST', '/api/v1/chat-room/disconnect', {
      user: 'B', body: { sendId: '{{userB}}', rcvId: '{{userA}}', chatRoomId: '{{directRoomId}}' },
      tests: [...ok(200, 'disconnected'), js`if (pm.environment.get("liveSession") === "1") pm.test("the live session ended", () => pm.expect(pm.response.json().disconnected).to.eql(1));`],
    }),
    req('Disconnect again: nothing left', 'POST', '/api/v1/chat-room/disconnect', {
      user: 'B', body: { sendId: '{{userB}}', rcvId: '{{userA}}', chatRoomId: '{{directRoomId}}' },
      tests: [...ok(200, 'disconnected'), js`pm.test("0", () => pm.expect(pm.response.json().disconnected).to.eql(0));`],
    }),
    req('Room presence after the disconnect', 'GET', room('directRoomId', '/presence'), {
      tests: [...ok(200, 'roomPresence'), js`pm.test("B is not in the room", () => {
  const b = pm.response.json().online.find((u) => String(u.userId) === pm.collectionVariables.get("userB"));
  pm.expect(b && b.inRoom).to.not.eql(true);
});`],
    }),
    req('B was last seen just now', 'GET', '/api/v1/presence', {
      query: [['userIds', '{{userB}}']],
      tests: [...ok(200, 'usersPresence'), js`if (pm.environment.get("liveSession") === "1") pm.test("offline, with lastSeen", () => {
  const b = pm.response.json().users[0];
  pm.expect(b.online).to.eql(false);
  pm.expect(b.lastSeen).to.be.a("string");
});`],
    }),
  ]),

  folder('Leaving', 'Removing members and leaving rooms.', [
    req('B may not remove C (only the creator may)', 'DELETE', room('groupRoomId', '/members/{{userC}}'), { user: 'B', tests: problem(403, 'creator') }),
    req('A removes C', 'DELETE', room('groupRoomId', '/members/{{userC}}'), {
      tests: [status(204), js`pm.test("no body", () => pm.expect(pm.response.text()).to.eql(""));`],
    }),
    req('C is no longer a member', 'DELETE', room('groupRoomId', '/members/{{userC}}'), { tests: problem(404, 'not a member') }),
    req('C cannot see the group any more', 'GET', room('groupRoomId'), { user: 'C', tests: problem(404, 'room not found') }),
    req('B leaves the group', 'DELETE', room('groupRoomId', '/members/{{userB}}'), { user: 'B', tests: [status(204)] }),
  ]),

  folder('Routing errors', 'Unknown rooms, paths and methods are problems too.', [
    req('Unknown room', 'GET', '/api/v1/chat-rooms/9223372036854775807', { tests: problem(404, 'room not found') }),
    req('Invalid room id', 'GET', '/api/v1/chat-rooms/abc', { tests: problem(400, 'invalid room id') }),
    req('Unknown path', 'GET', '/api/v1/nope', { tests: problem(404, 'no such route') }),
    req('Method not allowed', 'PUT', '/api/v1/chat-rooms', {
      tests: [...problem(405), js`pm.test("Allow lists GET and POST", () => pm.expect(pm.response.headers.get("Allow")).to.include("GET").and.to.include("POST"));`],
    }),
  ]),
];

const collection = {
  info: {
    _postman_id: '5f0c2a8e-7d0b-4f8e-9a35-0e6f2d1c7b10',
    name: 'roomwire REST API',
    description: [
      'Every route of the roomwire REST API (api/openapi.yaml is the contract), in an order that runs end to end on an empty system.',
      '',
      'Environment: `baseUrl` (the api, e.g. http://localhost:8080) and `jwtSecret` (the api\'s JWT_SECRET; `make run` uses the public development secret, which deploy/postman/local.postman_environment.json holds). Optional: `userA`, `userB`, `userC` (random when empty), `tokenA`/`tokenB`/`tokenC` instead of a secret, `jwtIssuer`, `jwtAudience`, `liveSession` (1 when a STOMP session of userB connects into the direct room, as `make test-postman` arranges).',
      '',
      'Generated by deploy/postman/build-collection.mjs: edit that file, not this one.',
    ].join('\n'),
    schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json',
  },
  auth: { type: 'bearer', bearer: [{ key: 'token', value: '{{tokenA}}', type: 'string' }] },
  event: [
    { listen: 'prerequest', script: { type: 'text/javascript', exec: lines([prerequest]) } },
    { listen: 'test', script: { type: 'text/javascript', exec: lines([collectionTests]) } },
  ],
  variable: ['userA', 'userB', 'userC', 'tokenA', 'tokenB', 'tokenC', 'expiredToken', 'tokensUntil', 'directRoomId', 'groupRoomId']
    .map((key) => ({ key, value: '' })),
  item: items,
};

const text = JSON.stringify(collection, null, 2) + '\n';
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(out, 'utf8');
  } catch {
    // missing: stale
  }
  if (current !== text) {
    console.error('roomwire.postman_collection.json is stale: run node deploy/postman/build-collection.mjs');
    process.exit(1);
  }
  console.log(`postman: the collection is current (${counter} requests)`);
} else {
  writeFileSync(out, text);
  console.log(`postman: wrote ${out} (${counter} requests)`);
}
