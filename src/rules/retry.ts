import type { Asks } from './outcome.ts';

/**
 * When a failed delivery is tried again, and whether: on a schedule (`retryScheduleMs`, the last delay repeating) or exponentially
 * from `backoffBaseMs` up to `backoffCapMs`, until `maxAttempts`.
 */
export interface RetryPolicy {
  maxAttempts: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  /** Empty: exponential. */
  retryScheduleMs: number[];
}

/** A new webhook's schedule: 5 attempts over a day and a half (5 min, 30 min, 2 h and 24 h between them). */
export const DEFAULT_RETRY_SCHEDULE_MS = [5 * 60_000, 30 * 60_000, 2 * 3_600_000, 24 * 3_600_000];
/** The longest a receiver's Retry-After is honoured, and the longest delay a schedule may hold. */
export const MAX_RETRY_DELAY_MS = 7 * 86_400_000;
const MAX_RETRY_AFTER_MS = 86_400_000;

/**
 * The delay before attempt `attempt + 1`, with jitter so that retries of many deliveries
 * spread out: a scheduled delay waits up to a tenth longer than listed (never shorter);
 * an exponential one uses "equal jitter" (half fixed, half random).
 */
export function retryDelay(attempt: number, policy: Pick<RetryPolicy, 'backoffBaseMs' | 'backoffCapMs' | 'retryScheduleMs'>, random: () => number = Math.random): number {
  const nominal = nominalDelay(attempt, policy);
  if (policy.retryScheduleMs.length > 0) return Math.round(nominal + random() * (nominal / 10));
  return Math.round(nominal / 2 + random() * (nominal / 2));
}

/** The delay before attempt `attempt + 1` without jitter (the most an exponential one waits). */
function nominalDelay(attempt: number, policy: Pick<RetryPolicy, 'backoffBaseMs' | 'backoffCapMs' | 'retryScheduleMs'>): number {
  const schedule = policy.retryScheduleMs;
  if (schedule.length > 0) return schedule[Math.min(Math.max(attempt, 1), schedule.length) - 1]!;
  return Math.min(policy.backoffCapMs, policy.backoffBaseMs * 2 ** Math.max(0, attempt - 1));
}

/** The delays between a webhook's attempts as its settings list them (jitter aside), for people to read. */
export function retryDelays(policy: Pick<RetryPolicy, 'maxAttempts' | 'backoffBaseMs' | 'backoffCapMs' | 'retryScheduleMs'>): number[] {
  return Array.from({ length: Math.max(0, policy.maxAttempts - 1) }, (_, i) => nominalDelay(i + 1, policy));
}

/** A Retry-After header (seconds or an HTTP date) as milliseconds from `now`, or null. */
export function retryAfterMs(header: string | undefined, now: Date): number | null {
  if (!header) return null;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now.getTime());
}

/** What an attempt's outcome means for its delivery. */
export interface Decision {
  status: 'COMPLETED' | 'RETRYING' | 'FAILED';
  nextAttemptAt: Date | null;
  /** 410 Gone: the receiver asks not to be sent anything more (the webhook is paused). */
  gone: boolean;
  /** Why it is not tried again, when it failed for good. */
  why: 'final-status' | 'gone' | 'attempts' | 'not-automatic' | null;
}

/**
 * Success completes; an answer that asks for nothing more (410 Gone) or refuses for good, or a failed MANUAL or TEST
 * attempt, fails at once; else it is tried again until `maxAttempts`, after the wait the receiver asked for (at least
 * `minBackoffMs`, at most a day) or the policy's delay.
 */
export function decide(
  outcome: { ok: boolean; asks: Pick<Asks, 'gone' | 'final' | 'retryAfter'> },
  attempt: { number: number; trigger: 'AUTO' | 'MANUAL' | 'TEST' },
  policy: RetryPolicy,
  { now, minBackoffMs, random = Math.random }: { now: Date; minBackoffMs: number; random?: () => number },
): Decision {
  if (outcome.ok) return { status: 'COMPLETED', nextAttemptAt: null, gone: false, why: null };
  const { gone, final } = outcome.asks;
  const why: Decision['why'] = gone
    ? 'gone'
    : final
      ? 'final-status'
      : attempt.trigger !== 'AUTO'
        ? 'not-automatic'
        : attempt.number >= policy.maxAttempts
          ? 'attempts'
          : null;
  if (why) return { status: 'FAILED', nextAttemptAt: null, gone, why };
  const asked = retryAfterMs(outcome.asks.retryAfter, now);
  const delay = asked !== null ? Math.min(Math.max(asked, minBackoffMs), MAX_RETRY_AFTER_MS) : retryDelay(attempt.number, policy, random);
  return { status: 'RETRYING', nextAttemptAt: new Date(now.getTime() + delay), gone: false, why: null };
}
