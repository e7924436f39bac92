import { badInput, campaignNotFound } from '../domain/errors';
import { isCampaignId } from '../domain/identifiers';
import type { CampaignContactRow, CampaignContactsStore, ContactFilterName } from '../store/campaign-contacts.store';

/** Contacts in one drill-down page, at most. @default 500 */
export const MAX_CONTACTS_PAGE = 500;

const PHONE = /^\+[0-9]{8,15}$/;
const CURSOR_PREFIX = 'p1:';

/** An opaque position in a drill-down: the last phone of the page, base64url. */
export function encodeContactCursor(phone: string): string {
  return Buffer.from(`${CURSOR_PREFIX}${phone}`).toString('base64url');
}

/** The phone a cursor stands after; BAD_USER_INPUT for anything this gateway did not make. */
export function decodeContactCursor(cursor: string): string {
  const text = /^[A-Za-z0-9_-]{1,64}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const phone = text.startsWith(CURSOR_PREFIX) ? text.slice(CURSOR_PREFIX.length) : '';
  if (!PHONE.test(phone) || encodeContactCursor(phone) !== cursor) throw badInput('Invalid cursor');
  return phone;
}

export interface ContactPage {
  rows: CampaignContactRow[];
  hasNextPage: boolean;
}

/** The audience behind a campaign's numbers (DESIGN section 12). */
export class CampaignContactsService {
  constructor(private readonly contacts: CampaignContactsStore) {}

  /**
   * One page of the contacts counted in `filter`, by phone. BAD_USER_INPUT for a bad id, page size
   * or cursor; NOT_FOUND for a campaign that is missing or another workspace's.
   */
  async page(
    workspaceId: string,
    campaignId: string,
    options: { filter: ContactFilterName; first: number; after: string | null },
  ): Promise<ContactPage> {
    await this.checkCampaign(workspaceId, campaignId);
    if (!Number.isInteger(options.first) || options.first < 0 || options.first > MAX_CONTACTS_PAGE) {
      throw badInput(`first must be between 0 and ${MAX_CONTACTS_PAGE}`);
    }
    const after = options.after ? decodeContactCursor(options.after) : null;
    const rows = await this.contacts.page(campaignId, options.filter, after, options.first + 1);
    return { rows: rows.slice(0, options.first), hasNextPage: rows.length > options.first };
  }

  /** BAD_USER_INPUT for a malformed id, NOT_FOUND for a campaign the workspace does not own. */
  async checkCampaign(workspaceId: string, campaignId: string): Promise<void> {
    if (!isCampaignId(campaignId)) throw badInput('Invalid campaign_id');
    if (!(await this.contacts.owns(workspaceId, campaignId))) throw campaignNotFound();
  }
}
