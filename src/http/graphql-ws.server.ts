import type { Server } from 'node:http';
import type { DocumentNode, GraphQLSchema, ValidationRule } from 'graphql';
import { GraphQLError, NoSchemaIntrospectionCustomRule, parse, specifiedRules, validate } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type { WebSocket } from 'ws';
import { WebSocketServer } from 'ws';
import type { Principal } from '../auth/api-keys.service';
import type { Gate } from '../auth/gate';
import type { ClientAddress } from './client-address';
import type { CampaignsService } from '../campaigns/campaigns.service';
import { MAX_TOKENS } from '../graphql/armor';
import { createContext } from '../graphql/context';
import { classifyError, formatGraphQLError, logClassified } from '../graphql/errors';
import { unstorableInputError } from '../graphql/input-rule';
import type { CampaignStatsHub } from '../live/campaign-stats.hub';
import type { Logger } from '../logger';

export interface LiveServerOptions {
  /** largest WebSocket message accepted @default 65536 */
  maxPayload?: number;
  /** subscriptions one socket may hold at once @default 50 */
  maxSubscriptionsPerSocket?: number;
  /** ms a socket may stay open without `connection_init` @default 10000 */
  connectionInitWaitTimeout?: number;
  /** ms between keepalive pings @default 12000 */
  keepAliveMs?: number;
  /** ms between re-checks of every socket's key; revoked ones are closed with 4403 @default 5000 */
  revalidateEveryMs?: number;
  /** ms a socket may hold no subscription before it is closed (1000, "Idle") @default 300000 */
  idleTimeoutMs?: number;
  /** sockets one API key may hold open on this instance; the next is closed with 4429 at `connection_init` @default 100 */
  maxSocketsPerKey?: number;
}

// A type alias, not an interface: graphql-ws wants an index-signature-compatible record.
type SocketExtra = { principal?: Principal };

const SERVER_ONLY = new Set(['next', 'error', 'connection_ack']);

function isServerOnlyMessage(data: unknown): boolean {
  try {
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : typeof data === 'string' ? data : '';
    const message = JSON.parse(text) as unknown;
    const type = typeof message === 'object' && message !== null ? (message as { type?: unknown }).type : undefined;
    return typeof type === 'string' && SERVER_ONLY.has(type);
  } catch {
    return false; // not JSON: graphql-ws answers it with 4400 itself
  }
}

/** The error with the code Apollo gives the same mistake over HTTP. */
function withCode(error: GraphQLError, code: string): GraphQLError {
  // Field suggestions would map the schema for a stranger: hidden here as graphql-armor hides them over HTTP.
  const message = error.message.replace(/ Did you mean .*\?$/, ' [Suggestion hidden]');
  return new GraphQLError(message, {
    ...(error.nodes ? { nodes: error.nodes } : {}),
    ...(error.source ? { source: error.source } : {}),
    ...(error.positions ? { positions: error.positions } : {}),
    extensions: { ...error.extensions, code },
  });
}

/** The `Authorization` of a socket: the `connection_init` payload's (any letter case), else the upgrade request's header. */
function socketAuthorization(
  params: Record<string, unknown> | undefined,
  upgradeHeader: string | undefined,
): string | undefined {
  for (const [name, value] of Object.entries(params ?? {})) {
    if (name.toLowerCase() === 'authorization' && typeof value === 'string') return value;
  }
  return upgradeHeader;
}

/**
 * Backpressure for a socket over its key's budget: nothing more is read from it until the budget
 * refills (at most 5 s), so a flooding client's messages wait in its own TCP buffers instead of
 * costing the event loop a refusal each; the socket stays open and its messages are then read.
 */
function holdOff(socket: WebSocket, seconds: number): void {
  if (socket.isPaused) return;
  socket.pause();
  setTimeout(() => socket.resume(), Math.min(seconds, 5) * 1000).unref();
}

/**
 * Parsed and validated documents by query text. Dashboards send the same few subscriptions
 * thousands of times: one shared AST each, instead of one per subscription, keeps memory per
 * subscription small. Bounded; cleared when full.
 */
class DocumentCache {
  private readonly entries = new Map<string, { document: DocumentNode } | { errors: readonly GraphQLError[] }>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly rules: readonly ValidationRule[],
    private readonly max = 500,
  ) {}

  get(query: string): { document: DocumentNode } | { errors: readonly GraphQLError[] } {
    let entry = this.entries.get(query);
    if (!entry) {
      try {
        const document = parse(query, { maxTokens: MAX_TOKENS });
        const errors = validate(this.schema, document, [...specifiedRules, ...this.rules]);
        entry =
          errors.length > 0 ? { errors: errors.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED')) } : { document };
      } catch (error) {
        const cause = error instanceof GraphQLError ? error : new GraphQLError(String(error));
        entry = { errors: [withCode(cause, 'GRAPHQL_PARSE_FAILED')] };
      }
      if (this.entries.size >= this.max) this.entries.clear();
      this.entries.set(query, entry);
    }
    return entry;
  }
}

/**
 * graphql-ws on the HTTP server's `/graphql` path: the same schema and the same keys as HTTP.
 * The key comes in the `connection_init` payload (`{ "authorization": "Bearer wapl_…" }`); a
 * missing or wrong one closes the socket with 4403 before any subscription runs.
 */
export function attachLiveServer(
  httpServer: Server,
  deps: {
    schema: GraphQLSchema;
    gate: Gate;
    /** the client address of an upgrade request, as HTTP sees it (TRUST_PROXY) */
    clientAddress: ClientAddress;
    /** answer introspection (off in production, as over HTTP) */
    introspection: boolean;
    campaigns: CampaignsService;
    hub: CampaignStatsHub;
    logger: Logger;
    /** the same limits as HTTP GraphQL */
    validationRules: readonly ValidationRule[];
  },
  options: LiveServerOptions = {},
): { dispose(): Promise<void>; closeForRestart(): void; readonly sockets: number } {
  const maxSubscriptions = options.maxSubscriptionsPerSocket ?? 50;
  const wss = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: options.maxPayload ?? 65536 });
  // Per acknowledged socket: whose key it runs under (its hash only: the key itself is not kept).
  const principalOf = new Map<WebSocket, Principal>();
  const maxSocketsPerKey = options.maxSocketsPerKey ?? 100;
  // Acknowledged sockets per key hash, on this instance.
  const socketsOfKey = new Map<string, number>();
  // Per acknowledged socket: its live subscriptions (graphql-ws's own record) and when it last had none.
  const activity = new Map<WebSocket, { subscriptions: Record<string, unknown>; idleSince: number | null }>();
  const idleTimeoutMs = options.idleTimeoutMs ?? 300_000;
  const rules = deps.introspection ? deps.validationRules : [...deps.validationRules, NoSchemaIntrospectionCustomRule];
  const documents = new DocumentCache(deps.schema, rules);
  const format = formatGraphQLError(deps.logger);
  const formatAll = (errors: readonly GraphQLError[]) => errors.map((e) => format(e.toJSON(), e));

  // graphql-ws treats a server-only message (next, error, connection_ack) sent by a client as its
  // own internal error (1011 and a console.error). It is the client's error: 4400, like any other
  // invalid message, and graphql-ws never sees it.
  wss.on('connection', (socket: WebSocket) => {
    const emit = socket.emit.bind(socket);
    socket.emit = ((event: string | symbol, ...args: unknown[]) => {
      if (event === 'message' && isServerOnlyMessage(args[0])) {
        socket.close(CloseCode.BadRequest, 'Invalid message received');
        return false;
      }
      return emit(event, ...args);
    }) as typeof socket.emit;
  });

  const server = useServer<Record<string, unknown> | undefined, SocketExtra>(
    {
      schema: deps.schema,
      connectionInitWaitTimeout: options.connectionInitWaitTimeout ?? 10_000,
      onConnect: async (ctx) => {
        const socket = ctx.extra.socket;
        const header: string | undefined = ctx.extra.request.headers.authorization;
        const authorization = socketAuthorization(ctx.connectionParams, header);
        let principal: Principal;
        try {
          principal = await deps.gate.admit(authorization, deps.clientAddress(ctx.extra.request), false);
        } catch (error) {
          const classified = classifyError(error);
          if (classified.code === 'RATE_LIMITED') socket.close(CloseCode.TooManyInitialisationRequests, 'Rate limited');
          else if (classified.code !== 'UNAUTHENTICATED')
            socket.close(CloseCode.InternalServerError, classified.message);
          return false; // graphql-ws closes with 4403 Forbidden (unless closed above)
        }
        // Gone while its key was looked up: its 'close' has fired already, so it must not be counted.
        if (socket.readyState !== socket.OPEN) return false;
        // No await between this count and its increment: concurrent connects cannot both slip in.
        const held = socketsOfKey.get(principal.keyHash) ?? 0;
        if (held >= maxSocketsPerKey) {
          socket.close(CloseCode.TooManyInitialisationRequests, `At most ${maxSocketsPerKey} sockets per key`);
          return false;
        }
        socketsOfKey.set(principal.keyHash, held + 1);
        ctx.extra.principal = principal;
        principalOf.set(socket, principal);
        activity.set(socket, { subscriptions: ctx.subscriptions, idleSince: Date.now() });
        socket.once('close', () => {
          principalOf.delete(socket);
          activity.delete(socket);
          const left = (socketsOfKey.get(principal.keyHash) ?? 1) - 1;
          if (left > 0) socketsOfKey.set(principal.keyHash, left);
          else socketsOfKey.delete(principal.keyHash);
        });
        return true;
      },
      onSubscribe: async (ctx, _id, payload) => {
        // graphql-ws has already reserved this subscription's slot when onSubscribe runs.
        if (Object.keys(ctx.subscriptions).length > maxSubscriptions) {
          return [
            new GraphQLError(`At most ${maxSubscriptions} subscriptions per socket`, {
              extensions: { code: 'RATE_LIMITED' },
            }),
          ];
        }
        // Every operation spends the key's budget, and runs only while the key is live (cached 5 s).
        const principal = ctx.extra.principal!;
        // A failure here (the key's lookup or its budget, e.g. the database or Redis away) is the
        // operation's error, classified like any other: the socket stays open.
        try {
          if (!(await deps.gate.keys.isLive(principal))) {
            ctx.extra.socket.close(CloseCode.Forbidden, 'Forbidden');
            return [new GraphQLError('API key revoked', { extensions: { code: 'UNAUTHENTICATED' } })];
          }
          await deps.gate.spend(principal);
        } catch (error) {
          const classified = classifyError(error);
          logClassified(deps.logger, 'live.operation_refused', classified);
          if (classified.code === 'RATE_LIMITED') holdOff(ctx.extra.socket, classified.retryAfter ?? 1);
          return [new GraphQLError(classified.message, { extensions: { code: classified.graphqlCode } })];
        }
        const parsed = documents.get(payload.query);
        if ('errors' in parsed) return parsed.errors;
        const inputError = unstorableInputError(parsed.document, payload.variables);
        if (inputError) return [inputError];
        return {
          schema: deps.schema,
          document: parsed.document,
          variableValues: payload.variables,
          operationName: payload.operationName,
        };
      },
      context: (ctx) => createContext(ctx.extra.principal ?? null, deps.campaigns, deps.hub),
      onError: (_ctx, _id, _payload, errors) => formatAll(errors),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: formatAll(result.errors) } : undefined,
    },
    wss,
    options.keepAliveMs ?? 12_000,
  );

  // A revoked key must not keep a socket open: re-check every socket's key now and then; and a
  // socket that has held no subscription for the idle timeout is closed.
  const revalidate = setInterval(
    () => {
      const now = Date.now();
      for (const [socket, state] of activity) {
        if (Object.keys(state.subscriptions).length > 0) state.idleSince = null;
        else if (state.idleSince === null) state.idleSince = now;
        else if (now - state.idleSince >= idleTimeoutMs) socket.close(1000, 'Idle');
      }
      for (const [socket, principal] of principalOf) {
        deps.gate.keys.isLive(principal).then(
          (live) => {
            if (!live) socket.close(CloseCode.Forbidden, 'Forbidden');
          },
          (error: unknown) => deps.logger.warn('live.revalidate_failed', { error }),
        );
      }
    },
    Math.min(options.revalidateEveryMs ?? 5_000, idleTimeoutMs),
  ).unref();

  return {
    get sockets() {
      return wss.clients.size;
    },
    closeForRestart() {
      // 1012 Service Restart: graphql-ws clients (retryAttempts > 0) reconnect, through a load
      // balancer to another instance, and subscribe again; no `complete` is sent, so their
      // subscriptions stay theirs. (1001 and 1013 would be retried as well; 4xxx codes not all.)
      for (const socket of wss.clients) socket.close(1012, 'Service Restart');
    },
    async dispose() {
      clearInterval(revalidate);
      await server.dispose(); // closes every socket with 1001 Going Away
    },
  };
}
