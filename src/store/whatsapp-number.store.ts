import type { Queryable } from './campaign.store';

/** A WhatsApp Cloud API number bound to a workspace. */
export interface WhatsAppNumberRow {
  phoneNumberId: string;
  workspaceId: string;
  workspaceName: string;
  createdAt: Date;
}

interface Row {
  phone_number_id: string;
  workspace_id: string;
  workspace_name: string;
  created_at: Date;
}

const toRow = (r: Row): WhatsAppNumberRow => ({
  phoneNumberId: r.phone_number_id,
  workspaceId: r.workspace_id,
  workspaceName: r.workspace_name,
  createdAt: r.created_at,
});

/** Which workspace owns which WhatsApp number (`phone_number_id`): at most one each. */
export class WhatsAppNumberStore {
  constructor(private readonly db: Queryable) {}

  /**
   * Binds the number to the workspace unless it is bound already; returns the binding that holds
   * afterwards (this workspace's, or the other workspace's that held it first).
   */
  async bind(phoneNumberId: string, workspaceId: string): Promise<WhatsAppNumberRow> {
    await this.db.query(
      `INSERT INTO whatsapp_numbers (phone_number_id, workspace_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
      [phoneNumberId, workspaceId],
    );
    return (await this.find(phoneNumberId))!;
  }

  /** Unbinds the number; returns whether it was bound. */
  async unbind(phoneNumberId: string): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      `WITH gone AS (DELETE FROM whatsapp_numbers WHERE phone_number_id = $1 RETURNING 1) SELECT * FROM gone`,
      [phoneNumberId],
    );
    return rows.length > 0;
  }

  /** The binding of one number, or null. */
  async find(phoneNumberId: string): Promise<WhatsAppNumberRow | null> {
    const [row] = await this.select(`WHERE n.phone_number_id = $1`, [phoneNumberId]);
    return row ?? null;
  }

  /** Every binding, or one workspace's, by number. */
  list(workspaceId?: string): Promise<WhatsAppNumberRow[]> {
    return workspaceId === undefined
      ? this.select(`ORDER BY n.phone_number_id`, [])
      : this.select(`WHERE n.workspace_id = $1 ORDER BY n.phone_number_id`, [workspaceId]);
  }

  /** The owning workspace of each bound number among these; unbound numbers are absent. */
  async workspacesOf(phoneNumberIds: readonly string[]): Promise<Map<string, string>> {
    if (phoneNumberIds.length === 0) return new Map();
    const rows: { phone_number_id: string; workspace_id: string }[] = await this.db.query(
      `SELECT phone_number_id, workspace_id FROM whatsapp_numbers WHERE phone_number_id = ANY($1::text[])`,
      [phoneNumberIds],
    );
    return new Map(rows.map((r) => [r.phone_number_id, r.workspace_id]));
  }

  private async select(where: string, params: unknown[]): Promise<WhatsAppNumberRow[]> {
    const rows: Row[] = await this.db.query(
      `SELECT n.phone_number_id, n.workspace_id, w.name AS workspace_name, n.created_at
       FROM whatsapp_numbers n JOIN workspaces w ON w.id = n.workspace_id ${where}`,
      params,
    );
    return rows.map(toRow);
  }
}
