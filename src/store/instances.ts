import { open, openHeaders, openOrNull } from '../crypto/secrets.ts';
import { db, inOneTrip, query, type Tx } from '../db/client.ts';
import { uuidv7 } from '../db/ids.ts';
import type { Attempt, AttemptTrigger, Instance, Prisma, Webhook } from '../generated/prisma/client.ts';
import { completeDeliveries, completeStatements, enqueueDeliveries, type FetchedJob } from '../queue/boss.ts';
import { instanceChange } from '../pubsub/changes.ts';
import type { GateLimits, GateState } from '../rules/admission.ts';
import { afterFailures, failureRun, gateTouched } from '../rules/failures.ts';
import type { Outcome } from '../rules/outcome.ts';
import { decide, type Decision } from '../rules/retry.ts';
import { seriesDeltas } from '../rules/series.ts';
import { groupBy } from '../rules/values.ts';
import type { StoredHeader } from '../rules/webhookSettings.ts';
import { raise } from './alerts.ts';
import { recordAtGates, throughGate } from './gates.ts';
import { releaseNext } from './ordering.ts';
import * as sql from './sql/instances.ts';
import { countFailures as countFailuresSql } from './sql/webhooks.ts';
import { changeState } from './webhookState.ts';

export type { Wanted } from './sql/instances.ts';
type Wanted = sql.Wanted;

/**
 * Instance state: claiming, recording outcomes, cancelling, sending again. Every status change is a statement of sql/instances.ts
 * and announces itself (live subscriptions and waking workers hang on that).
 */

/** An instance taken for sending, with what its webhook says about sending it. */
export interface Claimed {
  id: string;
  tenantId: string;
  webhookId: string;
  entityId: string;
  /** Counting this attempt. */
  attempts: number;
  payload: unknown;
  webhook: ClaimedWebhook;
  /** Its webhook's gate as it was when claimed. */
  gate: GateState;
  /** Its webhook takes Herald's own events: its failures raise no instance_failed (no alert about an alert). */
  takesAlerts: boolean;
}

/**
 * Takes instances for sending in one statement (PENDING; RETRYING for a retry's job; SENDING for a job that runs again), holding
 * or cancelling those of webhooks no longer active; answers them and those whose gate is in force (docs/architecture.md).
 */
export async function claim(wanted: Wanted[]): Promise<{ claimed: Claimed[]; gated: Map<string, Wanted[]> }> {
  const gated = new Map<string, Wanted[]>();
  if (wanted.length === 0) return { claimed: [], gated };
  const takingOver = wanted.filter((w) => w.takeOver).map((w) => w.instanceId);
  if (takingOver.length > 0) await giveUpUnrecorded(takingOver);
  // Committed without waiting for the disk: a claim lost with PostgreSQL itself is sent again by its job (the same webhook-id),
  // and its announcement (SENDING) then holds NOTIFY's lock for no disk write.
  const [rows] = (await inOneTrip([sql.claim(wanted, { gate: 'skip' })], { durable: false })) as [ClaimRow[]];
  const byId = new Map(wanted.map((w) => [w.instanceId, w]));
  for (const row of rows.filter((r) => r.status === 'GATED')) gated.set(row.webhook_id, [...(gated.get(row.webhook_id) ?? []), byId.get(row.id)!]);
  return { claimed: claimedOf(rows), gated };
}

/** Passes a gated webhook's deliveries through its gate: those it lets go are claimed, the rest parked or told when to come back. */
export function claimThroughGate(webhookId: string, wanted: Wanted[]) {
  return throughGate(webhookId, wanted.map((w) => ({ ...w, manual: !!w.manual })), async (tx, pass) => claimedOf(await tx.$queryRaw<ClaimRow[]>(sql.claim(pass, { gate: 'through' }))));
}

/** The claimed webhook's columns as Claimed.webhook, its secrets and headers opened. */
function webhookOf(row: ClaimRow): ClaimedWebhook {
  const webhook = Object.fromEntries(Object.keys(sql.CLAIMED_WEBHOOK).map((name) => [name, row[`webhook.${name}` as keyof ClaimRow]])) as ClaimedWebhook;
  return {
    ...webhook,
    headers: openHeaders(webhook.headers as unknown as StoredHeader[]) as never,
    secret: open(webhook.secret),
    previousSecret: openOrNull(webhook.previousSecret),
  };
}

function claimedOf(rows: ClaimRow[]): Claimed[] {
  return rows.filter((r) => r.status === 'SENDING').map((r) => ({
    id: r.id,
    tenantId: r.tenant_id,
    webhookId: r.webhook_id,
    entityId: r.entity_id,
    attempts: r.attempts,
    payload: r.payload,
    webhook: webhookOf(r),
    gate: { failingAttempts: r.failing_attempts, openUntil: r.open_until, probeInstanceId: r.probe_instance_id, inFlightWindow: r.in_flight_window },
    takesAlerts: r.takes_alerts,
  }));
}

/**
 * SENDING instances a job running again would take over went out unrecorded (worker died, record refused): those at their attempt
 * limit become FAILED, saying so, instead of going again, so no job sends more than maxAttempts.
 */
async function giveUpUnrecorded(instanceIds: string[]): Promise<void> {
  await db().$transaction(async (tx) => {
    const failed = await tx.$queryRaw<Array<{ id: string }>>(sql.failUnrecorded(instanceIds));
    if (failed.length === 0) return;
    const ordered = await tx.$queryRaw<Array<{ webhook_id: string; entity_id: string }>>(sql.orderedOf(failed.map((f) => f.id)));
    for (const o of ordered) await releaseNext(tx, o.webhook_id, o.entity_id);
  });
}

/** What a claim reads of the webhook (sql.CLAIMED_WEBHOOK), its secrets and headers still sealed in the row. */
type ClaimedWebhook = Pick<Webhook, keyof typeof sql.CLAIMED_WEBHOOK>;

type ClaimRow = { [K in keyof ClaimedWebhook as `webhook.${K}`]: ClaimedWebhook[K] } & {
  id: string;
  tenant_id: string;
  webhook_id: string;
  entity_id: string;
  status: string;
  attempts: number;
  payload: unknown;
  failing_attempts: number;
  open_until: Date | null;
  probe_instance_id: string | null;
  in_flight_window: number | null;
  takes_alerts: boolean;
};

export interface Settlement {
  instance: Claimed;
  trigger: AttemptTrigger;
  startedAt: Date;
  request: unknown;
  outcome: Outcome;
  /** The trace its job carried (a retry's job carries it on). */
  trace?: string;
}

export interface SettleLimits extends GateLimits {
  deactivateAfterFailures: number;
  minBackoffMs: number;
}

/**
 * Records attempts, moves their instances on (COMPLETED, RETRYING with a job, FAILED) and completes their `jobs`, in one transaction
 * (one round trip when all are plain successes); answers each instance's new status.
 */
export async function settle(settlements: Settlement[], limits: SettleLimits, jobs: FetchedJob[]): Promise<Array<Decision['status']>> {
  const now = new Date();
  const decided = settlements.map((s) => ({
    ...s,
    ...decide(s.outcome, { number: s.instance.attempts, trigger: s.trigger }, s.instance.webhook, { now, minBackoffMs: limits.minBackoffMs }),
  }));
  const series = seriesDeltas(
    decided.map((d) => ({ tenantId: d.instance.tenantId, webhookId: d.instance.webhookId, startedAt: d.startedAt, ok: d.outcome.ok, durationMs: d.outcome.durationMs, status: d.status })),
  );
  const passed = decided.map((d) => ({ ...d.outcome, webhookId: d.instance.webhookId, tenantId: d.instance.tenantId, instanceId: d.instance.id, gate: d.instance.gate }));
  const plain = (d: (typeof decided)[number], i: number) =>
    d.status === 'COMPLETED' && !d.instance.webhook.orderedDelivery && d.instance.webhook.consecutiveFailures === 0 && !gateTouched(passed[i]!);
  // Plain successes are recorded durably and announced once committed, in the same round trip (see inOneTrip).
  const quick = decided.every(plain);
  const statement = decided.length ? sql.settle(decided.map(recordedOf), series, { announced: quick }) : null;
  if (quick) {
    const after = decided.length ? [sql.announceAll(decided.map((d) => instanceChange({ ...d.instance, status: d.status })))] : [];
    await inOneTrip([...(statement ? [{ text: statement.text, values: statement.values }] : []), ...(jobs.length ? await completeStatements(jobs) : [])], { after });
    return decided.map((d) => d.status);
  }
  await db().$transaction(async (tx) => {
    if (statement) await tx.$queryRaw(statement);
    const retries = decided.filter((d) => d.status === 'RETRYING');
    await enqueueDeliveries(tx, retries.map((d) => ({ instanceId: d.instance.id, tenantId: d.instance.tenantId, webhookId: d.instance.webhookId, trigger: 'AUTO' as const, retry: true, startAfter: d.nextAttemptAt!, trace: d.trace })));
    for (const d of decided) {
      if (d.status !== 'RETRYING' && d.instance.webhook.orderedDelivery) await releaseNext(tx, d.instance.webhookId, d.instance.entityId);
    }
    await recordAtGates(tx, passed, limits);
    await countFailures(tx, decided, limits.deactivateAfterFailures, now);
    await raise(
      tx,
      decided
        .filter((d) => d.status === 'FAILED' && d.why !== 'not-automatic' && !d.instance.takesAlerts)
        .map((d) => ({ tenantId: d.instance.tenantId, action: 'instance_failed' as const, webhookId: d.instance.webhookId, instanceId: d.instance.id })),
    );
    await completeDeliveries(tx, jobs);
  });
  return decided.map((d) => d.status);
}

/** An outcome as the settle statement records it. */
function recordedOf(d: Settlement & Decision): sql.Recorded {
  const o = d.outcome;
  return {
    instanceId: d.instance.id,
    attemptId: uuidv7(),
    number: d.instance.attempts,
    trigger: d.trigger,
    startedAt: d.startedAt,
    durationMs: o.durationMs,
    statusCode: o.statusCode,
    errorKind: o.errorKind,
    message: o.message,
    responseBody: o.responseBody,
    location: o.location,
    status: d.status,
    nextAttemptAt: d.nextAttemptAt ?? null,
    request: d.request,
  };
}

/**
 * Counts each webhook's failed deliveries in a row and raises the alerts and the pause the
 * failure policy says (rules/failures.ts). Pausing holds what waits, and the failed run
 * itself, so that resuming sends everything the outage kept from the receiver.
 */
async function countFailures(tx: Tx, decided: Array<Settlement & Decision>, pauseAfter: number, now: Date): Promise<void> {
  for (const [webhookId, list] of groupBy(decided, (d) => d.instance.webhookId)) {
    const webhook = { id: webhookId, tenantId: list[0]!.instance.tenantId };
    const run = failureRun(list[0]!.instance.webhook.consecutiveFailures, list.map((d) => ({ status: d.status, gone: d.gone, message: d.outcome.message })));
    if (!run) continue;
    if (run.gone) {
      await pauseForFailing(tx, webhook, `the receiver answered 410 Gone on ${now.toISOString()}`, { holdFailedRun: false });
      continue;
    }
    const [counted] = await tx.$queryRaw<Array<{ count: number; before: number; active: boolean }>>(countFailuresSql(webhookId, run.failed.length, run.reset));
    if (!counted) continue;
    const { recovered, failing, pause } = afterFailures(run, counted, pauseAfter);
    if (recovered) await raise(tx, [{ tenantId: webhook.tenantId, action: 'webhook_recovered', webhookId }]);
    if (failing) await raise(tx, [{ tenantId: webhook.tenantId, action: 'webhook_failing', webhookId, reason: failing }]);
    if (pause) await pauseForFailing(tx, webhook, pause, { holdFailedRun: true });
  }
}

/**
 * Herald pauses a webhook that keeps failing, saying why. With `holdFailedRun`, the
 * deliveries that failed in its current run are held too (they failed because the
 * receiver was down, not for what they carry): resuming sends them once more.
 */
async function pauseForFailing(tx: Tx, webhook: { id: string; tenantId: string }, reason: string, { holdFailedRun }: { holdFailedRun: boolean }): Promise<void> {
  if (holdFailedRun) await tx.$queryRaw(sql.holdFailedRun(webhook.tenantId, webhook.id));
  await changeState(tx, webhook, 'PAUSED', { reason });
  await raise(tx, [{ tenantId: webhook.tenantId, action: 'webhook_deactivated', webhookId: webhook.id }]);
}

/** Cancels one instance that has not been delivered yet (letting the next of its entity go, when ordered). */
export async function cancel(instanceId: string): Promise<Instance | null> {
  return db().$transaction(async (tx) => {
    const cancelled = await tx.$queryRaw<unknown[]>(sql.cancel(instanceId, 'cancelled by a person'));
    if (cancelled.length === 0) return null;
    const instance = await tx.instance.findUniqueOrThrow({ where: { id: instanceId }, include: { webhook: { select: { orderedDelivery: true } } } });
    if (instance.webhook.orderedDelivery) await releaseNext(tx, instance.webhookId, instance.entityId);
    return instance;
  });
}

/**
 * Sends instances again now, whatever their status and attempts (trigger MANUAL); not
 * those with nothing to send (their payload could not be rendered when published).
 */
export async function requeue(instanceIds: string[]): Promise<number> {
  if (instanceIds.length === 0) return 0;
  return db().$transaction(async (tx) => {
    const ready = await tx.$queryRaw<Array<{ id: string; tenant_id: string; webhook_id: string }>>(sql.requeue(instanceIds));
    // One delivery re-triggered by a person goes as fast as a fresh one; many are background work.
    const background = ready.length > 1;
    await enqueueDeliveries(tx, ready.map((r) => ({ instanceId: r.id, tenantId: r.tenant_id, webhookId: r.webhook_id, trigger: 'MANUAL' as const, background })));
    return ready.length;
  });
}

/** How many of these instances requeue would send again. */
export async function countRequeueable(instanceIds: string[]): Promise<number> {
  if (instanceIds.length === 0) return 0;
  const [row] = await db().$queryRaw<Array<{ count: number }>>(sql.requeueable(instanceIds));
  return row!.count;
}

/** How many deliveries a webhook holds (PAUSED; an index of those only). */
export async function heldCount(webhookId: string): Promise<number> {
  const [row] = await query<{ n: number }>(sql.countInStatus(webhookId, 'PAUSED'));
  return row?.n ?? 0;
}

/** The first `upTo` attempts of each instance, in order (attempts are numbered from 1 in each instance), by instance. */
export async function firstAttempts(instanceIds: string[], upTo: number): Promise<Map<string, Attempt[]>> {
  const attempts = await db().attempt.findMany({ where: { instanceId: { in: instanceIds }, number: { lte: upTo } }, orderBy: [{ instanceId: 'asc' }, { number: 'asc' }] });
  return groupBy(attempts, (a) => a.instanceId);
}

/** A page of deliveries, newest first, as a GraphQL query selects them (plugin-prisma's query, bounded by its keyset). */
export function instancePage(page: Omit<Prisma.InstanceFindManyArgs, 'orderBy'>): Promise<Instance[]> {
  return db().instance.findMany({ ...page, orderBy: { id: 'desc' } });
}

/** One delivery as `query` selects it (its tenant checked before). */
export function instanceAs(query: Omit<Prisma.InstanceFindUniqueOrThrowArgs, 'where'>, id: string): Promise<Instance> {
  return db().instance.findUniqueOrThrow({ ...query, where: { id } });
}

/** One of the tenant's deliveries; null when there is none (or it is another tenant's). */
export function tenantInstance(tenantId: string, id: string): Promise<Instance | null> {
  return db().instance.findFirst({ where: { id, tenantId } });
}

/** Deliveries by id (whoever's: callers check the tenant). */
export function instancesById(ids: readonly string[]): Promise<Instance[]> {
  return db().instance.findMany({ where: { id: { in: [...ids] } } });
}

/** The ids of up to `limit` deliveries a filter selects. */
export async function instanceIds(where: Prisma.InstanceWhereInput, limit: number): Promise<string[]> {
  return (await db().instance.findMany({ where, select: { id: true }, take: limit })).map((i) => i.id);
}
