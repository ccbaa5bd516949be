/**
 * The console's tests in a real browser: Debian's chromium, headless, driven by playwright-core.
 * Without it installed, those suites skip (saying so once).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { waitUntil } from './wait.js';

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

/**
 * Waits until the element's text contains `expected` (or matches it); the error says the text
 * last seen. `meanwhile` runs before each look (to answer a dialog that may open).
 */
export async function waitForText(locator: Locator, expected: string | RegExp, timeoutMs = 10_000, meanwhile?: () => Promise<void>): Promise<void> {
  let text = '';
  const shown = async (): Promise<boolean> => {
    await meanwhile?.();
    text = (await locator.allTextContents()).join(' | ');
    return typeof expected === 'string' ? text.includes(expected) : expected.test(text);
  };
  await waitUntil(String(expected), shown, timeoutMs, { intervalMs: 100, explain: () => `; the text was: ${text.slice(0, 500)}` });
}

/**
 * A fresh tab opened at one of the console's addresses (`#/drains/ID`), as an operator opens a
 * link: with `token`, the tab already holds the API token (as after a reload).
 */
export async function openConsole(browser: Browser, apiUrl: string, hash: string, token?: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  if (token !== undefined) await page.addInitScript((t) => sessionStorage.setItem('drainplane.apiToken', t), token);
  await page.goto(`${apiUrl}/ui/${hash}`);
  await page.locator('#live[data-state="live"]').waitFor();
  return page;
}

/**
 * The console pages a suite opens, each opened as `openConsole` does and then watched for
 * problems (`pageProblems`), all collected in `problems` for the suite's last check.
 */
export class ConsolePages {
  readonly problems: string[] = [];

  constructor(
    private readonly browser: () => Browser,
    private readonly apiUrl: () => string,
  ) {}

  async open(hash: string, token?: string): Promise<Page> {
    const page = await openConsole(this.browser(), this.apiUrl(), hash, token);
    this.problems.push(...pageProblems(page, this.apiUrl()));
    return page;
  }
}
