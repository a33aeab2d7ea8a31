// Links in README.md and docs/*.md: every relative link names a file or
// directory of the checkout, and every #anchor a heading of its target
// Markdown file (GitHub's slugs: lowercase, spaces to '-', punctuation but
// '-' and '_' dropped). No system needed; it runs in the single-Redis pass
// and skips in cluster mode. DOCS_CHECK_ROOT=/some/copy points it at another
// checkout.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { anchors, links, readText, slug } from '../lib/docs.mjs';

const ROOT = path.resolve(process.env.DOCS_CHECK_ROOT
  ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..'));
const MODE = process.env.E2E_REDIS || 'single';
const SKIP = MODE === 'single' ? false : `the docs do not depend on Redis (E2E_REDIS=${MODE}): checked in the single pass only`;

/** docFiles are the Markdown files whose links are checked, relative to the root. */
function docFiles(root) {
  return ['README.md', ...readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
}

/** linkProblems checks the links of one Markdown file (relative path) of root. */
export function linkProblems(root, file, text = readText(root, file)) {
  const out = [];
  const cache = new Map();
  const anchorsOf = (rel) => {
    if (!cache.has(rel)) cache.set(rel, anchors(rel === file ? text : readText(root, rel)));
    return cache.get(rel);
  };
  for (const { target, line } of links(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
    const at = `${file}:${line}`;
    const hash = target.indexOf('#');
    const filePart = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
    const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
    let rel = file;
    if (filePart !== '') {
      if (filePart.startsWith('/')) { out.push(`${at}: ${target} is absolute; link relative to the file`); continue; }
      rel = path.posix.normalize(path.posix.join(path.posix.dirname(file), filePart));
      if (rel.startsWith('..') || !existsSync(path.join(root, rel))) { out.push(`${at}: ${target}: no such file (${rel})`); continue; }
    }
    if (anchor === undefined) continue;
    if (!rel.endsWith('.md') || statSync(path.join(root, rel)).isDirectory()) { out.push(`${at}: ${target}: anchors are checked only in Markdown files`); continue; }
    if (!anchorsOf(rel).has(anchor)) out.push(`${at}: ${target}: ${rel} has no heading with the anchor #${anchor}`);
  }
  return out;
}

test('slug follows GitHub: lowercase, spaces to -, punctuation but - and _ dropped', { skip: SKIP }, () => {
  assert.equal(slug('Scaling out: many ws nodes and Redis Cluster'), 'scaling-out-many-ws-nodes-and-redis-cluster');
  assert.equal(slug('STOMP over WebSocket (`ws`, path `/ws`)'), 'stomp-over-websocket-ws-path-ws');
  assert.equal(slug('Soak under attack (make soak)'), 'soak-under-attack-make-soak');
  assert.equal(slug('Measuring: `make bench` and `chatload`'), 'measuring-make-bench-and-chatload');
  assert.equal(slug('The seed\'s App, unchanged'), 'the-seeds-app-unchanged');
  assert.equal(slug('snake_case and a-dash'), 'snake_case-and-a-dash');
  assert.deepEqual([...anchors('# A\n## A\n```\n# not a heading\n```\n### A')], ['a', 'a-1', 'a-2']);
});

test('every relative link and anchor in README.md and docs/ resolves', { skip: SKIP }, () => {
  const out = [];
  let checked = 0;
  for (const file of docFiles(ROOT)) {
    checked += links(readText(ROOT, file)).length;
    out.push(...linkProblems(ROOT, file));
  }
  assert.ok(checked > 20, `only ${checked} links found: is e2e/lib/docs.mjs links out of date?`);
  assert.deepEqual(out, []);
});

test('the check notices a missing file and a missing anchor', { skip: SKIP }, () => {
  const text = '[a](docs/nope.md) [b](docs/stomp.md#no-such-heading) [c](#nor-here) [d](https://example.com/x#y) `[e](not/a/link.md)`\n';
  const problems = linkProblems(ROOT, 'README.md', text).join('\n');
  assert.match(problems, /docs\/nope\.md: no such file/);
  assert.match(problems, /docs\/stomp\.md has no heading with the anchor #no-such-heading/);
  assert.match(problems, /README\.md has no heading with the anchor #nor-here/);
  assert.doesNotMatch(problems, /example\.com|not\/a\/link/);
});
