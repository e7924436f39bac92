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

  /** Polled from outside: the page's CSP (rightly) forbids the eval that waitForFunction needs. */
  async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const value = await read();
      if (ok(value)) return value;
      if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('opens on an empty state that says what to do, connects, and reconnects by itself with the saved key', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(t.url);
    expect(await page.isVisible('#empty')).toBe(true);
    const hint = (await page.textContent('#empty'))!.replace(/\s+/g, ' ');
    expect(hint).toContain('npm start');
    expect(hint).toContain('demo.api_key');
    expect(hint).toContain('api-key create --workspace NAME');
    expect(await page.isVisible('#workspace')).toBe(false);
    expect(await page.getAttribute('link[rel="icon"]', 'href')).toBe('/favicon.svg');
    const icon = await fetch(`${t.url}/favicon.svg`);
    expect([icon.status, icon.headers.get('content-type')]).toEqual([200, 'image/svg+xml']);

    // A wrong key: told so, and the empty state stays.
    await page.fill('#api-key', 'wapl_' + 'x'.repeat(40));
    await page.click('#connect');
    await until(
      () => page.textContent('#key-status'),
      (s) => s === 'key refused: paste another one',
      'status',
    );
    expect(await page.isVisible('#empty')).toBe(true);

    // A workspace with no campaign: connected, and told how to make one.
    const empty = await t.newKey('browser-empty');
    await page.fill('#api-key', empty.key);
    await page.click('#connect');
    await until(() => page.isVisible('#no-campaigns'), Boolean, 'no-campaigns hint');
    expect(await page.isVisible('#empty')).toBe(false);
    expect(await page.textContent('#key-status')).toBe('connected');

    // The saved key is used at once on the next visit: no click.
    await t.app.services.campaigns.create(t.workspaceId, { name: 'Saved Key Blast', contacts: phones(1) });
    await page.fill('#api-key', t.key);
    await page.click('#connect');
    await page.waitForSelector('#campaigns li');
    const again = await context.newPage();
    again.on('pageerror', (error) => errors.push(error.message));
    await again.goto(t.url);
    await again.waitForSelector('#campaigns li');
    expect(await again.textContent('#key-status')).toBe('connected');
    expect(await again.isVisible('#empty')).toBe(false);
    expect(await again.isVisible('#pick')).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows a campaign and its funnel moving with the events, without a reload, and a timeline with time axes and a legend', async () => {
    const contacts = phones(10);
    const { id } = await t.app.services.campaigns.create(t.workspaceId, { name: 'Browser Blast', contacts });
    await postEvents(t.url, t.key, {
      type: 'message.sent',
      campaign_id: id,
      contact: contacts[0],
      timestamp: '2026-06-15T10:05:00Z',
    });

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(t.url);
    await page.fill('#api-key', t.key);
    await page.click('#connect');
    await page.click(`#campaigns li[data-id="${id}"]`);
    const sent = page.locator('#funnel [data-stat="sent"] .value');
    await sent.waitFor();
    const sentIs = (n: number) =>
      until(
        () => sent.textContent(),
        (s) => s === String(n),
        'sent',
      );
    await sentIs(1);

    const events: Record<string, unknown>[] = contacts.slice(1, 6).map((contact, i) => ({
      type: 'message.delivered',
      campaign_id: id,
      contact,
      timestamp: `2026-06-15T10:${String(7 + i * 3).padStart(2, '0')}:00Z`,
    }));
    events.push({ type: 'message.failed', campaign_id: id, contact: contacts[9]!, timestamp: '2026-06-15T10:30:00Z' });
    expect((await postEvents(t.url, t.key, { events })).status).toBe(200);
    await sentIs(6); // pushed over the subscription: no reload
    expect(await page.textContent('#funnel [data-stat="delivered"] .value')).toBe('5');
    expect(await page.textContent('#funnel [data-stat="failed"] .value')).toBe('1');
    expect(await page.textContent('#reasons tbody')).toContain('Unknown error');
    expect(await page.textContent('#live-status')).toBe('live');

    // The timeline: drawn by uPlot (served from node_modules), one series per stage in the legend,
    // time labels on the x axis across 10:05 to 10:30, counts on the y axis.
    const timeline = page.locator('#timeline');
    await page.waitForSelector('#timeline .uplot canvas');
    const legend = await page.locator('#timeline .u-legend .u-series .u-label').allTextContents();
    expect(legend).toEqual(['time', 'sent', 'delivered', 'read', 'clicked', 'replied', 'failed']);
    const minutesOf = (ticks: string | null) =>
      (ticks ?? '')
        .split(' ')
        .map((l) => (/^\d{2}:\d{2}$/.test(l) ? Number(l.slice(0, 2)) * 60 + Number(l.slice(3)) : NaN));
    // The chart follows the events (10:05 to 10:30 in local time) once the timeline is re-read.
    const xTicks = await until(
      () => timeline.getAttribute('data-x-ticks'),
      (ticks) => {
        const minutes = minutesOf(ticks);
        return minutes.length >= 3 && Math.max(...minutes) - Math.min(...minutes) >= 10;
      },
      'x ticks spanning the events',
    );
    const minutes = minutesOf(xTicks);
    expect(minutes.every(Number.isInteger)).toBe(true); // every label is HH:MM
    expect(minutes).toEqual([...minutes].sort((a, b) => a - b)); // left to right in time
    // Cumulative by default: the top of the y axis covers all 6 sent contacts.
    expect(await timeline.getAttribute('data-mode')).toBe('cumulative');
    const yTop = async () => Math.max(...(await timeline.getAttribute('data-y-ticks'))!.split(' ').map(Number));
    expect(await yTop()).toBeGreaterThanOrEqual(6);
    // Per minute: no minute holds more than 5 sent (the 5 delivered-first contacts count as sent at 10:07..10:19).
    await page.click('#timeline-mode button[data-mode="bucket"]');
    expect(await timeline.getAttribute('data-mode')).toBe('bucket');
    expect(await yTop()).toBeLessThan(6);
    expect(errors).toEqual([]);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    await page.close();
  });
});
