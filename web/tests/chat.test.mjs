// Browser test of the web client against the real api, ws and Redis:
//   - the seed's plain App (examples/seed-app) connects, subscribes, sends
//     and receives;
//   - two users in two browser contexts open a direct room, talk both ways,
//     see each other online, survive a reload, and resume without gaps after
//     the ws node restarts (and after history was truncated meanwhile);
//   - unread counts in the room list (live, from the personal notifications)
//     that clear when the room is opened, read receipts, typing indicators
//     and presence that follows users in and out of the room;
//   - scrolling back pages in older history.
// Screenshots land in web/artifacts/.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { seriousViolations } from './lib/axe.mjs';
import { launch, watch } from './lib/browser.mjs';
import { ARTIFACTS, System, eventually, mint } from './lib/system.mjs';

const HISTORY_LEN = 60;
const sys = new System({ env: { HISTORY_LEN: String(HISTORY_LEN) } });
let browser;
const watchers = [];
let failed = false;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await sys.start();
  browser = await launch();
}, { timeout: 60000 });

after(async () => {
  await browser?.close();
  await sys.stop();
  const crashed = sys.crashed();
  if (failed || crashed.length) {
    sys.dump();
    for (const w of watchers) process.stderr.write(`${w.log()}\n`);
  }
  writeFileSync(path.join(ARTIFACTS, 'browser-console.log'), watchers.map((w) => w.log()).join('\n'));
  assert.deepEqual(crashed, [], 'services exited during the test');
});

/** step wraps a test body so a failure dumps logs at the end. */
function step(name, fn, timeout = 60000) {
  test(name, { timeout }, async (t) => {
    if (failed) {
      t.skip('an earlier step failed');
      return;
    }
    try {
      await fn(t);
    } catch (err) {
      failed = true;
      throw err;
    }
  });
}

async function newPage(label, viewport = { width: 1280, height: 800 }, colorScheme = 'light') {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, colorScheme });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const w = watch(page, label);
  watchers.push(w);
  page.errors = w.errors;
  return page;
}

async function shot(page, name) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

async function signIn(page, userId, name) {
  await page.goto(sys.webURL);
  await page.getByLabel('User id').fill(String(userId));
  await page.getByLabel('Display name').fill(name);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await connected(page);
}

function connected(page) {
  return page.getByRole('status').filter({ hasText: /^Connected$/ }).waitFor();
}

/** shown lists the room's confirmed messages as {seq, text}. */
function shown(page) {
  return page.locator('ol.messages > li[data-seq]').evaluateAll((els) => els.map((el) => ({
    seq: Number(el.dataset.seq),
    text: el.querySelector('.text').textContent,
  })));
}

async function waitShown(page, text) {
  await page.locator('ol.messages > li[data-seq] .text', { hasText: text }).first().waitFor();
}

// send types text into page's box, sends it and waits until the sender's
// own copy is in the room's stream (it carries a seq). A pending send has
// no seq yet, so a test that reads shown(page) right after the other side
// saw the message would otherwise race the sender's own echo.
async function send(page, text) {
  const box = page.getByRole('textbox', { name: /^Message / });
  await box.fill(text);
  await box.press('Enter');
  await waitShown(page, text);
}

function assertConsecutive(list, what) {
  for (let i = 1; i < list.length; i++) {
    assert.equal(list[i].seq, list[i - 1].seq + 1, `${what}: seq ${list[i - 1].seq} is followed by ${list[i].seq}`);
  }
}

const state = {};

step('the seed App (examples/seed-app) connects, subscribes, sends and receives', async () => {
  // The seed talks in room 2 as user 8 with user 3: room 1 first, then 8-3.
  const first = await sys.api(8, 'POST', '/chat-rooms', { type: 'group', name: 'warm-up', memberIds: [3] });
  const direct = await sys.api(8, 'POST', '/chat-rooms', { type: 'direct', memberIds: [3] });
  assert.equal(first.id, 1);
  assert.equal(direct.id, 2);

  const page = await newPage('seed', { width: 900, height: 600 });
  const connectedLog = page.waitForEvent('console', { predicate: (m) => m.text() === 'Connected to WebSocket', timeout: 15000 });
  await page.goto(`${sys.webURL}/examples/seed-app/`);
  await connectedLog;
  await eventually(async () => (await sys.api(3, 'GET', '/chat-rooms/2/presence')).online.some((p) => p.userId === 8 && p.inRoom),
    'user 8 in room 2 (presence)');

  const box = page.getByPlaceholder('Type your message here');
  await box.fill('hello from the seed page');
  await box.press('Enter');
  await page.locator('li.list-item', { hasText: '8: hello from the seed page' }).waitFor();

  await sys.api(3, 'POST', '/chat-rooms/2/messages', { message: 'hi 8, this is 3' });
  await page.locator('li.list-item', { hasText: '3: hi 8, this is 3' }).waitFor();

  const history = await sys.api(3, 'GET', '/chat-rooms/2/messages');
  assert.deepEqual(history.messages.map((m) => [m.sendId, m.rcvId, m.message]),
    [[3, 8, 'hi 8, this is 3'], [8, 3, 'hello from the seed page']]);
  await shot(page, 'seed-app');
  assert.deepEqual(page.errors(), []);
  await page.context().close();
});

step('two users open a direct room and talk both ways', async () => {
  const a = await newPage('user101');
  const b = await newPage('user102', { width: 390, height: 780 }, 'dark'); // a phone in dark mode
  Object.assign(state, { a, b });
  await a.goto(sys.webURL);
  await a.getByLabel('User id').waitFor();
  await shot(a, 'signin');
  assert.deepEqual(await seriousViolations(a), [], 'axe: the sign-in page');
  await a.reload();
  await signIn(a, 101, 'Ann');
  await signIn(b, 102, 'Bo');

  // A opens the direct room with 102.
  await a.getByLabel('User id').fill('102');
  await a.getByRole('button', { name: 'Open direct room' }).click();
  await a.getByRole('heading', { name: 'User 102' }).waitFor();
  state.roomId = Number(/#\/rooms\/(\d+)/.exec(a.url())[1]);
  await connected(a);

  // B finds it in the room list.
  await b.getByRole('button', { name: 'Refresh rooms' }).click();
  await b.getByRole('link', { name: /User 101/ }).click();
  await b.getByRole('heading', { name: 'User 101' }).waitFor();
  await connected(b);

  await send(a, 'Hello from 101 — café?');
  await waitShown(b, 'Hello from 101 — café?');
  await send(b, 'Hi 101, this is 102. How is the new client?');
  await waitShown(a, 'How is the new client?');
  await send(a, 'Clean. Messages arrive instantly.');
  await waitShown(b, 'Messages arrive instantly.');

  for (const p of [a, b]) {
    const texts = (await shown(p)).map((m) => m.text);
    assert.deepEqual(texts, ['Hello from 101 — café?', 'Hi 101, this is 102. How is the new client?', 'Clean. Messages arrive instantly.']);
  }
  // Screen readers hear the other side's messages.
  await eventually(async () => /User 101: Clean\. Messages arrive instantly\./.test(await b.locator('[aria-live="polite"]').last().textContent()),
    'the announcement on B');
});

step('presence shows both users in the room', async () => {
  const { a, b } = state;
  for (const p of [a, b]) {
    for (const u of [101, 102]) {
      await p.locator(`li.member[data-user="${u}"][data-presence="here"]`).waitFor();
    }
  }
});

step('a reload keeps the session, the room and its history', async () => {
  const { a, b } = state;
  await b.reload();
  await b.getByRole('heading', { name: 'User 101' }).waitFor();
  await connected(b);
  await waitShown(b, 'Clean. Messages arrive instantly.');
  assert.equal((await shown(b)).length, 3);

  await send(a, 'Still there after the reload?');
  await waitShown(b, 'Still there after the reload?');
  await send(b, 'Yes, history and live messages both work.');
  await waitShown(a, 'history and live messages both work');
  for (const u of [101, 102]) await a.locator(`li.member[data-user="${u}"][data-presence="here"]`).waitFor();

  await shot(a, 'user101-desktop');
  await shot(b, 'user102-phone');
  assert.deepEqual(await seriousViolations(a), [], 'axe: the chat (desktop)');
  assert.deepEqual(await seriousViolations(b), [], 'axe: the chat (phone)');
  // The phone's room list: back from the room.
  await b.getByRole('button', { name: 'Back to rooms' }).click();
  await b.getByRole('link', { name: /User 101/ }).waitFor();
  await shot(b, 'user102-phone-rooms');
  await b.getByRole('link', { name: /User 101/ }).click();
  await connected(b);
});

step('unread counts, read receipts, typing and presence follow the room live', async () => {
  const { a, b, roomId } = state;
  const unreadOf = async (user) => (await sys.api(user, 'GET', '/chat-rooms')).rooms.find((r) => r.id === roomId).unreadCount;
  const badge = (p) => p.locator(`a.room-item[href="#/rooms/${roomId}"] .badge`);

  // B leaves the room for the room list: A sees B online, no longer here.
  await b.getByRole('button', { name: 'Back to rooms' }).click();
  await a.locator('li.member[data-user="102"][data-presence="online"]').waitFor();
  await connected(b);
  assert.equal(await unreadOf(102), 0);
  assert.equal(await badge(b).count(), 0);

  // A writes twice: B's list counts them, live (no refresh, no poll).
  await send(a, 'Are you still there?');
  await badge(b).filter({ hasText: /^1$/ }).waitFor();
  await send(a, 'Two unread now.');
  await b.locator(`a.room-item[href="#/rooms/${roomId}"]`).filter({ hasText: 'Two unread now.' }).waitFor();
  await badge(b).filter({ hasText: /^2$/ }).waitFor();
  assert.equal(await badge(b).getAttribute('aria-label'), '2 unread');
  assert.equal(await unreadOf(102), 2);
  const sent = (await shown(a)).at(-1).seq;
  assert.equal(await a.locator(`li[data-seq="${sent}"] [data-receipt]`).getAttribute('data-receipt'), 'sent', 'not read by B yet');
  await shot(b, 'user102-phone-unread');
  assert.deepEqual(await seriousViolations(b), [], 'axe: the room list with unread counts');

  // B opens the room: the count clears (there and on the server), A sees
  // B back in the room and its messages read.
  await b.getByRole('link', { name: /User 101/ }).click();
  await b.getByRole('heading', { name: 'User 101' }).waitFor();
  await connected(b);
  await waitShown(b, 'Two unread now.');
  await eventually(async () => (await badge(b).count()) === 0, 'the badge on B clears');
  await eventually(async () => (await unreadOf(102)) === 0, "B's unread count on the server is 0");
  await a.locator(`li[data-seq="${sent}"] [data-receipt="read"]`).waitFor();
  for (const p of [a, b]) {
    for (const u of [101, 102]) await p.locator(`li.member[data-user="${u}"][data-presence="here"]`).waitFor();
  }

  // While B looks at the room, new messages are read as they arrive.
  await send(a, 'Read as it arrives?');
  await waitShown(b, 'Read as it arrives?');
  const latest = (await shown(a)).at(-1).seq;
  await a.locator(`li[data-seq="${latest}"] [data-receipt="read"]`).waitFor();
  assert.equal(await unreadOf(102), 0);

  // Typing: B sees A typing; it ends when A sends.
  const box = a.getByRole('textbox', { name: /^Message / });
  await box.fill('I am typing something l');
  const indicator = b.locator('p.typing[aria-live="polite"]');
  await indicator.filter({ hasText: 'User 101 is typing…' }).waitFor();
  assert.equal(await a.locator('p.typing').textContent(), '', 'nobody sees their own typing');
  await shot(b, 'user102-phone-typing');
  await box.fill('I am typing something longer, and now it is sent.');
  await box.press('Enter');
  await waitShown(b, 'and now it is sent.');
  await eventually(async () => (await indicator.textContent()) === '', 'the indicator on B ends');
  // And the other way round, ending when B leaves the box.
  const boxB = b.getByRole('textbox', { name: /^Message / });
  await boxB.fill('Typing back');
  await a.locator('p.typing').filter({ hasText: 'User 102 is typing…' }).waitFor();
  await shot(a, 'user101-desktop-typing');
  await boxB.blur();
  await eventually(async () => (await a.locator('p.typing').textContent()) === '', 'the indicator on A ends on blur');
  await boxB.fill('');
  for (const p of [a, b]) assert.deepEqual(p.errors(), []);
});

step('after the ws node restarts, both resume without gaps or duplicates', async () => {
  const { a, b, roomId } = state;
  await sys.stopProc('ws');
  await b.getByRole('status').filter({ hasText: /Reconnecting/ }).waitFor();
  for (let i = 1; i <= 3; i++) await sys.api(101, 'POST', `/chat-rooms/${roomId}/messages`, { message: `sent while ws was down ${i}` });
  sys.startWS();
  await sys.waitWS();
  for (const p of [a, b]) {
    await connected(p);
    await waitShown(p, 'sent while ws was down 3');
    const list = await shown(p);
    assertConsecutive(list, 'after resume');
    assert.deepEqual(list.slice(-3).map((m) => m.text), [1, 2, 3].map((i) => `sent while ws was down ${i}`));
    assert.equal(new Set(list.map((m) => m.seq)).size, list.length, 'no duplicates');
  }
  await send(b, 'Back online.');
  await waitShown(a, 'Back online.');
});

step('a resume past the kept history reloads it over REST (x-resume-truncated)', async () => {
  const { b, roomId } = state;
  const before = (await shown(b)).at(-1).seq;
  await sys.stopProc('ws');
  await b.getByRole('status').filter({ hasText: /Reconnecting/ }).waitFor();
  const burst = HISTORY_LEN + 10;
  for (let i = 1; i <= burst; i++) await sys.api(101, 'POST', `/chat-rooms/${roomId}/messages`, { message: `burst ${i}` });
  sys.startWS();
  await sys.waitWS();
  await connected(b);
  await waitShown(b, `burst ${burst}`);
  let list = await shown(b);
  assertConsecutive(list, 'after a truncated resume');
  assert.equal(list.at(-1).seq, before + burst);
  // Scrolling back reaches the oldest message history still keeps.
  await b.locator('.scroller').evaluate((el) => { el.scrollTop = 0; });
  await b.getByText('Earlier messages are no longer kept.').waitFor();
  list = await shown(b);
  assertConsecutive(list, 'after loading older');
  assert.equal(list[0].seq, before + burst - HISTORY_LEN + 1);
});

step('a sent message stays on screen from the press of Enter to its echo', async () => {
  const { b } = state;
  // The RECEIPT usually arrives before the MESSAGE, which takes the pub/sub
  // hop: the pending copy must stay until the stored one replaces it. A
  // MutationObserver records every commit where a watched text is missing
  // after it was first shown.
  const texts = Array.from({ length: 8 }, (_, i) => `no flicker ${i + 1}`);
  await b.evaluate((watched) => {
    const seen = new Set();
    window.__vanished = [];
    const check = () => {
      const shownNow = new Set([...document.querySelectorAll('ol.messages > li .text')].map((el) => el.textContent));
      for (const t of watched) {
        if (shownNow.has(t)) seen.add(t);
        else if (seen.has(t)) window.__vanished.push(t);
      }
    };
    window.__flicker = new MutationObserver(check);
    window.__flicker.observe(document.querySelector('ol.messages'), { childList: true, subtree: true, characterData: true });
  }, texts);
  for (const t of texts) await send(b, t);
  const vanished = await b.evaluate(() => { window.__flicker.disconnect(); return window.__vanished; });
  assert.deepEqual(vanished, [], 'messages that left the list before their echo');
  const list = await shown(b);
  assert.deepEqual(list.slice(-texts.length).map((m) => m.text), texts);
  assert.equal(await b.locator('ol.messages > li.pending').count(), 0, 'no pending copy left beside the stored one');
});

step('scrolling back loads older pages', async () => {
  const { a } = state;
  const room = await sys.api(101, 'POST', '/chat-rooms', { type: 'group', name: 'Long history', memberIds: [102, 103] });
  for (let i = 1; i <= 55; i++) await sys.api(i % 2 ? 101 : 103, 'POST', `/chat-rooms/${room.id}/messages`, { message: `line ${i}` });
  await a.evaluate((id) => { window.location.hash = `#/rooms/${id}`; }, room.id);
  await a.getByRole('heading', { name: 'Long history' }).waitFor();
  await connected(a);
  await waitShown(a, 'line 55');
  let list = await shown(a);
  assert.equal(list.length, 50, 'the newest page');
  assert.equal(list[0].text, 'line 6');
  await a.locator('.scroller').evaluate((el) => { el.scrollTop = 0; });
  await a.getByText('Start of the conversation').waitFor();
  list = await shown(a);
  assert.equal(list.length, 55);
  assertConsecutive(list, 'all pages');
  // The list knows the room now, with its last message.
  await a.getByRole('link', { name: /Long history/ }).filter({ hasText: 'line 55' }).waitFor();
  await shot(a, 'user101-group');
  for (const p of [state.a, state.b]) assert.deepEqual(p.errors(), []);
});

step('without dev mode, users sign in by pasting a token', async () => {
  const page = await newPage('user104');
  await page.goto(sys.webTokensURL);
  assert.equal(await page.getByLabel('User id').count(), 0, 'no dev sign-in');
  const bad = page.getByLabel('Access token (JWT)');
  await bad.fill('not a token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'not a JWT' }).waitFor();
  await page.getByLabel('Access token (JWT)').fill(`Bearer ${mint(104)}`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await connected(page);
  await page.getByText('Signed in as').filter({ hasText: 'User 104' }).waitFor();
  await page.getByLabel('User id').fill('101');
  await page.getByRole('button', { name: 'Open direct room' }).click();
  await page.getByRole('heading', { name: 'User 101' }).waitFor();
  await connected(page);
  await send(page, 'Signed in with a pasted token.');
  assert.deepEqual(page.errors(), []);
  await page.context().close();
});
