import { ConfigError, loadConfig } from '../../src/config';

describe('configuration', () => {
  it('has defaults', () => {
    expect(loadConfig({})).toMatchObject({
      port: 4000,
      databaseUrl: null,
      statsPushIntervalMs: 250,
      rateLimitRps: 50,
      rateLimitBurst: 100,
      logLevel: 'info',
      nodeEnv: 'development',
    });
  });

  it('names every bad variable at once', () => {
    try {
      loadConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        LOG_LEVEL: 'loud',
        RATE_LIMIT_RPS: '-1',
        REDIS_URL: 'http://x',
      });
      throw new Error('expected ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const text = (error as ConfigError).message;
      for (const name of ['PORT', 'DATABASE_URL', 'LOG_LEVEL', 'RATE_LIMIT_RPS', 'REDIS_URL'])
        expect(text).toContain(name);
      expect((error as ConfigError).problems).toHaveLength(5);
    }
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '0',
      DATABASE_URL: 'postgres://u@h/db',
      STATS_PUSH_INTERVAL_MS: '100',
      RATE_LIMIT_RPS: '0',
      LOG_LEVEL: 'DEBUG',
      NODE_ENV: 'production',
      WHATSAPP_APP_SECRET: 's',
      WHATSAPP_VERIFY_TOKEN: 't',
      REDIS_URL: 'redis://127.0.0.1:6379',
    });
    expect(config).toMatchObject({
      port: 0,
      databaseUrl: 'postgres://u@h/db',
      statsPushIntervalMs: 100,
      rateLimitRps: 0,
      logLevel: 'debug',
      nodeEnv: 'production',
      whatsappAppSecret: 's',
      whatsappVerifyToken: 't',
      redisUrl: 'redis://127.0.0.1:6379',
    });
  });
});
