import type { ServerResponse } from 'node:http';
import type { ErrorCode } from '../domain/errors';
import { DomainError } from '../domain/errors';
import { HTTP_STATUS } from '../graphql/errors';
import type { Logger } from '../logger';
import { sendJson } from './http-io';

/** The REST `error` value of each domain code (docs/errors.md). */
export const REST_ERROR: Record<ErrorCode, string> = {
  BAD_USER_INPUT: 'bad_request',
  UNAUTHENTICATED: 'unauthorized',
  NOT_FOUND: 'not_found',
  PAYLOAD_TOO_LARGE: 'payload_too_large',
  UNPROCESSABLE: 'unprocessable_entity',
  RATE_LIMITED: 'rate_limited',
  UNAVAILABLE: 'service_unavailable',
};

// PostgreSQL and socket failures that mean "try again", not "bug": answered 503 so senders retry.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
  '53300',
]);

export function isUnavailableError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|connection.*(closed|ended)/i.test(message);
}

/** Sends `{ "error": CODE, "message": TEXT }`; anything not a DomainError is logged and masked. */
export function sendRestError(response: ServerResponse, error: unknown, logger: Logger): void {
  if (error instanceof DomainError) {
    const headers: Record<string, string> = {};
    if (error.retryAfter !== undefined) headers['retry-after'] = String(error.retryAfter);
    sendJson(
      response,
      HTTP_STATUS[error.code],
      { error: REST_ERROR[error.code], message: error.message, ...(error.details ? { details: error.details } : {}) },
      headers,
    );
    return;
  }
  if (isUnavailableError(error)) {
    logger.warn('http.database_unavailable', { error });
    sendJson(
      response,
      503,
      { error: 'service_unavailable', message: 'Database unavailable; retry later' },
      { 'retry-after': '1' },
    );
    return;
  }
  logger.error('http.unexpected_error', { error });
  sendJson(response, 500, { error: 'internal_error', message: 'Unexpected error.' });
}
