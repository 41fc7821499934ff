import { describe, expect, it } from 'vitest';
import type { GateLimits } from '../src/rules/admission.ts';
import { afterFailures, failureRun, gateAfter, isReceiverFailure, needsInFlight, type Passed } from '../src/rules/failures.ts';
import { httpOutcome } from './support/answers.ts';
import { gateRow } from './support/gates.ts';

const now = new Date('2026-12-07T10:00:00.000Z');
const limits: GateLimits = { breakerFailures: 5, breakerProbeMs: 1000, breakerMaxProbeMs: 8000, webhookConcurrency: 10 };
const clean = gateRow(now);
const cleanState = { failingAttempts: 0, openUntil: null, probeInstanceId: null, inFlightWindow: null };
let n = 0;
const outcome = (statusCode: number | null, extra: Partial<Passed> & { retryAfter?: string } = {}): Passed => {
  const { retryAfter, ...rest } = extra;
  const { ok, message, asks } = httpOutcome(statusCode, { retryAfter });
  return { webhookId: 'w', tenantId: 't', instanceId: `i${(n += 1)}`, ok, message, asks, gate: cleanState, ...rest };
};
const times = (count: number, make: () => Passed) => Array.from({ length: count }, make);
const later = (ms: number) => new Date(now.getTime() + ms);

describe('the failure policy', () => {
  it.each([
    // status, error kind, says the receiver is down or overwhelmed
    [200, null, false],
    [400, 'HTTP_STATUS', false],
    [404, 'HTTP_STATUS', false],
    [410, 'HTTP_STATUS', false],
    [301, 'REDIRECT', false],
    [null, 'RENDER', false],
    [null, 'BLOCKED', false],
    [408, 'HTTP_STATUS', true],
    [429, 'HTTP_STATUS', true],
    [500, 'HTTP_STATUS', true],
    [503, 'HTTP_STATUS', true],
    [null, 'TIMEOUT', true],
    [null, 'CONNECTION_RESET', true],
    [null, 'INVALID_RESPONSE', true],
    [200, 'CONNECTION_RESET', true], // a 200 whose body was cut off
  ] as const)('%s %s: receiver failure %s', (statusCode, errorKind, down) => {
    const read = httpOutcome(statusCode, { kind: errorKind === 'HTTP_STATUS' || errorKind === 'REDIRECT' ? undefined : (errorKind ?? undefined) });
    expect(read.errorKind).toBe(errorKind);
    expect(isReceiverFailure(read)).toBe(down);
  });

  it.each([
    ['four failures: counted, the circuit stays closed', clean, times(4, () => outcome(500)), { failing: 4, openUntil: null, opened: false, reason: undefined }],
    ['the fifth opens it for a probe interval, saying why', clean, times(5, () => outcome(500)), { failing: 5, openUntil: later(1000), probeMs: 1000, opened: true, reason: '5 attempts in a row failed (the last: 500 no)' }],
    ['refusals that are not the receiver being down do not count', clean, times(6, () => outcome(400)), { failing: 0, opened: false }],
    ['a success in between starts the count again', clean, [...times(4, () => outcome(500)), outcome(200), ...times(4, () => outcome(500))], { failing: 4, opened: false }],
    ['a success closes an open circuit', { ...clean, failing_attempts: 7, open_until: later(500), probe_ms: 2000 }, [outcome(200)], { failing: 0, openUntil: null, probeMs: 0, closed: true, reason: null }],
    ['Retry-After on a 503 holds the webhook back that long', clean, [outcome(503, { retryAfter: '30' })], { failing: 1, openUntil: later(30_000), opened: true, reason: 'the receiver asked to wait (Retry-After: 30; it answered 503 no)' }],
    ['Retry-After is held a day at most', clean, [outcome(429, { retryAfter: '999999' })], { openUntil: later(86_400_000), opened: true }],
    ['Retry-After on a 500 is not asked for', clean, [outcome(500, { retryAfter: '30' })], { openUntil: null, opened: false }],
  ])('%s', (_what, gate, outcomes, expected) => {
    expect(gateAfter(gate, outcomes, limits, 1)).toMatchObject(expected);
  });

  it('a failed probe keeps the circuit open, waiting twice as long up to the most', () => {
    const open = { ...clean, failing_attempts: 5, open_until: now, probe_ms: 1000, probe_instance_id: 'probe' };
    expect(gateAfter(open, [outcome(500, { instanceId: 'probe' })], limits, 1)).toMatchObject({ openUntil: later(2000), probeMs: 2000, probeId: null, opened: true });
    expect(gateAfter({ ...open, probe_ms: 6000 }, [outcome(null, { instanceId: 'probe' })], limits, 1)).toMatchObject({ openUntil: later(8000), probeMs: 8000 });
  });

  it('slow-down answers halve the window (from what is on its way when none was set); successes grow it back and lift it at the ceiling', () => {
    expect(needsInFlight(clean, [outcome(502)])).toBe(true);
    expect(needsInFlight(clean, [outcome(500)])).toBe(false);
    expect(needsInFlight({ ...clean, in_flight_window: 4 }, [outcome(502)])).toBe(false);
    expect(gateAfter(clean, [outcome(502)], limits, 9).window).toBe(4);
    expect(gateAfter(clean, [outcome(502)], limits, 50).window).toBe(5); // never above the ceiling (webhookConcurrency)
    expect(gateAfter({ ...clean, rate_limit_in_flight: 4 }, [outcome(429)], limits, 50).window).toBe(2); // the webhook's own limit is its ceiling
    expect(gateAfter({ ...clean, in_flight_window: 1 }, [outcome(504)], limits, 50).window).toBe(1);
    expect(gateAfter({ ...clean, in_flight_window: 4 }, [outcome(200), outcome(200)], limits, 0).window).toBe(6);
    expect(gateAfter({ ...clean, in_flight_window: 9 }, [outcome(200)], limits, 0).window).toBeNull();
  });

  const settled = (status: 'COMPLETED' | 'RETRYING' | 'FAILED', gone = false) => ({ status, gone, message: `${status.toLowerCase()} ${(n += 1)}` });
  it.each([
    ['nothing failed, nothing was failing', 0, [settled('COMPLETED'), settled('RETRYING')], null],
    ['a success after failures resets the count', 3, [settled('COMPLETED')], { gone: false, reset: true, failed: [] }],
    ['failures add up', 3, [settled('FAILED'), settled('RETRYING'), settled('FAILED')], { gone: false, reset: false, failed: [expect.any(String), expect.any(String)] }],
    ['only the failures after the last success count', 0, [settled('FAILED'), settled('COMPLETED'), settled('FAILED')], { gone: false, reset: true, failed: [expect.any(String)] }],
    ['410 Gone pauses at once', 0, [settled('COMPLETED'), settled('FAILED', true)], { gone: true }],
  ] as const)('%s', (_what, consecutive, list, expected) => {
    expect(failureRun(consecutive, [...list])).toEqual(expected);
  });

  it.each([
    // run, counted before → after, pauseAfter: recovered, failing alert, pause
    ['half the threshold: a failing alert', { reset: false, failed: ['a', 'b'] }, { before: 3, count: 5, active: true }, 10, { recovered: false, failing: '5 deliveries in a row failed (the last: b); at 10 Herald pauses it', pause: null }],
    ['past half already: no second alert', { reset: false, failed: ['a'] }, { before: 6, count: 7, active: true }, 10, { recovered: false, failing: null, pause: null }],
    ['the threshold: paused, naming the failure that reached it', { reset: false, failed: ['x', 'y', 'z'] }, { before: 8, count: 11, active: true }, 10, { recovered: false, failing: null, pause: '10 deliveries in a row failed (the last: y)' }],
    ['a webhook already paused is not paused again', { reset: false, failed: ['x'] }, { before: 9, count: 10, active: false }, 10, { recovered: false, failing: null, pause: null }],
    ['a success after half: recovered', { reset: true, failed: [] }, { before: 6, count: 0, active: true }, 10, { recovered: true, failing: null, pause: null }],
    ['a success before half: nothing to say', { reset: true, failed: [] }, { before: 2, count: 0, active: true }, 10, { recovered: false, failing: null, pause: null }],
    ['recovered and failing again in one run', { reset: true, failed: ['p', 'q', 'r', 's', 't'] }, { before: 7, count: 5, active: true }, 10, { recovered: true, failing: '5 deliveries in a row failed (the last: t); at 10 Herald pauses it', pause: null }],
  ])('%s', (_what, run, counted, pauseAfter, expected) => {
    expect(afterFailures(run, counted, pauseAfter)).toEqual(expected);
  });
});
