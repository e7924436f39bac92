import { DomainError } from '../../src/domain/errors';
import {
  MAX_EVENTS_PER_REQUEST,
  parseDispatcherEvents,
  parseEventTime,
} from '../../src/ingest/dispatcher-event.parser';

const NOW = new Date('2026-06-15T12:00:00Z');
const CAMPAIGN = '507f1f77bcf86cd799439060';
const ok = { type: 'message.delivered', campaign_id: CAMPAIGN, contact: '+14155550123' };

function problems(body: unknown): { index: number; reason: string }[] {
  try {
    parseDispatcherEvents(body, NOW);
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('BAD_USER_INPUT');
    return (error as DomainError).details ?? [{ index: -1, reason: (error as DomainError).message }];
  }
  throw new Error('expected a refusal');
}

describe('dispatcher event parsing', () => {
  it('takes one event or a batch; timestamp defaults to the time of receipt', () => {
    expect(parseDispatcherEvents(ok, NOW)).toEqual([
      {
        index: 0,
        id: null,
        type: 'message.delivered',
        campaignId: CAMPAIGN,
        contact: '+14155550123',
        messageId: null,
        at: NOW,
        error: null,
      },
    ]);
    const batch = parseDispatcherEvents(
      {
        events: [
          ok,
          {
            ...ok,
            id: 'evt_1',
            type: 'message.failed',
            timestamp: '2026-06-15T10:05:00+02:00',
            error: { code: 131026, title: 'x' },
          },
        ],
      },
      NOW,
    );
    expect(batch[1]).toMatchObject({
      index: 1,
      id: 'evt_1',
      at: new Date('2026-06-15T08:05:00Z'),
      error: { code: 131026, title: 'x' },
    });
  });

  it('takes message_id alone, and Unix seconds', () => {
    const [e] = parseDispatcherEvents({ type: 'message.read', message_id: 'wamid.X', timestamp: '1781517900' }, NOW);
    expect(e).toMatchObject({ campaignId: null, contact: null, messageId: 'wamid.X', at: new Date(1781517900 * 1000) });
  });

  it('names the index and reason of every bad event', () => {
    const found = problems({
      events: [
        ok,
        { ...ok, type: 'message.bounced' },
        { ...ok, campaign_id: 'nope' },
        { ...ok, contact: '0123' },
        { type: 'message.sent' },
        { ...ok, timestamp: 'yesterday' },
        { ...ok, error: { code: 'x' } },
        'not an object',
        { ...ok, id: '' },
        { type: 'message.sent', campaign_id: CAMPAIGN },
      ],
    });
    expect(found.map((p) => p.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(found[0]!.reason).toMatch(/type must be one of/);
    expect(found[1]!.reason).toMatch(/campaign_id/);
    expect(found[2]!.reason).toMatch(/E\.164/);
    expect(found[3]!.reason).toMatch(/names its contact/);
    expect(found[4]!.reason).toMatch(/timestamp/);
    expect(found[5]!.reason).toMatch(/error must be/);
  });

  it('refuses bodies that are not events', () => {
    for (const body of [null, 5, 'x', [], { events: 'x' }, { events: [] }]) expect(problems(body)).toHaveLength(1);
    const tooMany = { events: Array.from({ length: MAX_EVENTS_PER_REQUEST + 1 }, () => ok) };
    expect(problems(tooMany)[0]!.reason).toMatch(/At most/);
  });

  it('parses times strictly', () => {
    expect(parseEventTime('2026-06-15T10:05:00Z')).toEqual(new Date('2026-06-15T10:05:00Z'));
    expect(parseEventTime('2026-06-15T10:05:00.123Z')).toEqual(new Date('2026-06-15T10:05:00.123Z'));
    expect(parseEventTime('2026-06-15')).toBeNull();
    expect(parseEventTime('2026-02-30T10:05:00Z')?.toISOString()).not.toBe('2026-02-30T10:05:00.000Z');
    expect(parseEventTime(-1)).toBeNull();
    expect(parseEventTime({})).toBeNull();
  });
});
