import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { Cluster, type ClusterOptions, ROOT } from './cluster';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = join(ROOT, 'test-output', 'browser');
/** The README's picture of the page: rewritten by a screenshot marked `readme` when HERALD_UPDATE_SCREENSHOT=1 (never in CI). */
const README_SCREENSHOT = join(ROOT, 'docs', 'screenshot.png');

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Saves `test-output/browser/<name>.png`; `readme` also refreshes docs/screenshot.png when HERALD_UPDATE_SCREENSHOT=1. */
  screenshot(name: string, opts?: { readme?: boolean }): Promise<string>;
  close(): Promise<void>;
}

/** Debian's Chromium, headless, in a fresh profile; `npm test` installs it (scripts/infra.sh) when missing. */
export async function launchBrowser(viewport = { width: 1440, height: 900 }): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (npm test does it on Debian as root)`);
  const profile = mkdtempSync(join(tmpdir(), 'herald-chromium-'));
  mkdirSync(SCREENSHOTS, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async screenshot(name, opts = {}) {
      const path = join(SCREENSHOTS, `${name}.png`);
      await page.screenshot({ path });
      if (opts.readme && process.env.HERALD_UPDATE_SCREENSHOT === '1') copyFileSync(path, README_SCREENSHOT);
      return path;
    },
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A browser test's stack and browser: Herald as real processes and a fresh Chromium, started before the file's tests and stopped after. */
export interface BrowserSuite {
  readonly cluster: Cluster;
  readonly browser: Browser;
  page(): Page;
  /** Opens the page of gateway 0, signs in with a user name (development sign-in) and waits until it is live. */
  signIn(name: string): Promise<void>;
}

/** Starts a cluster with `opts` and Chromium before the file's tests (beforeAll), stops both after (afterAll). */
export function browserSuite(opts: ClusterOptions): BrowserSuite {
  let cluster: Cluster | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    cluster = await Cluster.start(opts);
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  }, 30_000);
  return {
    get cluster() {
      if (!cluster) throw new Error('the cluster is not started yet (use it inside a test)');
      return cluster;
    },
    get browser() {
      if (!browser) throw new Error('the browser is not started yet (use it inside a test)');
      return browser;
    },
    page: () => {
      if (!browser) throw new Error('the browser is not started yet (use it inside a test)');
      return browser.page;
    },
    async signIn(name) {
      const page = this.page();
      await page.goto(this.cluster.gatewayUrl());
      await page.getByLabel('Your name').fill(name);
      await page.getByRole('button', { name: 'Start chatting' }).click();
      await page.locator('#connection.online').waitFor();
    },
  };
}
