import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import swagger from '@fastify/swagger';
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Fastify, { LogController } from 'fastify';
import type { Principal } from '../auth/api-keys.service';
import type { Gate } from '../auth/gate';
import { DomainError, badInput } from '../domain/errors';
import type { ClassifiedError } from '../graphql/errors';
import { classifyError, logClassified } from '../graphql/errors';
import type { Logger } from '../logger';
import { SHARED_SCHEMAS } from './schemas';

/** How a route admits its caller: by API key spending the key's budget, by key alone, or openly. */
export type RouteAuth = 'key' | 'key-no-spend' | 'none';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** @default 'none' */
    auth?: RouteAuth;
    /** answer errors in GraphQL's shape (`{ errors: [...] }`) instead of REST's */
    graphql?: boolean;
  }
  interface FastifyRequest {
    /** set by the auth hook on routes with `config.auth` */
    principal: Principal | null;
  }
}

export interface HttpServerOptions {
  gate: Gate;
  logger: Logger;
  /** the public base URL, for the OpenAPI document's `servers` */
  publicUrl: string;
  /** connections held at once; more are refused by the kernel's backlog @default 10000 */
  maxConnections: number;
  /** largest body of a route that sets none @default 1 MiB */
  bodyLimit?: number;
  /** slow-client limits; the defaults suit production (tests shorten them) */
  timeouts?: Partial<EdgeTimeouts>;
  /** trusts X-Forwarded-For from these proxies (see client-address.ts) */
  trustProxy?: (address: string, hop: number) => boolean;
}

export interface EdgeTimeouts {
  /** the request's headers must arrive within this @default 10000 */
  headersMs: number;
  /** the whole request within this, or 408 @default 30000 */
  requestMs: number;
  /** an idle keep-alive connection is closed after this @default 5000 */
  keepAliveMs: number;
}

/** Headers within this, or the connection is cut. @default 10 s */
export const HEADERS_TIMEOUT_MS = 10_000;
/** The whole request within this, or 408. @default 30 s */
export const REQUEST_TIMEOUT_MS = 30_000;
/** An idle keep-alive connection is closed after this. @default 5 s */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;

/**
 * The HTTP edge: one Fastify server for every transport (routes are added by their own modules,
 * graphql-ws attaches to `server.server`). Limits and timeouts are Fastify's options; one auth
 * hook, one error handler and one error table answer for every route; `/openapi.json` is made by
 * @fastify/swagger from the routes' own schemas.
 */
export async function createHttpServer(options: HttpServerOptions): Promise<FastifyInstance> {
  const timeouts: EdgeTimeouts = {
    headersMs: HEADERS_TIMEOUT_MS,
    requestMs: REQUEST_TIMEOUT_MS,
    keepAliveMs: KEEP_ALIVE_TIMEOUT_MS,
    ...options.timeouts,
  };
  const loggerInstance: FastifyBaseLogger = options.logger.pino;
  const app = Fastify({
    loggerInstance,
    // One debug line per request (onResponse below) instead of Fastify's two info lines.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    },
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    return503OnClosing: true,
    ...(options.trustProxy ? { trustProxy: options.trustProxy } : {}),
    // Node checks its header and request timeouts this often: often enough that 10 s means 10 s.
    http: { connectionsCheckingInterval: Math.min(1000, timeouts.headersMs) },
    clientErrorHandler: answerClientError,
    // A URL that does not decode is the client's: the table's 400, not Fastify's own body.
    frameworkErrors: (_error, request, reply) => {
      void sendError(request, reply, classifyError(badInput('Invalid URL')), options.logger);
    },
    exposeHeadRoutes: true,
    routerOptions: { ignoreTrailingSlash: false, ignoreDuplicateSlashes: false, caseSensitive: true },
    // Bodies reach the handlers as sent: no coercion, no defaults, no removed fields.
    ajv: { customOptions: { coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: false } },
  });
  app.server.headersTimeout = Math.min(timeouts.headersMs, timeouts.requestMs);
  app.server.maxConnections = options.maxConnections;
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  // What every route can answer, written into its schema before the document reads it: Node cuts
  // a request that is not complete in time with a bare 408; a route without a key says so.
  app.addHook('onRoute', (route) => {
    const schema = (route.schema ??= {}) as { response?: Record<number, unknown>; security?: unknown[] };
    schema.response = {
      ...schema.response,
      408: { description: `The request was not complete within ${timeouts.requestMs / 1000} s`, $ref: 'Error#' },
    };
    schema.security ??= [];
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Campaign Stats Gateway',
        version: '1.1.0',
        description:
          'Per-contact delivery stats of WhatsApp campaigns: the REST compatibility path, the dispatcher events endpoint, the WhatsApp Cloud API webhook, GraphQL over HTTP, and operations. GraphQL types are described by schema.graphql; subscriptions use graphql-ws on /graphql. See docs/ in the repository.',
        license: { name: 'UNLICENSED', identifier: 'UNLICENSED' },
      },
      servers: [{ url: options.publicUrl, description: 'this gateway' }],
      tags: [
        { name: 'REST', description: 'The reference-shaped stats path' },
        { name: 'Ingestion', description: 'Events from the dispatcher and WhatsApp' },
        { name: 'GraphQL', description: 'GraphQL over HTTP (subscriptions: graphql-ws on the same path)' },
        { name: 'Operations', description: 'Health, readiness, metrics, this document and the dashboard' },
      ],
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key, `wapl_…`' },
          webhookSignature: {
            type: 'apiKey',
            in: 'header',
            name: 'X-Hub-Signature-256',
            description: '`sha256=` + hex HMAC-SHA256 of the raw body with the WhatsApp app secret',
          },
        },
      },
    },
    exposeHeadRoutes: true,
    refResolver: {
      buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
  });

  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    // `*` (the OPTIONS-only asterisk form) names no resource here.
    if (request.raw.url === '*') throw new DomainError('NOT_FOUND', 'No route for *');
    const auth = request.routeOptions.config.auth ?? 'none';
    if (auth === 'none') return;
    request.principal = await options.gate.admit(request.headers.authorization, request.ip, auth === 'key');
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug(
      { method: request.method, url: request.routeOptions.url, status: reply.statusCode, ms: reply.elapsedTime },
      'http.request',
    );
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    // A client that went away mid-request is no fault of ours, nor of the database's.
    // (The request stream itself is destroyed once its body is read: only the socket tells.)
    if (request.raw.socket?.destroyed !== false) {
      options.logger.debug('http.client_aborted', { reqId: request.id, url: request.routeOptions.url });
      return reply;
    }
    return sendError(request, reply, classifyError(error), options.logger);
  });
  const allowed = allowedMethods(app);
  app.setNotFoundHandler((request, reply) => {
    const allow = allowed(request.url);
    const error = allow
      ? new DomainError('METHOD_NOT_ALLOWED', `Use ${allow}`)
      : new DomainError('NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}`);
    if (allow) void reply.header('allow', allow);
    sendError(request, reply, classifyError(error), options.logger);
  });
  return app;
}

/**
 * What Node reports before a request reaches Fastify (a request not complete in time, headers
 * too large, bytes that are not HTTP), answered in the error table's shape on the raw socket.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed || !socket.writable) return;
  const [status, code, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request_timeout', `The request was not complete within the time allowed`]
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'bad_request', 'Request headers are too large']
        : [400, 'bad_request', 'Not a valid HTTP request'];
  const body = JSON.stringify({ error: code, message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/**
 * Answers an error with the table's status and body: `{ error, message, details? }` on REST,
 * `{ errors: [{ message, extensions: { code } }] }` on GraphQL routes; `Retry-After` where it
 * applies, `WWW-Authenticate: Bearer` on every 401.
 */
export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  classified: ClassifiedError,
  logger: Logger,
): FastifyReply {
  logClassified(logger, 'http.error', classified, { reqId: request.id, url: request.routeOptions.url });
  if (reply.sent || reply.raw.headersSent) {
    reply.raw.destroy();
    return reply;
  }
  if (classified.retryAfter !== undefined) void reply.header('retry-after', String(classified.retryAfter));
  if (classified.status === 401) void reply.header('www-authenticate', 'Bearer');
  void reply.code(classified.status).type('application/json; charset=utf-8');
  if (request.routeOptions.config?.graphql) {
    return reply.send(
      JSON.stringify({ errors: [{ message: classified.message, extensions: { code: classified.graphqlCode } }] }),
    );
  }
  return reply.send(
    JSON.stringify({
      error: classified.rest,
      message: classified.message,
      ...(classified.details ? { details: classified.details } : {}),
    }),
  );
}

/**
 * For a URL no route answers: the methods its path does answer (for 405 and `Allow`), or null.
 * Built from the routes as they are registered, so it cannot disagree with the router.
 */
function allowedMethods(app: FastifyInstance): (url: string) => string | null {
  const routes: { pattern: RegExp; methods: Set<string> }[] = [];
  app.addHook('onRoute', (route) => {
    if (route.url === '*' || route.url.includes('*')) return;
    const source = route.url
      .split('/')
      .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    const pattern = new RegExp(`^${source}$`);
    let entry = routes.find((r) => r.pattern.source === pattern.source);
    if (!entry) routes.push((entry = { pattern, methods: new Set() }));
    for (const method of [route.method].flat()) if (method !== 'HEAD') entry.methods.add(method);
  });
  return (url) => {
    let path = url.split('?')[0] ?? '';
    if (/^https?:\/\//i.test(url)) {
      try {
        path = new URL(url).pathname; // an absolute-form target names its path after the authority
      } catch {
        return null;
      }
    }
    const entry = routes.find((r) => r.pattern.test(path));
    return entry ? [...entry.methods].sort().join(', ') : null;
  };
}
