import { describe, expect, it } from 'vitest';
import { nextOccurrence, parseSchedule } from '../../host/ncrontab';

const next = (expr: string, after: string) => nextOccurrence(parseSchedule(expr), new Date(after)).toISOString();

describe('NCRONTAB schedules (six fields, seconds first)', () => {
  it.each([
    ['0 */5 * * * *', '2026-11-20T10:03:17Z', '2026-11-20T10:05:00.000Z'],
    ['0 */5 * * * *', '2026-11-20T10:05:00Z', '2026-11-20T10:10:00.000Z'],
    ['30 */1 * * * *', '2026-11-20T10:03:30Z', '2026-11-20T10:04:30.000Z'],
    ['*/10 * * * * *', '2026-11-20T10:03:17Z', '2026-11-20T10:03:20.000Z'],
    ['0 0 9-17/4 * * MON-FRI', '2026-11-20T18:00:00Z', '2026-11-23T09:00:00.000Z'],
    ['0 30 23 31 12 *', '2026-11-20T00:00:00Z', '2026-12-31T23:30:00.000Z'],
    ['0 0 0 29 2 *', '2026-03-01T00:00:00Z', '2028-02-29T00:00:00.000Z'],
    ['0 0 0 1,15 * *', '2026-11-20T00:00:00Z', '2026-12-01T00:00:00.000Z'],
  ])('%s after %s is %s', (expr, after, expected) => {
    expect(next(expr, after)).toBe(expected);
  });

  it.each([
    ['0 */5 * * *', 'six fields'],
    ['61 * * * * *', 'second "61" must be 0-59'],
    ['0 0 0 * 13 *', 'month "13" must be 1-12'],
    ['0 */0 * * * *', 'step "0" must be a positive whole number'],
    ['0 5-1 * * * *', 'backwards'],
  ])('%s is refused (%s)', (expr, message) => {
    expect(() => parseSchedule(expr)).toThrow(message);
  });
});
