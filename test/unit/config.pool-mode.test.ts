import { ConfigError, loadConfig } from '../../src/config';

const problems = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe('configuration beyond one machine', () => {
  it('defaults: session pool, LISTEN on DATABASE_URL, no drain delay outside production and 5 s in it', () => {
    expect(loadConfig({})).toMatchObject({ databasePoolMode: 'session', databaseListenUrl: null, drainDelayMs: 0 });
    expect(loadConfig({ NODE_ENV: 'production' }).drainDelayMs).toBe(5000);
  });

  it('reads DATABASE_POOL_MODE, DATABASE_LISTEN_URL and DRAIN_DELAY_MS', () => {
    expect(
      loadConfig({
        DATABASE_URL: 'postgres://u@bouncer:6432/db',
        DATABASE_POOL_MODE: 'Transaction',
        DATABASE_LISTEN_URL: 'postgresql://u@primary:5432/db',
        DRAIN_DELAY_MS: '250',
        NODE_ENV: 'production',
      }),
    ).toMatchObject({
      databasePoolMode: 'transaction',
      databaseListenUrl: 'postgresql://u@primary:5432/db',
      drainDelayMs: 250,
    });
  });

  it('names each bad one', () => {
    expect(problems({ DATABASE_POOL_MODE: 'statement' })).toEqual([
      'DATABASE_POOL_MODE must be one of session, transaction (got "statement")',
    ]);
    expect(problems({ DATABASE_URL: 'postgres://h/db', DATABASE_LISTEN_URL: 'redis://h' })).toEqual([
      'DATABASE_LISTEN_URL must be a postgres:// or postgresql:// URL',
    ]);
    expect(problems({ DATABASE_LISTEN_URL: 'postgres://h/db' })).toEqual([
      'DATABASE_LISTEN_URL needs DATABASE_URL (the embedded PostgreSQL is reached directly)',
    ]);
    expect(problems({ DRAIN_DELAY_MS: '-1' })).toEqual([
      'DRAIN_DELAY_MS must be an integer from 0 to 600000 (got "-1")',
    ]);
    expect(problems({ DRAIN_DELAY_MS: '600001' })).toHaveLength(1);
  });
});
