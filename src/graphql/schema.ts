import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { lexicographicSortSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import type { CampaignsService } from '../campaigns/campaigns.service';
import type { CampaignContactsService } from '../campaigns/campaign-contacts.service';
import { CampaignContactsResolver } from './campaign-contacts.resolver';
import type { TrackedLinksService } from '../campaigns/tracked-links.service';
import { TrackedLinksResolver } from './tracked-links.resolver';
import type { WhatsAppNumbersService } from '../auth/whatsapp-numbers.service';
import { CampaignResolver, CampaignStatsResolver } from './campaign.resolver';
import { CampaignStatsSubscriptionResolver } from './campaign-stats.subscription';
import { WhatsAppNumberResolver } from './whatsapp-number.resolver';

export interface SchemaServices {
  campaigns: CampaignsService;
  /** the drill-down; absent where the schema is only printed */
  contacts?: CampaignContactsService;
  /** tracked links; absent where the schema is only printed */
  links?: TrackedLinksService;
  whatsAppNumbers: WhatsAppNumbersService;
}

/** Builds the executable schema once per app, with resolvers bound to this app's services. */
export async function buildGatewaySchema(services: SchemaServices): Promise<GraphQLSchema> {
  const instances = new Map<unknown, unknown>([
    [CampaignResolver, new CampaignResolver(services.campaigns)],
    [CampaignStatsResolver, new CampaignStatsResolver()],
    [CampaignStatsSubscriptionResolver, new CampaignStatsSubscriptionResolver()],
    [CampaignContactsResolver, new CampaignContactsResolver(services.contacts as CampaignContactsService)],
    [TrackedLinksResolver, new TrackedLinksResolver(services.links as TrackedLinksService)],
    [WhatsAppNumberResolver, new WhatsAppNumberResolver(services.whatsAppNumbers)],
  ]);
  return buildSchema({
    resolvers: [
      CampaignResolver,
      CampaignStatsResolver,
      CampaignStatsSubscriptionResolver,
      CampaignContactsResolver,
      TrackedLinksResolver,
      WhatsAppNumberResolver,
    ],
    container: { get: (someClass) => instances.get(someClass) },
    validate: false,
    // type-graphql insists on a pubSub once there is a @Subscription, but ours brings its own
    // `subscribe` (the multiplexing hub in src/live); topics are never used.
    pubSub: {
      publish: () => {},
      subscribe: () => {
        throw new Error('topic subscriptions are not used: see CampaignStatsHub');
      },
    },
  });
}

/** The SDL committed as schema.graphql: sorted, so the file changes only when the schema does. */
export async function printableSchema(schema: GraphQLSchema): Promise<string> {
  const { printSchema } = await import('graphql');
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
