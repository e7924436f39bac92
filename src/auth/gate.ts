import { bearerToken } from '../domain/api-key';
import { unauthenticated } from '../domain/errors';
import type { ApiKeysService, Principal } from './api-keys.service';
import type { RateLimits } from './rate-limits';

/**
 * The one door of every transport (REST, GraphQL over HTTP, `connection_init` on WebSocket):
 * every failed authentication spends its address's budget, and an address that has spent it is
 * refused before any key lookup, so floods of wrong keys stop costing queries; a known key then
 * spends its own budget when the request is one that counts. Valid keys never spend the address
 * (many keys may share one address, behind a NAT or an integration platform).
 */
export class Gate {
  constructor(
    readonly keys: ApiKeysService,
    readonly limits: RateLimits,
  ) {}

  /**
   * The principal of an `Authorization` value (`Bearer wapl_…`, scheme in any case), or
   * UNAUTHENTICATED / RATE_LIMITED. `spend`: charge the key's budget (false for ingestion, which
   * is bounded by body size instead).
   */
  async admit(
    authorization: string | null | undefined,
    address: string | undefined,
    spend: boolean,
  ): Promise<Principal> {
    const key = bearerToken(authorization ?? null);
    const principal = await this.keys.authenticate(key, () => this.limits.checkAddress(address));
    if (!principal) {
      await this.limits.spendAddress(address);
      throw unauthenticated();
    }
    if (spend) await this.limits.spendKey(principal.keyHash);
    return principal;
  }

  /** Spends one request of a known key's budget (one GraphQL operation over WebSocket). */
  spend(principal: Principal): Promise<void> {
    return this.limits.spendKey(principal.keyHash);
  }
}
