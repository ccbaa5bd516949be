/**
 * The console's tests in a real browser: Debian's chromium, headless, driven by playwright-core.
 * Without it installed, those suites skip (saying so once).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

export const haveChromium = existsSync(CHROMIUM);

export const NO_CHROMIUM = 'no chromium (install the chromium package)';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root (as in a container) cannot use chromium's sandbox.
    args: ['--disable-background-networking', ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
  });
}

/**
 * Collects what would be a bug on the page: a script error, an error logged (a 401 that asks for
 * the token is not one), or a request to anywhere but the daemon.
 */
export function pageProblems(page: Page, apiUrl: string): string[] {
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (m) => m.type() === 'error' && !/status of 401/.test(m.text()) && problems.push(`console: ${m.text()}`));
  page.on('request', (r) => !r.url().startsWith(apiUrl) && problems.push(`request outside the daemon: ${r.url()}`));
  return problems;
}
