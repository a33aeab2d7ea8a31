// Tokens signed in the browser verify like chatctl's: same header, same
// HMAC, the claims shared/infra/auth needs.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { DEV_SECRET, mintDevToken, readToken } from '../../src/auth/token.js';

test('a dev token is an HS256 JWT over the development secret', async () => {
  const token = await mintDevToken(8, { name: 'Ann' });
  const [h, p, sig] = token.split('.');
  assert.equal(sig, createHmac('sha256', DEV_SECRET).update(`${h}.${p}`).digest('base64url'));
  assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url')), { alg: 'HS256', typ: 'JWT' });
  const claims = JSON.parse(Buffer.from(p, 'base64url'));
  assert.equal(claims.sub, '8');
  assert.equal(claims.name, 'Ann');
  assert.ok(claims.exp > claims.iat);
  assert.deepEqual(readToken(`Bearer ${token}`).userId, 8);
});

test('readToken refuses what is not a user token', () => {
  assert.throws(() => readToken('abc'), /not a JWT/);
  const b = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  assert.throws(() => readToken(`${b({ alg: 'HS256' })}.${b({ sub: 'ann' })}.x`), /user id/);
});
