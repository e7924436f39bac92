import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import { GraphQLError } from 'graphql';
import type { ErrorCode, ErrorRow, ItemProblem } from '../domain/errors';
import { DomainError, ERROR_TABLE, MASKED_MESSAGE } from '../domain/errors';
import type { Logger } from '../logger';
import { isDatabaseUnavailable } from '../store/database-errors';

export { MASKED_MESSAGE };

/** What every transport needs to know to answer an error, from {@link classifyError}. */
export interface ClassifiedError {
  /** the gateway's code; GraphQL's own client codes keep theirs in `graphqlCode` */
  code: ErrorCode;
  graphqlCode: string;
  status: number;
  /** REST body's `error` */
  rest: string;
  /** safe to show: the deliberate message, or the masked one */
  message: string;
  details?: ItemProblem[];
  /** seconds, for `Retry-After` */
  retryAfter?: number;
  level: ErrorRow['level'];
  /** the error as thrown, for the log */
  cause: unknown;
}

// graphql-js and Apollo codes of errors that are the client's own, with messages safe to show.
const GRAPHQL_CLIENT_CODES: Readonly<Record<string, number>> = {
  GRAPHQL_PARSE_FAILED: 400,
  GRAPHQL_VALIDATION_FAILED: 400,
  BAD_USER_INPUT: 400,
  BAD_REQUEST: 400,
  PERSISTED_QUERY_NOT_FOUND: 400,
  PERSISTED_QUERY_NOT_SUPPORTED: 400,
  OPERATION_RESOLUTION_FAILURE: 400,
};

// Fastify's own request errors by status: the client's, answered with our codes.
const HTTP_CLIENT_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'BAD_USER_INPUT',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'BAD_USER_INPUT',
};

const fromCode = (
  code: ErrorCode,
  message: string,
  cause: unknown,
  extra: Pick<ClassifiedError, 'details' | 'retryAfter'> = {},
): ClassifiedError => {
  const row = ERROR_TABLE[code];
  return {
    code,
    graphqlCode: row.graphql,
    status: row.status,
    rest: row.rest,
    message,
    level: row.level,
    cause,
    ...extra,
  };
};

/**
 * The one classification of errors, used by Apollo, the REST adapters, the webhooks and graphql-ws:
 * deliberate domain errors keep their code and message; GraphQL's and Fastify's client errors are
 * the client's (4xx, logged at debug); a database that cannot be reached is SERVICE_UNAVAILABLE;
 * anything else is INTERNAL_SERVER_ERROR with its message masked.
 */
export function classifyError(error: unknown): ClassifiedError {
  const original = error instanceof GraphQLError ? (unwrapResolverError(error) ?? error) : error;
  if (original instanceof DomainError) {
    return fromCode(original.code, original.message, original, {
      ...(original.details ? { details: original.details } : {}),
      ...(original.retryAfter !== undefined ? { retryAfter: original.retryAfter } : {}),
    });
  }
  if (isDatabaseUnavailable(original)) {
    return fromCode('SERVICE_UNAVAILABLE', 'Database unavailable; retry later', original, { retryAfter: 1 });
  }
  if (original instanceof GraphQLError) {
    const code = original.extensions?.code;
    if (typeof code === 'string' && code in GRAPHQL_CLIENT_CODES) {
      return {
        ...fromCode('BAD_USER_INPUT', original.message, original),
        graphqlCode: code,
        status: GRAPHQL_CLIENT_CODES[code]!,
      };
    }
    if (typeof code === 'string' && code in ERROR_TABLE && code !== 'INTERNAL_SERVER_ERROR') {
      return fromCode(code as ErrorCode, original.message, original);
    }
    if (code === undefined && original.originalError === undefined) {
      // A GraphQLError made without a code by graphql-js itself (a variable's coercion, a syntax
      // error on the socket transport): the client's input.
      return fromCode('BAD_USER_INPUT', original.message, original);
    }
  }
  const status = (original as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = HTTP_CLIENT_STATUS[status] ?? 'BAD_USER_INPUT';
    const message =
      code === 'PAYLOAD_TOO_LARGE'
        ? 'Request body is too large'
        : status === 415
          ? 'Unsupported content type'
          : original instanceof Error
            ? original.message
            : 'Bad request';
    return fromCode(code, message, original);
  }
  return fromCode('INTERNAL_SERVER_ERROR', MASKED_MESSAGE, original);
}

/** Logs a classified error at its table level (client mistakes at debug, the server's faults at error). */
export function logClassified(logger: Logger, event: string, classified: ClassifiedError, fields = {}): void {
  const entry = { code: classified.graphqlCode, ...fields };
  if (classified.level === 'error' || classified.level === 'warn') {
    logger[classified.level](event, { ...entry, error: classified.cause });
  } else {
    logger[classified.level](event, { ...entry, message: classified.message });
  }
}

/** Any error as the GraphQL error the table makes of it (for errors thrown before execution). */
export function toGraphQLError(error: unknown): GraphQLError {
  const classified = classifyError(error);
  const headers = new Map<string, string>();
  if (classified.retryAfter !== undefined) headers.set('retry-after', String(classified.retryAfter));
  if (classified.status === 401) headers.set('www-authenticate', 'Bearer');
  return new GraphQLError(classified.message, {
    ...(error instanceof Error ? { originalError: error } : {}),
    extensions: {
      code: classified.graphqlCode,
      ...(classified.details ? { details: classified.details } : {}),
      http: { status: classified.status, ...(headers.size > 0 ? { headers } : {}) },
    },
  });
}

/**
 * Formats a GraphQL error for the client from its classification: the code in `extensions.code`,
 * the deliberate message (or the masked one), and the path and locations of graphql-js.
 */
export function formatGraphQLError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const classified = classifyError(error);
    logClassified(logger, 'graphql.error', classified);
    const masked = classified.code === 'INTERNAL_SERVER_ERROR';
    return {
      message: classified.message,
      ...(formatted.locations && !masked ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: {
        code: classified.graphqlCode,
        ...(classified.details ? { details: classified.details } : {}),
      },
    };
  };
}

/**
 * The HTTP status of a GraphQL-over-HTTP response from its errors' classification: 503 (with
 * `Retry-After`) when an operation failed because the database is unavailable, as REST and the
 * webhooks do, instead of a 200 carrying the error; 400 for a persisted query the server does not
 * know (the client resends the whole query, as Apollo's persisted-query link does on that code).
 */
export function httpStatusPlugin(): ApolloServerPlugin {
  return {
    requestDidStart() {
      return Promise.resolve({
        willSendResponse({ response, errors }) {
          const codes = new Set(errors?.map((e) => classifyError(e).graphqlCode));
          if (codes.has('SERVICE_UNAVAILABLE')) {
            response.http.status = 503;
            response.http.headers.set('retry-after', '1');
          } else if (codes.has('PERSISTED_QUERY_NOT_FOUND') || codes.has('PERSISTED_QUERY_NOT_SUPPORTED')) {
            response.http.status = 400;
          }
          return Promise.resolve();
        },
      });
    },
  };
}
