// What the Chromium dashboard tests share: the built SPA, Debian's Chromium, logging in.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const ROOT = join(import.meta.dirname, '..', '..');
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

/** Builds packages/web when its dist is missing (the platform serves it at /). */
export function ensureWebBuilt(): void {
  if (!existsSync(join(ROOT, 'packages', 'web', 'dist', 'index.html'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
}

/** Debian's chromium package (`npx playwright install` cannot download here). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** Logs in through the dashboard's form and waits for the signed-in navigation. */
export async function logIn(page: Page, base: string, who: { email: string; password: string }): Promise<void> {
  await page.goto(base + '/');
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
}
