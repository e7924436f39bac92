import type { Pool } from 'pg';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { IngestMetrics } from '../ingest/ingest-metrics';
import type { CampaignStatsHub } from '../live/campaign-stats.hub';

/**
 * The gateway's Prometheus metrics, on a registry of its own (several apps may share a process in
 * tests): ingestion by kind and outcome, parked facts, webhook latency, live subscriptions and
 * pushes, database pool use, and Node's process metrics.
 */
export function createMetrics(deps: { db: DataSource; hub: CampaignStatsHub }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'csg_' });
  const ingested = new Counter({
    name: 'csg_events_ingested_total',
    help: 'Delivery facts committed, by source and evidence kind',
    labelNames: ['source', 'kind'],
    registers: [registry],
  });
  const ignored = new Counter({
    name: 'csg_webhook_items_ignored_total',
    help: 'WhatsApp webhook items accepted but not applied, by reason',
    labelNames: ['reason'],
    registers: [registry],
  });
  const refused = new Counter({
    name: 'csg_ingest_requests_refused_total',
    help: 'Ingestion requests refused whole, by source and HTTP status',
    labelNames: ['source', 'status'],
    registers: [registry],
  });
  const webhookSeconds = new Histogram({
    name: 'csg_webhook_duration_seconds',
    help: 'Time from a WhatsApp webhook request to its answer (after the commit)',
    labelNames: ['status'],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  new Gauge({
    name: 'csg_parked_deliveries',
    help: 'WhatsApp facts waiting for their message id to be registered (all instances)',
    registers: [registry],
    async collect() {
      const [row] = await deps.db.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM parked_deliveries`);
      this.set(row?.n ?? 0);
    },
  });
  new Gauge({
    name: 'csg_live_subscriptions',
    help: 'Open campaignStatsUpdated subscriptions on this instance',
    registers: [registry],
    collect() {
      this.set(deps.hub.subscriberCount);
    },
  });
  new Gauge({
    name: 'csg_live_watched_campaigns',
    help: 'Campaigns with at least one subscriber on this instance',
    registers: [registry],
    collect() {
      this.set(deps.hub.watchedCampaigns.length);
    },
  });
  const pushes = new Counter({
    name: 'csg_live_pushes_total',
    help: 'Stats values sent to subscribers',
    registers: [registry],
  });
  const reads = new Counter({
    name: 'csg_live_stats_reads_total',
    help: 'Stats reads made for live pushes',
    registers: [registry],
  });
  const seen = { pushes: 0, reads: 0 };
  const pool = new Gauge({
    name: 'csg_db_pool_connections',
    help: 'Database pool connections, by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const p = (deps.db.driver as unknown as { master?: Pool }).master;
      if (!p) return;
      pool.set({ state: 'total' }, p.totalCount);
      pool.set({ state: 'idle' }, p.idleCount);
      pool.set({ state: 'waiting' }, p.waitingCount);
    },
  });

  const ingest: IngestMetrics = {
    accepted: (source, kind, count = 1) => ingested.inc({ source, kind }, count),
    ignored: (reason, count) => ignored.inc({ reason }, count),
    refused: (source, status) => refused.inc({ source, status: String(status) }),
  };

  return {
    registry,
    ingest,
    /** times one webhook request; call the result with the status sent */
    timeWebhook: () => {
      const end = webhookSeconds.startTimer();
      return (status: number) => end({ status: String(status) });
    },
    /** the exposition text and its content type */
    async render(): Promise<{ contentType: string; text: string }> {
      pushes.inc(deps.hub.totals.pushes - seen.pushes);
      reads.inc(deps.hub.totals.reads - seen.reads);
      seen.pushes = deps.hub.totals.pushes;
      seen.reads = deps.hub.totals.reads;
      return { contentType: registry.contentType, text: await registry.metrics() };
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
