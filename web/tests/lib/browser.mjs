// Debian's chromium driven by playwright-core: no downloaded browsers.
// Playwright gives every launch a fresh temporary profile (it refuses a
// --user-data-dir flag of our own), so nothing leaks between runs.

import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export function launch() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * watch records a page's uncaught exceptions and console output; errors()
 * returns the uncaught ones, log() everything (attached to failures).
 */
export function watch(page, label) {
  const lines = [];
  const uncaught = [];
  page.on('console', (m) => lines.push(`[${label}] console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => {
    uncaught.push(e);
    lines.push(`[${label}] pageerror: ${e.stack || e.message}`);
  });
  return { errors: () => uncaught, log: () => lines.join('\n') };
}
