/** Where the ingestion paths report what they took in. */
export interface IngestMetrics {
  /** facts committed, by evidence kind and source (`whatsapp` or `dispatcher`) */
  accepted(source: 'whatsapp' | 'dispatcher', kind: string, count?: number): void;
  /** items accepted but not applied (webhook), by reason */
  ignored(reason: string, count: number): void;
  /** requests refused whole, by source and HTTP status */
  refused(source: 'whatsapp' | 'dispatcher', status: number): void;
}

export const NO_INGEST_METRICS: IngestMetrics = { accepted: () => {}, ignored: () => {}, refused: () => {} };
