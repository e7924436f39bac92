import type { IngestMetrics } from './ingest-metrics';
import { NO_INGEST_METRICS } from './ingest-metrics';
import type { Logger } from '../logger';
import type { DeliveryPipeline } from './delivery-pipeline';
import type { IgnoredReason } from './whatsapp.normalizer';
import { normalizeWhatsAppWebhook } from './whatsapp.normalizer';

/** Applies a verified WhatsApp Cloud API webhook; resolves after the commit. */
export class WhatsAppWebhookService {
  constructor(
    private readonly pipeline: DeliveryPipeline,
    private readonly logger: Logger,
    private readonly metrics: IngestMetrics = NO_INGEST_METRICS,
  ) {}

  async receive(body: unknown): Promise<{ facts: number; ignored: number }> {
    const { facts, ignored } = normalizeWhatsAppWebhook(body);
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
