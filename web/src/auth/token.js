// Tokens: HS256 JWTs whose "sub" is the user id ({"sub":"8","iat","exp","name"?}).
// In development mode the browser signs them itself with the PUBLIC
// development secret the services accept under DEV_MODE=1. Never use this
// outside development: anyone can mint a token for anyone.

/** DEV_SECRET is shared/infra/config.DevSecret: public, for development only. */
export const DEV_SECRET = 'roomwire-dev-secret-not-for-production';

const enc = new TextEncoder();

function b64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function b64urlJSON(v) {
  return b64url(enc.encode(JSON.stringify(v)));
}

function fromB64url(s) {
  const pad = s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4);
  const bin = atob(pad);
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

/**
 * mintDevToken signs a token for userId with secret (default DEV_SECRET)
 * using Web Crypto. ttlSeconds defaults to 12 hours. Web Crypto exists only
 * in secure contexts (https, http://localhost, http://127.0.0.1).
 */
export async function mintDevToken(userId, { name, ttlSeconds = 12 * 3600, secret = DEV_SECRET } = {}) {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error('Signing tokens needs Web Crypto: open the app over https or from localhost.');
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: String(userId), iat: now, exp: now + ttlSeconds, ...(name ? { name } : {}) };
  const input = `${b64urlJSON({ alg: 'HS256', typ: 'JWT' })}.${b64urlJSON(claims)}`;
  const key = await subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const sig = new Uint8Array(await subtle.sign('HMAC', key, enc.encode(input)));
  return `${input}.${b64url(sig)}`;
}

/**
 * readToken decodes (without verifying: only the servers can) a token's
 * claims and returns {userId, name, exp}; it throws on anything that is not
 * a JWT with a positive integer "sub".
 */
export function readToken(token) {
  const parts = String(token).trim().replace(/^Bearer\s+/i, '').split('.');
  if (parts.length !== 3) throw new Error('That is not a JWT (expected three dot-separated parts).');
  let claims;
  try {
    claims = JSON.parse(fromB64url(parts[1]));
  } catch {
    throw new Error('The token payload is not readable JSON.');
  }
  if (!/^[1-9][0-9]*$/.test(String(claims.sub ?? ''))) throw new Error('The token has no user id ("sub").');
  return { userId: Number(claims.sub), name: claims.name, exp: claims.exp };
}

/** expiresWithin reports whether exp (unix seconds) is within seconds from now. */
export function expiresWithin(exp, seconds) {
  return typeof exp === 'number' && exp * 1000 - Date.now() < seconds * 1000;
}
