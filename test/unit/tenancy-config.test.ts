import { ConfigError, loadConfig } from '../../src/config';

describe('configuration of tenancy and retention', () => {
  it('defaults: event ids kept 168 hours, 100 sockets per key', () => {
    expect(loadConfig({})).toMatchObject({ eventIdRetentionHours: 168, wsMaxSocketsPerKey: 100 });
  });

  it('reads EVENT_ID_RETENTION_HOURS and WS_MAX_SOCKETS_PER_KEY', () => {
    expect(loadConfig({ EVENT_ID_RETENTION_HOURS: '24', WS_MAX_SOCKETS_PER_KEY: '5' })).toMatchObject({
      eventIdRetentionHours: 24,
      wsMaxSocketsPerKey: 5,
    });
  });

  it.each([
    ['EVENT_ID_RETENTION_HOURS', '0'],
    ['EVENT_ID_RETENTION_HOURS', '9999999'],
    ['EVENT_ID_RETENTION_HOURS', '1.5'],
    ['WS_MAX_SOCKETS_PER_KEY', '0'],
    ['WS_MAX_SOCKETS_PER_KEY', '-3'],
    ['WS_MAX_SOCKETS_PER_KEY', 'many'],
  ])('refuses %s=%s', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
