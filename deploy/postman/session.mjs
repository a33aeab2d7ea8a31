// A live STOMP session for the Postman run, so that presence and
// POST /chat-room/disconnect are tested against a real socket:
//
//   node session.mjs --api http://127.0.0.1:8080 --ws ws://127.0.0.1:8081/ws --token <jwt> --user 3
//
// It waits until the user has a direct room (the collection creates it),
// CONNECTs into that room over STOMP 1.2 (as the seed client does: the
// session is then "in" the room), prints "connected <room>" and stays until
// the server closes the socket (the collection's disconnect request), then
// prints "closed <code>" and exits 0. It gives up after --timeout seconds
// (exit 1). It never reconnects.
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values: opt } = parseArgs({
  options: {
    api: { type: 'string' },
    ws: { type: 'string' },
    token: { type: 'string' },
    user: { type: 'string' },
    timeout: { type: 'string', default: '120' },
  },
});
for (const k of ['api', 'ws', 'token', 'user']) {
  if (!opt[k]) {
    console.error(`session: --${k} is required`);
    process.exit(2);
  }
}
const deadline = Date.now() + Number(opt.timeout) * 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
setTimeout(() => {
  console.error('session: timed out');
  process.exit(1);
}, Number(opt.timeout) * 1000).unref();

// Wait for the direct room the collection creates with this user.
let room;
while (!room) {
  if (Date.now() > deadline) process.exit(1);
  try {
    const res = await fetch(`${opt.api}/api/v1/chat-rooms`, { headers: { Authorization: `Bearer ${opt.token}` } });
    if (res.ok) room = (await res.json()).rooms.find((r) => r.type === 'direct')?.id;
  } catch {
    // the api is not up yet
  }
  if (!room) await sleep(100);
}

const frame = (command, headers, body = '') =>
  `${command}\n${Object.entries(headers).map(([k, v]) => `${k}:${v}`).join('\n')}\n\n${body}\u0000`;

const sock = new WebSocket(opt.ws, ['v12.stomp']);
sock.on('open', () => {
  sock.send(frame('CONNECT', {
    'accept-version': '1.2',
    host: 'roomwire',
    'heart-beat': '0,0',
    Authorization: `Bearer ${opt.token}`,
    chatRoomId: room,
    sendId: opt.user,
  }));
});
sock.on('message', (data) => {
  const text = data.toString();
  if (text.startsWith('CONNECTED')) console.log(`connected ${room}`);
  else if (text.startsWith('ERROR')) console.error(`session: ${text.split('\n').find((l) => l.startsWith('message:')) ?? 'ERROR'}`);
});
sock.on('close', (code) => {
  console.log(`closed ${code}`);
  process.exit(code === 1000 ? 0 : 1);
});
sock.on('error', (err) => {
  console.error(`session: ${err.message}`);
  process.exit(1);
});
