import type { IngestMetrics } from './ingest-metrics';
import { NO_INGEST_METRICS } from './ingest-metrics';
import type { Logger } from '../logger';
import type { WhatsAppNumberStore } from '../store/whatsapp-number.store';
import type { DeliveryPipeline, WorkspaceFact } from './delivery-pipeline';
import type { IgnoredReason } from './whatsapp.normalizer';
import { normalizeWhatsAppWebhook } from './whatsapp.normalizer';

/**
 * Applies a verified WhatsApp Cloud API webhook; resolves after the commit. Each change is read in
 * the workspace that owns its number (`value.metadata.phone_number_id`); items from a number bound
 * to no workspace are counted as ignored and recorded nowhere.
 */
export class WhatsAppWebhookService {
  constructor(
    private readonly pipeline: DeliveryPipeline,
    private readonly numbers: Pick<WhatsAppNumberStore, 'workspacesOf'>,
    private readonly logger: Logger,
    private readonly metrics: IngestMetrics = NO_INGEST_METRICS,
  ) {}

  async receive(body: unknown): Promise<{ facts: number; ignored: number }> {
    const normalized = normalizeWhatsAppWebhook(body);
    const ignored = { ...normalized.ignored };
    const owners = await this.numbers.workspacesOf([
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
