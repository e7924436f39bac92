import type { DataSource, EntityManager } from 'typeorm';
import type { DeliveryFact } from '../domain/delivery-event';
import type { Logger } from '../logger';
import type { ContactRef, DeliveryStore, ParkedFact } from '../store/delivery.store';
import type { ChangeFeed } from '../store/change-feed';
import type { ResolvedFact } from './delivery-applier';
import { applyResolvedFacts } from './delivery-applier';
import { joinFact, sameContactState } from '../domain/contact-state';
import type { WhatsAppFact } from './whatsapp.normalizer';

/** What one request brings to be committed: all of it in one transaction, or none. */
export interface DeliveryWork {
  /** WhatsApp message ids to register to contacts (the dispatcher's `message.sent`) */
  registrations: { messageId: string; contact: ContactRef }[];
  /** facts about known contacts; a fact with a claim is skipped when its event id was applied before */
  facts: { contact: ContactRef; fact: DeliveryFact; claim?: { workspaceId: string; eventId: string } }[];
  /** facts from Meta, named by message id (and maybe campaign id + recipient) */
  whatsapp: WhatsAppFact[];
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
      if (batch.length === 1) {
        this.logger.warn('ingest.commit_failed', { error });
        batch[0]!.reject(error);
        return;
      }
      // Isolate: each request on its own, so a request that cannot commit fails alone.
      for (const p of batch) {
        try {
          await this.commitWorks([p.work]);
          p.resolve();
        } catch (own) {
          this.logger.warn('ingest.commit_failed', { error: own });
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
    const registrations = works.flatMap((w) => w.registrations);
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
    await this.store.lockMessageIds(
      tx,
      registrations.map((r) => r.messageId),
    );

    // Meta echoes biz_opaque_callback_data: campaign id + recipient name the contact at once,
    // and register the message id, so later replies (which carry only context.id) resolve too.
    const byRecipient = await this.store.contactsByPhone(
      tx,
      whatsapp.flatMap((f) => (f.campaignId && f.recipient ? [{ campaignId: f.campaignId, phone: f.recipient }] : [])),
    );
    const byMessageId: WhatsAppFact[] = [];
    const opaqueRegistrations: DeliveryWork['registrations'] = [];
    for (const f of whatsapp) {
      const contact = f.campaignId && f.recipient ? byRecipient.get(`${f.campaignId}|${f.recipient}`) : undefined;
      if (contact) {
        facts.push({ contact, fact: f.fact });
        opaqueRegistrations.push({ messageId: f.messageId, contact });
      } else {
        byMessageId.push(f);
      }
    }
    await this.store.lockMessageIds(
      tx,
      opaqueRegistrations.map((r) => r.messageId),
    );
    registrations.push(...opaqueRegistrations);
    // The first registration of a message id wins; the dispatcher path refused clashes beforehand.
    await this.store.registerMessageIds(tx, registrations);

    const registeredIds = [...new Set(registrations.map((r) => r.messageId))];
    const known = await this.store.contactsByMessageId(tx, [
      ...new Set([...byMessageId.map((f) => f.messageId), ...registeredIds]),
    ]);
    const unknown = [...new Set(byMessageId.filter((f) => !known.has(f.messageId)).map((f) => f.messageId))];
    if (unknown.length > 0) {
      // Lock, then look again: a registration committed meanwhile is seen now, and one still to
      // come waits for this transaction and then finds what it parks.
      await this.store.lockMessageIds(tx, unknown);
      for (const [id, contact] of await this.store.contactsByMessageId(tx, unknown)) known.set(id, contact);
    }
    facts.push(...(await this.resolveOrPark(tx, byMessageId, known)));
    const unparked = await this.store.unpark(tx, registeredIds);
    for (const p of unparked) {
      const contact = known.get(p.messageId);
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
  private async applyByMessageId(tx: EntityManager, whatsapp: WhatsAppFact[]): Promise<string[]> {
    const { refs, states } = await this.store.contactStatesByMessageId(tx, [
      ...new Set(whatsapp.map((f) => f.messageId)),
    ]);
    const unknown = [...new Set(whatsapp.filter((f) => !refs.has(f.messageId)).map((f) => f.messageId))];
    if (unknown.length > 0) {
      // As on the general path: lock, then look again, then park what is still unknown.
      await this.store.lockMessageIds(tx, unknown);
      for (const [id, contact] of await this.store.contactsByMessageId(tx, unknown)) refs.set(id, contact);
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
    return applyResolvedFacts(tx, this.store, facts);
  }

  /** Facts whose message id names a contact in `known`; the others parked (the caller holds their locks). */
  private async resolveOrPark(
    tx: EntityManager,
    whatsapp: readonly WhatsAppFact[],
    known: ReadonlyMap<string, ContactRef>,
  ): Promise<ResolvedFact[]> {
    const facts: ResolvedFact[] = [];
    const toPark: ParkedFact[] = [];
    for (const f of whatsapp) {
      const contact = known.get(f.messageId);
      if (contact) facts.push({ contact, fact: f.fact });
      else toPark.push({ messageId: f.messageId, fact: f.fact });
    }
    this.totals.parked += await this.store.park(tx, toPark);
    return facts;
  }

  /** Drops parked facts past the retention window. */
  async pruneParked(retentionHours: number): Promise<number> {
    const pruned = await this.store.pruneParked(this.db, retentionHours);
    if (pruned > 0) this.logger.info('ingest.parked_pruned', { pruned, retentionHours });
    return pruned;
  }
}
