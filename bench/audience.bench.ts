import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import { CampaignContactsService } from '../src/campaigns/campaign-contacts.service';
import { encodeContactCursor } from '../src/campaigns/campaign-contacts.service';
import { ContactsExportService } from '../src/campaigns/contacts-export.service';
import { TrackedLinksService } from '../src/campaigns/tracked-links.service';
import { Evidence } from '../src/domain/delivery-lattice';
import { clickToken } from '../src/domain/tracked-link';
import { newCampaignId } from '../src/domain/identifiers';
import { applyResolvedFacts } from '../src/ingest/delivery-applier';
import { DeliveryPipeline } from '../src/ingest/delivery-pipeline';
import { createLogger } from '../src/logger';
import { CampaignContactsStore } from '../src/store/campaign-contacts.store';
import type { ContactFilterName } from '../src/store/campaign-contacts.store';
import { ContactsExportStore, contactsExportSql } from '../src/store/contacts-export.store';
import { openDatabase } from '../src/store/data-source';
import { DeliveryStore } from '../src/store/delivery.store';
import { PostgresChangeFeed } from '../src/store/change-feed';
import { TrackedLinksStore } from '../src/store/tracked-links.store';
import { RECOUNT_COLUMNS } from '../src/store/lattice.sql';
import { COUNTER_NAMES } from '../src/domain/delivery-lattice';
import { Client } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { Figure } from './support';
import { against, benchDatabase, report } from './support';

const FILTERS: ContactFilterName[] = ['all', 'sent', 'delivered', 'read', 'clicked', 'replied', 'failed', 'pending'];
const BIG = Number(process.env.BENCH_AUDIENCE_CONTACTS ?? 1_000_000);

/**
 * A campaign loaded in bulk: realistic flags, and sparse ones (20 failed, a few pending,
 * whatever the size), so that every filter has pages to read at both sizes.
 */
async function bulkCampaign(db: DataSource, workspaceId: string, contacts: number): Promise<string> {
  const id = newCampaignId();
  await db.query(`INSERT INTO campaigns (id, workspace_id, name, status) VALUES ($1, $2, $3, 'running')`, [
    id,
    workspaceId,
    `bulk ${contacts}`,
  ]);
  const { SENT: S, DELIVERED: D, READ: R, CLICKED: C, REPLIED: P, FAILED: F } = Evidence;
  const step = Math.floor(contacts / 20);
  await db.query(
    `INSERT INTO campaign_contacts (campaign_id, phone, flags, first_sent_at, first_failed_at, failure_code, failure_title, failure_at)
     SELECT $1, '+1' || (3000000000 + g)::text, f, now(),
            CASE WHEN f = ${F} THEN now() END, CASE WHEN f = ${F} THEN 131026 END,
            CASE WHEN f = ${F} THEN 'Message undeliverable' END, CASE WHEN f = ${F} THEN now() END
     FROM (SELECT g, CASE WHEN g % $3 = 0 THEN ${F} WHEN g % $3 = 1 THEN 0 WHEN g % 100 < 40 THEN ${S | D}
                          WHEN g % 100 < 80 THEN ${S | D | R} WHEN g % 100 < 95 THEN ${S | D | R | C}
                          ELSE ${S | D | R | P} END AS f
           FROM generate_series(1, $2) AS g) x`,
    [id, contacts, step],
  );
  await db.query(
    `INSERT INTO campaign_counters (campaign_id, total_contacts, ${COUNTER_NAMES.join(', ')})
     SELECT $1, ${RECOUNT_COLUMNS} FROM campaign_contacts WHERE campaign_id = $1`,
    [id],
  );
  await db.query('ANALYZE campaign_contacts');
  return id;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The median time of a page of 50 at ~90% of the filter's depth (the cursor is the phone there). */
async function pageMs(
  db: DataSource,
  service: CampaignContactsService,
  workspaceId: string,
  campaignId: string,
  filter: ContactFilterName,
): Promise<number> {
  const { n } = (
    await db.query(`SELECT count(*)::int AS n FROM campaign_contacts WHERE campaign_id = $1 AND ${filterOf(filter)}`, [
      campaignId,
    ])
  )[0];
  const deep: { phone: string }[] = await db.query(
    `SELECT phone FROM campaign_contacts WHERE campaign_id = $1 AND ${filterOf(filter)}
     ORDER BY phone OFFSET $2 LIMIT 1`,
    [campaignId, Math.max(0, Math.floor(n * 0.9) - 1)],
  );
  const after = deep[0] ? encodeContactCursor(deep[0].phone) : null;
  const times: number[] = [];
  for (let i = 0; i < 25; i++) {
    const t0 = performance.now();
    await service.page(workspaceId, campaignId, { filter, first: 50, after });
    times.push(performance.now() - t0);
  }
  return median(times);
}
const filterOf = (filter: ContactFilterName) =>
  filter === 'all' ? 'TRUE' : filter === 'pending' ? 'flags = 0' : `lattice_counts_${filter}(flags)`;

export async function runAudienceBenchmark(): Promise<void> {
  const database = await benchDatabase();
  const db = await openDatabase({ url: database.url, poolSize: 70 });
  const figures: Figure[] = [];
  try {
    const [{ id: workspaceId }] = await db.query(`INSERT INTO workspaces (name) VALUES ('bench') RETURNING id`);
    const small = await bulkCampaign(db, workspaceId, 1_000);
    const big = await bulkCampaign(db, workspaceId, BIG);
    const contacts = new CampaignContactsService(new CampaignContactsStore(db));

    // 1. Drill-down pages, 90% deep, at 1k and at BIG.
    for (const filter of FILTERS) {
      const at1k = await pageMs(db, contacts, workspaceId, small, filter);
      const atBig = await pageMs(db, contacts, workspaceId, big, filter);
      figures.push(
        against(
          {
            name: `drill-down page of 50, 90% deep, filter ${filter}, ${BIG} contacts`,
            value: atBig,
            unit: 'ms',
            baseline: '1,000 contacts',
            baselineValue: at1k,
            target: '<= 2x',
          },
          { atMost: 2 },
        ),
      );
    }

    // 2. CSV export of BIG contacts vs the same SELECT read whole through the same driver.
    const exportStore = new ContactsExportStore(db);
    const exports = new ContactsExportService(contacts, exportStore);
    /** One whole export: seconds, bytes, and the RSS growth over the RSS before it. */
    const exportOnce = async () => {
      const rss0 = process.memoryUsage().rss;
      let rssPeak = rss0;
      const t0 = performance.now();
      const stream = await exports.open(workspaceId, big, 'all');
      let bytes = 0;
      for await (const chunk of stream) {
        bytes += (chunk as string).length;
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      }
      return { seconds: (performance.now() - t0) / 1000, bytes, growth: rssPeak - rss0 };
    };
    // The first export in a fresh process also grows V8's heap to its working size (garbage is
    // collected lazily); the second shows what an export costs a running gateway.
    const first = await exportOnce();
    const second = await exportOnce();
    const exportS = second.seconds;
    const bytes = second.bytes;
    // The baseline: a bare COPY of the same SELECT to STDOUT through the same driver (pg).
    const copyClient = new Client({ connectionString: database.url });
    await copyClient.connect();
    const t1 = performance.now();
    let copied = 0;
    const copySql = contactsExportSql('all').replace('$1', `'${big}'`);
    for await (const chunk of copyClient.query(copyTo(`COPY (${copySql}) TO STDOUT`)) as AsyncIterable<Buffer>) {
      for (const byte of chunk) if (byte === 10) copied++;
    }
    const bareS = (performance.now() - t1) / 1000;
    await copyClient.end();
    figures.push(
      against(
        {
          name: `CSV export, ${BIG} contacts (${Math.round(bytes / 1e6)} MB)`,
          value: BIG / exportS,
          unit: 'rows/s',
          baseline: 'bare COPY (same SELECT) TO STDOUT, same driver',
          baselineValue: copied / bareS,
          target: '>= 0.5x',
        },
        { atLeast: 0.5 },
      ),
    );
    figures.push({
      name: 'RSS growth during the export (a running gateway: the second export)',
      value: second.growth / 1e6,
      unit: 'MB',
      target: '<= 64 MB',
      met: second.growth <= 64e6,
    });
    figures.push({
      name: 'RSS growth during the first export of a fresh process (heap warm-up included)',
      value: first.growth / 1e6,
      unit: 'MB',
    });

    // 3. Clicks from 64 concurrent clients on distinct contacts: the service (pipeline, group
    // commit) vs one transaction per click.
    const logger = createLogger('warn');
    const deliveryStore = new DeliveryStore();
    const pipeline = new DeliveryPipeline(db, deliveryStore, logger, new PostgresChangeFeed());
    const linksStore = new TrackedLinksStore(db);
    const links = new TrackedLinksService(linksStore, contacts, exports, exportStore, (contact, at) =>
      pipeline.submit({ registrations: [], facts: [{ contact, fact: { evidence: 'CLICKED', at } }], whatsapp: [] }),
    );
    const rows: { id: string }[] = await db.query(
      `SELECT id::text AS id FROM campaign_contacts WHERE campaign_id = $1 ORDER BY id LIMIT 20000`,
      [big],
    );
    const CLIENTS = 64;
    const clicksPerSecond = async (click: (contactId: string) => Promise<void>, from: number, count: number) => {
      let next = from;
      const t = performance.now();
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          while (next < from + count) await click(rows[next++]!.id);
        }),
      );
      return count / ((performance.now() - t) / 1000);
    };
    const link = await links.create(workspaceId, big, 'https://example.com/');
    const [{ secret }] = await db.query(`SELECT secret FROM tracked_links WHERE id = $1`, [link.id]);
    const ours = await clicksPerSecond(
      async (contactId) => {
        const outcome = await links.click(clickToken(secret as Buffer, link.id, contactId), {
          head: false,
          userAgent: undefined,
        });
        if (outcome.kind !== 'counted') throw new Error(`click ${outcome.kind}`);
      },
      0,
      8000,
    );
    const naive = await clicksPerSecond(
      async (contactId) => {
        await db.transaction(async (tx) => {
          await applyResolvedFacts(tx, deliveryStore, [
            { contact: { contactId, campaignId: big }, fact: { evidence: 'CLICKED', at: new Date() } },
          ]);
          await tx.query(
            `INSERT INTO tracked_link_clicks (link_id, contact_id, first_clicked_at) VALUES ($1, $2, now())
             ON CONFLICT DO NOTHING`,
            [link.id, contactId],
          );
        });
      },
      8000,
      4000,
    );
    figures.push(
      against(
        {
          name: `tracked-link clicks, ${CLIENTS} concurrent clients on distinct contacts`,
          value: ours,
          unit: 'clicks/s',
          baseline: 'one transaction per click',
          baselineValue: naive,
          target: '>= 5x',
        },
        { atLeast: 5 },
      ),
    );
    await pipeline.drain();
    report('audience', figures, { contacts: BIG });
  } finally {
    await db.destroy();
    await database.close();
  }
}
