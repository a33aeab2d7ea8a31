// docs/configuration.md's table against the Go code: every environment
// variable the code reads has a row, every row is read somewhere, and the
// row's service column says who reads it. No system needed; it runs in the
// single-Redis pass and skips in cluster mode.
// DOCS_CHECK_ROOT=/some/copy points it at another checkout.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_DOC, configTable, envReads, goFiles, readText } from '../lib/docs.mjs';

const ROOT = path.resolve(process.env.DOCS_CHECK_ROOT
  ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..'));
const MODE = process.env.E2E_REDIS || 'single';
const SKIP = MODE === 'single' ? false : `the docs do not depend on Redis (E2E_REDIS=${MODE}): checked in the single pass only`;

/** MODULES are the Go modules whose sources are searched for environment reads. */
const MODULES = ['shared', 'api', 'ws', 'tools'];

/**
 * roleOf says whose setting a read in file (relative, with '/') is: "both"
 * for shared code, "api", "ws" or "archiver" for a service, undefined for the tools
 * (chatctl, chatload), which read the services' variables and may read any.
 */
export function roleOf(file) {
  if (file.startsWith('shared/')) return 'both';
  if (file.startsWith('api/cmd/chatctl/') || file.startsWith('api/internal/ctl/') || file.startsWith('tools/')) return undefined;
  if (file.startsWith('api/cmd/archiver/')) return 'archiver';
  if (file.startsWith('api/')) return 'api';
  if (file.startsWith('ws/')) return 'ws';
  return undefined;
}

/**
 * testSupport says whether file (relative, with '/') lies in a test-support
 * module: a module of its own below shared/ (shared/testsupport: redistest, authtest,
 * archivetest). Their variables configure tests, not a service, and are
 * documented under "Scripts and tools", not in the table.
 */
export function testSupport(root, file) {
  for (let dir = path.posix.dirname(file); dir.startsWith('shared/'); dir = path.posix.dirname(dir)) {
    if (existsSync(path.join(root, dir, 'go.mod'))) return true;
  }
  return false;
}

/** codeReads maps each variable the Go code reads to the files and roles reading it. */
export function codeReads(root) {
  const reads = new Map();
  for (const m of MODULES) {
    for (const abs of goFiles(path.join(root, m))) {
      const file = path.relative(root, abs).split(path.sep).join('/');
      if (testSupport(root, file)) continue;
      for (const name of envReads(readText(root, file))) {
        const r = reads.get(name) ?? { files: new Set(), roles: new Set() };
        r.files.add(file);
        const role = roleOf(file);
        if (role) r.roles.add(role);
        reads.set(name, r);
      }
    }
  }
  return reads;
}

/** expectedService is the service column a variable read by these roles needs. */
function expectedService(roles) {
  if (roles.has('both') || (roles.has('api') && roles.has('ws'))) return 'both';
  if (roles.has('api')) return 'api';
  if (roles.has('ws')) return 'ws';
  if (roles.has('archiver')) return 'archiver';
  return undefined; // read by a tool only
}

/** configProblems compares the table with the reads; an empty list means they agree. */
export function configProblems(table, reads) {
  const out = [];
  for (const [name, r] of reads) {
    const row = table.get(name);
    if (!row) {
      out.push(`${name} is read by ${[...r.files].join(', ')} but has no row in ${CONFIG_DOC} (add one)`);
      continue;
    }
    const want = expectedService(r.roles);
    if (want && row.service !== want) out.push(`${name}: ${CONFIG_DOC} says service "${row.service}", but it is read by ${want === 'both' ? 'both services' : `the ${want} only`} (${[...r.files].join(', ')})`);
  }
  for (const name of table.keys()) {
    if (!reads.has(name)) out.push(`${name} has a row in ${CONFIG_DOC} but no Go code reads it (remove the row, or teach envReads in e2e/lib/docs.mjs how it is read)`);
  }
  return out;
}

test('envReads finds every way the code reads a variable, and nothing in comments', { skip: SKIP }, () => {
  const src = [
    'package x',
    '// getenv("IN_A_COMMENT") and config.Int(getenv, "ALSO_COMMENTED", 1, 1)',
    '/* os.Getenv("BLOCK_COMMENT") */',
    'func f(getenv func(string) string) {',
    '  a := getenv("DIRECT")',
    '  b := os.Getenv("OS_GETENV")',
    '  _, ok := os.LookupEnv("LOOKUP")',
    '  c, err := config.Int(getenv, "INT", 4096, 1)',
    '  d, err := config.Duration(getenv,',
    '    "DURATION", time.Second)',
    '  e, err := Rate(getenv, "RATE_IN_PACKAGE", 10)',
    '  f := config.List(os.Getenv, "LIST")',
    '  g := or(getenv("NESTED"), "default")',
    '  h := "redis://not-a-comment" + fmt.Sprint(getenv("AFTER_URL"))',
    '  i := mygetenv("NOT_A_LOOKUP")',
    '}',
  ].join('\n');
  assert.deepEqual([...envReads(src)].sort(),
    ['AFTER_URL', 'DIRECT', 'DURATION', 'INT', 'LIST', 'LOOKUP', 'NESTED', 'OS_GETENV', 'RATE_IN_PACKAGE']);
});

test(`${CONFIG_DOC} has one row for each variable the Go code reads, and reads each row`, { skip: SKIP }, () => {
  const table = configTable(readText(ROOT, CONFIG_DOC));
  const reads = codeReads(ROOT);
  // Sanity: the extractor sees the known readers (a silent regex would pass everything).
  for (const known of ['REDIS_URL', 'JWT_LEEWAY', 'API_ADDR', 'WS_MAX_TX_BYTES', 'NODE_TTL']) {
    assert.ok(reads.has(known), `the extractor found no read of ${known}: is e2e/lib/docs.mjs envReads out of date?`);
  }
  assert.deepEqual(configProblems(table, reads), []);
});

test('test-support modules are told from the services\' code', { skip: SKIP }, () => {
  assert.equal(testSupport(ROOT, 'shared/testsupport/archivetest/archivetest.go'), true);
  assert.equal(testSupport(ROOT, 'shared/testsupport/redistest/redistest.go'), true);
  assert.equal(testSupport(ROOT, 'shared/chat/archive/archive.go'), false);
  assert.equal(testSupport(ROOT, 'shared/infra/config/config.go'), false);
  assert.equal(testSupport(ROOT, 'ws/cmd/ws/main.go'), false);
});

test('the check notices a variable without a row, a row nobody reads, and a wrong service', { skip: SKIP }, () => {
  const table = configTable(readText(ROOT, CONFIG_DOC));
  const reads = codeReads(ROOT);
  const added = new Map(reads).set('WS_TURBO', { files: new Set(['ws/cmd/ws/main.go']), roles: new Set(['ws']) });
  assert.match(configProblems(table, added).join('\n'), /WS_TURBO is read by ws\/cmd\/ws\/main\.go but has no row/);
  const extraRow = new Map(table).set('API_TURBO', { service: 'api', default: '' });
  assert.match(configProblems(extraRow, reads).join('\n'), /API_TURBO has a row .* but no Go code reads it/);
  const wrongService = new Map(table).set('NODE_TTL', { service: 'api', default: '30s' });
  assert.match(configProblems(wrongService, reads).join('\n'), /NODE_TTL: .* says service "api", but it is read by the ws only/);
});
