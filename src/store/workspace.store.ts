import type { DataSource } from 'typeorm';
import { IsNull } from 'typeorm';
import { ApiKeyEntity, WorkspaceEntity } from './entities';

/** Workspaces and their API keys (hashes only). */
export class WorkspaceStore {
  constructor(private readonly db: DataSource) {}

  /** The workspace of that name, made if new. */
  async ensureWorkspace(name: string): Promise<WorkspaceEntity> {
    await this.db.createQueryBuilder().insert().into(WorkspaceEntity).values({ name }).orIgnore().execute();
    return this.db.getRepository(WorkspaceEntity).findOneByOrFail({ name });
  }

  async countWorkspaces(): Promise<number> {
    return this.db.getRepository(WorkspaceEntity).count();
  }

  async insertApiKey(workspaceId: string, prefix: string, keyHash: string): Promise<void> {
    await this.db.getRepository(ApiKeyEntity).insert({ workspaceId, prefix, keyHash });
  }

  /** The workspace id of a live key, by its hash. */
  async workspaceOfKeyHash(keyHash: string): Promise<string | null> {
    const key = await this.db.getRepository(ApiKeyEntity).findOne({
      select: { id: true, workspaceId: true },
      where: { keyHash, revokedAt: IsNull() },
    });
    return key?.workspaceId ?? null;
  }

  /** Revokes the live keys starting with `prefix`; returns how many. */
  async revokeByPrefix(prefix: string): Promise<number> {
    const result = await this.db
      .getRepository(ApiKeyEntity)
      .update({ prefix, revokedAt: IsNull() }, { revokedAt: () => 'now()' });
    return result.affected ?? 0;
  }
}
