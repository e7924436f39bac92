import { mkdirSync, readFileSync } from 'node:fs';
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

  it('lists the contacts behind a funnel bar, pages them, downloads their CSV, and shows the tracked links', async () => {
    // 60 sent (more than a page of 50), 7 of them clicked, 2 failed among the other contacts.
    const contacts = phones(70);
    const { id } = await t.app.services.campaigns.create(t.workspaceId, { name: 'Audience Blast', contacts });
    const at = '2026-06-15T10:05:00Z';
    const events: Record<string, unknown>[] = [
      ...contacts.slice(0, 60).map((contact) => ({ type: 'message.sent', campaign_id: id, contact, timestamp: at })),
      ...contacts
        .slice(0, 7)
        .map((contact) => ({ type: 'message.clicked', campaign_id: id, contact, timestamp: '2026-06-15T10:09:00Z' })),
      ...contacts.slice(60, 62).map((contact) => ({
        type: 'message.failed',
        campaign_id: id,
        contact,
        timestamp: at,
        error: { code: 131026, title: 'Message undeliverable' },
      })),
    ];
    expect((await postEvents(t.url, t.key, { events })).status).toBe(200);
    const link = await t.app.services.trackedLinks.create(t.workspaceId, id, 'https://example.com/audience');

    const page = await browser.newPage({ acceptDownloads: true });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text()); // a CSP refusal is reported here
    });
    await page.goto(t.url);
    await page.fill('#api-key', t.key);
    await page.click('#connect');
    await page.click(`#campaigns li[data-id="${id}"]`);
    await until(
      () => page.textContent('#funnel [data-stat="clicked"] .value'),
      (v) => v === '7',
      'clicked count',
    );
    const rows = page.locator('#contacts tbody tr');
    const rowCount = (n: number) =>
      until(
        () => rows.count(),
        (c) => c === n,
        'rows',
      );

    // The clicked bar: exactly the 7 clicked contacts, by phone, with their click time; no next page.
    const clicked = page.locator('#funnel [data-stat="clicked"] button');
    expect(await clicked.evaluate((b) => b.tagName)).toBe('BUTTON');
    await clicked.click();
    await rowCount(7);
    expect(await page.locator('#contacts tbody tr td:first-child').allTextContents()).toEqual(contacts.slice(0, 7));
    expect(await page.textContent('#contacts-time')).toBe('clicked at');
    expect((await page.locator('#contacts tbody tr td:nth-child(3)').allTextContents()).every((t) => t !== '—')).toBe(
      true,
    );
    expect(await page.isVisible('#contacts-next')).toBe(false);
    expect(await clicked.getAttribute('aria-pressed')).toBe('true');
    expect(await page.locator('#contacts thead th').allTextContents()).toEqual([
      'Phone',
      'Stage',
      'clicked at',
      'Failure',
    ]);

    // Its CSV, fetched with the key and saved: the header row and one record per contact.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#audience-csv')]);
    expect(download.suggestedFilename()).toBe(`campaign-${id}-clicked.csv`);
    const csv = readFileSync(await download.path(), 'utf8');
    const lines = csv.split('\r\n').filter((l) => l !== '');
    expect(lines[0]).toBe(
      'phone,stage,sent_at,delivered_at,read_at,clicked_at,replied_at,failed_at,failure_code,failure_title',
    );
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(contacts.slice(0, 7));
    await until(
      () => page.textContent('#audience-status'),
      (s) => s === 'CSV downloaded',
      'download status',
    );

    // The failed bar: the 2 failed contacts with their reason.
    await page.click('#funnel [data-stat="failed"] button');
    await rowCount(2);
    expect(await page.locator('#contacts tbody tr td:nth-child(4)').allTextContents()).toEqual([
      '131026 Message undeliverable',
      '131026 Message undeliverable',
    ]);

    // The sent bar: 60 contacts, a first page of 50 and a next page of the other 10.
    await page.click('#funnel [data-stat="sent"] button');
    await rowCount(50);
    expect(await page.isVisible('#contacts-next')).toBe(true);
    await page.click('#contacts-next');
    await rowCount(10);
    expect(await page.locator('#contacts tbody tr td:first-child').allTextContents()).toEqual(contacts.slice(50, 60));
    expect(await page.isVisible('#contacts-next')).toBe(false);
    const [sentCsv] = await Promise.all([page.waitForEvent('download'), page.click('#audience-csv')]);
    const sentLines = readFileSync(await sentCsv.path(), 'utf8')
      .split('\r\n')
      .filter((l) => l !== '');
    expect(sentLines).toHaveLength(61); // the header and all 60, not just the page shown

    // The tracked links with their clicks: none, then one after a visit to a contact's URL.
    await until(
      () => page.locator('#links tbody tr td').allTextContents(),
      (cells) => cells.join(' ') === 'https://example.com/audience 0',
      'links',
    );
    const urls = await fetch(`${t.url}/api/v1/campaigns/${id}/links/${link.id}/urls.csv`, {
      headers: { authorization: `Bearer ${t.key}` },
    });
    const firstUrl = (await urls.text()).split('\r\n')[1]!.split(',')[1]!;
    const visit = await fetch(`${t.url}${new URL(firstUrl).pathname}`, { redirect: 'manual' });
    expect(visit.status).toBe(302);
    // A stats change (a contact newly read) makes the page re-read the links; the funnel moves in
    // place, so a bar's button that has the keyboard focus keeps it.
    await page.focus('#funnel [data-stat="clicked"] button');
    expect(await page.textContent('#funnel [data-stat="read"] .value')).toBe('7');
    await postEvents(t.url, t.key, { type: 'message.read', campaign_id: id, contact: contacts[20], timestamp: at });
    await until(
      () => page.locator('#links tbody tr td').allTextContents(),
      (cells) => cells.join(' ') === 'https://example.com/audience 1',
      'links after a click',
    );
    await until(
      () => page.textContent('#funnel [data-stat="read"] .value'),
      (v) => v === '8', // the 7 clicked (a click implies read) and this one
      'read after the event',
    );
    expect(await page.getAttribute(':focus', 'data-filter')).toBe('clicked');
    expect(errors).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-audience.png'), fullPage: true });

    // An export refused (the workspace's 2 exports in flight): the reason is shown, nothing saved.
    await page.route('**/contacts.csv?*', (route) =>
      route.fulfill({
        status: 429,
        contentType: 'application/json',
        body: JSON.stringify({ error: 'rate_limited', message: 'Too many exports in flight' }),
      }),
    );
    let downloads = 0;
    page.on('download', () => downloads++);
    await page.click('#audience-csv');
    await until(
      () => page.textContent('#audience-status'),
      (s) => s === 'Too many exports in flight',
      'refusal shown',
    );
    expect(downloads).toBe(0);
    await page.close();
  });
});
