import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { ENTITIES } from './entities';
import { InitialSchema1764316800000 } from './migrations/1764316800000-InitialSchema';
import { ParkedDeliveries1764403200000 } from './migrations/1764403200000-ParkedDeliveries';
import { LatticeFunctions1764489600000 } from './migrations/1764489600000-LatticeFunctions';
import { TrackedLinks1764576000000 } from './migrations/1764576000000-TrackedLinks';
import { ContactFilterIndex1764576000001 } from './migrations/1764576000001-ContactFilterIndex';
import { WorkspaceNumbersAndMessageIds1764576000002 } from './migrations/1764576000002-WorkspaceNumbersAndMessageIds';
import { DistributableByCampaign1764662400000 } from './migrations/1764662400000-DistributableByCampaign';

/** Every migration, in order. A new one is appended here in the commit that needs it. */
export const MIGRATIONS = [
  InitialSchema1764316800000,
  ParkedDeliveries1764403200000,
  LatticeFunctions1764489600000,
  TrackedLinks1764576000000,
  ContactFilterIndex1764576000001,
  WorkspaceNumbersAndMessageIds1764576000002,
  DistributableByCampaign1764662400000,
];

/**
 * How the pool's connections reach PostgreSQL. `session`: each connection is a server session of
 * its own (direct, or a proxy in session mode). `transaction`: a transaction-pooling proxy
 * (PgBouncer) that may hand each transaction, or each statement outside one, to another server
 * session: no startup parameters beyond the ones it knows, no named prepared statements, no
 * session state.
 */
export const POOL_MODES = ['session', 'transaction'] as const;
export type PoolMode = (typeof POOL_MODES)[number];

/** statement_timeout: the database work of any one request (the execution timeout) @default 15 s */
export const STATEMENT_TIMEOUT_MS = 15_000;

const poolModes = new WeakMap<DataSource, PoolMode>();

/** The pool mode a data source was created with (stores choose named statements or not by it). */
export function poolModeOf(db: DataSource): PoolMode {
  return poolModes.get(db) ?? 'session';
}

export interface DataSourceOptions {
  url: string;
  /** connections in the pool @default 10 */
  poolSize?: number;
  applicationName?: string;
  /** @default 'session' */
  poolMode?: PoolMode;
}

/** A TypeORM data source over `pg`. Never `synchronize`: the schema comes from the migrations. */
export function createDataSource({
  url,
  poolSize = 10,
  applicationName = 'campaign-stats-gateway',
  poolMode = 'session',
}: DataSourceOptions): DataSource {
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    applicationName,
    poolSize,
    // In session mode statement_timeout goes as a startup parameter. A transaction pooler refuses
    // it ("unsupported startup parameter"), and a SET would stay on a server session other clients
    // share: there it is the role's setting (docs/deploy.md), which openDatabase checks.
    extra: {
      connectionTimeoutMillis: 5000,
      ...(poolMode === 'session' ? { statement_timeout: STATEMENT_TIMEOUT_MS } : {}),
    },
  });
  poolModes.set(dataSource, poolMode);
  return dataSource;
}

/**
 * Behind a transaction pooler the timeout is the role's (or database's) setting: say so once
 * when there is none, since a runaway query would then hold a pooled server connection for good.
 */
async function checkStatementTimeout(dataSource: DataSource, onWarning: (message: string) => void): Promise<void> {
  const rows = await dataSource.query<{ value: string; role: string }[]>(
    `SELECT current_setting('statement_timeout') AS value, current_user AS role`,
  );
  const { value, role } = rows[0]!;
  if (value === '0') {
    onWarning(
      `statement_timeout is off for role ${role}: set it with ALTER ROLE ${role} SET statement_timeout = '15s' (docs/deploy.md)`,
    );
  }
}

/** Opens the data source and brings the schema up to date. */
export async function openDatabase(
  options: DataSourceOptions,
  /** told when the database lacks a setting the pool mode relies on */
  onWarning: (message: string) => void = () => {},
): Promise<DataSource> {
  const dataSource = createDataSource(options);
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
    if (options.poolMode === 'transaction') await checkStatementTimeout(dataSource, onWarning);
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  return dataSource;
}
