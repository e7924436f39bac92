import type { ContactState } from '../domain/contact-state';
import type { CampaignChange } from '../domain/contact-state';
import type { DeliveryFact } from '../domain/delivery-event';
import type { EvidenceKind } from '../domain/delivery-lattice';
import { Evidence } from '../domain/delivery-lattice';
import type { Queryable } from './campaign.store';
import { compareDecimal, compareText } from './lock-order';

/** A contact as the event path sees it. */
export interface ContactRef {
  contactId: string;
  campaignId: string;
}

const TIME_COLUMNS: Record<EvidenceKind, string> = {
  SENT: 'first_sent_at',
  DELIVERED: 'first_delivered_at',
  READ: 'first_read_at',
  CLICKED: 'first_clicked_at',
  REPLIED: 'first_replied_at',
  FAILED: 'first_failed_at',
};
const KINDS = Object.keys(TIME_COLUMNS) as EvidenceKind[];

interface ContactRow {
  id: string;
  campaign_id: string;
  flags: number;
  first_sent_at: Date | null;
  first_delivered_at: Date | null;
  first_read_at: Date | null;
  first_clicked_at: Date | null;
  first_replied_at: Date | null;
  first_failed_at: Date | null;
  failure_code: number | null;
  failure_title: string | null;
  failure_at: Date | null;
}

/** The select-list of a contact's state over `campaign_contacts c`, as {@link ContactRow}. */
const STATE_COLUMNS = [
  'c.id',
  'c.campaign_id',
  'c.flags',
  ...KINDS.map((k) => `c.${TIME_COLUMNS[k]}`),
  'c.failure_code',
  'c.failure_title',
  'c.failure_at',
].join(', ');

function toState(row: ContactRow): ContactState {
  const firstAt: ContactState['firstAt'] = {};
  for (const kind of KINDS) {
    const at = row[TIME_COLUMNS[kind] as keyof ContactRow] as Date | null;
    if (at) firstAt[kind] = at;
  }
  return {
    flags: row.flags,
    firstAt,
    failure:
      row.failure_code !== null && row.failure_at !== null
        ? { code: row.failure_code, title: row.failure_title ?? '', at: row.failure_at }
        : null,
  };
}

/** A WhatsApp message id as one workspace knows it: ids are registered per workspace. */
export interface ScopedMessageId {
  workspaceId: string;
  messageId: string;
}

/** The map key of a scoped message id (workspace ids are digits, so the first `|` splits). */
export const messageKey = (workspaceId: string, messageId: string): string => `${workspaceId}|${messageId}`;

/** The map key of a contact named by campaign and phone, within a workspace. */
export const phoneKey = (workspaceId: string, campaignId: string, phone: string): string =>
  `${workspaceId}|${campaignId}|${phone}`;

/** A registration of a WhatsApp message id to a contact, in the contact's workspace. */
export interface MessageRegistration extends ScopedMessageId {
  contact: ContactRef;
}

/** A fact about a WhatsApp message id that names no registered contact yet. */
export interface ParkedFact extends ScopedMessageId {
  fact: DeliveryFact;
}

const EVIDENCE_BY_BIT = new Map<number, EvidenceKind>(KINDS.map((kind) => [Evidence[kind], kind]));

/** The SQL of the event path: resolve, lock, write back, count. Every call runs in the caller's transaction. */
export class DeliveryStore {
  /**
   * Plans the rest of the transaction on keys: index lookups, no sequential scan, hash or merge
   * join. For the lock and the write of a batch of a few hundred contacts in a campaign of a few
   * ten thousand, PostgreSQL otherwise reads and hashes the whole campaign at each statement
   * (measured: 27 ms instead of 2 ms to lock 400 contacts of 20,000), and only switches to lookups
   * once the campaign is far larger. Only for statements that go by key: the registrations'
   * anti-join against their own inserted rows, planned so, grows with the square of the batch.
   */
  async preferKeyedPlans(tx: Queryable): Promise<void> {
    await tx.query(
      `SELECT set_config('enable_seqscan', 'off', true), set_config('enable_hashjoin', 'off', true),
              set_config('enable_mergejoin', 'off', true)`,
    );
  }

  /**
   * Serializes work on the same WhatsApp message ids of a workspace across transactions
   * (transaction-scoped advisory locks, taken in one order): a status parked by one transaction
   * and the registration committed by another can never miss each other, and of two racing
   * registrations the second sees the first.
   */
  async lockMessageIds(tx: Queryable, ids: readonly ScopedMessageId[]): Promise<void> {
    if (ids.length === 0) return;
    await tx.query(
      `SELECT pg_advisory_xact_lock(k) FROM (
         SELECT DISTINCT hashtextextended(w || '|' || m, 0) AS k
         FROM unnest($1::text[], $2::text[]) AS i(w, m) ORDER BY 1) AS keys`,
      [ids.map((i) => i.workspaceId), ids.map((i) => i.messageId)],
    );
  }

  /** Stores facts until their message id is registered in their workspace; a fact parked before is not parked twice. */
  async park(tx: Queryable, facts: readonly ParkedFact[]): Promise<number> {
    if (facts.length === 0) return 0;
    const rows: unknown[] = await tx.query(
      `INSERT INTO parked_deliveries (workspace_id, whatsapp_message_id, evidence, occurred_at, error_code, error_title)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::smallint[], $4::timestamptz[], $5::int[], $6::text[])
       ON CONFLICT DO NOTHING RETURNING 1`,
      [
        facts.map((f) => f.workspaceId),
        facts.map((f) => f.messageId),
        facts.map((f) => Evidence[f.fact.evidence]),
        facts.map((f) => f.fact.at),
        facts.map((f) => f.fact.error?.code ?? null),
        facts.map((f) => f.fact.error?.title ?? null),
      ],
    );
    return rows.length;
  }

  /**
   * Takes (deletes and returns) the parked facts of these message ids in their workspaces: each is
   * handed out once. Facts parked before ids were per workspace (no workspace) go to the first
   * workspace that registers their id.
   */
  async unpark(tx: Queryable, ids: readonly ScopedMessageId[]): Promise<ParkedFact[]> {
    if (ids.length === 0) return [];
    const rows: {
      workspace_id: string;
      whatsapp_message_id: string;
      evidence: number;
      occurred_at: Date;
      error_code: number | null;
      error_title: string | null;
    }[] = await tx.query(
      // A CTE, because TypeORM wraps the result of a bare DELETE … RETURNING as [rows, count].
      `WITH taken AS (
         DELETE FROM parked_deliveries p USING unnest($1::bigint[], $2::text[]) AS k(workspace_id, message_id)
         WHERE p.whatsapp_message_id = k.message_id AND (p.workspace_id = k.workspace_id OR p.workspace_id IS NULL)
         RETURNING k.workspace_id, p.whatsapp_message_id, p.evidence, p.occurred_at, p.error_code, p.error_title)
       SELECT * FROM taken`,
      [ids.map((i) => i.workspaceId), ids.map((i) => i.messageId)],
    );
    return rows.flatMap((row) => {
      const evidence = EVIDENCE_BY_BIT.get(row.evidence);
      if (!evidence) return [];
      const error = row.error_code !== null ? { code: row.error_code, title: row.error_title ?? '' } : undefined;
      return [
        {
          workspaceId: String(row.workspace_id),
          messageId: row.whatsapp_message_id,
          fact: { evidence, at: row.occurred_at, ...(error ? { error } : {}) },
        },
      ];
    });
  }

  /**
   * Drops at most `limit` rows of `table` older than the retention window, in one statement (its
   * own short transaction when `tx` is the pool); returns how many.
   */
  async pruneOlderThan(
    tx: Queryable,
    table: 'parked_deliveries' | 'ingested_events',
    retentionHours: number,
    limit: number,
  ): Promise<number> {
    const rows: { n: number }[] = await tx.query(
      `WITH pruned AS (
         DELETE FROM ${table} WHERE ctid = ANY(ARRAY(
           SELECT ctid FROM ${table} WHERE received_at < now() - make_interval(hours => $1) LIMIT $2))
         RETURNING 1)
       SELECT count(*)::int AS n FROM pruned`,
      [retentionHours, limit],
    );
    return rows[0]!.n;
  }

  /** Contacts named by (campaign, phone) in a workspace; pairs not in their campaign, or whose campaign is another workspace's, are absent. Keyed by {@link phoneKey}. */
  async contactsByPhone(
    tx: Queryable,
    pairs: readonly { workspaceId: string; campaignId: string; phone: string }[],
  ): Promise<Map<string, ContactRef>> {
    if (pairs.length === 0) return new Map();
    const rows: { workspace_id: string; id: string; campaign_id: string; phone: string }[] = await tx.query(
      `SELECT k.workspace_id, c.id, c.campaign_id, c.phone
       FROM unnest($1::bigint[], $2::char(24)[], $3::text[]) AS p(workspace_id, campaign_id, phone)
       JOIN campaigns k ON k.id = p.campaign_id AND k.workspace_id = p.workspace_id
       JOIN campaign_contacts c ON c.campaign_id = p.campaign_id AND c.phone = p.phone`,
      [pairs.map((p) => p.workspaceId), pairs.map((p) => p.campaignId), pairs.map((p) => p.phone)],
    );
    return new Map(
      rows.map((r) => [
        phoneKey(String(r.workspace_id), r.campaign_id, r.phone),
        { contactId: r.id, campaignId: r.campaign_id },
      ]),
    );
  }

  /** Contacts of WhatsApp message ids registered in their workspaces, keyed by {@link messageKey}. */
  async contactsByMessageId(tx: Queryable, ids: readonly ScopedMessageId[]): Promise<Map<string, ContactRef>> {
    if (ids.length === 0) return new Map();
    const rows: { workspace_id: string; whatsapp_message_id: string; contact_id: string; campaign_id: string }[] =
      await tx.query(
        `SELECT m.workspace_id, m.whatsapp_message_id, m.contact_id, m.campaign_id
         FROM unnest($1::bigint[], $2::text[]) AS k(workspace_id, message_id)
         JOIN contact_messages m ON m.workspace_id = k.workspace_id AND m.whatsapp_message_id = k.message_id`,
        [ids.map((i) => i.workspaceId), ids.map((i) => i.messageId)],
      );
    return new Map(
      rows.map((r) => [
        messageKey(String(r.workspace_id), r.whatsapp_message_id),
        { contactId: r.contact_id, campaignId: r.campaign_id },
      ]),
    );
  }

  /**
   * Registers WhatsApp message ids to contacts, each in its workspace, as if one after another in
   * the given order: the first registration of an id takes it, unless the id is registered
   * already. Returns the registrations that did not take (the id is another contact's); one to
   * the contact that has the id is a no-op. Callers hold the ids' locks ({@link lockMessageIds}),
   * so a registration committed by another transaction is seen here; were it not, every
   * registration of that id would be returned as refused rather than silently dropped.
   */
  async registerMessageIds<R extends MessageRegistration>(tx: Queryable, registrations: readonly R[]): Promise<R[]> {
    if (registrations.length === 0) return [];
    const first = new Map<string, R>();
    for (const r of registrations) {
      const key = messageKey(r.workspaceId, r.messageId);
      if (!first.has(key)) first.set(key, r);
    }
    const input = [...first.values()].sort(
      (a, b) => compareDecimal(a.workspaceId, b.workspaceId) || compareText(a.messageId, b.messageId),
    );
    // The ids this statement did not insert, each with the contact that has it (null: not visible).
    const rows: { workspace_id: string; message_id: string; owner: string | null }[] = await tx.query(
      `WITH input AS (
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::char(24)[])
           AS i(workspace_id, message_id, contact_id, campaign_id)),
       added AS (
         INSERT INTO contact_messages (workspace_id, whatsapp_message_id, contact_id, campaign_id)
         SELECT workspace_id, message_id, contact_id, campaign_id FROM input
         ON CONFLICT (workspace_id, whatsapp_message_id) DO NOTHING
         RETURNING workspace_id, whatsapp_message_id)
       SELECT i.workspace_id, i.message_id, m.contact_id::text AS owner
       FROM input i
       LEFT JOIN contact_messages m ON m.workspace_id = i.workspace_id AND m.whatsapp_message_id = i.message_id
       WHERE NOT EXISTS (
         SELECT 1 FROM added a WHERE a.workspace_id = i.workspace_id AND a.whatsapp_message_id = i.message_id)`,
      [
        input.map((r) => r.workspaceId),
        input.map((r) => r.messageId),
        input.map((r) => r.contact.contactId),
        input.map((r) => r.contact.campaignId),
      ],
    );
    const owners = new Map<string, string | null>([...first].map(([key, r]) => [key, String(r.contact.contactId)]));
    for (const row of rows) owners.set(messageKey(String(row.workspace_id), row.message_id), row.owner);
    return registrations.filter(
      (r) => owners.get(messageKey(r.workspaceId, r.messageId)) !== String(r.contact.contactId),
    );
  }

  /** Records event ids; returns those seen for the first time (a resent id is left out). */
  async claimEventIds(tx: Queryable, workspaceId: string, eventIds: readonly string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const sorted = [...new Set(eventIds)].sort();
    const rows: { event_id: string }[] = await tx.query(
      `INSERT INTO ingested_events (workspace_id, event_id) SELECT $1, unnest($2::text[])
       ON CONFLICT DO NOTHING RETURNING event_id`,
      [workspaceId, sorted],
    );
    return new Set(rows.map((r) => r.event_id));
  }

  /**
   * Reads and locks contacts, in id order so that concurrent batches cannot deadlock, until the
   * transaction ends: no concurrent batch can change them between this read and the write back.
   */
  async lockContacts(tx: Queryable, contacts: readonly ContactRef[]): Promise<Map<string, ContactState>> {
    const rows: ContactRow[] = await tx.query(
      `SELECT ${STATE_COLUMNS}
       FROM unnest($1::char(24)[], $2::bigint[]) AS k(campaign_id, id)
       JOIN campaign_contacts c ON c.campaign_id = k.campaign_id AND c.id = k.id
       ORDER BY c.id FOR UPDATE OF c`,
      [contacts.map((c) => c.campaignId), contacts.map((c) => c.contactId)],
    );
    return new Map(rows.map((row) => [row.id, toState(row)]));
  }

  /**
   * Resolves registered message ids to their contacts and current states, without locking: a
   * snapshot to tell which facts can change nothing (the lattice only grows, so a fact that is a
   * no-op against a snapshot is a no-op against any later state) before any row is locked.
   */
  async contactStatesByMessageId(
    tx: Queryable,
    ids: readonly ScopedMessageId[],
  ): Promise<{ refs: Map<string, ContactRef>; states: Map<string, ContactState> }> {
    const rows: (ContactRow & { workspace_id: string; whatsapp_message_id: string })[] = await tx.query(
      `SELECT m.workspace_id, m.whatsapp_message_id, ${STATE_COLUMNS}
       FROM unnest($1::bigint[], $2::text[]) AS k(workspace_id, message_id)
       JOIN contact_messages m ON m.workspace_id = k.workspace_id AND m.whatsapp_message_id = k.message_id
       JOIN campaign_contacts c ON c.campaign_id = m.campaign_id AND c.id = m.contact_id`,
      [ids.map((i) => i.workspaceId), ids.map((i) => i.messageId)],
    );
    const refs = new Map<string, ContactRef>();
    const states = new Map<string, ContactState>();
    for (const row of rows) {
      refs.set(messageKey(String(row.workspace_id), row.whatsapp_message_id), {
        contactId: row.id,
        campaignId: row.campaign_id,
      });
      states.set(row.id, toState(row));
    }
    return { refs, states };
  }

  /** Writes back the states of changed contacts, in one statement. */
  async writeContacts(
    tx: Queryable,
    states: ReadonlyMap<string, { campaignId: string; state: ContactState }>,
  ): Promise<void> {
    if (states.size === 0) return;
    const ids: string[] = [];
    const campaignIds: string[] = [];
    const flags: number[] = [];
    const times: (Date | null)[][] = KINDS.map(() => []);
    const codes: (number | null)[] = [];
    const titles: (string | null)[] = [];
    const failureAts: (Date | null)[] = [];
    for (const [id, { campaignId, state }] of states) {
      ids.push(id);
      campaignIds.push(campaignId);
      flags.push(state.flags);
      KINDS.forEach((kind, i) => times[i]!.push(state.firstAt[kind] ?? null));
      codes.push(state.failure?.code ?? null);
      titles.push(state.failure?.title ?? null);
      failureAts.push(state.failure?.at ?? null);
    }
    const timeParams = KINDS.map((_, i) => `$${i + 4}::timestamptz[]`).join(', ');
    const n = KINDS.length + 4;
    await tx.query(
      `UPDATE campaign_contacts c SET flags = v.flags,
         ${KINDS.map((k) => `${TIME_COLUMNS[k]} = v.${TIME_COLUMNS[k]}`).join(', ')},
         failure_code = v.failure_code, failure_title = v.failure_title, failure_at = v.failure_at
       FROM unnest($1::char(24)[], $2::bigint[], $3::smallint[], ${timeParams}, $${n}::int[], $${n + 1}::text[],
                   $${n + 2}::timestamptz[])
         AS v(campaign_id, id, flags, ${KINDS.map((k) => TIME_COLUMNS[k]).join(', ')}, failure_code, failure_title, failure_at)
       WHERE c.campaign_id = v.campaign_id AND c.id = v.id`,
      [campaignIds, ids, flags, ...times, codes, titles, failureAts],
    );
  }

  /**
   * Moves counters and failure reasons by the batch's changes: one statement per table,
   * campaigns locked in id order. Only campaigns whose numbers moved get a new `updated_at`.
   */
  async applyCampaignChanges(tx: Queryable, changes: ReadonlyMap<string, CampaignChange>): Promise<void> {
    const ids = [...changes.keys()].sort();
    if (ids.length === 0) return;
    // Several rows: lock them in id order first, so concurrent batches cannot deadlock.
    // One row (the usual batch): the UPDATE's own lock is all there is; no round trip spared on it.
    if (ids.length > 1) {
      await tx.query(
        `SELECT 1 FROM campaign_counters WHERE campaign_id = ANY($1::char(24)[]) ORDER BY campaign_id FOR UPDATE`,
        [ids],
      );
    }
    const column = (name: keyof CampaignChange['counters']) => ids.map((id) => changes.get(id)!.counters[name]);
    await tx.query(
      `UPDATE campaign_counters k SET
         touched = k.touched + v.touched, sent = k.sent + v.sent, delivered = k.delivered + v.delivered,
         read = k.read + v.read, clicked = k.clicked + v.clicked, replied = k.replied + v.replied,
         failed = k.failed + v.failed, updated_at = now()
       FROM unnest($1::char(24)[], $2::int[], $3::int[], $4::int[], $5::int[], $6::int[], $7::int[], $8::int[])
         AS v(campaign_id, touched, sent, delivered, read, clicked, replied, failed)
       WHERE k.campaign_id = v.campaign_id`,
      [
        ids,
        column('touched'),
        column('sent'),
        column('delivered'),
        column('read'),
        column('clicked'),
        column('replied'),
        column('failed'),
      ],
    );
    const reasonCampaigns: string[] = [];
    const reasonCodes: number[] = [];
    const reasonTitles: string[] = [];
    const reasonCounts: number[] = [];
    for (const id of ids) {
      const reasons = [...changes.get(id)!.failureReasons].sort(([a], [b]) => a - b);
      for (const [code, { title, count }] of reasons) {
        if (count === 0) continue;
        reasonCampaigns.push(id);
        reasonCodes.push(code);
        reasonTitles.push(title);
        reasonCounts.push(count);
      }
    }
    if (reasonCampaigns.length === 0) return;
    await tx.query(
      `INSERT INTO campaign_failure_reasons AS r (campaign_id, code, title, contacts)
       SELECT * FROM unnest($1::char(24)[], $2::int[], $3::text[], $4::int[])
       ON CONFLICT (campaign_id, code) DO UPDATE SET
         contacts = r.contacts + excluded.contacts,
         title = CASE WHEN excluded.contacts > 0 THEN excluded.title ELSE r.title END`,
      [reasonCampaigns, reasonCodes, reasonTitles, reasonCounts],
    );
  }
}
