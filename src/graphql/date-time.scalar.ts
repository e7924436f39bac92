import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { parseEventTime } from '../domain/event-time';

function parseDateTime(value: unknown): Date {
  const date = typeof value === 'string' ? parseEventTime(value) : null;
  if (!date || typeof value !== 'string' || /^\d+$/.test(value)) {
    throw new GraphQLError('DateTime must be RFC 3339, e.g. 2026-06-15T10:05:00Z', {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return date;
}

/** RFC 3339 in UTC (`2026-06-15T10:05:00.000Z`); accepts any RFC 3339 offset as input. */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An instant, as RFC 3339 in UTC, e.g. 2026-06-15T10:05:00.000Z',
  serialize(value) {
    if (value instanceof Date) return value.toISOString();
    throw new GraphQLError('DateTime cannot represent a non-date value');
  },
  parseValue: parseDateTime,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) {
      throw new GraphQLError('DateTime must be a string', { extensions: { code: 'BAD_USER_INPUT' } });
    }
    return parseDateTime(ast.value);
  },
});
