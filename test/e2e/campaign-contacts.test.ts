import fc from 'fast-check';
import { phones } from '../factories/campaign.factory';
import { gql, postEvents } from '../support/http';
import type { Kind } from '../support/lattice-model';
import { KINDS, countsIn } from '../support/lattice-model';
import type { TestApp } from '../support/test-app';
import { startTestApp } from '../support/test-app';

// docs/graphql.md#campaigncontacts and docs/rest.md#campaign-contacts, held against the model of
// test/support/lattice-model.ts: each filter lists exactly the contacts counted in its field.

const FILTERS = ['ALL', 'SENT', 'DELIVERED', 'READ', 'CLICKED', 'REPLIED', 'FAILED', 'PENDING'] as const;
type Filter = (typeof FILTERS)[number];
const EVENT_TYPE: Record<Kind, string> = {
  SENT: 'message.sent',
  DELIVERED: 'message.delivered',
  READ: 'message.read',
  CLICKED: 'message.clicked',
  REPLIED: 'message.reply',
  FAILED: 'message.failed',
};

const CONTACTS_QUERY = `query($id: ID!, $filter: ContactFilter, $first: Int, $after: String) {
  campaignContacts(campaignId: $id, filter: $filter, first: $first, after: $after) {
    edges { cursor node { phone stage sentAt deliveredAt readAt clickedAt repliedAt failedAt failure { code title count } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** Whether a contact with these kinds is listed under the filter, from the model alone. */
function inFilter(kinds: ReadonlySet<Kind>, filter: Filter): boolean {
  if (filter === 'ALL') return true;
  const counts = countsIn(kinds);
  return counts[filter.toLowerCase() as Lowercase<Exclude<Filter, 'ALL'>>];
}

/** The furthest stage, from the model: failed first, then replied, clicked, read, delivered, sent. */
function stageOf(kinds: ReadonlySet<Kind>): string {
  const c = countsIn(kinds);
  if (c.failed) return 'FAILED';
  if (c.replied) return 'REPLIED';
  if (c.clicked) return 'CLICKED';
  if (c.read) return 'READ';
  if (c.delivered) return 'DELIVERED';
  if (c.sent) return 'SENT';
  return 'PENDING';
}

describe('campaign contacts (drill-down)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  async function rest(path: string, key: string | null = t.key) {
    const response = await fetch(`${t.url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : null, headers: response.headers };
  }

  async function allPagesGraphQL(id: string, filter: Filter, first: number) {
    const nodes: any[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = await gql(t.url, t.key, CONTACTS_QUERY, { id, filter, first, after });
      expect(page.body.errors).toBeUndefined();
      const { edges, pageInfo } = page.body.data.campaignContacts;
      nodes.push(...edges.map((e: any) => e.node));
      if (!pageInfo.hasNextPage) return nodes;
      after = pageInfo.endCursor;
    }
  }

  async function allPagesRest(id: string, filter: Filter, limit: number) {
    const contacts: any[] = [];
    let cursor: string | null = null;
    for (;;) {
      const q: string = `filter=${filter.toLowerCase()}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await rest(`/api/v1/campaigns/${id}/contacts?${q}`);
      expect(page.status).toBe(200);
      expect(page.json).toMatchObject({ status: 'success', campaign_id: id, filter: filter.toLowerCase() });
      contacts.push(...page.json.contacts);
      if (page.json.next_cursor === null) return contacts;
      cursor = page.json.next_cursor;
    }
  }

  it('every filter lists exactly the contacts the model counts in its field, on both transports', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.subarray([...KINDS]), { minLength: 1, maxLength: 24 }),
        fc.integer({ min: 1, max: 7 }),
        async (assignments, pageSize) => {
          const contacts = phones(assignments.length);
          const { id } = await t.app.services.campaigns.create(t.workspaceId, { name: 'drill', contacts });
          const base = Date.parse('2026-06-15T10:00:00Z');
          const events = assignments.flatMap((kinds, i) =>
            kinds.map((kind, k) => ({
              type: EVENT_TYPE[kind],
              campaign_id: id,
              contact: contacts[i],
              timestamp: new Date(base + (i * 10 + k) * 60_000).toISOString(),
              ...(kind === 'FAILED' ? { error: { code: 131000 + i, title: `title, "${i}"` } } : {}),
            })),
          );
          if (events.length > 0) expect((await postEvents(t.url, t.key, { events })).status).toBe(200);
          const model = new Map(contacts.map((phone, i) => [phone, new Set(assignments[i])]));
          const stats = await t.app.services.campaigns.stats(t.workspaceId, id);
          for (const filter of FILTERS) {
            const expected = contacts.filter((phone) => inFilter(model.get(phone)!, filter)).sort();
            const listed = await allPagesGraphQL(id, filter, pageSize);
            expect(listed.map((n) => n.phone)).toEqual(expected);
            for (const node of listed) expect(node.stage).toBe(stageOf(model.get(node.phone)!));
            const viaRest = await allPagesRest(id, filter, pageSize);
            expect(viaRest.map((c) => c.phone)).toEqual(expected);
            expect(viaRest.map((c) => c.stage)).toEqual(listed.map((n) => n.stage.toLowerCase()));
            // the size of each filter is its count
            const count: Record<Filter, number> = {
              ALL: stats.totalContacts,
              SENT: stats.sentCount,
              DELIVERED: stats.deliveredCount,
              READ: stats.readCount,
              CLICKED: stats.clickedCount,
              REPLIED: stats.repliedCount,
              FAILED: stats.failedCount,
              PENDING: stats.pendingCount,
            };
            expect(listed.length).toBe(count[filter]);
          }
        },
      ),
      { numRuns: 12 },
    );
  });

  it('shows first times by what proves them, and the failure while the contact counts as failed', async () => {
    const [a, b, c] = phones(3);
    const { id } = await t.app.services.campaigns.create(t.workspaceId, { name: 'times', contacts: [a!, b!, c!] });
    await postEvents(t.url, t.key, {
      events: [
        { type: 'message.read', campaign_id: id, contact: a, timestamp: '2026-06-15T10:05:00Z' },
        { type: 'message.sent', campaign_id: id, contact: a, timestamp: '2026-06-15T10:06:00Z' },
        {
          type: 'message.failed',
          campaign_id: id,
          contact: b,
          timestamp: '2026-06-15T10:07:00Z',
          error: { code: 131026, title: '=HYPERLINK("x")' },
        },
      ],
    });
    const all = await rest(`/api/v1/campaigns/${id}/contacts`);
    expect(all.status).toBe(200);
    expect(all.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(all.json).toEqual({
      status: 'success',
      campaign_id: id,
      filter: 'all',
      contacts: [
        {
          phone: a,
          stage: 'read',
          sent_at: '2026-06-15T10:05:00Z',
          delivered_at: '2026-06-15T10:05:00Z',
          read_at: '2026-06-15T10:05:00Z',
          clicked_at: null,
          replied_at: null,
          failed_at: null,
          failure_code: null,
          failure_title: null,
        },
        {
          phone: b,
          stage: 'failed',
          sent_at: null,
          delivered_at: null,
          read_at: null,
          clicked_at: null,
          replied_at: null,
          failed_at: '2026-06-15T10:07:00Z',
          failure_code: 131026,
          failure_title: '=HYPERLINK("x")',
        },
        {
          phone: c,
          stage: 'pending',
          sent_at: null,
          delivered_at: null,
          read_at: null,
          clicked_at: null,
          replied_at: null,
          failed_at: null,
          failure_code: null,
          failure_title: null,
        },
      ],
      next_cursor: null,
    });
    const failed = await gql(t.url, t.key, CONTACTS_QUERY, { id, filter: 'FAILED' });
    expect(failed.body.data.campaignContacts.edges[0].node.failure).toEqual({
      code: 131026,
      title: '=HYPERLINK("x")',
      count: 1,
    });
    // A delivery after the failure: the contact no longer counts as failed, and shows no failure.
    await postEvents(t.url, t.key, { type: 'message.delivered', campaign_id: id, contact: b });
    const after = await rest(`/api/v1/campaigns/${id}/contacts?filter=failed`);
    expect(after.json.contacts).toEqual([]);
  });

  it('pages stay stable while events keep arriving: no contact repeated or skipped', async () => {
    const contacts = phones(30);
    const { id } = await t.app.services.campaigns.create(t.workspaceId, { name: 'stable', contacts });
    const seen: string[] = [];
    let after: string | null = null;
    let i = 0;
    for (;;) {
      const page: any = await gql(t.url, t.key, CONTACTS_QUERY, { id, filter: 'ALL', first: 4, after });
      seen.push(...page.body.data.campaignContacts.edges.map((e: any) => e.node.phone));
      // events for contacts before and after the cursor between pages
      await postEvents(t.url, t.key, {
        events: [contacts[(i * 7) % 30], contacts[(i * 11 + 3) % 30]].map((contact) => ({
          type: 'message.read',
          campaign_id: id,
          contact,
        })),
      });
      i++;
      if (!page.body.data.campaignContacts.pageInfo.hasNextPage) break;
      after = page.body.data.campaignContacts.pageInfo.endCursor;
    }
    expect(seen).toEqual([...contacts].sort());
  });

  it('answers bad input with 400 / BAD_USER_INPUT and another workspace as missing', async () => {
    const contacts = phones(3);
    const { id } = await t.app.services.campaigns.create(t.workspaceId, { name: 'edges', contacts });
    const other = await t.newKey('contacts-other-workspace');
    const missing = 'ffffffffffffffffffffffff';
    const base = `/api/v1/campaigns/${id}/contacts`;
    const notFound = { error: 'not_found', message: 'Campaign not found' };
    expect(await rest(base, other.key)).toMatchObject({ status: 404, json: notFound });
    expect(await rest(`/api/v1/campaigns/${missing}/contacts`)).toMatchObject({ status: 404, json: notFound });
    expect(await rest(`/api/v1/campaigns/XYZ/contacts`)).toMatchObject({
      status: 400,
      json: { error: 'bad_request', message: 'Invalid campaign_id' },
    });
    expect((await rest(base, null)).status).toBe(401);
    for (const [query, message] of [
      ['filter=READ', 'Invalid filter'],
      ['filter=', 'Invalid filter'],
      ['filter=touched', 'Invalid filter'],
      ['limit=501', 'first must be between 0 and 500'],
      ['limit=-1', 'Invalid limit'],
      ['limit=1e3', 'Invalid limit'],
      ['limit=99999999999999999999', 'Invalid limit'],
      ['cursor=%00', 'Invalid cursor'],
      ['cursor=abc', 'Invalid cursor'],
      [`cursor=${Buffer.from('p1:+1234567890\u0000').toString('base64url')}`, 'Invalid cursor'],
      [`cursor=${Buffer.from('p1:x').toString('base64url')}`, 'Invalid cursor'],
      [`cursor=${'A'.repeat(65)}`, 'Invalid cursor'],
    ]) {
      expect({ query, ...(await rest(`${base}?${query}`)) }).toMatchObject({
        query,
        status: 400,
        json: { error: 'bad_request', message },
      });
    }
    const code = async (variables: Record<string, unknown>, key = t.key) =>
      (await gql(t.url, key, CONTACTS_QUERY, { id, ...variables })).body.errors?.[0]?.extensions?.code;
    expect(await code({ first: 501 })).toBe('BAD_USER_INPUT');
    expect(await code({ first: -1 })).toBe('BAD_USER_INPUT');
    expect(await code({ after: 'forged' })).toBe('BAD_USER_INPUT');
    expect(await code({ id: 'nope' })).toBe('BAD_USER_INPUT');
    expect(await code({ id: missing })).toBe('NOT_FOUND');
    expect(await code({}, other.key)).toBe('NOT_FOUND');
    // defaults: filter ALL, first 50; null arguments take them too
    const defaults = await gql(t.url, t.key, CONTACTS_QUERY, { id, filter: null, first: null });
    expect(defaults.body.data.campaignContacts.edges).toHaveLength(3);
    const big = phones(120);
    const { id: bigId } = await t.app.services.campaigns.create(t.workspaceId, { name: 'big', contacts: big });
    const firstPage = await gql(t.url, t.key, CONTACTS_QUERY, { id: bigId });
    expect(firstPage.body.data.campaignContacts.edges).toHaveLength(50);
    expect((await rest(`/api/v1/campaigns/${bigId}/contacts`)).json.contacts).toHaveLength(50);
    expect((await rest(`/api/v1/campaigns/${bigId}/contacts?limit=500`)).json).toMatchObject({ next_cursor: null });
    expect((await rest(`/api/v1/campaigns/${bigId}/contacts?limit=0`)).json.contacts).toEqual([]);
  });
});
