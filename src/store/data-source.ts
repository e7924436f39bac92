import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { ENTITIES } from './entities';
import { InitialSchema1764316800000 } from './migrations/1764316800000-InitialSchema';
import { ParkedDeliveries1764403200000 } from './migrations/1764403200000-ParkedDeliveries';
import { LatticeFunctions1764489600000 } from './migrations/1764489600000-LatticeFunctions';
import { WorkspaceNumbersAndMessageIds1764576000000 } from './migrations/1764576000000-WorkspaceNumbersAndMessageIds';

/** Every migration, in order. A new one is appended here in the commit that needs it. */
export const MIGRATIONS = [
  InitialSchema1764316800000,
  ParkedDeliveries1764403200000,
  LatticeFunctions1764489600000,
  WorkspaceNumbersAndMessageIds1764576000000,
];

export interface DataSourceOptions {
  url: string;
  /** connections in the pool @default 10 */
  poolSize?: number;
  applicationName?: string;
}

/** A TypeORM data source over `pg`. Never `synchronize`: the schema comes from the migrations. */
export function createDataSource({
  url,
  poolSize = 10,
  applicationName = 'campaign-stats-gateway',
}: DataSourceOptions): DataSource {
  return new DataSource({
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
    // statement_timeout bounds the database work of any one request (the execution timeout).
    extra: { connectionTimeoutMillis: 5000, statement_timeout: 15_000 },
  });
}

/** Opens the data source and brings the schema up to date. */
export async function openDatabase(options: DataSourceOptions): Promise<DataSource> {
  const dataSource = createDataSource(options);
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  return dataSource;
}
