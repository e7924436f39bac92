import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { openDatabase } from '../../src/store/data-source';

export function adminUrl(): string {
  const url = process.env.TEST_ADMIN_DATABASE_URL;
  if (!url) throw new Error('TEST_ADMIN_DATABASE_URL is unset: run the tests through jest (globalSetup)');
  return url;
}

/** A database of this test file's own on the test server; `drop()` removes it. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `csg_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new Client({ connectionString: adminUrl() });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** A fresh, migrated database and its data source. */
export async function openTestDatabase(
  poolSize = 10,
): Promise<{ db: DataSource; url: string; close(): Promise<void> }> {
  const database = await createTestDatabase();
  const db = await openDatabase({ url: database.url, poolSize });
  return {
    db,
    url: database.url,
    async close() {
      if (db.isInitialized) await db.destroy();
      await database.drop();
    },
  };
}
