import { describe, expect, it } from 'vitest';
import { httpOutcome } from './support/answers.ts';
import { decide, DEFAULT_RETRY_SCHEDULE_MS, retryAfterMs, retryDelay, retryDelays, type RetryPolicy } from '../src/rules/retry.ts';

const now = new Date('2026-12-02T10:00:00.000Z');
const exponential: RetryPolicy = { maxAttempts: 5, backoffBaseMs: 1000, backoffCapMs: 5000, retryScheduleMs: [] };
const scheduled: RetryPolicy = { ...exponential, retryScheduleMs: [5000, 60_000, 600_000] };
const at = (random: number) => () => random;

describe('retry delays', () => {
  it.each([
    // attempt, random, policy, delay
    [1, 0, exponential, 500],
    [1, 1, exponential, 1000],
    [2, 0.5, exponential, 1500],
    [3, 1, exponential, 4000],
    [4, 1, exponential, 5000], // capped
    [10, 0, exponential, 2500], // capped, half fixed
    [1, 0, scheduled, 5000], // never shorter than listed
    [1, 1, scheduled, 5500], // at most a tenth longer
    [2, 0, scheduled, 60_000],
    [3, 0.5, scheduled, 630_000],
    [7, 0, scheduled, 600_000], // beyond the list: its last delay
  ])('attempt %i, random %d: %o waits %i ms', (attempt, random, policy, delay) => {
    expect(retryDelay(attempt, policy, at(random))).toBe(delay);
  });

  it('lists the delays between attempts as people read them', () => {
    expect(retryDelays(exponential)).toEqual([1000, 2000, 4000, 5000]);
    expect(retryDelays({ ...scheduled, maxAttempts: 6 })).toEqual([5000, 60_000, 600_000, 600_000, 600_000]);
    expect(retryDelays({ ...scheduled, maxAttempts: 2 })).toEqual([5000]);
    expect(retryDelays({ ...exponential, maxAttempts: 1 })).toEqual([]);
  });

  it('the default schedule makes 5 attempts over more than a day', () => {
    const total = DEFAULT_RETRY_SCHEDULE_MS.reduce((a, b) => a + b, 0);
    expect(DEFAULT_RETRY_SCHEDULE_MS).toHaveLength(4);
    expect(total).toBeGreaterThan(86_400_000);
  });

  it.each([
    ['120', 120_000],
    [' 0 ', 0],
    ['Wed, 02 Dec 2026 10:00:30 GMT', 30_000],
    ['Wed, 02 Dec 2026 09:00:00 GMT', 0], // in the past: now
    ['soon', null],
    [undefined, null],
  ])('Retry-After %s is %s ms', (header, ms) => {
    expect(retryAfterMs(header, now)).toBe(ms);
  });
});

describe('the retry decision', () => {
  const ok = httpOutcome(200);
  const failed = (statusCode: number | null, retryAfter?: string, finalStatusCodes?: number[]) => httpOutcome(statusCode, { retryAfter, finalStatusCodes });
  const options = { now, minBackoffMs: 1000, random: at(0) };
  const auto = (number: number) => ({ number, trigger: 'AUTO' as const });

  it.each([
    ['a success', ok, auto(1), exponential, 'COMPLETED', null, null],
    ['a 500 with attempts left', failed(500), auto(1), exponential, 'RETRYING', 500, null],
    ['a network error with attempts left', failed(null), auto(2), exponential, 'RETRYING', 1000, null],
    ['a 500 at the attempt limit', failed(500), auto(5), exponential, 'FAILED', null, 'attempts'],
    ['410 Gone', failed(410), auto(1), exponential, 'FAILED', null, 'gone'],
    ['a status the webhook marks final', failed(422, undefined, [400, 422]), auto(1), exponential, 'FAILED', null, 'final-status'],
    ['a status not marked final', failed(500, undefined, [400, 422]), auto(1), exponential, 'RETRYING', 500, null],
    ['a MANUAL attempt', failed(500), { number: 1, trigger: 'MANUAL' as const }, exponential, 'FAILED', null, 'not-automatic'],
    ['a TEST attempt', failed(500), { number: 1, trigger: 'TEST' as const }, exponential, 'FAILED', null, 'not-automatic'],
    ['429 with Retry-After: 2', failed(429, '2'), auto(1), exponential, 'RETRYING', 2000, null],
    ['503 with Retry-After below the minimum', failed(503, '0'), auto(1), exponential, 'RETRYING', 1000, null],
    ['429 with Retry-After of a week (at most a day)', failed(429, '604800'), auto(1), exponential, 'RETRYING', 86_400_000, null],
    ['429 without Retry-After: the policy', failed(429), auto(1), scheduled, 'RETRYING', 5000, null],
    ['500 ignores Retry-After', failed(500, '60'), auto(1), scheduled, 'RETRYING', 5000, null],
  ])('%s', (_name, outcome, attempt, policy, status, delay, why) => {
    const decision = decide(outcome, attempt, policy, options);
    expect(decision.status).toBe(status);
    expect(decision.why).toBe(why);
    expect(decision.gone).toBe(why === 'gone');
    expect(decision.nextAttemptAt === null ? null : decision.nextAttemptAt.getTime() - now.getTime()).toBe(delay);
  });
});
