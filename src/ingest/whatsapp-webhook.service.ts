import { LRUCache } from 'lru-cache';
import type { IngestMetrics } from './ingest-metrics';
import { NO_INGEST_METRICS } from './ingest-metrics';
import type { Logger } from '../logger';
import type { WhatsAppNumberStore } from '../store/whatsapp-number.store';
import type { DeliveryPipeline, WorkspaceFact } from './delivery-pipeline';
import type { IgnoredReason } from './whatsapp.normalizer';
import { normalizeWhatsAppWebhook } from './whatsapp.normalizer';

export interface WhatsAppWebhookOptions {
  /** how long a number's binding (or its absence) is cached: a change takes effect within this @default 5000 */
  numberCacheTtlMs?: number;
  /** numbers whose bindings are cached at once @default 10000 */
  numberCacheSize?: number;
}

/**
 * Applies a verified WhatsApp Cloud API webhook; resolves after the commit. Each change is read in
 * the workspace that owns its number (`value.metadata.phone_number_id`); items from a number bound
 * to no workspace are counted as ignored and recorded nowhere.
 */
export class WhatsAppWebhookService {
  // Meta sends about one status per request: the binding is cached (unbound numbers as ''), as
  // key lookups are, so that a request costs no query before its transaction.
  private readonly owners: LRUCache<string, string>;

  constructor(
    private readonly pipeline: DeliveryPipeline,
    private readonly numbers: Pick<WhatsAppNumberStore, 'workspacesOf'>,
    private readonly logger: Logger,
    private readonly metrics: IngestMetrics = NO_INGEST_METRICS,
    options: WhatsAppWebhookOptions = {},
  ) {
    this.owners = new LRUCache({ max: options.numberCacheSize ?? 10_000, ttl: options.numberCacheTtlMs ?? 5000 });
  }

  /** The owning workspace of each number, from the cache or one query; unbound numbers absent. */
  private async ownersOf(phoneNumberIds: readonly string[]): Promise<Map<string, string>> {
    const owners = new Map<string, string>();
    const unknown: string[] = [];
    for (const id of phoneNumberIds) {
      const cached = this.owners.get(id);
      if (cached === undefined) unknown.push(id);
      else if (cached !== '') owners.set(id, cached);
    }
    if (unknown.length > 0) {
      const found = await this.numbers.workspacesOf(unknown);
      for (const id of unknown) {
        const owner = found.get(id);
        this.owners.set(id, owner ?? '');
        if (owner) owners.set(id, owner);
      }
    }
    return owners;
  }

  async receive(body: unknown): Promise<{ facts: number; ignored: number }> {
    const normalized = normalizeWhatsAppWebhook(body);
    const ignored = { ...normalized.ignored };
    const owners = await this.ownersOf([
      ...new Set(normalized.facts.flatMap((f) => (f.phoneNumberId ? [f.phoneNumberId] : []))),
    ]);
    const facts: WorkspaceFact[] = [];
    for (const f of normalized.facts) {
      const workspaceId = f.phoneNumberId ? owners.get(f.phoneNumberId) : undefined;
      if (workspaceId) facts.push({ ...f, workspaceId });
      else ignored.unknown_phone_number = (ignored.unknown_phone_number ?? 0) + 1;
    }
    let skipped = 0;
    for (const [reason, count] of Object.entries(ignored) as [IgnoredReason, number][]) {
      this.metrics.ignored(reason, count);
      skipped += count;
    }
    if (skipped > 0) this.logger.debug('whatsapp.ignored', { ignored });
    await this.pipeline.submit({ registrations: [], facts: [], whatsapp: facts });
    for (const f of facts) this.metrics.accepted('whatsapp', f.fact.evidence);
    return { facts: facts.length, ignored: skipped };
  }
}
