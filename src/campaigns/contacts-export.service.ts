import type { Readable } from 'node:stream';
import { DomainError } from '../domain/errors';
import type { ContactFilterName } from '../store/campaign-contacts.store';
import type { ContactsExportStore } from '../store/contacts-export.store';
import type { CampaignContactsService } from './campaign-contacts.service';

/** Exports one workspace may have in flight at once, on one instance. @default 2 */
export const MAX_EXPORTS_PER_WORKSPACE = 2;
/** Seconds a client told to wait for an export slot is told to wait. @default 5 */
const EXPORT_RETRY_AFTER_S = 5;

/** CSV exports of a campaign's contacts, at most {@link MAX_EXPORTS_PER_WORKSPACE} at once per workspace. */
export class ContactsExportService {
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly contacts: CampaignContactsService,
    private readonly store: ContactsExportStore,
    private readonly maxPerWorkspace = MAX_EXPORTS_PER_WORKSPACE,
  ) {}

  /**
   * The CSV stream of the contacts counted in `filter`. BAD_USER_INPUT for a bad id, NOT_FOUND for
   * a campaign the workspace does not own, RATE_LIMITED while the workspace has its exports in
   * flight. The slot is freed when the stream ends or is destroyed.
   */
  async open(workspaceId: string, campaignId: string, filter: ContactFilterName): Promise<Readable> {
    await this.contacts.checkCampaign(workspaceId, campaignId);
    return this.limited(workspaceId, () => this.store.open(campaignId, filter));
  }

  /**
   * Runs `open` in one of the workspace's export slots: RATE_LIMITED while they are all taken. The
   * slot is freed when the stream closes (ended or destroyed), or at once when `open` fails.
   */
  async limited(workspaceId: string, open: () => Promise<Readable>): Promise<Readable> {
    const running = this.inFlight.get(workspaceId) ?? 0;
    if (running >= this.maxPerWorkspace) {
      throw new DomainError(
        'RATE_LIMITED',
        `At most ${this.maxPerWorkspace} exports at once per workspace; retry in ${EXPORT_RETRY_AFTER_S} s`,
        undefined,
        EXPORT_RETRY_AFTER_S,
      );
    }
    this.inFlight.set(workspaceId, running + 1);
    let freed = false;
    const free = () => {
      if (freed) return;
      freed = true;
      const left = (this.inFlight.get(workspaceId) ?? 1) - 1;
      if (left > 0) this.inFlight.set(workspaceId, left);
      else this.inFlight.delete(workspaceId);
    };
    try {
      const stream = await open();
      stream.once('close', free);
      return stream;
    } catch (error) {
      free();
      throw error;
    }
  }
}
