import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

/** Debian's chromium (installed by .ci/run); overridable for other machines. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why browser tests cannot run here, or null when they can. Tests skip with this message, never pass silently. */
export function browserMissing(): string | null {
  return existsSync(CHROMIUM) ? null : `chromium not installed: ${CHROMIUM} is missing (apt-get install chromium, or set CHROMIUM_PATH)`;
}

export interface Headless {
  browser: Browser;
  /** A fresh context: no cookies, no storage — one per simulated member. */
  context(options?: { width?: number; height?: number }): Promise<BrowserContext>;
  close(): Promise<void>;
}

/**
 * Headless Chromium with everything that would reach out to the internet turned off (the machine
 * has none, and tests must not depend on it). Playwright gives a non-persistent launch its own
 * fresh temporary --user-data-dir (and refuses one passed by hand), and every context below
 * starts with no cookies or storage.
 */
export async function launchHeadless(): Promise<Headless> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    // playwright adds --headless itself for headless: true; the rest keeps Chromium quiet and offline
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-gpu', '--no-first-run'],
    timeout: 30_000,
  });
  return {
    browser,
    context: (o = {}) =>
      browser.newContext({ viewport: { width: o.width ?? 1200, height: o.height ?? 800 }, locale: 'en-US', timezoneId: 'UTC', reducedMotion: 'reduce' }),
    async close() {
      await browser.close().catch(() => undefined);
    },
  };
}
