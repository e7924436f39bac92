import { phones } from '../factories/campaign.factory';
import { gql, postEvents } from '../support/http';
import type { TestApp } from '../support/test-app';
import { startTestApp } from '../support/test-app';

const PAGE = `query($first: Int, $after: String) {
  campaigns(first: $first, after: $after) {
    edges { cursor node { id name status stats { sentCount failedCount failureReasons { code count } } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

describe('campaigns(first, after) over GraphQL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    for (let i = 0; i < 60; i++) {
      const contacts = phones(2);
      const { id } = await t.app.services.campaigns.create(t.workspaceId, { name: `c${i}`, contacts });
      await postEvents(t.url, t.key, {
        type: 'message.failed',
        campaign_id: id,
        contact: contacts[0],
        error: { code: 131026 + (i % 3), title: 'x' },
      });
    }
  });
  afterAll(() => t.stop());

  async function statementsFor(first: number): Promise<number> {
    await gql(t.url, t.key, PAGE, { first: 1 }); // the key lookup is cached from here on
    const spy = jest.spyOn(t.db, 'query');
    try {
      const page = await gql(t.url, t.key, PAGE, { first });
      expect(page.body.errors).toBeUndefined();
      expect(page.body.data.campaigns.edges).toHaveLength(first);
      return spy.mock.calls.length;
    } finally {
      spy.mockRestore();
    }
  }

  it('costs the same few SQL statements whatever `first` is, stats and failure reasons included', async () => {
    const five = await statementsFor(5);
    const fifty = await statementsFor(50);
    expect(fifty).toBe(five);
    expect(fifty).toBeLessThanOrEqual(2);
  });

  it('walks every campaign once, newest first, with per-campaign stats', async () => {
    const names: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: { body: { data?: any } } = await gql(t.url, t.key, PAGE, { first: 25, after });
      const connection: any = page.body.data.campaigns;
      for (const edge of connection.edges) {
        names.push(edge.node.name);
        expect(edge.node.stats).toMatchObject({ sentCount: 0, failedCount: 1 });
        expect(edge.node.stats.failureReasons).toHaveLength(1);
      }
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(names).toEqual(Array.from({ length: 60 }, (_, i) => `c${59 - i}`));
  });
});
