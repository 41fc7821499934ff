import type { GateLimits, GateRow, GateState } from './admission.ts';
import type { Asks } from './outcome.ts';
import { retryAfterMs } from './retry.ts';

/**
 * The failure policy, in one place: which failures say the receiver is down, how a run of
 * outcomes moves a webhook's gate (circuit, in-flight window, Retry-After), and what a
 * webhook's deliveries failing in a row lead to (alerts, pausing). The store applies it.
 */

/** An attempt's outcome as the gate sees it. */
export interface Passed {
  webhookId: string;
  tenantId: string;
  instanceId: string;
  ok: boolean;
  message: string;
  /** What the answer asks, as its destination read it. */
  asks: Asks;
  gate: GateState;
}

/** A failure that says the receiver is down or overwhelmed (not that it refused this payload). */
export function isReceiverFailure(o: Pick<Passed, 'ok' | 'asks'>): boolean {
  return !o.ok && o.asks.down;
}

/** Whether outcomes of a webhook need its gate row written (a clean success with a clean gate does not). */
export function gateTouched(o: Pick<Passed, 'ok' | 'gate'>): boolean {
  const g = o.gate;
  return !o.ok || g.failingAttempts > 0 || g.openUntil !== null || g.inFlightWindow !== null;
}

/** A gate after a run of outcomes, with whether its circuit opened or closed. `reason` undefined: unchanged. */
export interface GateAfter {
  failing: number;
  openUntil: Date | null;
  probeMs: number;
  probeId: string | null;
  window: number | null;
  reason: string | null | undefined;
  opened: boolean;
  closed: boolean;
}

/** Whether `gateAfter` needs the webhook's requests in flight: a slow-down answer while no window is set. */
export function needsInFlight(gate: Pick<GateRow, 'in_flight_window'>, outcomes: Passed[]): boolean {
  return gate.in_flight_window === null && outcomes.some((o) => isReceiverFailure(o) && o.asks.slowDown);
}

/**
 * One webhook's gate after its outcomes, in order: `breakerFailures` receiver failures in a row open the circuit (a failed
 * probe doubles the wait, up to `breakerMaxProbeMs`) and a success closes it; slow-down answers halve the in-flight window
 * (from `inFlight` when none was set), successes grow it back; an asked wait holds the webhook back (a day at most).
 */
export function gateAfter(gate: GateRow, outcomes: Passed[], limits: GateLimits, inFlight: number): GateAfter {
  const now = gate.now;
  const after: GateAfter = {
    failing: gate.failing_attempts,
    openUntil: gate.open_until,
    probeMs: gate.probe_ms,
    probeId: gate.probe_instance_id,
    window: gate.in_flight_window,
    reason: undefined,
    opened: false,
    closed: false,
  };
  const ceiling = gate.rate_limit_in_flight ?? limits.webhookConcurrency;
  for (const o of outcomes) {
    if (o.ok) {
      if (after.openUntil) after.closed = true;
      Object.assign(after, { failing: 0, openUntil: null, probeMs: 0, probeId: null, reason: null });
      if (after.window !== null) after.window = after.window + 1 >= ceiling ? null : after.window + 1;
      continue;
    }
    if (!isReceiverFailure(o)) continue;
    after.failing += 1;
    if (o.asks.slowDown) {
      // The window lives within [1, ceiling]: requests on their way also count answers not recorded yet, which can exceed it.
      after.window = Math.max(1, Math.floor((after.window ?? Math.min(ceiling, Math.max(1, inFlight))) / 2));
    }
    const asked = retryAfterMs(o.asks.retryAfter, now);
    if (after.probeId !== null && o.instanceId === after.probeId) {
      after.probeMs = Math.min(limits.breakerMaxProbeMs, Math.max(limits.breakerProbeMs, after.probeMs * 2));
      after.openUntil = new Date(now.getTime() + after.probeMs);
      after.probeId = null;
      after.opened = true;
    } else if (!after.openUntil && after.failing >= limits.breakerFailures) {
      after.probeMs = limits.breakerProbeMs;
      after.openUntil = new Date(now.getTime() + after.probeMs);
      after.reason = `${after.failing} attempts in a row failed (the last: ${o.message.slice(0, 200)})`;
      after.opened = true;
    }
    if (asked !== null && asked > 0) {
      const until = new Date(now.getTime() + Math.min(asked, 86_400_000));
      if (!after.openUntil || until > after.openUntil) {
        after.openUntil = until;
        if (!after.probeMs) after.probeMs = limits.breakerProbeMs;
        after.reason ??= `the receiver asked to wait (Retry-After: ${o.asks.retryAfter}; it answered ${o.message.slice(0, 200)})`;
        after.opened = true;
      }
    }
  }
  return after;
}

/** A settled delivery as the failure count sees it. */
export interface Settled {
  status: 'COMPLETED' | 'RETRYING' | 'FAILED';
  /** 410 Gone. */
  gone: boolean;
  message: string;
}

/**
 * What one settle's deliveries of a webhook add to its failures in a row (in the order they
 * came): `reset` when a success came (the count starts again from those failed after it),
 * `failed` the deliveries FAILED since; null when nothing changes. A 410 Gone pauses at once.
 */
export function failureRun(consecutiveFailures: number, settled: Settled[]): { gone: true } | { gone: false; reset: boolean; failed: string[] } | null {
  if (settled.some((s) => s.gone)) return { gone: true };
  const lastSuccess = settled.findLastIndex((s) => s.status === 'COMPLETED');
  const failed = settled.slice(lastSuccess + 1).filter((s) => s.status === 'FAILED').map((s) => s.message);
  if (failed.length === 0 && (lastSuccess < 0 || consecutiveFailures === 0)) return null;
  return { gone: false, reset: lastSuccess >= 0, failed };
}

/**
 * What a webhook's new count of failures in a row leads to (`before` and `count`: before and after this run): recovered (a success
 * after half of `pauseAfter`), failing (at half), paused (at `pauseAfter`), each with its reason.
 */
export function afterFailures(
  run: { reset: boolean; failed: string[] },
  counted: { before: number; count: number; active: boolean },
  pauseAfter: number,
): { recovered: boolean; failing: string | null; pause: string | null } {
  const half = Math.floor(pauseAfter / 2);
  const lowest = run.reset ? 0 : counted.before;
  const recovered = run.reset && counted.before >= half && half > 0;
  const failing =
    half > 0 && half < pauseAfter && lowest < half && counted.count >= half && counted.active
      ? `${half} deliveries in a row failed (the last: ${run.failed[half - lowest - 1]!.slice(0, 200)}); at ${pauseAfter} Herald pauses it`
      : null;
  const start = counted.count - run.failed.length;
  const pause =
    run.failed.length > 0 && counted.active && start < pauseAfter && counted.count >= pauseAfter
      ? `${pauseAfter} deliveries in a row failed (the last: ${run.failed[pauseAfter - start - 1]!.slice(0, 200)})`
      : null;
  return { recovered, failing, pause };
}
