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
import { CampaignContactsRest } from './http/campaign-contacts.rest';
import { CampaignContactsService } from './campaigns/campaign-contacts.service';
import { ContactsExportService } from './campaigns/contacts-export.service';
import { registerContactsCsv } from './http/campaign-contacts-csv.rest';
import { ContactsExportStore } from './store/contacts-export.store';
import { TrackedLinksService } from './campaigns/tracked-links.service';
import { registerTrackedLinks } from './http/tracked-links.routes';
import { TrackedLinksStore } from './store/tracked-links.store';
import { CampaignContactsStore } from './store/campaign-contacts.store';
import { registerDispatcherEvents } from './http/dispatcher-events.rest';
import type { LiveServerOptions } from './http/graphql-ws.server';
import { attachLiveServer } from './http/graphql-ws.server';
import { registerGraphQL } from './http/graphql.http';
import { createMetrics } from './http/metrics';
import { registerOperations } from './http/operations.routes';
import type { EdgeTimeouts } from './http/server';
import { createHttpServer } from './http/server';
import { clientAddressOf } from './http/client-address';
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
  Partial<
    Pick<
      Config,
      | 'maxConnections'
      | 'publicUrl'
      | 'trustProxy'
      | 'databaseListenUrl'
      | 'drainDelayMs'
      | 'eventIdRetentionHours'
      | 'wsMaxSocketsPerKey'
    >
  > & {
    /** WebSocket limits; the defaults suit production */
    live?: LiveServerOptions;
    /** slow-client limits of the HTTP edge; the defaults suit production */
    timeouts?: Partial<EdgeTimeouts>;
  };

export interface App {
  /** Listens on `port` (0: any free port); resolves to the base URL. */
  start(port: number): Promise<string>;
  /**
   * Drains, then releases everything but the database: `/readyz` answers 503 at once while every
   * request is still served for `drainDelayMs` (load balancers see it and route elsewhere); then
   * WebSocket sockets close with 1012 (clients reconnect elsewhere); then HTTP stops taking
   * requests and lets the ones under way finish.
   */
  stop(): Promise<void>;
  /** true once `stop` has begun */
  readonly draining: boolean;
  readonly services: {
    campaigns: CampaignsService;
    keys: ApiKeysService;
    dispatcherEvents: DispatcherEventsService;
    whatsapp: WhatsAppWebhookService;
    pipeline: DeliveryPipeline;
    hub: CampaignStatsHub;
    listener: StatsListener;
    whatsAppNumbers: WhatsAppNumbersService;
    trackedLinks: TrackedLinksService;
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
  const contacts = new CampaignContactsService(new CampaignContactsStore(db));
  const exportStore = new ContactsExportStore(db);
  const contactExports = new ContactsExportService(contacts, exportStore);
  // A click is a CLICKED fact through the one ingest pipeline (made below, before any request).
  let submitClick: (contact: { contactId: string; campaignId: string }, at: Date) => Promise<void> = () =>
    Promise.reject(new Error('not started'));
  const links = new TrackedLinksService(new TrackedLinksStore(db), contacts, contactExports, exportStore, (c, at) =>
    submitClick(c, at),
  );
  const schema = await buildGatewaySchema({ campaigns, contacts, links, whatsAppNumbers });
  const live = createLiveStats(config, db, campaigns, logger);
  const { hub, listener } = live;
  feed = live.feed;
  const metrics = createMetrics({ db, hub });
  const pipeline = new DeliveryPipeline(db, deliveryStore, logger, changeFeed);
  submitClick = (contact, at) =>
    pipeline.submit({ registrations: [], facts: [{ contact, fact: { evidence: 'CLICKED', at } }], whatsapp: [] });
  const dispatcherEvents = new DispatcherEventsService(db, campaignStore, deliveryStore, pipeline, metrics.ingest);
  const numbers = new WhatsAppNumberStore(db);
  const whatsapp = new WhatsAppWebhookService(pipeline, numbers, logger, metrics.ingest);
  const production = config.nodeEnv === 'production';
  const gate = new Gate(keys, new RateLimits(config, logger));

  const clientAddress = clientAddressOf(config.trustProxy ?? []);
  const http = await createHttpServer({
    ...(clientAddress.trust ? { trustProxy: clientAddress.trust } : {}),
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
    // Automatic persisted queries share one cache across workspaces: whether a hash is known would
    // tell one tenant what another sent (an id's existence included). Off: clients send the query.
    persistedQueries: false,
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
      clientAddress: clientAddress.of,
      introspection: !production,
      campaigns,
      hub,
      logger,
      validationRules: armor.validationRules,
    },
    { maxSocketsPerKey: config.wsMaxSocketsPerKey ?? 100, ...config.live },
  );
  const statsRest = new CampaignStatsRest(schema, campaigns);
  const contactsRest = new CampaignContactsRest(schema, campaigns);

  let started = false;
  let boundUrl = 'http://127.0.0.1:4000';
  let draining = false;
  let stopping: Promise<void> | null = null;
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
    services: {
      campaigns,
      keys,
      dispatcherEvents,
      whatsapp,
      pipeline,
      hub,
      listener,
      whatsAppNumbers,
      trackedLinks: links,
    },
    get draining() {
      return draining;
    },
    async start(port) {
      await listener.start();
      await apollo.start();
      started = true;
      statsRest.register(http);
      contactsRest.register(http);
      registerContactsCsv(http, contactExports);
      registerTrackedLinks(http, {
        links,
        metrics,
        logger,
        publicUrl: () => config.publicUrl ?? boundUrl,
        limits: gate.limits,
      });
      registerGraphQL(http, apollo, gate, campaigns);
      await registerDispatcherEvents(http, dispatcherEvents, metrics.ingest);
      await registerWhatsAppWebhook(http, config, whatsapp, metrics);
      registerOperations(http, { db, metrics, draining: () => draining });
      prune();
      pruneTimer = setInterval(prune, 60 * 60 * 1000).unref();
      await http.listen({ port, host: config.host });
      const { port: bound } = http.server.address() as AddressInfo;
      const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
      boundUrl = `http://${host}:${bound}`;
      return boundUrl;
    },
    stop() {
      // Once: a second signal while draining waits for the same stop.
      stopping ??= stopOnce();
      return stopping;
    },
  };

  async function stopOnce(): Promise<void> {
    draining = true;
    const delay = config.drainDelayMs ?? 0;
    if (started && delay > 0) {
      logger.info('gateway.draining', { drainDelayMs: delay });
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
    clearInterval(pruneTimer);
    // No `complete`: a client would drop its subscription. 1012 makes it reconnect and subscribe again.
    liveServer.closeForRestart();
    await liveServer.dispose();
    hub.close();
    await listener.stop();
    if (feed instanceof AfterCommitChangeFeed) feed.detach();
    if (started)
      await apollo.stop(); // its drain plugin closes Fastify
    else await http.close();
    await gate.limits.close();
    await pipeline.drain();
  }
}
