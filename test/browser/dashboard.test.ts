import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';
import { phones } from '../factories/campaign.factory';
import { postEvents } from '../support/http';
import type { TestApp } from '../support/test-app';
import { startTestApp } from '../support/test-app';

/** Debian's Chromium; `.ci/run` installs it when missing. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');

describe('the dashboard in headless Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    t = await startTestApp();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await t.stop();
  });

  it('shows a campaign and its funnel moving with the events, without a reload', async () => {
    const contacts = phones(10);
    const { id } = await t.app.services.campaigns.create(t.workspaceId, { name: 'Browser Blast', contacts });
    await postEvents(t.url, t.key, { type: 'message.sent', campaign_id: id, contact: contacts[0] });

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(t.url);
    await page.fill('#api-key', t.key);
    await page.click('#connect');
    await page.click(`#campaigns li[data-id="${id}"]`);
    const sent = page.locator('#funnel [data-stat="sent"] .value');
    await sent.waitFor();
    // Polled from outside: the page's CSP (rightly) forbids the eval that waitForFunction needs.
    const sentIs = async (n: number) => {
      const until = Date.now() + 10_000;
      while ((await sent.textContent()) !== String(n)) {
        if (Date.now() > until) throw new Error(`sent stayed at ${await sent.textContent()}, expected ${n}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await sentIs(1);

    const events = contacts.slice(1, 6).map((contact) => ({ type: 'message.delivered', campaign_id: id, contact }));
    events.push({ type: 'message.failed', campaign_id: id, contact: contacts[9]! });
    expect((await postEvents(t.url, t.key, { events })).status).toBe(200);
    await sentIs(6); // pushed over the subscription: no reload
    expect(await page.textContent('#funnel [data-stat="delivered"] .value')).toBe('5');
    expect(await page.textContent('#funnel [data-stat="failed"] .value')).toBe('1');
    expect(await page.textContent('#reasons tbody')).toContain('Unknown error');
    await page.waitForSelector('#timeline rect[data-series="sent"]', { state: 'attached' });
    expect(await page.textContent('#live-status')).toBe('live');
    expect(errors).toEqual([]);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    await page.close();
  });
});
