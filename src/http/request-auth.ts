import type { IncomingMessage } from 'node:http';
import type { ApiKeysService, Principal } from '../auth/api-keys.service';
import { bearerToken } from '../domain/api-key';
import { DomainError, unauthenticated } from '../domain/errors';
import type { RateLimiter } from './rate-limiter';

function rateLimited(retryAfter: number): DomainError {
  return new DomainError('RATE_LIMITED', `Rate limit exceeded; retry in ${retryAfter} s`, undefined, retryAfter);
}

/**
 * The principal of a request's `Authorization: Bearer wapl_…`, charged to the key's rate bucket;
 * throws UNAUTHENTICATED, or RATE_LIMITED (unauthenticated requests are charged to the address,
 * so a flood of wrong keys is limited too).
 */
export async function authenticateRequest(
  request: IncomingMessage,
  keys: ApiKeysService,
  limiter: RateLimiter | null,
): Promise<Principal> {
  const key = bearerToken(request.headers.authorization);
  const principal = await keys.authenticate(key);
  if (limiter) {
    const bucket = principal ? `key:${principal.keyHash}` : `addr:${request.socket.remoteAddress ?? '?'}`;
    const wait = limiter.take(bucket);
    if (wait > 0) throw rateLimited(wait);
  }
  if (!principal) throw unauthenticated();
  return principal;
}
