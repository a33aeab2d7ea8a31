// Readers of the documentation and of the Go sources it describes, for the
// tests that hold the two together (docs-*.test.mjs, deploy-files.test.mjs).
// Pure functions over text, plus walkers over the checkout; no system needed.

import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** CONFIG_DOC is the one configuration table, relative to the repository root. */
export const CONFIG_DOC = 'docs/configuration.md';
/** CONFIG_SECTION is the heading of that table's section. */
export const CONFIG_SECTION = 'Services';

/**
 * section returns the text under the first heading `## <title>` (any level
 * from 2 to 4) up to the next heading of the same or a higher level, or
 * undefined when there is no such heading.
 */
export function section(text, title) {
  const lines = text.split('\n');
  let level = 0;
  const out = [];
  let fence = false;
  for (const line of lines) {
    if (/^\s*(```|~~~)/.test(line)) fence = !fence;
    const h = fence ? null : /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (level === 0) {
      if (h && h[1].length >= 2 && h[2] === title) level = h[1].length;
      continue;
    }
    if (h && h[1].length <= level) break;
    out.push(line);
  }
  return level === 0 ? undefined : out.join('\n');
}

/**
 * tableRows returns the cells of every row of the Markdown tables in text
 * whose first cell is a backquoted name (header and separator rows and
 * group rows such as `| **STOMP** | |` are skipped). Cells are trimmed;
 * `\|` inside a cell is kept as `|`.
 */
export function tableRows(text) {
  const rows = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('|')) continue;
    const cells = line.replace(/\\\|/g, '\u0000').split('|').slice(1, -1)
      .map((c) => c.replace(/\u0000/g, '|').trim());
    if (!/^`[^`]+`$/.test(cells[0] ?? '')) continue;
    rows.push(cells);
  }
  return rows;
}

/**
 * configTable parses the configuration table (docs/configuration.md,
 * section "Services"): variable → { service, default, line }.
 */
export function configTable(text) {
  const body = section(text, CONFIG_SECTION);
  if (body === undefined) throw new Error(`${CONFIG_DOC} has no "## ${CONFIG_SECTION}" section`);
  const vars = new Map();
  for (const cells of tableRows(body)) {
    const name = cells[0].replace(/`/g, '');
    if (!/^[A-Z][A-Z0-9_]*$/.test(name)) continue;
    if (vars.has(name)) throw new Error(`${CONFIG_DOC}: ${name} has two rows`);
    vars.set(name, { service: cells[1], default: (cells[2] ?? '').replace(/`/g, '') });
  }
  if (vars.size === 0) throw new Error(`${CONFIG_DOC}'s table has no variables`);
  return vars;
}

/** goFiles lists the non-test .go files under dir (absolute), sorted. */
export function goFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name === 'testdata' || e.name.startsWith('.')) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.go') && !e.name.endsWith('_test.go')) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * stripGoComments removes // and /* *\/ comments from Go source, leaving
 * string literals (interpreted, raw, runes) intact, so that names in
 * comments are not taken for code.
 */
export function stripGoComments(src) {
  let out = '';
  for (let i = 0; i < src.length;) {
    const c = src[i];
    if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? src.length : end + 2;
      out += ' ';
    } else if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < src.length && src[j] !== c) {
        if (c !== '`' && src[j] === '\\') j++;
        if (c !== '`' && src[j] === '\n') break;
        j++;
      }
      out += src.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/**
 * envReads returns the environment variables a Go source reads: the string
 * literal passed to a lookup (`getenv("X")`, `os.Getenv("X")`,
 * `os.LookupEnv("X")`) or passed right after a lookup function to a helper
 * (`config.Int(getenv, "X", …)`, `Duration`, `Rate`, `Bool`, `List`, or any
 * other helper taking the lookup first).
 */
export function envReads(src) {
  const code = stripGoComments(src);
  const names = new Set();
  const lookup = String.raw`(?:getenv|os\.Getenv|os\.LookupEnv)`;
  const name = String.raw`"([A-Za-z_][A-Za-z0-9_]*)"`;
  for (const m of code.matchAll(new RegExp(String.raw`(?<![\w.])${lookup}\(\s*${name}`, 'g'))) names.add(m[1]);
  for (const m of code.matchAll(new RegExp(String.raw`\b\w+\(\s*${lookup}\s*,\s*${name}`, 'g'))) names.add(m[1]);
  return names;
}

/** metricNames returns the roomwire_… metric names a Go source defines as string literals. */
export function metricNames(src) {
  const code = stripGoComments(src);
  return new Set([...code.matchAll(/"(roomwire_[a-z0-9_]+)"/g)].map((m) => m[1]));
}

/**
 * slug is GitHub's anchor of a heading: the rendered text (inline code
 * marks, emphasis and link targets dropped), lowercased, every character
 * but letters, digits, spaces, '-' and '_' dropped, spaces turned into '-'.
 */
export function slug(heading) {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[`*]/g, '')
    .replace(/<[^>]+>/g, '');
  return text.trim().toLowerCase().replace(/[^\p{L}\p{N}\p{M} _-]/gu, '').replace(/ /g, '-');
}

/** anchors returns every heading anchor of a Markdown text, duplicates numbered as GitHub does (x, x-1, x-2). */
export function anchors(text) {
  const seen = new Map();
  const out = new Set();
  let fence = false;
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) { fence = !fence; continue; }
    if (fence) continue;
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const base = slug(h[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/**
 * links returns the link targets of a Markdown text with their line
 * numbers, outside fenced code and inline code: [text](target) and
 * [text](target "title").
 */
export function links(text) {
  const out = [];
  let fence = false;
  text.split('\n').forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) { fence = !fence; return; }
    if (fence) return;
    const bare = line.replace(/`[^`]*`/g, 'code');
    for (const m of bare.matchAll(/\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ target: m[1], line: i + 1 });
  });
  return out;
}

/** readText reads a file of the checkout as UTF-8. */
export const readText = (root, rel) => readFileSync(path.join(root, rel), 'utf8');
