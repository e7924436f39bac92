import type { DestinationStream, Logger as PinoLogger } from 'pino';
import pino from 'pino';

/** Log levels, most verbose first; `silent` writes nothing. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The gateway's logger: `log.info('event.name', { fields })`, JSON lines through pino. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** the pino instance underneath, handed to Fastify so request logs share its stream and redaction */
  readonly pino: PinoLogger;
}

/**
 * Secrets never reach a log line: API keys (in headers, `connection_init` payloads or fields named
 * `key`) and webhook signatures are replaced before the line is written.
 */
export const REDACTED_PATHS = [
  'key',
  'authorization',
  '*.key',
  '*.authorization',
  '*.Authorization',
  'req.headers.authorization',
  'req.headers["x-hub-signature-256"]',
  'headers.authorization',
  'headers["x-hub-signature-256"]',
  'connectionParams.authorization',
  'connectionParams.Authorization',
];

/** Wraps a pino logger in the gateway's `(msg, fields)` shape. */
export function wrapPino(base: PinoLogger): Logger {
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (msg: string, fields?: Record<string, unknown>): void => {
      if (fields) base[level](fields, msg);
      else base[level](msg);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), pino: base };
}

/** JSON lines on standard output (or any writer), one object a line: `time`, `level`, `msg`, fields. */
export function createLogger(level: LogLevel, write?: (line: string) => void): Logger {
  const destination: DestinationStream | undefined = write ? { write } : undefined;
  const base = pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { error: pino.stdSerializers.err, err: pino.stdSerializers.err },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    destination,
  );
  return wrapPino(base);
}
