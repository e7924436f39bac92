import { LRUCache } from 'lru-cache';
import { apiKeyPrefix, hashApiKey, isApiKeyShape, newApiKey } from '../domain/api-key';
import type { WorkspaceStore } from '../store/workspace.store';

/** A workspace, as a request that authenticated with one of its keys sees it. */
export interface Principal {
  workspaceId: string;
  /** SHA-256 of the key it came with: names the key (rate buckets, revocation) without holding it */
  keyHash: string;
}

export interface ApiKeysOptions {
  /**
   * How long a key's lookup is cached. A revoked key stops working within this time on every
   * instance. @default 5000
   */
  cacheTtlMs?: number;
  /** keys whose lookups are cached at once @default 10000 */
  cacheSize?: number;
}

/** Creates, revokes and checks API keys. Only SHA-256 hashes reach the database. */
export class ApiKeysService {
  // Unknown keys are cached as '' so that a retried wrong key costs no lookup either.
  private readonly cache: LRUCache<string, string>;

  constructor(
    private readonly store: WorkspaceStore,
    options: ApiKeysOptions = {},
  ) {
    this.cache = new LRUCache({ max: options.cacheSize ?? 10_000, ttl: options.cacheTtlMs ?? 5000 });
  }

  /** Makes a key for the workspace (created if new). The key is returned once and never stored. */
  async create(workspaceName: string): Promise<{ key: string; workspaceId: string }> {
    const workspace = await this.store.ensureWorkspace(workspaceName);
    const key = newApiKey();
    await this.store.insertApiKey(workspace.id, apiKeyPrefix(key), hashApiKey(key));
    return { key, workspaceId: workspace.id };
  }

  /**
   * Revokes a key given whole (what {@link create} returned), or the live keys named by a prefix
   * (`wapl_` and 8 more); returns how many. A whole key revokes nothing unless it is itself a live
   * key; its prefix then names it (a second live key with the same 8 characters, about one chance
   * in 2×10¹⁴, would go too).
   */
  async revoke(keyOrPrefix: string): Promise<number> {
    let prefix = keyOrPrefix;
    if (isApiKeyShape(keyOrPrefix)) {
      if ((await this.store.workspaceOfKeyHash(hashApiKey(keyOrPrefix))) === null) return 0;
      prefix = apiKeyPrefix(keyOrPrefix);
    }
    const revoked = await this.store.revokeByPrefix(prefix);
    this.cache.clear();
    return revoked;
  }

  /**
   * The principal of a live key, or null for a missing, malformed, unknown or revoked one.
   * `beforeLookup` runs only when the database must be asked (not for malformed or cached keys):
   * the place to charge the caller's address before it can cost a query.
   */
  async authenticate(key: string | null, beforeLookup?: () => Promise<void>): Promise<Principal | null> {
    if (!key || !isApiKeyShape(key)) return null;
    return this.principalOf(hashApiKey(key), beforeLookup);
  }

  /**
   * Whether a principal's key is still live (cached like every lookup, so a revocation shows within
   * the cache time): what an open socket re-checks, by the hash it holds, never the key itself.
   */
  async isLive(principal: Principal): Promise<boolean> {
    return (await this.principalOf(principal.keyHash)) !== null;
  }

  private async principalOf(hash: string, beforeLookup?: () => Promise<void>): Promise<Principal | null> {
    let workspaceId = this.cache.get(hash);
    if (workspaceId === undefined) {
      await beforeLookup?.();
      workspaceId = (await this.store.workspaceOfKeyHash(hash)) ?? '';
      this.cache.set(hash, workspaceId);
    }
    return workspaceId ? { workspaceId, keyHash: hash } : null;
  }
}
