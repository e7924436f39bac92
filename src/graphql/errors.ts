import type { GraphQLFormattedError } from 'graphql';
import { GraphQLError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { DomainError } from '../domain/errors';
import type { ErrorCode } from '../domain/errors';
import type { Logger } from '../logger';

/** HTTP status of each domain error code, for REST and for GraphQL's `extensions.http`. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  UNPROCESSABLE: 422,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
};

/** The masked message of every unexpected error: no stack, no SQL. */
export const MASKED_MESSAGE = 'Unexpected error.';

// Codes graphql-js and Apollo give to errors that are the client's, with safe messages.
const CLIENT_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'UNAUTHENTICATED',
  'RATE_LIMITED',
  'NOT_FOUND',
]);

/** A domain error as a GraphQL error (used where an error must be thrown before execution). */
export function toGraphQLError(error: DomainError): GraphQLError {
  const headers = error.retryAfter !== undefined ? new Map([['retry-after', String(error.retryAfter)]]) : undefined;
  return new GraphQLError(error.message, {
    originalError: error,
    extensions: {
      code: error.code,
      ...(error.details ? { details: error.details } : {}),
      http: { status: HTTP_STATUS[error.code], ...(headers ? { headers } : {}) },
    },
  });
}

/**
 * Apollo's `formatError`: domain errors show their code and message; errors of the client's own
 * making pass through; anything else is logged and masked as INTERNAL_SERVER_ERROR.
 */
export function formatGraphQLError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof DomainError) {
      return {
        message: original.message,
        ...(formatted.locations ? { locations: formatted.locations } : {}),
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code: original.code, ...(original.details ? { details: original.details } : {}) },
      };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && CLIENT_CODES.has(code)) {
      const { http: _http, stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    logger.error('graphql.unexpected_error', { error: original });
    return {
      message: MASKED_MESSAGE,
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}
