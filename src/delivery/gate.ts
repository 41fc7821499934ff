import { fromPrisma } from 'pg-boss';
import { db, type Tx } from '../db/client.ts';
import { Prisma } from '../generated/prisma/client.ts';
import { notify, NOTIFY_CHANGED_INSTANCES } from '../pubsub/changes.ts';
import { enqueueDeliveries, queue } from '../queue/boss.ts';
import type { ErrorKind } from './sender.ts';
import { retryAfterMs } from './retry.ts';

/** Jobs that bring a webhook's deliveries in line with its state, and wake an open circuit's probe. */
export const WEBHOOK_STATE_QUEUE = 'webhook-state';

/**
 * The gate in front of each webhook's receiver, shared by every worker process through
 * one row per webhook (`webhook_gate`, locked while deliveries pass it):
 *
 * - Circuit breaker: after `breakerFailures` failed attempts in a row (network errors,
 *   5xx, 408, 429), or when the receiver asks to wait (Retry-After on 429/503), the
 *   circuit opens: the webhook's deliveries wait, parked without a job (so they cost
 *   nothing), and one probe goes at growing intervals (`breakerProbeMs`, doubling up to
 *   `breakerMaxProbeMs`). The first success closes it and everything parked goes again.
 * - Rate limit: `rateLimitPerSecond` (a token bucket holding a fifth of a second's
 *   worth) and `rateLimitInFlight`, for the whole deployment; deliveries over it wait in
 *   the worker's hands, PENDING, and never fail because of it.
 * - Adaptive: 429, 502, 503 and 504 halve how many requests may be in flight to the
 *   webhook (at least one); each success adds one back until the limit is gone.
 *
 * A webhook with none of these in force is not gated at all: its deliveries are claimed
 * in the plain claim statement, without touching this table.
 */
export interface GateLimits {
  breakerFailures: number;
  breakerProbeMs: number;
  breakerMaxProbeMs: number;
  /** Requests a process sends one webhook at once; an adaptive window grows back to it. */
  webhookConcurrency: number;
}

/** What a gate row and its webhook's settings say (as the claim reads them). */
export interface GateState {
  failingAttempts: number;
  openUntil: Date | null;
  probeInstanceId: string | null;
  inFlightWindow: number | null;
}

/** SQL: whether a claim must go through the gate (`w` the webhook, `g` its gate row, maybe missing). */
export const GATED = Prisma.sql`(w.rate_limit_per_second IS NOT NULL OR w.rate_limit_in_flight IS NOT NULL OR g.open_until IS NOT NULL OR g.in_flight_window IS NOT NULL)`;

interface Row {
  /** The database's time (every gate time is on its clock, whichever process reads it). */
  now: Date;
  failing_attempts: number;
  open_until: Date | null;
  probe_ms: number;
  probe_instance_id: string | null;
  in_flight_window: number | null;
  tokens: number;
  tokens_at: Date | null;
  rate_limit_per_second: number | null;
  rate_limit_in_flight: number | null;
  timeout_ms: number;
}

export interface Admission {
  send: string[];
  park: string[];
  wait: string[];
  /** How long the waiting ones wait before trying again. */
  retryInMs: number | null;
  /** The gate row after this admission. */
  tokens: number;
  tokensAt: Date;
  openUntil: Date | null;
  probeInstanceId: string | null;
}

/** While in-flight places are full, how often a waiting delivery looks again (another process may have finished one). */
const IN_FLIGHT_RETRY_MS = 100;

/**
 * Which of `wanted` go now, which wait for the circuit (parked), and which wait their
 * turn under the limits: a pure decision over the gate row, the requests in flight and the time.
 */
export function admit(row: Row, wanted: Array<{ id: string; manual: boolean }>, inFlight: number, now: Date): Admission {
  let candidates = wanted;
  const park: string[] = [];
  let probe: string | null = null;
  let openUntil = row.open_until;
  if (openUntil) {
    // A person's re-trigger goes regardless; automatic deliveries wait, but for one probe when it is due.
    const auto = candidates.filter((c) => !c.manual);
    candidates = candidates.filter((c) => c.manual);
    if (now >= openUntil && auto.length > 0) {
      probe = auto[0]!.id;
      candidates = [...candidates, auto[0]!];
      park.push(...auto.slice(1).map((c) => c.id));
    } else {
      park.push(...auto.map((c) => c.id));
    }
  }
  let room = Number.POSITIVE_INFINITY;
  const inFlightLimit = Math.min(row.rate_limit_in_flight ?? Number.POSITIVE_INFINITY, row.in_flight_window ?? Number.POSITIVE_INFINITY);
  if (Number.isFinite(inFlightLimit)) room = Math.max(0, inFlightLimit - inFlight);
  let tokens = row.tokens;
  // Times only move forward: a transaction that began before the last one to hold the gate finished refills nothing.
  const tokensAt = row.tokens_at && row.tokens_at > now ? row.tokens_at : now;
  const rate = row.rate_limit_per_second;
  if (rate) {
    const capacity = Math.max(1, rate / 5);
    tokens = row.tokens_at ? Math.min(capacity, tokens + ((tokensAt.getTime() - row.tokens_at.getTime()) / 1000) * rate) : capacity;
    room = Math.min(room, Math.max(0, Math.floor(tokens)));
  }
  const send = candidates.slice(0, room).map((c) => c.id);
  const wait = candidates.slice(room).map((c) => c.id);
  if (rate) tokens -= send.length;
  let retryInMs: number | null = null;
  if (wait.length) {
    const tokenMs = rate && tokens < 1 ? tokensAt.getTime() - now.getTime() + Math.ceil(((1 - tokens) / rate) * 1000) : 0;
    const inFlightFull = Number.isFinite(inFlightLimit) && inFlight + send.length >= inFlightLimit;
    retryInMs = Math.max(tokenMs, inFlightFull ? IN_FLIGHT_RETRY_MS : 0, 1);
  }
  let probeInstanceId = row.probe_instance_id;
  if (probe && send.includes(probe)) {
    // One probe at a time: none other before this one has had its whole timeout.
    probeInstanceId = probe;
    openUntil = new Date(now.getTime() + row.timeout_ms + Math.max(row.probe_ms, 1000));
  }
  return { send, park, wait, retryInMs, tokens, tokensAt, openUntil, probeInstanceId };
}

/**
 * Passes deliveries of one webhook through its gate, in one transaction that holds the
 * gate row: claims (with `claimIn`) those that may go, parks those the open circuit
 * holds, and answers those that must wait with when to try again.
 */
export async function throughGate<C>(
  webhookId: string,
  wanted: Array<{ instanceId: string; takeOver: boolean; retry: boolean; manual: boolean }>,
  claimIn: (tx: Tx, wanted: Array<{ instanceId: string; takeOver: boolean; retry: boolean; manual: boolean }>) => Promise<C[]>,
): Promise<{ claimed: C[]; parked: string[]; waiting: string[]; retryInMs: number | null }> {
  return db().$transaction(async (tx) => {
    const row = await lockGate(tx, webhookId);
    const limited = row.rate_limit_in_flight !== null || row.in_flight_window !== null;
    const inFlight = limited
      ? (await tx.$queryRaw<Array<{ n: number }>>`SELECT count(*)::int AS n FROM instance WHERE webhook_id = ${webhookId}::uuid AND status = 'SENDING'`)[0]!.n
      : 0;
    const byId = new Map(wanted.map((w) => [w.instanceId, w]));
    const admission = admit(row, [...byId.values()].map((w) => ({ id: w.instanceId, manual: w.manual })), inFlight, row.now);
    const claimed = admission.send.length ? await claimIn(tx, admission.send.map((id) => byId.get(id)!)) : [];
    if (admission.park.length) {
      const takenOver = admission.park.filter((id) => byId.get(id)!.takeOver);
      // A delivery whose worker died mid-send (SENDING, taken over) waits as a retry: that attempt counted.
      await tx.$executeRaw`
        UPDATE instance SET parked = true, status = CASE WHEN status = 'SENDING' THEN 'RETRYING'::"InstanceStatus" ELSE status END, next_attempt_at = NULL, updated_at = now()
        WHERE id = ANY(${admission.park}::uuid[]) AND (status IN ('PENDING', 'RETRYING') OR (status = 'SENDING' AND id = ANY(${takenOver}::uuid[])))`;
    }
    await tx.$executeRaw`
      UPDATE webhook_gate SET tokens = ${admission.tokens}, tokens_at = ${admission.tokensAt}, open_until = ${admission.openUntil},
        probe_instance_id = ${admission.probeInstanceId}::uuid
      WHERE webhook_id = ${webhookId}::uuid`;
    return { claimed, parked: admission.park, waiting: admission.wait, retryInMs: admission.retryInMs };
  });
}

/** A webhook's gate row with its limits, locked for this transaction (made first if it has none). */
async function lockGate(tx: Tx, webhookId: string): Promise<Row> {
  const read = () => tx.$queryRaw<Row[]>`
    SELECT now() AS now, g.failing_attempts, g.open_until, g.probe_ms, g.probe_instance_id::text AS probe_instance_id, g.in_flight_window, g.tokens, g.tokens_at,
      w.rate_limit_per_second, w.rate_limit_in_flight, w.timeout_ms
    FROM webhook_gate g JOIN webhook w ON w.id = g.webhook_id WHERE g.webhook_id = ${webhookId}::uuid FOR UPDATE OF g`;
  const [row] = await read();
  if (row) return row;
  await tx.$executeRaw`INSERT INTO webhook_gate (webhook_id) VALUES (${webhookId}::uuid) ON CONFLICT DO NOTHING`;
  return (await read())[0]!;
}

/** An attempt's outcome as the gate sees it. */
export interface Passed {
  webhookId: string;
  tenantId: string;
  instanceId: string;
  ok: boolean;
  statusCode: number | null;
  errorKind: ErrorKind | null;
  message: string;
  retryAfter: string | undefined;
  gate: GateState;
}

const RECEIVER_DOWN: ReadonlyArray<ErrorKind> = ['TIMEOUT', 'CONNECTION_REFUSED', 'CONNECTION_RESET', 'DNS', 'TLS', 'NETWORK', 'INVALID_RESPONSE'];
/** A failure that says the receiver is down or overwhelmed (not that it refused this payload). */
export function isReceiverFailure(o: Pick<Passed, 'ok' | 'statusCode' | 'errorKind'>): boolean {
  if (o.ok) return false;
  if (o.errorKind && RECEIVER_DOWN.includes(o.errorKind)) return true;
  return o.statusCode !== null && (o.statusCode >= 500 || o.statusCode === 429 || o.statusCode === 408);
}
const SLOW_DOWN = [429, 502, 503, 504];

/** Whether outcomes of a webhook need its gate row written (a clean success with a clean gate does not). */
export function gateTouched(o: Pick<Passed, 'ok' | 'statusCode' | 'errorKind' | 'gate'>): boolean {
  const g = o.gate;
  return !o.ok || g.failingAttempts > 0 || g.openUntil !== null || g.inFlightWindow !== null;
}

/**
 * Records outcomes at their webhooks' gates, in the settle transaction: counts failed
 * attempts in a row and opens the circuit at the threshold (a failed probe keeps it
 * open, waiting twice as long); a success closes it and releases what was parked;
 * slow-down answers halve the in-flight window, successes grow it back; Retry-After
 * holds the whole webhook back that long.
 */
export async function recordAtGates(tx: Tx, outcomes: Passed[], limits: GateLimits): Promise<void> {
  const byWebhook = new Map<string, Passed[]>();
  for (const o of outcomes) if (gateTouched(o)) byWebhook.set(o.webhookId, [...(byWebhook.get(o.webhookId) ?? []), o]);
  for (const [webhookId, list] of byWebhook) {
    const gate = await lockGate(tx, webhookId);
    const now = gate.now;
    let failing = gate.failing_attempts;
    let openUntil = gate.open_until;
    let probeMs = gate.probe_ms;
    let probeId = gate.probe_instance_id;
    let reason: string | null | undefined; // undefined: unchanged
    let window = gate.in_flight_window;
    let closed = false;
    let opened = false;
    const ceiling = gate.rate_limit_in_flight ?? limits.webhookConcurrency;
    for (const o of list) {
      if (o.ok) {
        failing = 0;
        if (openUntil) closed = true;
        openUntil = null;
        probeMs = 0;
        probeId = null;
        reason = null;
        if (window !== null) window = window + 1 >= ceiling ? null : window + 1;
        continue;
      }
      if (!isReceiverFailure(o)) continue;
      failing += 1;
      if (o.statusCode !== null && SLOW_DOWN.includes(o.statusCode)) {
        const current = window ?? Math.max(1, await inFlightOf(tx, webhookId));
        window = Math.max(1, Math.floor(current / 2));
      }
      const asked = o.statusCode === 429 || o.statusCode === 503 ? retryAfterMs(o.retryAfter, now) : null;
      const wasProbe = probeId !== null && o.instanceId === probeId;
      if (wasProbe) {
        probeMs = Math.min(limits.breakerMaxProbeMs, Math.max(limits.breakerProbeMs, probeMs * 2));
        openUntil = new Date(now.getTime() + probeMs);
        probeId = null;
        opened = true;
      } else if (!openUntil && failing >= limits.breakerFailures) {
        probeMs = limits.breakerProbeMs;
        openUntil = new Date(now.getTime() + probeMs);
        reason = `${failing} attempts in a row failed (the last: ${o.message.slice(0, 200)})`;
        opened = true;
      }
      if (asked !== null && asked > 0) {
        const until = new Date(now.getTime() + Math.min(asked, 86_400_000));
        if (!openUntil || until > openUntil) {
          openUntil = until;
          if (!probeMs) probeMs = limits.breakerProbeMs;
          reason ??= `the receiver asked to wait (${o.statusCode}, Retry-After: ${o.retryAfter})`;
          opened = true;
        }
      }
    }
    await tx.$executeRaw`
      UPDATE webhook_gate SET failing_attempts = ${failing}, open_until = ${openUntil}, probe_ms = ${probeMs}, probe_instance_id = ${probeId}::uuid,
        in_flight_window = ${window}, open_reason = ${reason === undefined ? Prisma.sql`open_reason` : Prisma.sql`${reason}`}
      WHERE webhook_id = ${webhookId}::uuid`;
    const tenantId = list[0]!.tenantId;
    if (closed || opened || (gate.in_flight_window === null) !== (window === null)) await notify(tx, [{ k: 'webhook', t: tenantId, id: webhookId }]);
    // Parked deliveries go again once it closes; while open, a probe job wakes one when it is due.
    // (and a pass later, for deliveries a publish in flight parked after reading the circuit as open)
    if (closed) {
      await queue().insert(WEBHOOK_STATE_QUEUE, [{ data: { webhookId } }, { data: { webhookId }, startAfter: new Date(Date.now() + 10_000) }], { db: fromPrisma(tx) });
    }
    if (opened && openUntil) await queue().insert(WEBHOOK_STATE_QUEUE, [{ data: { webhookId, probe: true }, startAfter: openUntil }], { db: fromPrisma(tx) });
  }
}

async function inFlightOf(tx: Tx, webhookId: string): Promise<number> {
  const [row] = await tx.$queryRaw<Array<{ n: number }>>`SELECT count(*)::int AS n FROM instance WHERE webhook_id = ${webhookId}::uuid AND status = 'SENDING'`;
  return (row?.n ?? 0) + 1;
}

/**
 * The probe job: when an open circuit's wait is over, the oldest parked delivery gets
 * a job again (the gate lets it through as the probe). Nothing parked: the next
 * delivery to come is the probe.
 */
export async function wakeProbe(webhookId: string): Promise<void> {
  await db().$transaction(async (tx) => {
    const [gate] = await tx.$queryRaw<Array<{ open_until: Date | null; due: boolean }>>`
      SELECT open_until, open_until <= now() + interval '50 milliseconds' AS due FROM webhook_gate WHERE webhook_id = ${webhookId}::uuid FOR UPDATE`;
    if (!gate?.open_until) return; // closed meanwhile: what was parked is released with it
    if (!gate.due) {
      await queue().insert(WEBHOOK_STATE_QUEUE, [{ data: { webhookId, probe: true }, startAfter: gate.open_until }], { db: fromPrisma(tx) });
      return;
    }
    const woken = await tx.$queryRaw<Array<{ id: string; status: string }>>`
      WITH changed AS (
        UPDATE instance SET parked = false, updated_at = now()
        WHERE id = (SELECT id FROM instance WHERE webhook_id = ${webhookId}::uuid AND parked ORDER BY id LIMIT 1) AND parked
        RETURNING id, tenant_id, webhook_id, status)
      ${NOTIFY_CHANGED_INSTANCES}`;
    await enqueueDeliveries(tx, woken.map((w) => ({ instanceId: w.id, webhookId, trigger: 'AUTO' as const, retry: w.status === 'RETRYING' })));
  });
}

/** A webhook's circuit as people read it (Webhook.circuit). */
export async function circuitOf(webhookId: string) {
  const [row] = await db().$queryRaw<Array<{ failing_attempts: number | null; open_until: Date | null; open_reason: string | null; in_flight_window: number | null; parked: number }>>`
    SELECT g.failing_attempts, g.open_until, g.open_reason, g.in_flight_window,
      (SELECT count(*)::int FROM instance WHERE webhook_id = ${webhookId}::uuid AND parked) AS parked
    FROM (SELECT 1) one LEFT JOIN webhook_gate g ON g.webhook_id = ${webhookId}::uuid`;
  return {
    open: row?.open_until != null,
    failingAttempts: row?.failing_attempts ?? 0,
    reason: row?.open_until ? row.open_reason : null,
    nextProbeAt: row?.open_until ?? null,
    inFlightLimit: row?.in_flight_window ?? null,
    parkedDeliveries: row?.parked ?? 0,
  };
}
