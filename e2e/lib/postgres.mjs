// The PostgreSQL side of the archive tests: a private database per system on
// the local server, reached with the `psql` client (no Node driver). The
// server is PGTEST_URL, as for the Go tests (default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable: user postgres,
// trust auth, allowed to create databases). Databases are named
// e2e_archive_<hex> and dropped WITH (FORCE) when the system stops, or at the
// latest when node exits.

import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** SERVER_URL is the PostgreSQL server the archive tests use. */
export const SERVER_URL = process.env.PGTEST_URL || 'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable';

const PSQL_TIMEOUT_MS = 30000;
const LEFT = new Set(); // databases created and not dropped yet
process.on('exit', () => {
  for (const name of LEFT) spawnSync('psql', psqlArgs(SERVER_URL, dropSQL(name)), { timeout: PSQL_TIMEOUT_MS });
});

const psqlArgs = (url, sql) => ['-d', url, '-X', '-w', '-v', 'ON_ERROR_STOP=1', '-Atq', '-F', '\t', '-c', sql];
const dropSQL = (name) => `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`;

/**
 * psql runs sql with the psql client against the database at url and
 * resolves with the result rows, each an array of column strings
 * (unaligned, tab-separated); it rejects with psql's stderr on an error.
 */
export function psql(url, sql) {
  return new Promise((resolve, reject) => {
    execFile('psql', psqlArgs(url, sql), { timeout: PSQL_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`psql ${JSON.stringify(sql)} on ${url}: ${stderr.trim() || err.message}`));
        return;
      }
      resolve(stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t')));
    });
  });
}

/**
 * createDB creates an empty database e2e_archive_<16 hex> on SERVER_URL and
 * returns {name, url} (url: SERVER_URL with the database replaced).
 */
export async function createDB() {
  const name = `e2e_archive_${randomBytes(8).toString('hex')}`;
  try {
    await psql(SERVER_URL, `CREATE DATABASE ${name}`);
  } catch (err) {
    throw new Error(`${err.message}\n(the archive tests need PostgreSQL at PGTEST_URL, default ${SERVER_URL}, as a role that may create databases)`);
  }
  LEFT.add(name);
  const u = new URL(SERVER_URL);
  u.pathname = `/${name}`;
  return { name, url: u.toString() };
}

/** dropDB drops a database createDB made, cutting connections still open. */
export async function dropDB(name) {
  await psql(SERVER_URL, dropSQL(name));
  LEFT.delete(name);
}
