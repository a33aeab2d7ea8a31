// HS256 JWTs minted with node:crypto, the shape shared/infra/auth verifies:
// {"sub":"<userId>","iat":<s>,"exp":<s>,"name"?}.

import { createHmac } from 'node:crypto';

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/**
 * signJWT signs claims with secret. header defaults to {alg:HS256,typ:JWT}.
 */
export function signJWT(claims, secret, header = { alg: 'HS256', typ: 'JWT' }) {
  const input = `${b64url(header)}.${b64url(claims)}`;
  const sig = createHmac('sha256', secret).update(input).digest('base64url');
  return `${input}.${sig}`;
}

/**
 * mintWith returns a token for userId signed with secret, valid for one hour
 * unless opts say otherwise: ttlSeconds (negative = already expired), iat
 * (unix s), name, extra claims.
 */
export function mintWith(secret, userId, opts = {}) {
  const now = Math.floor(Date.now() / 1000);
  const ttl = opts.ttlSeconds ?? 3600;
  const iat = opts.iat ?? (ttl < 0 ? now + ttl - 60 : now);
  const claims = { sub: String(userId), iat, exp: now + ttl, ...(opts.name ? { name: opts.name } : {}), ...opts.extra };
  return signJWT(claims, secret);
}
