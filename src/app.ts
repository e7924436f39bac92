import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import type { DataSource } from 'typeorm';
import { ApiKeysService } from './auth/api-keys.service';
import { WhatsAppNumbersService } from './auth/whatsapp-numbers.service';
import { Gate } from './auth/gate';
import { RateLimits } from './auth/rate-limits';
import { CampaignsService } from './campaigns/campaigns.service';
import type { Config } from './config';
import type { GraphQLContext } from './graphql/context';
import { MAX_TOKENS, graphQLArmor } from './graphql/armor';
import { formatGraphQLError, httpStatusPlugin } from './graphql/errors';
import { httpOperationRulesPlugin } from './graphql/input-rule';
import { buildGatewaySchema } from './graphql/schema';
import { CampaignStatsRest } from './http/campaign-stats.rest';
import { registerDispatcherEvents } from './http/dispatcher-events.rest';
import type { LiveServerOptions } from './http/graphql-ws.server';
import { attachLiveServer } from './http/graphql-ws.server';
import { registerGraphQL } from './http/graphql.http';
import { createMetrics } from './http/metrics';
import { registerOperations } from './http/operations.routes';
import type { EdgeTimeouts } from './http/server';
import { createHttpServer } from './http/server';
import { registerWhatsAppWebhook } from './http/whatsapp.webhook';
import { DeliveryPipeline } from './ingest/delivery-pipeline';
import { DispatcherEventsService } from './ingest/dispatcher-events.service';
import { WhatsAppWebhookService } from './ingest/whatsapp-webhook.service';
import type { CampaignStatsHub } from './live/campaign-stats.hub';
import { createLiveStats } from './live/live-stats';
import type { StatsListener } from './live/postgres-stats-listener';
import type { Logger } from './logger';
import { CampaignStore } from './store/campaign.store';
import { DeliveryStore } from './store/delivery.store';
import { WorkspaceStore } from './store/workspace.store';
import { WhatsAppNumberStore } from './store/whatsapp-number.store';
import type { ChangeFeed } from './store/change-feed';
import { AfterCommitChangeFeed, PostgresChangeFeed } from './store/change-feed';

export type AppConfig = Pick<
  Config,
  | 'rateLimitRps'
  | 'rateLimitBurst'
  | 'nodeEnv'
  | 'host'
  | 'whatsappAppSecret'
  | 'whatsappVerifyToken'
  | 'parkedRetentionHours'
  | 'statsPushIntervalMs'
  | 'redisUrl'
> &
  Partial<Pick<Config, 'maxConnections' | 'publicUrl' | 'eventIdRetentionHours' | 'wsMaxSocketsPerKey'>> & {
    /** WebSocket limits; the defaults suit production */
    live?: LiveServerOptions;
    /** slow-client limits of the HTTP edge; the defaults suit production */
    timeouts?: Partial<EdgeTimeouts>;
  };

export interface App {
  /** Listens on `port` (0: any free port); resolves to the base URL. */
  start(port: number): Promise<string>;
  /** Stops taking requests, lets the ones under way finish, and releases everything but the database. */
  stop(): Promise<void>;
  readonly services: {
    campaigns: CampaignsService;
    keys: ApiKeysService;
    dispatcherEvents: DispatcherEventsService;
    whatsapp: WhatsAppWebhookService;
    pipeline: DeliveryPipeline;
    hub: CampaignStatsHub;
    listener: StatsListener;
    whatsAppNumbers: WhatsAppNumbersService;
  };
}

/** Builds the gateway over an open database. No side effects until `start`. */
export async function buildApp(config: AppConfig, db: DataSource, logger: Logger): Promise<App> {
  const campaignStore = new CampaignStore(db);
  const deliveryStore = new DeliveryStore();
  const keys = new ApiKeysService(new WorkspaceStore(db));
  // The live feed reads stats through the campaigns service, which announces through the feed:
  // every change goes to `changeFeed`, bound to the live feed as soon as it exists.
  let feed: ChangeFeed = new PostgresChangeFeed();
  const changeFeed: ChangeFeed = { announce: (tx, ids) => feed.announce(tx, ids) };
  const campaigns = new CampaignsService(campaignStore, changeFeed);
  const whatsAppNumbers = new WhatsAppNumbersService(db);
  const schema = await buildGatewaySchema({ campaigns, whatsAppNumbers });
  const live = createLiveStats(config, db, campaigns, logger);
  const { hub, listener } = live;
  feed = live.feed;
  const metrics = createMetrics({ db, hub });
  const pipeline = new DeliveryPipeline(db, deliveryStore, logger, changeFeed);
  const dispatcherEvents = new DispatcherEventsService(db, campaignStore, deliveryStore, pipeline, metrics.ingest);
  const numbers = new WhatsAppNumberStore(db);
  const whatsapp = new WhatsAppWebhookService(pipeline, numbers, logger, metrics.ingest);
  const production = config.nodeEnv === 'production';
  const gate = new Gate(keys, new RateLimits(config, logger));

  const http = await createHttpServer({
    gate,
    logger,
    publicUrl: config.publicUrl ?? 'http://127.0.0.1:4000',
    maxConnections: config.maxConnections ?? 10_000,
    ...(config.timeouts ? { timeouts: config.timeouts } : {}),
  });
  const armor = graphQLArmor();
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    validationRules: armor.validationRules,
    parseOptions: { maxTokens: MAX_TOKENS },
    allowBatchedHttpRequests: false,
    introspection: !production,
    includeStacktraceInErrorResponses: false,
    // An Authorization header already forces a CORS preflight: GET queries that carry one are served.
    csrfPrevention: { requestHeaders: ['authorization', 'x-apollo-operation-name', 'apollo-require-preflight'] },
    // main.ts owns the signals: it drains the app, then closes the database.
    stopOnTerminationSignals: false,
    formatError: formatGraphQLError(logger),
    plugins: [
      ...armor.plugins,
      httpStatusPlugin(),
      httpOperationRulesPlugin(),
      fastifyApolloDrainPlugin(http),
      ...(production ? [ApolloServerPluginLandingPageDisabled()] : []),
    ],
  });
  const liveServer = attachLiveServer(
    http.server,
    {
      schema,
      gate,
      introspection: !production,
      campaigns,
      hub,
      logger,
      validationRules: armor.validationRules,
    },
    { maxSocketsPerKey: config.wsMaxSocketsPerKey ?? 100, ...config.live },
  );
  const statsRest = new CampaignStatsRest(schema, campaigns);

  let started = false;
  let pruneTimer: NodeJS.Timeout | undefined;
  const prune = () => {
    const retention = {
      parkedRetentionHours: config.parkedRetentionHours,
      eventIdRetentionHours: config.eventIdRetentionHours ?? 168,
    };
    pipeline.pruneRetained(retention).catch((error: unknown) => {
      logger.warn('ingest.prune_failed', { error });
    });
  };
  return {
    services: { campaigns, keys, dispatcherEvents, whatsapp, pipeline, hub, listener, whatsAppNumbers },
    async start(port) {
      await listener.start();
      await apollo.start();
      started = true;
      statsRest.register(http);
      registerGraphQL(http, apollo, gate, campaigns, logger);
      await registerDispatcherEvents(http, dispatcherEvents, metrics.ingest);
      await registerWhatsAppWebhook(http, config, whatsapp, metrics);
      registerOperations(http, { db, metrics });
      prune();
      pruneTimer = setInterval(prune, 60 * 60 * 1000).unref();
      await http.listen({ port, host: config.host });
      const { port: bound } = http.server.address() as AddressInfo;
      const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
      return `http://${host}:${bound}`;
    },
    async stop() {
      clearInterval(pruneTimer);
      // Subscribers get `complete`, then their sockets close with 1001; then HTTP drains.
      hub.close();
      await new Promise((resolve) => setImmediate(resolve));
      await liveServer.dispose();
      await listener.stop();
      if (feed instanceof AfterCommitChangeFeed) feed.detach();
      if (started)
        await apollo.stop(); // its drain plugin closes Fastify
      else await http.close();
      await gate.limits.close();
      await pipeline.drain();
    },
  };
}
