import type { DataSource, EntityManager } from 'typeorm';
import type { DeliveryFact } from '../domain/delivery-event';
import type { Logger } from '../logger';
import type { ContactRef, DeliveryStore, MessageRegistration, ParkedFact } from '../store/delivery.store';
import { messageKey, phoneKey } from '../store/delivery.store';
import type { ItemProblem } from '../domain/errors';
import { DomainError } from '../domain/errors';
import type { ChangeFeed } from '../store/change-feed';
import type { ResolvedFact } from './delivery-applier';
import { applyResolvedFacts, KEYED_PLANS_FROM } from './delivery-applier';
import { joinFact, sameContactState } from '../domain/contact-state';
import type { WhatsAppFact } from './whatsapp.normalizer';

/** A fact from Meta, read in the workspace that owns the number it came through. */
export interface WorkspaceFact extends WhatsAppFact {
  workspaceId: string;
}

/** A message id to register to a contact of its workspace. */
export interface Registration extends MessageRegistration {
  /** the dispatcher event that asks for it: when the id is another contact's, the request fails with 422 naming it */
  index?: number;
}

/** What one request brings to be committed: all of it in one transaction, or none. */
export interface DeliveryWork {
  /** WhatsApp message ids to register to contacts (the dispatcher's `message.sent`) */
  registrations: Registration[];
  /** facts about known contacts; a fact with a claim is skipped when its event id was applied before */
  facts: { contact: ContactRef; fact: DeliveryFact; claim?: { workspaceId: string; eventId: string } }[];
  /** facts from Meta, named by message id (and maybe campaign id + recipient) within their workspace */
  whatsapp: WorkspaceFact[];
}

/** How much the retention prune may do per run. */
export interface PruneOptions {
  /** parked facts older than this are dropped */
  parkedRetentionHours: number;
  /** dispatcher event ids older than this are forgotten (a resend after that is applied again: a no-op on the lattice) */
  eventIdRetentionHours: number;
  /** rows per statement, each its own short transaction @default 5000 */
  batchSize?: number;
  /** statements per table per run; what is left waits for the next run @default 100 */
  maxBatches?: number;
}

/** What one prune run did. */
export interface PruneReport {
  parked: number;
  eventIds: number;
  batches: number;
  /** the slowest statement, in ms: how long a concurrent writer could have waited on it */
  longestBatchMs: number;
  /** a table still had rows past its window when the run stopped at `maxBatches` */
  more: boolean;
}

export interface PipelineOptions {
  /** facts per transaction, at most @default 5000 */
  maxBatchFacts?: number;
  /** transactions under way at once: one, since every batch ends on its campaigns' counters rows anyway @default 1 */
  maxInFlight?: number;
}

interface Pending {
  work: DeliveryWork;
  size: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const sizeOf = (work: DeliveryWork) => work.registrations.length + work.facts.length + work.whatsapp.length;

/**
 * The one way events get in. Requests that arrive together are grouped into one transaction
 * (group commit): set-based SQL, each campaign's counters row updated once per batch, and every
 * request answered only after the commit that holds its events. A failed batch is retried request
 * by request, so one request cannot fail another's.
 */
export class DeliveryPipeline {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly idle: (() => void)[] = [];
  private readonly maxBatchFacts: number;
  private readonly maxInFlight: number;
  /** totals since start, for logs and benchmarks */
  readonly totals = { batches: 0, facts: 0, skipped: 0, parked: 0, unparked: 0, duplicates: 0 };

  constructor(
    private readonly db: DataSource,
    private readonly store: DeliveryStore,
    private readonly logger: Logger,
    private readonly feed: ChangeFeed,
    options: PipelineOptions = {},
  ) {
    this.maxBatchFacts = options.maxBatchFacts ?? 5000;
    this.maxInFlight = options.maxInFlight ?? 1;
  }

  /** Resolves once the work is committed; rejects when it could not be (the caller answers 5xx). */
  submit(work: DeliveryWork): Promise<void> {
    if (sizeOf(work) === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.queue.push({ work, size: sizeOf(work), resolve, reject });
      this.schedule();
    });
  }

  /** Waits until everything submitted so far is settled. */
  drain(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.queue.length === 0 || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    // setImmediate: requests whose bodies were read in the same turn of the event loop share a batch.
    setImmediate(() => {
      this.scheduled = false;
      if (this.queue.length === 0 || this.inFlight >= this.maxInFlight) return;
      const batch: Pending[] = [];
      let size = 0;
      while (this.queue.length > 0 && (batch.length === 0 || size + this.queue[0]!.size <= this.maxBatchFacts)) {
        const next = this.queue.shift()!;
        size += next.size;
        batch.push(next);
      }
      this.inFlight++;
      void this.commit(batch).finally(() => {
        this.inFlight--;
        this.schedule();
        if (this.queue.length === 0 && this.inFlight === 0) for (const done of this.idle.splice(0)) done();
      });
      this.schedule();
    });
  }

  private async commit(batch: Pending[]): Promise<void> {
    try {
      await this.commitWorks(batch.map((p) => p.work));
      for (const p of batch) p.resolve();
    } catch (error) {
      if (error instanceof RefusedRegistrations) {
        // Only the requests whose registrations lost fail (422); the rest commit together again.
        const rest = batch.filter((p, i) => {
          const refusal = error.byWork.get(i);
          if (refusal) p.reject(refusal);
          return !refusal;
        });
        if (rest.length > 0) await this.commit(rest);
        return;
      }
      if (batch.length === 1) {
        if (!(error instanceof DomainError)) this.logger.warn('ingest.commit_failed', { error });
        batch[0]!.reject(error);
        return;
      }
      // Isolate: each request on its own, so a request that cannot commit fails alone.
      for (const p of batch) {
        try {
          await this.commitWorks([p.work]);
          p.resolve();
        } catch (own) {
          if (!(own instanceof DomainError)) this.logger.warn('ingest.commit_failed', { error: own });
          p.reject(own);
        }
      }
    }
  }

  private async commitWorks(works: DeliveryWork[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await this.feed.announce(tx, await this.apply(tx, works));
    });
    this.totals.batches++;
  }

  /**
   * The batch inside one transaction. Lock order everywhere: message ids (advisory, only where a
   * registration or a park may race), contacts, counters.
   */
  private async apply(tx: EntityManager, works: DeliveryWork[]): Promise<string[]> {
    if (
      works.every((w) => w.registrations.length === 0 && w.facts.length === 0 && w.whatsapp.every((f) => !f.campaignId))
    ) {
      return this.applyByMessageId(
        tx,
        works.flatMap((w) => w.whatsapp),
      );
    }
    const registrations: (Registration & { work?: number })[] = works.flatMap((w, work) =>
      w.registrations.map((r) => ({ ...r, work })),
    );
    const whatsapp = works.flatMap((w) => w.whatsapp);
    const facts: ResolvedFact[] = [];
    const claimed: { fact: ResolvedFact; claim: { workspaceId: string; eventId: string } }[] = [];
    for (const w of works) {
      for (const f of w.facts) {
        if (f.claim) claimed.push({ fact: { contact: f.contact, fact: f.fact }, claim: f.claim });
        else facts.push({ contact: f.contact, fact: f.fact });
      }
    }
    // Registrations take their message ids' locks before anything else of theirs.
    await this.store.lockMessageIds(tx, registrations);

    // Meta echoes biz_opaque_callback_data: campaign id + recipient name the contact at once (only
    // among the campaigns of the number's workspace), and register the message id, so later
    // replies (which carry only context.id) resolve too.
    const byRecipient = await this.store.contactsByPhone(
      tx,
      whatsapp.flatMap((f) =>
        f.campaignId && f.recipient
          ? [{ workspaceId: f.workspaceId, campaignId: f.campaignId, phone: f.recipient }]
          : [],
      ),
    );
    const byMessageId: WorkspaceFact[] = [];
    const opaqueRegistrations: Registration[] = [];
    for (const f of whatsapp) {
      const contact =
        f.campaignId && f.recipient ? byRecipient.get(phoneKey(f.workspaceId, f.campaignId, f.recipient)) : undefined;
      if (contact) {
        facts.push({ contact, fact: f.fact });
        opaqueRegistrations.push({ workspaceId: f.workspaceId, messageId: f.messageId, contact });
      } else {
        byMessageId.push(f);
      }
    }
    await this.store.lockMessageIds(tx, opaqueRegistrations);
    registrations.push(...opaqueRegistrations);
    // The first registration of a message id in a workspace wins. A dispatcher registration that
    // loses (to an earlier one, or to a concurrent request's) fails its request with 422: never a
    // 200 whose registration was dropped. One from callback data that loses is simply not made.
    const refused = (await this.store.registerMessageIds(tx, registrations)).filter((r) => r.work !== undefined);
    if (refused.length > 0) throw new RefusedRegistrations(refused);

    const registered = uniqueIds(registrations);
    const known = await this.store.contactsByMessageId(tx, uniqueIds([...byMessageId, ...registered]));
    const unknown = uniqueIds(byMessageId.filter((f) => !known.has(messageKey(f.workspaceId, f.messageId))));
    if (unknown.length > 0) {
      // Lock, then look again: a registration committed meanwhile is seen now, and one still to
      // come waits for this transaction and then finds what it parks.
      await this.store.lockMessageIds(tx, unknown);
      for (const [key, contact] of await this.store.contactsByMessageId(tx, unknown)) known.set(key, contact);
    }
    facts.push(...(await this.resolveOrPark(tx, byMessageId, known)));
    const unparked = await this.store.unpark(tx, registered);
    for (const p of unparked) {
      const contact = known.get(messageKey(p.workspaceId, p.messageId));
      if (contact) facts.push({ contact, fact: p.fact });
    }
    this.totals.unparked += unparked.length;

    if (claimed.length > 0) {
      const byWorkspace = new Map<string, string[]>();
      for (const { claim } of claimed) {
        const ids = byWorkspace.get(claim.workspaceId) ?? [];
        ids.push(claim.eventId);
        byWorkspace.set(claim.workspaceId, ids);
      }
      const fresh = new Set<string>();
      for (const [workspaceId, ids] of byWorkspace) {
        for (const id of await this.store.claimEventIds(tx, workspaceId, ids)) fresh.add(`${workspaceId}|${id}`);
      }
      for (const { fact, claim } of claimed) {
        const key = `${claim.workspaceId}|${claim.eventId}`;
        if (fresh.delete(key)) facts.push(fact);
        else this.totals.duplicates++;
      }
    }
    this.totals.facts += facts.length;
    return applyResolvedFacts(tx, this.store, facts);
  }

  /**
   * The usual webhook batch: statuses and replies named by message id alone. An unlocked snapshot
   * resolves them and drops the facts that can change nothing (Meta's redeliveries, late repeats),
   * so that only contacts that may change are locked and written.
   */
  private async applyByMessageId(tx: EntityManager, whatsapp: WorkspaceFact[]): Promise<string[]> {
    const ids = uniqueIds(whatsapp);
    // Every statement of this path goes by key (no registration's anti-join here): a large batch
    // is planned so from its snapshot on, which otherwise hashes the whole campaign as well.
    const keyed = ids.length >= KEYED_PLANS_FROM;
    if (keyed) await this.store.preferKeyedPlans(tx);
    const { refs, states } = await this.store.contactStatesByMessageId(tx, ids);
    const unknown = uniqueIds(whatsapp.filter((f) => !refs.has(messageKey(f.workspaceId, f.messageId))));
    if (unknown.length > 0) {
      // As on the general path: lock, then look again, then park what is still unknown.
      await this.store.lockMessageIds(tx, unknown);
      for (const [key, contact] of await this.store.contactsByMessageId(tx, unknown)) refs.set(key, contact);
    }
    const resolved = await this.resolveOrPark(tx, whatsapp, refs);
    const byContact = new Map<string, ResolvedFact[]>();
    for (const f of resolved) {
      const list = byContact.get(f.contact.contactId);
      if (list) list.push(f);
      else byContact.set(f.contact.contactId, [f]);
    }
    const facts: ResolvedFact[] = [];
    for (const [contactId, contactFacts] of byContact) {
      const snapshot = states.get(contactId);
      const noOp =
        snapshot &&
        sameContactState(
          snapshot,
          contactFacts.reduce((s, f) => joinFact(s, f.fact), snapshot),
        );
      if (noOp) this.totals.skipped += contactFacts.length;
      else facts.push(...contactFacts);
    }
    this.totals.facts += facts.length;
    return applyResolvedFacts(tx, this.store, facts, { keyedPlans: keyed });
  }

  /** Facts whose message id names a contact in `known`; the others parked (the caller holds their locks). */
  private async resolveOrPark(
    tx: EntityManager,
    whatsapp: readonly WorkspaceFact[],
    known: ReadonlyMap<string, ContactRef>,
  ): Promise<ResolvedFact[]> {
    const facts: ResolvedFact[] = [];
    const toPark: ParkedFact[] = [];
    for (const f of whatsapp) {
      const contact = known.get(messageKey(f.workspaceId, f.messageId));
      if (contact) facts.push({ contact, fact: f.fact });
      else toPark.push({ workspaceId: f.workspaceId, messageId: f.messageId, fact: f.fact });
    }
    this.totals.parked += await this.store.park(tx, toPark);
    return facts;
  }

  /** Drops parked facts past the retention window (in bounded batches); returns how many. */
  async pruneParked(retentionHours: number): Promise<number> {
    const report = await this.pruneRetained({ parkedRetentionHours: retentionHours, eventIdRetentionHours: 0 });
    return report.parked;
  }

  /**
   * Drops parked facts and dispatcher event ids past their retention windows, in batches of
   * `batchSize` rows, each one statement in its own transaction: no lock is held for long, and
   * ingestion goes on between batches. A window of 0 hours skips that table.
   */
  async pruneRetained(options: PruneOptions): Promise<PruneReport> {
    const batchSize = options.batchSize ?? 5000;
    const maxBatches = options.maxBatches ?? 100;
    const report: PruneReport = { parked: 0, eventIds: 0, batches: 0, longestBatchMs: 0, more: false };
    const tables = [
      { table: 'parked_deliveries', hours: options.parkedRetentionHours, field: 'parked' },
      { table: 'ingested_events', hours: options.eventIdRetentionHours, field: 'eventIds' },
    ] as const;
    for (const { table, hours, field } of tables) {
      if (hours <= 0) continue;
      for (let batch = 0; ; batch++) {
        if (batch === maxBatches) {
          report.more = true;
          break;
        }
        const started = performance.now();
        const pruned = await this.store.pruneOlderThan(this.db, table, hours, batchSize);
        report.longestBatchMs = Math.max(report.longestBatchMs, performance.now() - started);
        report.batches++;
        report[field] += pruned;
        if (pruned < batchSize) break;
      }
    }
    if (report.parked > 0 || report.eventIds > 0) this.logger.info('ingest.pruned', { ...report });
    return report;
  }
}

/** Thrown inside a batch's transaction: the requests (by position in the batch) whose registrations lost, each with its 422. */
class RefusedRegistrations extends Error {
  readonly byWork = new Map<number, DomainError>();

  constructor(refused: readonly (Registration & { work?: number })[]) {
    super('registrations refused');
    const problems = new Map<number, ItemProblem[]>();
    for (const r of refused) {
      const list = problems.get(r.work!) ?? [];
      list.push({ index: r.index ?? 0, reason: `message_id ${r.messageId} is registered to another contact` });
      problems.set(r.work!, list);
    }
    for (const [work, list] of problems) {
      list.sort((a, b) => a.index - b.index);
      this.byWork.set(
        work,
        new DomainError('UNPROCESSABLE', `${list.length} event(s) name no contact they can change`, list),
      );
    }
  }
}

/** Distinct scoped message ids, in first-seen order. */
function uniqueIds(items: readonly { workspaceId: string; messageId: string }[]) {
  const seen = new Map<string, { workspaceId: string; messageId: string }>();
  for (const { workspaceId, messageId } of items) {
    const key = messageKey(workspaceId, messageId);
    if (!seen.has(key)) seen.set(key, { workspaceId, messageId });
  }
  return [...seen.values()];
}
