import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildGatewaySchema, printableSchema } from '../../src/graphql/schema';

describe('schema.graphql', () => {
  it('is what the type-graphql classes emit (run `npm run schema:emit` when this fails)', async () => {
    const committed = readFileSync(join(__dirname, '..', '..', 'schema.graphql'), 'utf8');
    const schema = await buildGatewaySchema({ campaigns: null as never, whatsAppNumbers: null as never });
    expect(await printableSchema(schema)).toBe(committed);
  });

  it('holds the names and types of docs/graphql.md', () => {
    const sdl = readFileSync(join(__dirname, '..', '..', 'schema.graphql'), 'utf8');
    for (const line of [
      'campaignStats(campaignId: ID!): CampaignStats!',
      'campaign(id: ID!): Campaign',
      'campaigns(after: String, first: Int = 20, status: CampaignStatus): CampaignConnection!',
      'createCampaign(input: CreateCampaignInput!): Campaign!',
      'addCampaignContacts(campaignId: ID!, contacts: [String!]!): Campaign!',
      'scheduleCampaign(at: DateTime!, id: ID!): Campaign!',
      'failCampaign(id: ID!, reason: String): Campaign!',
      'failureReasons: [FailureReason!]!',
      'pendingCount: Int!',
      'updatedAt: DateTime!',
      'scalar DateTime',
    ]) {
      expect(sdl).toContain(line);
    }
    expect(sdl).toMatch(/enum CampaignStatus \{\s+CANCELLED\s+COMPLETED\s+DRAFT\s+FAILED\s+RUNNING\s+SCHEDULED\s+\}/);
  });
});
