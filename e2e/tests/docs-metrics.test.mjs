// The metrics tables of docs/operations.md ("## Metrics") against the code:
// every roomwire_… metric defined in ws/internal/metrics and
// api/internal/metrics has a row, every row is defined, and any roomwire_…
// name mentioned elsewhere in README.md or docs/ exists. No system needed; it
// runs in the single-Redis pass and skips in cluster mode.
// DOCS_CHECK_ROOT=/some/copy points it at another checkout.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { goFiles, metricNames, readText, section, tableRows } from '../lib/docs.mjs';

const ROOT = path.resolve(process.env.DOCS_CHECK_ROOT
  ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..'));
const MODE = process.env.E2E_REDIS || 'single';
const SKIP = MODE === 'single' ? false : `the docs do not depend on Redis (E2E_REDIS=${MODE}): checked in the single pass only`;

const DOC = 'docs/operations.md';
const PACKAGES = ['ws/internal/metrics', 'api/internal/metrics', 'api/internal/archivemetrics'];

/** definedMetrics maps each metric name the code defines to its file. */
export function definedMetrics(root) {
  const out = new Map();
  for (const pkg of PACKAGES) {
    for (const abs of goFiles(path.join(root, pkg))) {
      const file = path.relative(root, abs).split(path.sep).join('/');
      for (const name of metricNames(readText(root, file))) out.set(name, file);
    }
  }
  return out;
}

/** documentedMetrics returns the names in the first column of the tables under "## Metrics" (labels in {…} dropped). */
export function documentedMetrics(text) {
  const body = section(text, 'Metrics');
  assert.ok(body !== undefined, `${DOC} has no "## Metrics" section`);
  const out = [];
  for (const cells of tableRows(body)) {
    const name = cells[0].replace(/`/g, '').replace(/\{.*\}$/, '');
    if (name.startsWith('roomwire_')) out.push(name);
  }
  return out;
}

/** metricProblems compares the documented names with the defined ones. */
export function metricProblems(documented, defined) {
  const out = [];
  const seen = new Set();
  for (const name of documented) {
    if (seen.has(name)) out.push(`${name} has two rows in ${DOC}`);
    seen.add(name);
    if (!defined.has(name)) out.push(`${name} is documented in ${DOC} but defined nowhere in ${PACKAGES.join(' or ')}`);
  }
  for (const [name, file] of defined) {
    if (!seen.has(name)) out.push(`${name} is defined in ${file} but has no row in ${DOC}'s Metrics tables`);
  }
  return out;
}

test('metricNames reads the names defined in Go string literals, not those in comments', { skip: SKIP }, () => {
  const src = '// roomwire_in_comment and "roomwire_quoted_comment"\nvar d = desc("roomwire_ws_a_total", "help")\nvar h = prometheus.HistogramOpts{Name: "roomwire_api_b_seconds"}';
  assert.deepEqual([...metricNames(src)].sort(), ['roomwire_api_b_seconds', 'roomwire_ws_a_total']);
});

test(`${DOC} documents every roomwire_ metric the code defines, and nothing else`, { skip: SKIP }, () => {
  const defined = definedMetrics(ROOT);
  assert.ok(defined.has('roomwire_ws_connections_open') && defined.has('roomwire_api_http_requests_total'),
    `the extractor found too little: ${[...defined.keys()].join(', ')}`);
  assert.deepEqual(metricProblems(documentedMetrics(readText(ROOT, DOC)), defined), []);
});

test('every roomwire_ name mentioned in README.md and docs/ is a defined metric', { skip: SKIP }, () => {
  const defined = definedMetrics(ROOT);
  const files = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const out = [];
  for (const file of files) {
    for (const m of readText(ROOT, file).matchAll(/\broomwire_[a-z0-9_]+/g)) {
      if (m[0].endsWith('_')) continue; // a prefix (roomwire_archive_*, roomwire_test_<hex>), not a name
      if (!defined.has(m[0])) out.push(`${file}: ${m[0]} is not a metric the code defines`);
    }
  }
  assert.deepEqual(out, []);
});

test('the check notices an undocumented metric and a documented one that is gone', { skip: SKIP }, () => {
  const defined = definedMetrics(ROOT);
  const documented = documentedMetrics(readText(ROOT, DOC));
  const added = new Map(defined).set('roomwire_ws_turbo_total', 'ws/internal/metrics/metrics.go');
  assert.match(metricProblems(documented, added).join('\n'), /roomwire_ws_turbo_total is defined in .* but has no row/);
  assert.match(metricProblems([...documented, 'roomwire_api_gone_total'], defined).join('\n'), /roomwire_api_gone_total is documented .* but defined nowhere/);
});
