import { apiKeyPrefix, bearerToken, hashApiKey, isApiKeyShape, newApiKey } from '../../src/domain/api-key';
import { isCampaignId, isE164, newCampaignId, normalizeContacts } from '../../src/domain/identifiers';

describe('campaign ids', () => {
  it.each([
    ['507f1f77bcf86cd799439060', true],
    ['507F1F77BCF86CD799439060', false],
    ['507f1f77bcf86cd79943906', false],
    ['507f1f77bcf86cd7994390600', false],
    ['507f1f77bcf86cd79943906g', false],
    ['', false],
  ])('%j valid: %s', (id, ok) => expect(isCampaignId(id)).toBe(ok));

  it('makes valid, distinct ids that sort by creation second', () => {
    const ids = Array.from({ length: 1000 }, () => newCampaignId());
    expect(ids.every(isCampaignId)).toBe(true);
    expect(new Set(ids).size).toBe(1000);
    expect(newCampaignId(Date.UTC(2026, 0, 1)) < newCampaignId(Date.UTC(2027, 0, 1))).toBe(true);
  });
});

describe('E.164', () => {
  it.each([
    ['+14155550123', true],
    ['+12345678', true],
    ['+123456789012345', true],
    ['+1234567', false],
    ['+1234567890123456', false],
    ['14155550123', false],
    ['+1 415 555 0123', false],
    ['+1415555012a', false],
  ])('%j valid: %s', (phone, ok) => expect(isE164(phone)).toBe(ok));

  it('folds duplicates, keeps first-seen order, and names invalid values', () => {
    expect(normalizeContacts(['+14155550123', 'x', '+14155550124', '+14155550123', 5])).toEqual({
      valid: ['+14155550123', '+14155550124'],
      invalid: ['x', '5'],
    });
  });
});

describe('API keys', () => {
  it('are wapl_ and 40 base62 characters, hashed with SHA-256', () => {
    const key = newApiKey();
    expect(key).toMatch(/^wapl_[0-9A-Za-z]{40}$/);
    expect(isApiKeyShape(key)).toBe(true);
    expect(hashApiKey(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKey(key)).not.toContain(key.slice(5));
    expect(apiKeyPrefix(key)).toHaveLength(13);
    expect(newApiKey()).not.toBe(key);
  });

  it('reads bearer tokens', () => {
    expect(bearerToken('Bearer wapl_abc')).toBe('wapl_abc');
    expect(bearerToken('bearer  wapl_abc ')).toBe('wapl_abc');
    expect(bearerToken('Basic xyz')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
    expect(isApiKeyShape('wapl_short')).toBe(false);
  });
});
