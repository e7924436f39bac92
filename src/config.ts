import type { LogLevel } from './logger';
import { LOG_LEVELS } from './logger';
import type { PoolMode } from './store/data-source';
import { POOL_MODES } from './store/data-source';

/** Everything the gateway reads from its environment, parsed and checked once (docs/configuration.md). */
export interface Config {
  /** @default 4000 */
  port: number;
  /** host to listen on @default '0.0.0.0' */
  host: string;
  /** unset: an embedded PostgreSQL under `dataDir` */
  databaseUrl: string | null;
  /** @default './.data' */
  dataDir: string;
  /** HMAC key of Meta's `X-Hub-Signature-256`; unset: the WhatsApp webhook answers 503 */
  whatsappAppSecret: string | null;
  /** Meta's verification token; unset: the handshake is refused */
  whatsappVerifyToken: string | null;
  /** @default 250 */
  statsPushIntervalMs: number;
  /** requests per second per API key (or address, unauthenticated); 0 turns the limit off @default 50 */
  rateLimitRps: number;
  /** @default 100 */
  rateLimitBurst: number;
  redisUrl: string | null;
  /** @default 'info' */
  logLevel: LogLevel;
  /** @default 'development' */
  nodeEnv: string;
  /** connections in the database pool @default 10 */
  databasePoolSize: number;
  /** `transaction`: behind a transaction-pooling proxy (no startup parameters, no named statements) @default 'session' */
  databasePoolMode: PoolMode;
  /** a direct connection for LISTEN; null: `databaseUrl` */
  databaseListenUrl: string | null;
  /** ms between `/readyz` turning 503 and the sockets closing on SIGTERM @default 5000 in production, else 0 */
  drainDelayMs: number;
  /** parked WhatsApp facts (no registered message id yet) are dropped after this @default 168 */
  parkedRetentionHours: number;
  /** dispatcher event ids are remembered (a resend skipped) this long, then pruned @default 168 */
  eventIdRetentionHours: number;
  /** WebSockets one API key may hold open on one instance; the next is closed with 4429 @default 100 */
  wsMaxSocketsPerKey: number;
  /** connections held at once @default 10000 */
  maxConnections: number;
  /** the base URL clients reach this gateway at (OpenAPI `servers`, tracked links) @default http://127.0.0.1:PORT */
  publicUrl: string;
  /**
   * proxies whose `X-Forwarded-For` names the client (addresses, CIDRs, `loopback`, `uniquelocal`),
   * comma-separated; empty: the socket's peer is the client @default none
   */
  trustProxy: string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Parses the environment; throws one ConfigError listing every bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const text = (name: string): string | null => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? null : value.trim();
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const value = text(name);
    if (value === null) return fallback;
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`);
      return fallback;
    }
    return Number(value);
  };
  const url = (name: string, protocols: string[]): string | null => {
    const value = text(name);
    if (value === null) return null;
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol)) throw new Error('protocol');
      return value;
    } catch {
      problems.push(`${name} must be a ${protocols.map((p) => `${p}//`).join(' or ')} URL`);
      return null;
    }
  };
  const level = (text('LOG_LEVEL') ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got ${JSON.stringify(level)})`);
  }
  const poolMode = (text('DATABASE_POOL_MODE') ?? 'session').toLowerCase();
  if (!(POOL_MODES as readonly string[]).includes(poolMode)) {
    problems.push(`DATABASE_POOL_MODE must be one of ${POOL_MODES.join(', ')} (got ${JSON.stringify(poolMode)})`);
  }
  const nodeEnv = text('NODE_ENV') ?? 'development';
  const config: Config = {
    port: integer('PORT', 4000, 0, 65535),
    host: text('HOST') ?? '0.0.0.0',
    databaseUrl: url('DATABASE_URL', ['postgres:', 'postgresql:']),
    dataDir: text('DATA_DIR') ?? './.data',
    whatsappAppSecret: text('WHATSAPP_APP_SECRET'),
    whatsappVerifyToken: text('WHATSAPP_VERIFY_TOKEN'),
    statsPushIntervalMs: integer('STATS_PUSH_INTERVAL_MS', 250, 10, 60_000),
    rateLimitRps: integer('RATE_LIMIT_RPS', 50, 0, 1_000_000),
    rateLimitBurst: integer('RATE_LIMIT_BURST', 100, 0, 1_000_000),
    redisUrl: url('REDIS_URL', ['redis:', 'rediss:']),
    logLevel: (LOG_LEVELS as readonly string[]).includes(level) ? (level as LogLevel) : 'info',
    nodeEnv,
    databasePoolSize: integer('DATABASE_POOL_SIZE', 10, 1, 200),
    databasePoolMode: (POOL_MODES as readonly string[]).includes(poolMode) ? (poolMode as PoolMode) : 'session',
    databaseListenUrl: url('DATABASE_LISTEN_URL', ['postgres:', 'postgresql:']),
    drainDelayMs: integer('DRAIN_DELAY_MS', nodeEnv === 'production' ? 5000 : 0, 0, 600_000),
    parkedRetentionHours: integer('PARKED_RETENTION_HOURS', 168, 1, 24 * 365),
    eventIdRetentionHours: integer('EVENT_ID_RETENTION_HOURS', 168, 1, 24 * 365),
    wsMaxSocketsPerKey: integer('WS_MAX_SOCKETS_PER_KEY', 100, 1, 1_000_000),
    maxConnections: integer('MAX_CONNECTIONS', 10_000, 1, 1_000_000),
    publicUrl: '',
    trustProxy: (text('TRUST_PROXY') ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean),
  };
  for (const proxy of config.trustProxy) {
    if (!/^(loopback|linklocal|uniquelocal|[0-9a-fA-F.:]+(\/\d{1,3})?)$/.test(proxy)) {
      problems.push(
        `TRUST_PROXY must list addresses, CIDRs, loopback, linklocal or uniquelocal (got ${JSON.stringify(proxy)})`,
      );
    }
  }
  config.publicUrl = (url('PUBLIC_URL', ['http:', 'https:']) ?? `http://127.0.0.1:${config.port}`).replace(/\/+$/, '');
  if (config.rateLimitRps > 0 && config.rateLimitBurst < 1) {
    problems.push('RATE_LIMIT_BURST must be at least 1 when RATE_LIMIT_RPS is set');
  }
  if (config.databaseListenUrl && !config.databaseUrl) {
    problems.push('DATABASE_LISTEN_URL needs DATABASE_URL (the embedded PostgreSQL is reached directly)');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
