// The e2e harness: import everything a test needs from here.
export { useSystem, System } from './system.mjs';
export { stomp, collect, SUBPROTOCOLS } from './stomp.mjs';
export { eventually, within, deferred, WAIT_MS } from './wait.mjs';
export { mintWith, signJWT } from './token.mjs';
export { pairs } from './redis.mjs';
export * from './checks.mjs';
export * from './traffic.mjs';
