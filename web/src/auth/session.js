// The signed-in user of this tab, kept in sessionStorage so a reload stays
// signed in while other tabs may sign in as other users.
//
// A session is {mode: 'dev' | 'token', userId, name, token, exp} plus
// getToken(), which in development mode signs a fresh token when the current
// one is close to expiry; a pasted token is used as is until it expires.

import { expiresWithin, mintDevToken, readToken } from './token.js';

const KEY = 'roomwire.session';

function withGetter(s) {
  let current = { token: s.token, exp: s.exp };
  return {
    ...s,
    async getToken() {
      if (!expiresWithin(current.exp, 300)) return current.token;
      if (s.mode !== 'dev') throw new Error('authentication failed: your token has expired; sign in again');
      const token = await mintDevToken(s.userId, { name: s.name });
      current = { token, exp: readToken(token).exp };
      save({ ...s, ...current });
      return token;
    },
  };
}

function save(s) {
  const { mode, userId, name, token, exp } = s;
  sessionStorage.setItem(KEY, JSON.stringify({ mode, userId, name, token, exp }));
}

/** devSession signs in as userId with a development token. */
export async function devSession(userId, name) {
  const token = await mintDevToken(userId, { name });
  const s = { mode: 'dev', userId, name, token, exp: readToken(token).exp };
  save(s);
  return withGetter(s);
}

/** tokenSession signs in with a pasted token (checked by the servers on use). */
export function tokenSession(raw) {
  const token = String(raw).trim().replace(/^Bearer\s+/i, '');
  const { userId, name, exp } = readToken(token);
  if (expiresWithin(exp, 0)) throw new Error('This token has expired.');
  const s = { mode: 'token', userId, name, token, exp };
  save(s);
  return withGetter(s);
}

/**
 * restoreSession returns this tab's session after a reload, or null. A dev
 * session needs devMode to still be on; a pasted token must not be expired.
 */
export function restoreSession(devMode) {
  let s;
  try {
    s = JSON.parse(sessionStorage.getItem(KEY));
  } catch {
    s = null;
  }
  if (!s || !s.userId || !s.token) return null;
  if (s.mode === 'dev' && !devMode) return null;
  if (s.mode === 'token' && expiresWithin(s.exp, 0)) return null;
  return withGetter(s);
}

export function clearSession() {
  sessionStorage.removeItem(KEY);
}
