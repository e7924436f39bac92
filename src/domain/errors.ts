/**
 * The error codes of the gateway, defined once with how every transport shows them
 * (docs/errors.md): GraphQL puts the code in `extensions.code`, HTTP picks the status, REST the
 * `error` name of its `{ "error", "message" }` body. Pure data: no transport is imported here.
 */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'REQUEST_TIMEOUT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNPROCESSABLE'
  | 'RATE_LIMITED'
  | 'INTERNAL_SERVER_ERROR'
  | 'SERVICE_UNAVAILABLE';

/** How loud an error is in the log: client mistakes are debug, only the server's own faults are error. */
export type ErrorLogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface ErrorRow {
  /** `extensions.code` on GraphQL */
  graphql: string;
  /** HTTP status on every HTTP transport (REST, GraphQL over HTTP, webhooks) */
  status: number;
  /** the REST body's `error` */
  rest: string;
  level: ErrorLogLevel;
}

/** The one error table. */
export const ERROR_TABLE: Readonly<Record<ErrorCode, ErrorRow>> = {
  BAD_USER_INPUT: { graphql: 'BAD_USER_INPUT', status: 400, rest: 'bad_request', level: 'debug' },
  UNAUTHENTICATED: { graphql: 'UNAUTHENTICATED', status: 401, rest: 'unauthorized', level: 'debug' },
  FORBIDDEN: { graphql: 'FORBIDDEN', status: 403, rest: 'forbidden', level: 'debug' },
  NOT_FOUND: { graphql: 'NOT_FOUND', status: 404, rest: 'not_found', level: 'debug' },
  METHOD_NOT_ALLOWED: { graphql: 'METHOD_NOT_ALLOWED', status: 405, rest: 'method_not_allowed', level: 'debug' },
  REQUEST_TIMEOUT: { graphql: 'REQUEST_TIMEOUT', status: 408, rest: 'request_timeout', level: 'debug' },
  PAYLOAD_TOO_LARGE: { graphql: 'PAYLOAD_TOO_LARGE', status: 413, rest: 'payload_too_large', level: 'debug' },
  UNPROCESSABLE: { graphql: 'UNPROCESSABLE', status: 422, rest: 'unprocessable_entity', level: 'debug' },
  RATE_LIMITED: { graphql: 'RATE_LIMITED', status: 429, rest: 'rate_limited', level: 'debug' },
  INTERNAL_SERVER_ERROR: { graphql: 'INTERNAL_SERVER_ERROR', status: 500, rest: 'internal_error', level: 'error' },
  SERVICE_UNAVAILABLE: { graphql: 'SERVICE_UNAVAILABLE', status: 503, rest: 'service_unavailable', level: 'warn' },
};

/** The masked message of every unexpected error: no stack, no SQL. */
export const MASKED_MESSAGE = 'Unexpected error.';

/** One problem with one item of a batch, by its index. */
export interface ItemProblem {
  index: number;
  reason: string;
}

/** A deliberate error whose message is safe to show to the client. Anything else is masked. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ItemProblem[],
    /** seconds, for RATE_LIMITED and SERVICE_UNAVAILABLE */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const badInput = (message: string, details?: ItemProblem[]): DomainError =>
  new DomainError('BAD_USER_INPUT', message, details);
export const notFound = (message: string, details?: ItemProblem[]): DomainError =>
  new DomainError('NOT_FOUND', message, details);
export const campaignNotFound = (): DomainError => notFound('Campaign not found');
export const unauthenticated = (message = 'Missing or invalid API key'): DomainError =>
  new DomainError('UNAUTHENTICATED', message);
export const rateLimited = (retryAfter: number): DomainError =>
  new DomainError('RATE_LIMITED', `Rate limit exceeded; retry in ${retryAfter} s`, undefined, retryAfter);
export const serviceUnavailable = (message = 'Database unavailable; retry later'): DomainError =>
  new DomainError('SERVICE_UNAVAILABLE', message, undefined, 1);
