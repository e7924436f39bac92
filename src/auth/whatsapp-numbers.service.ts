import type { DataSource } from 'typeorm';
import { WhatsAppNumberStore } from '../store/whatsapp-number.store';
import type { WhatsAppNumberRow } from '../store/whatsapp-number.store';
import { WorkspaceStore } from '../store/workspace.store';

/** Meta's `phone_number_id`: digits (15 or 16 today; up to 64 accepted). */
export const isPhoneNumberId = (value: string): boolean => /^[0-9]{1,64}$/.test(value);

/** What `add` did. */
export type BindOutcome =
  | { outcome: 'bound' | 'unchanged'; binding: WhatsAppNumberRow }
  /** the number is another workspace's: nothing changed */
  | { outcome: 'taken'; binding: WhatsAppNumberRow };

/**
 * The operator's binding of WhatsApp numbers to workspaces: a webhook change is read in the
 * workspace that owns its number, and a number belongs to at most one workspace.
 */
export class WhatsAppNumbersService {
  private readonly numbers: WhatsAppNumberStore;
  private readonly workspaces: WorkspaceStore;

  constructor(db: DataSource) {
    this.numbers = new WhatsAppNumberStore(db);
    this.workspaces = new WorkspaceStore(db);
  }

  /** Binds the number to the workspace (made if new); a number bound to another workspace stays its. */
  async add(phoneNumberId: string, workspaceName: string): Promise<BindOutcome> {
    const held = await this.numbers.find(phoneNumberId);
    if (held) return { outcome: held.workspaceName === workspaceName ? 'unchanged' : 'taken', binding: held };
    const workspace = await this.workspaces.ensureWorkspace(workspaceName);
    const binding = await this.numbers.bind(phoneNumberId, workspace.id);
    // A concurrent add may have bound it first.
    return { outcome: binding.workspaceId === workspace.id ? 'bound' : 'taken', binding };
  }

  /** Unbinds the number; false when it was bound to no workspace. */
  remove(phoneNumberId: string): Promise<boolean> {
    return this.numbers.unbind(phoneNumberId);
  }

  /** Every binding, by number. */
  list(): Promise<WhatsAppNumberRow[]> {
    return this.numbers.list();
  }

  /** The numbers bound to one workspace. */
  ofWorkspace(workspaceId: string): Promise<WhatsAppNumberRow[]> {
    return this.numbers.list(workspaceId);
  }
}
