// Bounded waiting. Nothing in the suite sleeps to synchronise: it either
// awaits a promise with a deadline (within) or polls a check (eventually).

import { setTimeout as delay } from 'node:timers/promises';

/** Default bound for one wait, in ms. */
export const WAIT_MS = 5000;

/**
 * within resolves like promise, or rejects after ms with an error naming what
 * was awaited (a string, or a function called at the deadline so that it can
 * describe the state at that moment).
 */
export function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${typeof what === 'function' ? what() : what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * eventually calls fn (sync or async) every intervalMs until it returns without
 * throwing, and returns its value. After timeoutMs it throws fn's last error,
 * so a failed assertion inside fn is what the report shows.
 */
export async function eventually(fn, timeoutMs = WAIT_MS, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() >= deadline) {
        err.message = `still failing after ${timeoutMs} ms: ${err.message}`;
        throw err;
      }
    }
    await delay(intervalMs);
  }
}

/** deferred returns a promise with its resolve function attached. */
export function deferred() {
  let resolve;
  const promise = new Promise((r) => { resolve = r; });
  promise.resolve = resolve;
  return promise;
}
