import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  lastMessageOf, mergeListed, mergeReadBy, parseIds, readByOthers, roomTitle, typingText, upsertRoom, withMessage, withUnread, withoutRoom,
} from '../../src/chat/rooms.js';

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

test('unread counts and removed rooms', () => {
  const rooms = [{ id: 1, unreadCount: 0 }, { id: 2, unreadCount: 3 }];
  assert.equal(withUnread(rooms, 2, 5)[1].unreadCount, 5);
  assert.equal(withUnread(rooms, 2, (n) => n + 1)[1].unreadCount, 4);
  assert.equal(withUnread(rooms, 2, 3), rooms, 'no change, same list');
  assert.equal(withUnread(rooms, 9, 1), rooms, 'unknown rooms are left alone');
  assert.equal(withUnread(rooms, 1, -2)[0].unreadCount, 0);
  assert.deepEqual(withoutRoom(rooms, 1).map((r) => r.id), [2]);
});

test('read positions and typing text', () => {
  const a = { 3: 10 };
  assert.deepEqual(mergeReadBy(a, { 3: 8, 5: 12 }), { 3: 10, 5: 12 });
  assert.equal(mergeReadBy(a, { 3: 9 }), a, 'nothing newer, same object');
  assert.equal(mergeReadBy(a, undefined), a);
  assert.equal(readByOthers({ 3: 10, 5: 12 }, 12, 3), true);
  assert.equal(readByOthers({ 3: 12, 5: 11 }, 12, 3), false, 'the sender does not count');
  assert.equal(typingText([], 1), '');
  assert.equal(typingText([102], 101), 'User 102 is typing…');
  assert.equal(typingText([103, 102, 101], 101), 'User 102 and User 103 are typing…');
  assert.equal(typingText([2, 3, 4, 5, 6], 1), '5 people are typing…');
});

test('a fresh list keeps newer live messages and the members of an opened group', () => {
  const old = [{ id: 1, type: 'group', memberIds: [1, 2, 3], lastSeq: 9, lastMessageAt: '2026-01-03T00:00:00Z' }];
  const list = [
    { id: 1, type: 'group', memberCount: 3, lastSeq: 8, lastMessageAt: '2026-01-02T00:00:00Z' },
    { id: 2, type: 'direct', memberIds: [1, 4], memberCount: 2, lastSeq: 0, createdAt: '2026-01-01T00:00:00Z' },
  ];
  const next = mergeListed(old, list);
  assert.deepEqual(next.map((r) => [r.id, r.lastSeq, r.memberIds]), [[1, 9, [1, 2, 3]], [2, 0, [1, 4]]]);
  assert.equal(next[0].memberCount, 3);
});
