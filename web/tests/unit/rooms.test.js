import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lastMessageOf, parseIds, roomTitle, upsertRoom, withMessage } from '../../src/chat/rooms.js';

test('titles: group name, the other member of a direct room', () => {
  assert.equal(roomTitle({ id: 1, type: 'group', name: 'team', memberIds: [1, 2] }, 1), 'team');
  assert.equal(roomTitle({ id: 2, type: 'direct', memberIds: [3, 8] }, 8), 'User 3');
});

test('a live message moves its room to the top once', () => {
  const rooms = [
    { id: 1, lastSeq: 4, lastMessageAt: '2026-01-02T00:00:00Z', createdAt: '2026-01-01T00:00:00Z' },
    { id: 2, lastSeq: 7, lastMessageAt: '2026-01-01T00:00:00Z', createdAt: '2026-01-01T00:00:00Z' },
  ];
  const msg = { chatRoomId: 2, seq: 8, sendId: 3, message: 'hi', sentAt: '2026-01-03T00:00:00Z' };
  const next = withMessage(rooms, msg);
  assert.deepEqual(next.map((r) => r.id), [2, 1]);
  assert.equal(lastMessageOf(next[0]).message, 'hi');
  assert.equal(withMessage(next, msg), next, 'an old or repeated message changes nothing');
  assert.equal(upsertRoom(next, { ...rooms[1] })[0].lastSeq, 8, 'a stale copy keeps the newer last message');
});

test('member ids', () => {
  assert.deepEqual(parseIds('3, 5 5,7'), [3, 5, 7]);
  assert.throws(() => parseIds('3, x'), /not a user id/);
  assert.deepEqual(parseIds(''), []);
});
