import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allPages } from '../../src/api/rest.js';

test('the room list follows nextCursor to the end, each room once', async () => {
  const pages = {
    '': { rooms: [{ id: 5 }, { id: 4 }], nextCursor: 'a' },
    a: { rooms: [{ id: 3 }, { id: 5 }], nextCursor: 'b' }, // 5 moved while paging
    b: { rooms: [{ id: 1 }] },
  };
  const asked = [];
  const rooms = await allPages(async (cursor) => {
    asked.push(cursor ?? '');
    return pages[cursor ?? ''];
  });
  assert.deepEqual(asked, ['', 'a', 'b']);
  assert.deepEqual(rooms.map((r) => r.id), [5, 4, 3, 1]);
});

test('paging stops after maxPages', async () => {
  let calls = 0;
  const rooms = await allPages(async () => ({ rooms: [{ id: ++calls }], nextCursor: 'again' }), 3);
  assert.equal(calls, 3);
  assert.equal(rooms.length, 3);
});
