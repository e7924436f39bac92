import { cpus } from 'node:os';
import { Client } from 'pg';
import 'reflect-metadata';
import { hashApiKey } from '../src/domain/api-key';
import { COUNTER_NAMES, Evidence } from '../src/domain/delivery-lattice';
import { newCampaignId } from '../src/domain/identifiers';
import { createDataSource } from '../src/store/data-source';
import { RECOUNT_COLUMNS } from '../src/store/lattice.sql';
import { CONTACTS, PHONE_NUMBER_ID, SECRET, SINGLE_SENDERS, closedLoop } from './ingest.bench';
import { bulkCampaign, load, sequentialMs } from './read.bench';
import type { Figure } from './support';
import { against, benchDatabase, report, startGateway } from './support';

/** campaigns and contacts each of the 10,000,000 (override: SCALE_CAMPAIGNS, SCALE_CONTACTS_PER_CAMPAIGN) */
const CAMPAIGNS = Number(process.env.SCALE_CAMPAIGNS ?? 1_000);
const PER_CAMPAIGN = Number(process.env.SCALE_CONTACTS_PER_CAMPAIGN ?? 10_000);
/** campaigns loaded per statement */
const CHUNK = 50;

const log = (line: string) => process.stderr.write(`scale: ${line}\n`);

/**
 * A campaign of CONTACTS contacts, each sent (its message id `<prefix><n>` registered), counters
 * by a recount: what the ingest benchmark's registration makes, loaded in bulk.
 */
async function ingestCampaign(admin: Client, workspaceId: string, prefix: string): Promise<string> {
  const id = newCampaignId();
  await admin.query(
    `INSERT INTO campaigns (id, workspace_id, name, status, started_at) VALUES ($1, $2, 'ingest', 'running', now())`,
    [id, workspaceId],
  );
  await admin.query(
    `INSERT INTO campaign_contacts (campaign_id, phone, flags, first_sent_at)
     SELECT $1, '+1650' || lpad(g::text, 7, '0'), ${Evidence.SENT}, to_timestamp(1781510000)
     FROM generate_series(0, $2 - 1) AS g`,
    [id, CONTACTS],
  );
  await admin.query(
    `INSERT INTO contact_messages (workspace_id, whatsapp_message_id, contact_id, campaign_id)
     SELECT $1, $2 || (substr(phone, 6)::int)::text, id, campaign_id FROM campaign_contacts WHERE campaign_id = $3`,
    [workspaceId, prefix, id],
  );
  await admin.query(
    `INSERT INTO campaign_counters (campaign_id, total_contacts, ${COUNTER_NAMES.join(', ')})
     SELECT $1, ${RECOUNT_COLUMNS} FROM campaign_contacts WHERE campaign_id = $1`,
    [id],
  );
  return id;
}

/**
 * CAMPAIGNS campaigns of PER_CAMPAIGN contacts each, every contact with a registered message id
 * and a realistic spread of flags; counters by a recount. Loaded in chunks, foreign keys
 * unchecked (the rows are made consistent), then analysed.
 */
async function loadScale(admin: Client, workspaceId: string): Promise<number> {
  const started = performance.now();
  const { SENT: S, DELIVERED: D, READ: R, CLICKED: C, REPLIED: P, FAILED: F } = Evidence;
  await admin.query(`SET session_replication_role = replica`);
  for (let from = 0; from < CAMPAIGNS; from += CHUNK) {
    const ids = Array.from({ length: Math.min(CHUNK, CAMPAIGNS - from) }, () => newCampaignId());
    await admin.query('BEGIN');
    await admin.query(
      `INSERT INTO campaigns (id, workspace_id, name, status, started_at)
       SELECT id, $2, 'scale', 'running', now() FROM unnest($1::char(24)[]) AS id`,
      [ids, workspaceId],
    );
    await admin.query(
      `INSERT INTO campaign_contacts (campaign_id, phone, flags, first_sent_at)
       SELECT c.id, '+1' || (3000000000 + g)::text,
              CASE WHEN g % 100 < 3 THEN ${F} WHEN g % 100 < 6 THEN ${S} WHEN g % 100 < 40 THEN ${S | D}
                   WHEN g % 100 < 80 THEN ${S | D | R} WHEN g % 100 < 95 THEN ${S | D | R | C} ELSE ${S | D | R | P} END,
              now()
       FROM unnest($1::char(24)[]) AS c(id), generate_series(1, $2) AS g`,
      [ids, PER_CAMPAIGN],
    );
    await admin.query(
      `INSERT INTO contact_messages (workspace_id, whatsapp_message_id, contact_id, campaign_id)
       SELECT $2, 'wamid.scale.' || id, id, campaign_id FROM campaign_contacts WHERE campaign_id = ANY($1::char(24)[])`,
      [ids, workspaceId],
    );
    await admin.query(
      `INSERT INTO campaign_counters (campaign_id, total_contacts, ${COUNTER_NAMES.join(', ')})
       SELECT campaign_id, ${RECOUNT_COLUMNS} FROM campaign_contacts WHERE campaign_id = ANY($1::char(24)[])
       GROUP BY campaign_id`,
      [ids],
    );
    await admin.query('COMMIT');
    log(
      `${from + ids.length} of ${CAMPAIGNS} campaigns loaded (${Math.round((performance.now() - started) / 1000)} s)`,
    );
  }
  await admin.query(`SET session_replication_role = DEFAULT`);
  await admin.query(`VACUUM ANALYZE`);
  // The load's dirty pages written now, not by the checkpointer during the measurement.
  await admin.query(`CHECKPOINT`);
  return (performance.now() - started) / 1000;
}

interface Measured {
  readRps: number;
  readP99: number;
  readMs: number;
  batched: number;
  single: number;
}

/** Stats reads of the 1,000-contact campaign, then statuses into a fresh ingest campaign. */
async function measure(url: string, key: string, readCampaign: string, prefix: string): Promise<Measured> {
  const auth = { authorization: `Bearer ${key}` };
  const stats = `${url}/api/v1/campaigns/${readCampaign}/stats`;
  // The median of three runs of the read load: one run on this shared machine swings by ±25%.
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await load(stats, { headers: auth }));
  const rest = runs.sort((a, b) => a.rps - b.rps)[1]!;
  const readMs = await sequentialMs(stats, auth);
  await closedLoop(url, 100, 5, 11, undefined, prefix); // warm-up
  const batched = await closedLoop(url, 100, 60, 12, undefined, prefix);
  const single = await closedLoop(url, 1, 60, 13, SINGLE_SENDERS, prefix);
  return { readRps: rest.rps, readP99: rest.p99, readMs, batched: batched.perSecond, single: single.perSecond };
}

export async function runScaleBenchmark(): Promise<void> {
  const database = await benchDatabase();
  const gateway = await startGateway(database.url, { WHATSAPP_APP_SECRET: SECRET, DATABASE_POOL_SIZE: '10' });
  const admin = new Client({ connectionString: database.url });
  await admin.connect();
  try {
    const keyRows = (
      await admin.query(`SELECT workspace_id FROM api_keys WHERE key_hash = $1`, [hashApiKey(gateway.key)])
    ).rows as { workspace_id: string }[];
    const workspaceId = keyRows[0]!.workspace_id;
    await admin.query(`INSERT INTO whatsapp_numbers (phone_number_id, workspace_id) VALUES ($1, $2)`, [
      PHONE_NUMBER_ID,
      workspaceId,
    ]);
    const readCampaign = await bulkCampaign(admin, workspaceId, 1_000);
    // Two ingest campaigns made alike now: one measured on the empty database, one at scale.
    await ingestCampaign(admin, workspaceId, 'wamid.empty.');
    await ingestCampaign(admin, workspaceId, 'wamid.full.');
    await admin.query(`VACUUM ANALYZE`);
    log('measuring on the empty database');
    const empty = await measure(gateway.url, gateway.key, readCampaign, 'wamid.empty.');

    log(`loading ${CAMPAIGNS} campaigns x ${PER_CAMPAIGN} contacts`);
    const loadSeconds = await loadScale(admin, workspaceId);
    const { contacts, size } = (
      await admin.query(
        `SELECT (SELECT count(*)::int FROM campaign_contacts) AS contacts,
                pg_size_pretty(pg_database_size(current_database())) AS size`,
      )
    ).rows[0] as { contacts: number; size: string };
    log(`${contacts} contacts, database ${size}; measuring at scale`);
    const full = await measure(gateway.url, gateway.key, readCampaign, 'wamid.full.');

    // The distributable-keys migration, down and up again, on the loaded database.
    log('timing the distributable-keys migration at scale');
    const db = createDataSource({ url: database.url, poolSize: 2 });
    await db.initialize();
    let migrateDown = 0;
    let migrateUp = 0;
    try {
      let t0 = performance.now();
      await db.undoLastMigration();
      migrateDown = (performance.now() - t0) / 1000;
      t0 = performance.now();
      await db.runMigrations();
      migrateUp = (performance.now() - t0) / 1000;
    } finally {
      await db.destroy();
    }

    const figures: Figure[] = [
      against(
        {
          name: `stats read (REST, 1,000-contact campaign, median of 3 runs), ${contacts.toLocaleString('en')} contacts vs empty: req/s`,
          value: full.readRps,
          unit: 'req/s',
          baseline: 'same read on the empty database',
          baselineValue: empty.readRps,
          target: '>= 0.8x (within 1.25x)',
        },
        { atLeast: 0.8 },
      ),
      against(
        {
          name: 'stats read, one at a time: median latency at scale vs empty',
          value: full.readMs,
          unit: 'ms',
          baseline: 'same read on the empty database',
          baselineValue: empty.readMs,
          target: '<= 1.25x',
        },
        { atMost: 1.25 },
      ),
      { name: 'stats read p99 at scale (16 connections)', value: full.readP99, unit: 'ms' },
      against(
        {
          name: 'ingest, 100 statuses/request, 8 senders: at scale vs empty',
          value: full.batched,
          unit: 'statuses/s',
          baseline: 'same statuses into a like campaign on the empty database',
          baselineValue: empty.batched,
          target: '>= 0.67x (within 1.5x)',
        },
        { atLeast: 1 / 1.5 },
      ),
      against(
        {
          name: `ingest, 1 status/request, ${SINGLE_SENDERS} senders: at scale vs empty`,
          value: full.single,
          unit: 'statuses/s',
          baseline: 'same statuses into a like campaign on the empty database',
          baselineValue: empty.single,
          target: '>= 0.67x (within 1.5x)',
        },
        { atLeast: 1 / 1.5 },
      ),
      {
        name: `bulk load of ${contacts.toLocaleString('en')} contacts (with message ids)`,
        value: loadSeconds,
        unit: 's',
      },
      { name: 'distributable-keys migration, down, at scale', value: migrateDown, unit: 's' },
      {
        name: 'distributable-keys migration, up, at scale (writes to contact tables wait)',
        value: migrateUp,
        unit: 's',
      },
    ];
    report('scale', figures, {
      machine: `${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown cpu'}`,
      contacts,
      campaigns: CAMPAIGNS,
      database: size,
      empty,
      full,
    });
  } finally {
    await admin.end();
    await gateway.stop();
    await database.close();
  }
}
