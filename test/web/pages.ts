import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { ROOT } from '../support/process.js';

/** Polls until the locator's text matches (playwright-core has no `expect`); fails with what it saw. */
export async function waitForText(locator: Locator, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    last = ((await locator.count()) > 0 ? await locator.first().textContent() : '') ?? '';
    if (pattern.test(last)) return last;
    if (Date.now() > deadline) throw new Error(`expected ${pattern} within ${timeoutMs} ms, last saw: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function signUpInBrowser(page: Page, base: string, login: string, password: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.waitForURL(/\/signin$/);
  await page.getByRole('button', { name: 'Create account', pressed: false }).click();
  await page.getByLabel('Login').fill(login);
  await page.getByLabel('Password').fill(password);
  await page.locator('form').getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(/\/orders$/);
  await waitForText(page.getByTestId('member-login'), new RegExp(login));
}

/** Screenshots for docs/: taken only when WEB_SCREENSHOTS names a directory (e.g. docs/screenshots). */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.WEB_SCREENSHOTS;
  if (!dir) return;
  const out = resolve(ROOT, dir);
  mkdirSync(out, { recursive: true });
  // a full-page shot of a scrolled page would paint the sticky header mid-page
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: resolve(out, `${name}.png`), fullPage: true, animations: 'disabled' });
}

/**
 * Runs an expression in the page. Written as a string because the test program is compiled
 * without the DOM library (adding it would retype timers and fetch for the whole code base).
 */
export async function inPage<T>(page: Page, expression: string): Promise<T> {
  return (await page.evaluate(expression)) as T;
}

/**
 * Waits until `expression` is true in the page. Not page.waitForFunction: given a string, that
 * polls with eval inside the page, which the app's Content-Security-Policy refuses whenever the
 * first check is not already true; page.evaluate is not bound by it.
 */
export async function untilInPage(page: Page, expression: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await inPage<boolean>(page, expression))) {
    if (Date.now() > deadline) throw new Error(`not true in the page within ${timeoutMs} ms: ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Every form control is named by a label a screen reader announces. */
export function unlabelledControls(page: Page): Promise<string[]> {
  return inPage(
    page,
    `[...document.querySelectorAll('input, select, textarea')].filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label')).map((el) => el.outerHTML)`,
  );
}
