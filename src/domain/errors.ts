/**
 * The error codes of docs/errors.md, defined once. Transports map them: GraphQL puts the code in
 * `extensions.code`, REST picks a status and body (src/http/rest-errors.ts).
 */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'UNAUTHENTICATED'
  | 'RATE_LIMITED'
  | 'UNPROCESSABLE'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNAVAILABLE';

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
    /** seconds, for RATE_LIMITED */
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
