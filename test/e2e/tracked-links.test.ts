import { phones } from '../factories/campaign.factory';
import { gql } from '../support/http';
import { startTcpProxy } from '../support/tcp-proxy';
import type { TestApp } from '../support/test-app';
import { startTestApp } from '../support/test-app';

// docs/rest.md#tracked-links and docs/graphql.md#tracked-links.

const CREATE = `mutation($campaignId: ID!, $url: String!) {
  createTrackedLink(campaignId: $campaignId, url: $url) { id campaignId url clicks }
}`;
const LINKS = `query($campaignId: ID!) { trackedLinks(campaignId: $campaignId) { id url clicks } }`;
const TARGET = 'https://shop.example.com/sale?utm_source=wa&x=%20a#top';

describe('tracked links', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  async function setUp(count = 3, key = t.key, workspaceId = t.workspaceId) {
    const contacts = phones(count);
    const { id } = await t.app.services.campaigns.create(workspaceId, { name: 'links', contacts });
    const made = await gql(t.url, key, CREATE, { campaignId: id, url: TARGET });
    expect(made.body.errors).toBeUndefined();
    const link = made.body.data.createTrackedLink;
    const csv = await get(`/api/v1/campaigns/${id}/links/${link.id}/urls.csv`, key);
    expect(csv.status).toBe(200);
    const [header, ...lines] = csv.text.split('\r\n');
    expect(header).toBe('phone,url');
    expect(lines.pop()).toBe('');
    const urls = new Map(lines.map((line) => line.split(',') as [string, string]));
    return { id, link, contacts, urls, csv };
  }
  async function get(path: string, key: string | null = t.key, headers: Record<string, string> = {}) {
    const response = await fetch(path.startsWith('http') ? path : `${t.url}${path}`, {
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      redirect: 'manual',
    });
    return { status: response.status, text: await response.text(), headers: response.headers };
  }
  const visit = async (url: string, init: RequestInit = {}) => {
    const response = await fetch(url, { redirect: 'manual', ...init });
    await response.arrayBuffer();
    return response;
  };
  const stats = (id: string) => t.app.services.campaigns.stats(t.workspaceId, id);
  const clicksOf = async (id: string) =>
    (await gql(t.url, t.key, LINKS, { campaignId: id })).body.data.trackedLinks.map((l: any) => l.clicks);

  it('creates a link, lists one unguessable URL per contact, and counts a click once', async () => {
    const { id, link, contacts, urls, csv } = await setUp(3);
    expect(link).toEqual({ id: expect.stringMatching(/^[0-9a-f]{24}$/), campaignId: id, url: TARGET, clicks: 0 });
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename="campaign-[0-9a-f]{24}-link-/);
    expect([...urls.keys()]).toEqual([...contacts].sort());
    for (const url of urls.values()) expect(url).toMatch(new RegExp(`^${t.url}/r/[A-Za-z0-9_-]{48}$`));
    expect(new Set(urls.values()).size).toBe(3);

    const first = await visit(urls.get(contacts[0]!)!);
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toBe(TARGET);
    expect(first.headers.get('cache-control')).toBe('no-store');
    // committed before the redirect: read at once, no waiting
    expect(await stats(id)).toMatchObject({ clickedCount: 1, readCount: 1, campaignStatus: 'running' });
    expect(await clicksOf(id)).toEqual([1]);
    expect((await visit(urls.get(contacts[0]!)!)).status).toBe(302);
    expect(await stats(id)).toMatchObject({ clickedCount: 1 });
    expect(await clicksOf(id)).toEqual([1]);
    await visit(urls.get(contacts[1]!)!);
    expect(await stats(id)).toMatchObject({ clickedCount: 2 });
    expect(await clicksOf(id)).toEqual([2]);
    // the drill-down shows who
    const clicked = await get(`/api/v1/campaigns/${id}/contacts?filter=clicked`);
    expect(JSON.parse(clicked.text).contacts.map((c: any) => c.phone)).toEqual([contacts[0], contacts[1]].sort());
  });

  it('per link: two links of one campaign count their own clickers', async () => {
    const { id, contacts, urls } = await setUp(2);
    const second = (await gql(t.url, t.key, CREATE, { campaignId: id, url: 'http://example.org/' })).body.data
      .createTrackedLink;
    const csv = await get(`/api/v1/campaigns/${id}/links/${second.id}/urls.csv`);
    const secondUrls = new Map(
      csv.text
        .split('\r\n')
        .slice(1, -1)
        .map((l) => l.split(',') as [string, string]),
    );
    expect(secondUrls.get(contacts[0]!)).not.toBe(urls.get(contacts[0]!));
    const response = await visit(secondUrls.get(contacts[1]!)!);
    expect(response.headers.get('location')).toBe('http://example.org/');
    expect(await clicksOf(id)).toEqual([0, 1]);
  });

  it('HEAD and link-preview fetchers get the redirect without counting', async () => {
    const { id, contacts, urls } = await setUp(1);
    const url = urls.get(contacts[0]!)!;
    const head = await visit(url, { method: 'HEAD' });
    expect([head.status, head.headers.get('location')]).toEqual([302, TARGET]);
    for (const agent of [
      'WhatsApp/2.23.20.0 A',
      'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
      'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
      'TelegramBot (like TwitterBot)',
      'Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)',
      'Twitterbot/1.0',
      'LinkedInBot/1.0 (compatible; Mozilla/5.0)',
    ]) {
      const preview = await visit(url, { headers: { 'user-agent': agent } });
      expect([agent, preview.status, preview.headers.get('location')]).toEqual([agent, 302, TARGET]);
    }
    expect(await stats(id)).toMatchObject({ clickedCount: 0, campaignStatus: 'draft' });
    expect(await clicksOf(id)).toEqual([0]);
    const person = await visit(url, {
      headers: { 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1' },
    });
    expect(person.status).toBe(302);
    expect(await stats(id)).toMatchObject({ clickedCount: 1 });
  });

  it('unknown, forged and truncated tokens are 404 with no redirect', async () => {
    const { id, contacts, urls } = await setUp(2);
    const other = await setUp(1);
    const token = urls.get(contacts[0]!)!.split('/r/')[1]!;
    const otherToken = other.urls.get(other.contacts[0]!)!.split('/r/')[1]!;
    const bytes = Buffer.from(token, 'base64url');
    const flipped = Buffer.from(bytes);
    flipped[35] = flipped[35]! ^ 1;
    const otherContact = Buffer.from(bytes);
    otherContact.writeBigUInt64BE(otherContact.readBigUInt64BE(12) + 1n, 12);
    // link id of one link with the mac of another
    const swapped = Buffer.concat([Buffer.from(otherToken, 'base64url').subarray(0, 12), bytes.subarray(12)]);
    for (const bad of [
      flipped.toString('base64url'),
      otherContact.toString('base64url'),
      swapped.toString('base64url'),
      token.slice(0, 47),
      token.slice(0, 24),
      `${token}A`,
      'A'.repeat(48),
      '%00',
      encodeURIComponent('https://evil.example.com/'),
    ]) {
      const response = await get(`/r/${bad}`, null);
      expect([bad, response.status, response.headers.get('location')]).toEqual([bad, 404, null]);
      expect(JSON.parse(response.text)).toEqual({ error: 'not_found', message: 'Link not found' });
    }
    expect(await stats(id)).toMatchObject({ clickedCount: 0 });
  });

  it('refuses URLs that are not http or https, and answers other workspaces as missing', async () => {
    const contacts = phones(1);
    const { id } = await t.app.services.campaigns.create(t.workspaceId, { name: 'refuse', contacts });
    for (const url of [
      'javascript:alert(1)',
      'JavaScript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'ftp://example.com/',
      'file:///etc/passwd',
      '//example.com/x',
      '/relative',
      'http://',
      'https://exa mple.com/',
      'https://example.com/\r\nSet-Cookie: x=1',
      'https://example.com/\u0000',
      'https://example.com/ünïcode',
      `https://example.com/${'a'.repeat(2049)}`,
      '',
    ]) {
      const answer = await gql(t.url, t.key, CREATE, { campaignId: id, url });
      expect([url, answer.body.errors?.[0]?.extensions?.code]).toEqual([url, 'BAD_USER_INPUT']);
    }
    expect((await gql(t.url, t.key, LINKS, { campaignId: id })).body.data.trackedLinks).toEqual([]);

    const stranger = await t.newKey('links-stranger');
    const { link } = await setUp(1);
    const campaignOfLink = link.campaignId;
    const refused = await gql(t.url, stranger.key, CREATE, { campaignId: campaignOfLink, url: TARGET });
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(
      (await gql(t.url, stranger.key, LINKS, { campaignId: campaignOfLink })).body.errors?.[0]?.extensions?.code,
    ).toBe('NOT_FOUND');
    const notFound = (message: string) => ({ status: 404, body: { error: 'not_found', message } });
    const answer = async (path: string, key: string) => {
      const r = await get(path, key);
      return { status: r.status, body: JSON.parse(r.text) };
    };
    // another workspace's campaign and link: as missing
    expect(await answer(`/api/v1/campaigns/${campaignOfLink}/links/${link.id}/urls.csv`, stranger.key)).toEqual(
      notFound('Campaign not found'),
    );
    // the stranger's own campaign with someone else's link
    const { id: strangerCampaign } = await t.app.services.campaigns.create(stranger.workspaceId, {
      name: 's',
      contacts: phones(1),
    });
    expect(await answer(`/api/v1/campaigns/${strangerCampaign}/links/${link.id}/urls.csv`, stranger.key)).toEqual(
      notFound('Link not found'),
    );
    // a link of another campaign of the same workspace
    expect(await answer(`/api/v1/campaigns/${id}/links/${link.id}/urls.csv`, t.key)).toEqual(
      notFound('Link not found'),
    );
    expect(await answer(`/api/v1/campaigns/${id}/links/nope/urls.csv`, t.key)).toEqual({
      status: 400,
      body: { error: 'bad_request', message: 'Invalid link_id' },
    });
    expect((await get(`/api/v1/campaigns/${id}/links/${link.id}/urls.csv`, null)).status).toBe(401);
  });

  it('an address that floods unknown tokens is refused before any lookup; genuine clicks spend nothing', async () => {
    const limited = await startTestApp({ rateLimitRps: 1, rateLimitBurst: 2 });
    try {
      const contacts = phones(3);
      const { id } = await limited.app.services.campaigns.create(limited.workspaceId, { name: 'flood', contacts });
      const made = await gql(limited.url, limited.key, CREATE, { campaignId: id, url: TARGET });
      const linkId = made.body.data.createTrackedLink.id;
      await new Promise((r) => setTimeout(r, 1100)); // a fresh key window
      const csv = await fetch(`${limited.url}/api/v1/campaigns/${id}/links/${linkId}/urls.csv`, {
        headers: { authorization: `Bearer ${limited.key}` },
      });
      const urls = (await csv.text())
        .split('\r\n')
        .slice(1, -1)
        .map((l) => l.split(',')[1]!);
      // genuine clicks, more than the budget: none refused
      for (const url of [...urls, ...urls]) expect((await visit(url)).status).toBe(302);
      const forged = `${limited.url}/r/${'B'.repeat(48)}`;
      expect((await visit(forged)).status).toBe(404);
      expect((await visit(forged)).status).toBe(404);
      const refused = await visit(forged);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(refused.headers.get('location')).toBeNull();
    } finally {
      await limited.stop();
    }
  });

  it('when the database is down the redirect still happens and the lost click is counted', async () => {
    const proxy = await startTcpProxy(t.databaseUrl);
    const edge = await startTestApp({}, { ...t, databaseUrl: proxy.url });
    try {
      const { id, contacts, urls } = await setUp(2);
      const on = (url: string) => url.replace(t.url, edge.url);
      expect((await visit(on(urls.get(contacts[0]!)!))).status).toBe(302); // the edge now knows the link
      expect(await stats(id)).toMatchObject({ clickedCount: 1 });
      proxy.cut();
      const during = await visit(on(urls.get(contacts[1]!)!));
      expect([during.status, during.headers.get('location')]).toEqual([302, TARGET]);
      proxy.restore();
      const metrics = await (await fetch(`${edge.url}/metrics`)).text();
      expect(metrics).toMatch(/^csg_tracked_clicks_lost_total 1$/m);
      expect(metrics).toMatch(/^csg_tracked_clicks_total\{outcome="lost"\} 1$/m);
      expect(await stats(id)).toMatchObject({ clickedCount: 1 });
    } finally {
      proxy.restore();
      await edge.stop();
      await proxy.stop();
    }
  });
});
