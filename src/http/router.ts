import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import type { DataSource } from 'typeorm';
import type { ApiKeysService } from '../auth/api-keys.service';
import type { CampaignsService } from '../campaigns/campaigns.service';
import { DomainError } from '../domain/errors';
import type { GraphQLContext } from '../graphql/context';
import { createContext } from '../graphql/context';
import { HTTP_STATUS, toGraphQLError } from '../graphql/errors';
import type { DispatcherEventsService } from '../ingest/dispatcher-events.service';
import type { WhatsAppWebhookService } from '../ingest/whatsapp-webhook.service';
import type { Logger } from '../logger';
import type { CampaignStatsRest } from './campaign-stats.rest';
import { handleDispatcherEvents } from './dispatcher-events.rest';
import { handleGraphQL } from './graphql.http';
import { handleHealth, handleReady } from './health';
import { sendJson } from './http-io';
import type { Metrics } from './metrics';
import { handleOpenApi } from './openapi';
import { createDashboard } from './dashboard';
import type { RateLimiter } from './rate-limiter';
import { authenticateRequest } from './request-auth';
import { sendRestError } from './rest-errors';
import type { WhatsAppWebhookConfig } from './whatsapp.webhook';
import { handleWhatsAppVerification, handleWhatsAppWebhook } from './whatsapp.webhook';

export interface RouterDeps {
  db: DataSource;
  apollo: ApolloServer<GraphQLContext>;
  keys: ApiKeysService;
  limiter: RateLimiter | null;
  campaigns: CampaignsService;
  statsRest: CampaignStatsRest;
  dispatcherEvents: DispatcherEventsService;
  whatsapp: WhatsAppWebhookService;
  whatsappConfig: WhatsAppWebhookConfig;
  metrics: Metrics;
  logger: Logger;
}

const STATS_PATH = /^\/api\/v1\/campaigns\/([^/]*)\/stats\/?$/;

function methodNotAllowed(response: ServerResponse, allow: string): void {
  sendJson(response, 405, { error: 'method_not_allowed', message: `Use ${allow}` }, { allow });
}

/** Routes every HTTP request; each route parses, calls one service, and formats. */
export function createRequestHandler(deps: RouterDeps) {
  const { logger } = deps;
  const dashboard = createDashboard();

  const graphQLContext = (request: IncomingMessage) => async (): Promise<GraphQLContext> => {
    try {
      return createContext(await authenticateRequest(request, deps.keys, deps.limiter), deps.campaigns);
    } catch (error) {
      throw error instanceof DomainError ? toGraphQLError(error) : error;
    }
  };

  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://gateway');
    const path = url.pathname;
    const method = request.method ?? 'GET';
    try {
      if (path === '/graphql') {
        if (method !== 'GET' && method !== 'POST') return methodNotAllowed(response, 'GET, POST');
        return await handleGraphQL(request, response, deps.apollo, graphQLContext(request), url.search);
      }
      const stats = STATS_PATH.exec(path);
      if (stats) {
        if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(response, 'GET');
        const principal = await authenticateRequest(request, deps.keys, deps.limiter);
        let campaignId: string;
        try {
          campaignId = decodeURIComponent(stats[1]!);
        } catch {
          campaignId = stats[1]!;
        }
        return await deps.statsRest.handle(request, response, principal, campaignId);
      }
      if (path === '/api/v1/events') {
        if (method !== 'POST') return methodNotAllowed(response, 'POST');
        // Ingestion is bounded by body size, not by the read rate limit: a dispatcher may send thousands a second.
        const principal = await authenticateRequest(request, deps.keys, null);
        return await handleDispatcherEvents(request, response, principal, deps.dispatcherEvents);
      }
      if (path === '/webhooks/whatsapp') {
        if (method === 'GET') return handleWhatsAppVerification(response, url, deps.whatsappConfig);
        if (method !== 'POST') return methodNotAllowed(response, 'GET, POST');
        const done = deps.metrics.timeWebhook();
        response.once('finish', () => done(response.statusCode));
        return await handleWhatsAppWebhook(request, response, deps.whatsappConfig, deps.whatsapp);
      }
      if (path === '/metrics') return await deps.metrics.handle(request, response);
      if (path === '/openapi.json') return handleOpenApi(response);
      if (method === 'GET' && dashboard.has(path)) return dashboard.serve(path, response);
      if (path === '/healthz') return handleHealth(response);
      if (path === '/readyz') return await handleReady(response, deps.db);
      sendJson(response, 404, { error: 'not_found', message: `No route for ${method} ${path}` });
    } catch (error) {
      if (response.headersSent) {
        logger.error('http.error_after_headers', { error, path });
        response.destroy();
        return;
      }
      if (error instanceof DomainError && (path === '/api/v1/events' || path === '/webhooks/whatsapp')) {
        deps.metrics.ingest.refused(path === '/api/v1/events' ? 'dispatcher' : 'whatsapp', HTTP_STATUS[error.code]);
      }
      sendRestError(response, error, logger);
    }
  };
}
