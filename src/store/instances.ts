import { db, inOneTrip, query, type Tx } from '../db/client.ts';
import { uuidv7 } from '../db/ids.ts';
import type { AttemptTrigger, Instance, InstanceStatus, Webhook } from '../generated/prisma/client.ts';
import { completeDeliveries, completeStatement, enqueueDeliveries } from '../queue/boss.ts';
import { CHANNEL, notify, NOTIFY_CHANGED_INSTANCES } from '../pubsub/changes.ts';
import { Prisma } from '../generated/prisma/client.ts';
import { decide, type Decision } from '../rules/retry.ts';
import { changeState } from './webhookState.ts';
import { raise } from './alerts.ts';
import { GATED, recordAtGates, throughGate } from './gates.ts';
import { releaseNext } from './ordering.ts';
import { open, openHeaders, openOrNull } from '../crypto/secrets.ts';
import { type StoredHeader } from '../rules/webhookSettings.ts';
import { HERALD_TOPIC } from '../rules/heraldTopic.ts';
import { type Outcome } from '../rules/outcome.ts';
import { gateTouched, type GateLimits, type GateState } from '../rules/admission.ts';

/**
 * The one place that changes an instance's status. Every change goes through
 * here, so later layers (live subscriptions) have a single place to hook in.
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
  webhook: Pick<
    Webhook,
    | 'id'
    | 'active'
    | 'headers'
    | 'secret'
    | 'previousSecret'
    | 'previousSecretUntil'
    | 'timeoutMs'
    | 'maxAttempts'
    | 'backoffBaseMs'
    | 'backoffCapMs'
    | 'retryScheduleMs'
    | 'finalStatusCodes'
    | 'orderedDelivery'
    | 'consecutiveFailures'
  >;
  /** Its webhook's gate as it was when claimed. */
  gate: GateState;
  /** Its webhook takes Herald's own events: its failures raise no instance_failed (no alert about an alert). */
  takesAlerts: boolean;
}

/** A delivery a worker wants to send: the instance, and how its job came. */
export interface Wanted {
  instanceId: string;
  /** Its job runs again: it may take over an instance left SENDING. */
  takeOver: boolean;
  /** A retry's job: it may take a RETRYING instance. */
  retry: boolean;
  /** A person's re-trigger (MANUAL). */
  manual?: boolean;
}

/**
 * Takes instances for sending, in one statement: PENDING ones; RETRYING ones when
 * asked by a retry's job (`retry`: a first attempt's job that runs again must not send
 * an instance waiting for its retry early); and SENDING ones whose job runs again
 * (`takeOver`: its worker died or failed before recording), which is how a crash
 * mid-send is recovered. Answers those taken (an instance asked for twice is taken
 * once), each with its webhook, and those whose webhook's gate is in force (a rate
 * limit, an open circuit, a reduced window: see gate.ts), which are not taken here but
 * must pass `claimThroughGate`.
 *
 * An automatic delivery of a webhook that is no longer active is not sent but held
 * (PAUSED) or cancelled (turned off, deleted), as its webhook's state says: a publish
 * that read the webhook just before it changed loses nothing and sends nothing. A
 * MANUAL one (a person's re-trigger) is sent regardless.
 */
export async function claim(wanted: Wanted[]): Promise<{ claimed: Claimed[]; gated: Map<string, Wanted[]> }> {
  const gated = new Map<string, Wanted[]>();
  if (wanted.length === 0) return { claimed: [], gated };
  const takingOver = wanted.filter((w) => w.takeOver).map((w) => w.instanceId);
  if (takingOver.length > 0) await giveUpUnrecorded(takingOver);
  const rows = await query<ClaimRow>(claimSql(wanted, { gate: 'skip' }));
  const byId = new Map(wanted.map((w) => [w.instanceId, w]));
  for (const row of rows.filter((r) => r.status === 'GATED')) gated.set(row.webhook_id, [...(gated.get(row.webhook_id) ?? []), byId.get(row.id)!]);
  return { claimed: claimedOf(rows), gated };
}

/** Passes a gated webhook's deliveries through its gate: those it lets go are claimed, the rest parked or told when to come back. */
export function claimThroughGate(webhookId: string, wanted: Wanted[]) {
  return throughGate(webhookId, wanted.map((w) => ({ ...w, manual: !!w.manual })), async (tx, pass) => claimedOf(await tx.$queryRaw<ClaimRow[]>(claimSql(pass, { gate: 'through' }))));
}

/**
 * The claim statement. `skip`: instances of gated webhooks are left as they are and
 * answered with status GATED; `through`: the caller holds the gate and takes them.
 */
function claimSql(wanted: Wanted[], { gate }: { gate: 'skip' | 'through' }): Prisma.Sql {
  const column = <T>(f: (w: Wanted) => T) => wanted.map(f);
  const open = gate === 'skip' ? Prisma.sql`NOT ${GATED}` : Prisma.sql`true`;
  return Prisma.sql`
    WITH wanted AS (
      SELECT id, bool_or(take_over) AS take_over, bool_or(retry) AS retry, bool_or(manual) AS manual
      FROM unnest(${column((w) => w.instanceId)}::uuid[], ${column((w) => w.takeOver)}::boolean[], ${column((w) => w.retry)}::boolean[], ${column((w) => !!w.manual)}::boolean[])
        AS w(id, take_over, retry, manual) GROUP BY id),
    candidates AS (
      SELECT i.id, i.webhook_id, w.active OR wanted.manual AS go, w.paused_at IS NOT NULL AND w.deleted_at IS NULL AS paused,
        NOT (w.active OR wanted.manual) OR ${open} AS open
      FROM instance i JOIN wanted ON wanted.id = i.id JOIN webhook w ON w.id = i.webhook_id LEFT JOIN webhook_gate g ON g.webhook_id = i.webhook_id
      WHERE i.status = 'PENDING' OR (wanted.retry AND i.status = 'RETRYING') OR (wanted.take_over AND i.status = 'SENDING')),
    locked AS (
      SELECT i.id, c.go, c.paused FROM instance i JOIN candidates c ON c.id = i.id
      WHERE c.open ORDER BY i.id FOR UPDATE OF i),
    changed AS (
      UPDATE instance i SET
        status = (CASE WHEN locked.go THEN 'SENDING' WHEN locked.paused THEN 'PAUSED' ELSE 'CANCELLED' END)::"InstanceStatus",
        attempts = i.attempts + (CASE WHEN locked.go THEN 1 ELSE 0 END), held = false, parked = false, next_attempt_at = NULL, updated_at = now(),
        last_message = CASE WHEN locked.go OR locked.paused THEN i.last_message ELSE 'cancelled: the webhook was turned off or deleted' END
      FROM locked WHERE i.id = locked.id AND i.status IN ('PENDING', 'RETRYING', 'SENDING')
      RETURNING i.id, i.tenant_id, i.webhook_id, i.entity_id, i.status, i.attempts, i.payload)
    SELECT changed.id::text AS id, changed.tenant_id::text AS tenant_id, changed.entity_id, changed.status::text AS status, changed.attempts, changed.payload,
      w.id::text AS webhook_id, w.active, w.headers, w.secret, w.previous_secret, w.previous_secret_until, w.timeout_ms,
      w.max_attempts, w.backoff_base_ms, w.backoff_cap_ms, w.retry_schedule_ms, w.final_status_codes, w.ordered_delivery, w.consecutive_failures,
      COALESCE(g.failing_attempts, 0) AS failing_attempts, g.open_until, g.probe_instance_id::text AS probe_instance_id, g.in_flight_window,
      ${HERALD_TOPIC} = ANY(w.topics) AS takes_alerts
    FROM changed JOIN webhook w ON w.id = changed.webhook_id LEFT JOIN webhook_gate g ON g.webhook_id = changed.webhook_id,
      LATERAL (SELECT pg_notify(${CHANNEL}, json_build_object('k', 'instance', 't', changed.tenant_id, 'id', changed.id, 'w', changed.webhook_id, 's', changed.status)::text)) AS sent
    UNION ALL
    SELECT c.id::text, NULL, NULL, 'GATED', NULL, NULL, c.webhook_id::text, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM candidates c WHERE NOT c.open`;
}

function claimedOf(rows: ClaimRow[]): Claimed[] {
  return rows.filter((r) => r.status === 'SENDING').map((r) => ({
    id: r.id,
    tenantId: r.tenant_id,
    webhookId: r.webhook_id,
    entityId: r.entity_id,
    attempts: r.attempts,
    payload: r.payload,
    webhook: {
      id: r.webhook_id,
      active: r.active,
      headers: openHeaders(r.headers as unknown as StoredHeader[]) as never,
      secret: open(r.secret),
      previousSecret: openOrNull(r.previous_secret),
      previousSecretUntil: r.previous_secret_until,
      timeoutMs: r.timeout_ms,
      maxAttempts: r.max_attempts,
      backoffBaseMs: r.backoff_base_ms,
      backoffCapMs: r.backoff_cap_ms,
      retryScheduleMs: r.retry_schedule_ms,
      finalStatusCodes: r.final_status_codes,
      orderedDelivery: r.ordered_delivery,
      consecutiveFailures: r.consecutive_failures,
    },
    gate: { failingAttempts: r.failing_attempts, openUntil: r.open_until, probeInstanceId: r.probe_instance_id, inFlightWindow: r.in_flight_window },
    takesAlerts: r.takes_alerts,
  }));
}

/**
 * SENDING instances that a job running again would take over were sent, but their
 * outcome was never recorded (the worker died, or the database refused the record).
 * Those at their attempt limit are not sent again, so no run of a job can send more
 * than maxAttempts: they become FAILED, saying so, and can be re-triggered by hand.
 */
async function giveUpUnrecorded(instanceIds: string[]): Promise<void> {
  await db().$transaction(async (tx) => {
    const failed = await tx.$queryRaw<Array<{ id: string }>>`
      WITH changed AS (
        UPDATE instance i SET status = 'FAILED', next_attempt_at = NULL, updated_at = now(),
          last_message = 'attempt ' || i.attempts || ' was sent but its outcome could not be recorded; not sent again, since the webhook allows ' || w.max_attempts || ' attempts (re-trigger to send it again)'
        FROM webhook w
        WHERE i.id = ANY(${instanceIds}::uuid[]) AND i.status = 'SENDING' AND w.id = i.webhook_id AND i.attempts >= w.max_attempts
        RETURNING i.id, i.tenant_id, i.webhook_id, i.status)
      ${NOTIFY_CHANGED_INSTANCES}`;
    if (failed.length === 0) return;
    const ordered = await tx.$queryRaw<Array<{ webhook_id: string; entity_id: string }>>`
      SELECT i.webhook_id::text AS webhook_id, i.entity_id FROM instance i JOIN webhook w ON w.id = i.webhook_id
      WHERE i.id = ANY(${failed.map((f) => f.id)}::uuid[]) AND w.ordered_delivery`;
    for (const o of ordered) await releaseNext(tx, o.webhook_id, o.entity_id);
  });
}

interface ClaimRow {
  id: string;
  tenant_id: string;
  webhook_id: string;
  entity_id: string;
  status: string;
  attempts: number;
  payload: unknown;
  active: boolean;
  headers: Webhook['headers'];
  secret: string;
  previous_secret: string | null;
  previous_secret_until: Date | null;
  timeout_ms: number;
  max_attempts: number;
  backoff_base_ms: number;
  backoff_cap_ms: number;
  retry_schedule_ms: number[];
  final_status_codes: number[];
  ordered_delivery: boolean;
  consecutive_failures: number;
  failing_attempts: number;
  open_until: Date | null;
  probe_instance_id: string | null;
  in_flight_window: number | null;
  takes_alerts: boolean;
}

export interface Settlement {
  instance: Claimed;
  trigger: AttemptTrigger;
  startedAt: Date;
  request: unknown;
  outcome: Outcome;
}

export interface SettleLimits extends GateLimits {
  deactivateAfterFailures: number;
  minBackoffMs: number;
}

/**
 * Records attempts and moves their instances on, COMPLETED, RETRYING (with a job for
 * later) or FAILED, and completes the queue `jobs` they came from, all in one
 * transaction, so a job is done exactly when its attempt is recorded. One statement
 * writes every attempt, every instance and every notification; when every outcome is
 * a plain success, the whole transaction goes in one round trip.
 */
export async function settle(settlements: Settlement[], limits: SettleLimits, jobs: Array<{ id: string; retryCount: number }>): Promise<void> {
  const now = new Date();
  const decided = settlements.map((s) => ({
    ...s,
    ...decide(s.outcome, { number: s.instance.attempts, trigger: s.trigger }, s.instance.webhook, { now, minBackoffMs: limits.minBackoffMs }),
  }));
  const sql = decided.length ? settleSql(decided) : null;
  const passed = decided.map((d) => ({ ...d.outcome, webhookId: d.instance.webhookId, tenantId: d.instance.tenantId, instanceId: d.instance.id, gate: d.instance.gate }));
  const plain = (d: (typeof decided)[number], i: number) =>
    d.status === 'COMPLETED' && !d.instance.webhook.orderedDelivery && d.instance.webhook.consecutiveFailures === 0 && !gateTouched(passed[i]!);
  if (decided.every(plain)) {
    await inOneTrip([...(sql ? [{ text: sql.text, values: sql.values }] : []), ...(jobs.length ? [await completeStatement(jobs)] : [])]);
    return;
  }
  await db().$transaction(async (tx) => {
    if (sql) await tx.$queryRaw(sql);
    const retries = decided.filter((d) => d.status === 'RETRYING');
    await enqueueDeliveries(tx, retries.map((d) => ({ instanceId: d.instance.id, webhookId: d.instance.webhookId, trigger: 'AUTO' as const, retry: true, startAfter: d.nextAttemptAt! })));
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
}

/** One statement: every attempt, every instance's new status, every notification. */
function settleSql(decided: Array<Settlement & Decision>): Prisma.Sql {
  const column = <T>(f: (d: (typeof decided)[number]) => T) => decided.map(f);
  return Prisma.sql`
        WITH outcome AS (
          SELECT * FROM unnest(
            ${column((d) => d.instance.id)}::uuid[], ${column(() => uuidv7())}::uuid[], ${column((d) => d.instance.attempts)}::int[],
            ${column((d) => d.trigger)}::text[], ${column((d) => d.startedAt.toISOString())}::timestamptz[], ${column((d) => d.outcome.durationMs)}::int[],
            ${column((d) => d.outcome.statusCode)}::int[], ${column((d) => d.outcome.errorKind)}::text[], ${column((d) => d.outcome.message)}::text[],
            ${column((d) => d.outcome.responseBody)}::text[], ${column((d) => d.outcome.location)}::text[], ${column((d) => d.status)}::text[],
            ${column((d) => d.nextAttemptAt?.toISOString() ?? null)}::timestamptz[], ${column((d) => JSON.stringify(d.request))}::jsonb[]
          ) AS o(instance_id, attempt_id, number, trigger, started_at, duration_ms, status_code, error_kind, message, response_body, location, status, next_attempt_at, request)),
        attempts AS (
          INSERT INTO attempt (id, instance_id, number, trigger, started_at, duration_ms, status_code, error_kind, message, response_body, location)
          SELECT attempt_id, instance_id, number, trigger::"AttemptTrigger", started_at, duration_ms, status_code, error_kind, message, response_body, location FROM outcome),
        changed AS (
          UPDATE instance i SET status = o.status::"InstanceStatus", next_attempt_at = o.next_attempt_at, request = o.request,
            last_status_code = o.status_code, last_message = o.message, last_duration_ms = o.duration_ms, last_error_kind = o.error_kind, updated_at = now()
          FROM outcome o WHERE i.id = o.instance_id
          RETURNING i.id, i.tenant_id, i.webhook_id, i.status, i.next_attempt_at)
        SELECT changed.id::text AS id FROM changed,
          LATERAL (SELECT pg_notify(${CHANNEL}, json_strip_nulls(json_build_object('k', 'instance', 't', tenant_id, 'id', id, 'w', webhook_id, 's', status, 'n', next_attempt_at))::text)) AS sent`;
}

/**
 * Each webhook's failed deliveries in a row, in the order the outcomes came: a success
 * resets the count, a FAILED instance adds one. The outcome that brings the count to
 * `pauseAfter` pauses the webhook, saying so; a 410 Gone pauses it at once. Pausing holds
 * what waits, and the failed run itself (since its first failure), so that resuming
 * sends everything the outage kept from the receiver.
 */
async function countFailures(tx: Tx, decided: Array<Settlement & Decision>, pauseAfter: number, now: Date): Promise<void> {
  const byWebhook = new Map<string, typeof decided>();
  for (const d of decided) byWebhook.set(d.instance.webhookId, [...(byWebhook.get(d.instance.webhookId) ?? []), d]);
  for (const [webhookId, list] of byWebhook) {
    const webhook = list[0]!.instance.webhook;
    if (list.some((d) => d.gone)) {
      await pauseForFailing(tx, { id: webhookId, tenantId: list[0]!.instance.tenantId }, `the receiver answered 410 Gone on ${now.toISOString()}`, { holdFailedRun: false });
      continue;
    }
    const lastSuccess = list.findLastIndex((d) => d.status === 'COMPLETED');
    const failedSince = list.slice(lastSuccess + 1).filter((d) => d.status === 'FAILED');
    if (lastSuccess >= 0 && webhook.consecutiveFailures === 0 && failedSince.length === 0) continue;
    if (lastSuccess < 0 && failedSince.length === 0) continue;
    const reset = lastSuccess >= 0;
    const failed = failedSince.length;
    const [after] = await tx.$queryRaw<Array<{ count: number; before: number; active: boolean }>>`
      UPDATE webhook w SET
        consecutive_failures = CASE WHEN ${reset} THEN ${failed}::int ELSE w.consecutive_failures + ${failed}::int END,
        failing_since = CASE WHEN ${failed}::int = 0 THEN NULL WHEN ${reset} THEN now() ELSE COALESCE(w.failing_since, now()) END
      FROM (SELECT id, consecutive_failures AS before FROM webhook WHERE id = ${webhookId}::uuid FOR UPDATE) b
      WHERE w.id = b.id RETURNING w.consecutive_failures AS count, b.before, w.active`;
    if (!after) continue;
    const tenantId = list[0]!.instance.tenantId;
    // Alerts: failing at half the pause threshold, recovered once a success follows that.
    const half = Math.floor(pauseAfter / 2);
    const lowest = reset ? 0 : after.before;
    if (reset && after.before >= half && half > 0) await raise(tx, [{ tenantId, action: 'webhook_recovered', webhookId }]);
    if (half > 0 && half < pauseAfter && lowest < half && after.count >= half && after.active) {
      await raise(tx, [{ tenantId, action: 'webhook_failing', webhookId, reason: `${half} deliveries in a row failed (the last: ${failedSince[half - lowest - 1]!.outcome.message.slice(0, 200)}); at ${pauseAfter} Herald pauses it` }]);
    }
    if (failed === 0 || !after.active) continue;
    const before = after.count - failed;
    if (before < pauseAfter && after.count >= pauseAfter) {
      const last = failedSince[pauseAfter - before - 1]!;
      const reason = `${pauseAfter} deliveries in a row failed (the last: ${last.outcome.message.slice(0, 200)})`;
      await pauseForFailing(tx, { id: webhookId, tenantId }, reason, { holdFailedRun: true });
    }
  }
}

/**
 * Herald pauses a webhook that keeps failing, saying why. With `holdFailedRun`, the
 * deliveries that failed in its current run are held too (they failed because the
 * receiver was down, not for what they carry): resuming sends them once more.
 */
async function pauseForFailing(tx: Tx, webhook: { id: string; tenantId: string }, reason: string, { holdFailedRun }: { holdFailedRun: boolean }): Promise<void> {
  if (holdFailedRun) {
    await tx.$queryRaw`
      WITH run AS (
        SELECT i.id FROM instance i JOIN webhook w ON w.id = i.webhook_id
        WHERE i.tenant_id = ${webhook.tenantId}::uuid AND i.updated_at >= w.failing_since AND i.webhook_id = ${webhook.id}::uuid
          AND i.status = 'FAILED' AND i.payload->>'url' IS NOT NULL
        ORDER BY i.updated_at DESC LIMIT (SELECT consecutive_failures FROM webhook WHERE id = ${webhook.id}::uuid)),
      changed AS (
        UPDATE instance SET status = 'PAUSED', updated_at = now() WHERE id IN (SELECT id FROM run)
        RETURNING id, tenant_id, webhook_id, status)
      ${NOTIFY_CHANGED_INSTANCES}`;
  }
  await changeState(tx, webhook, 'PAUSED', { reason });
  await raise(tx, [{ tenantId: webhook.tenantId, action: 'webhook_deactivated', webhookId: webhook.id }]);
}

/** Cancels one instance that has not been delivered yet (letting the next of its entity go, when ordered). */
export async function cancel(instanceId: string): Promise<Instance | null> {
  return db().$transaction(async (tx) => {
    const count = await cancelWhere(tx, Prisma.sql`id = ${instanceId}::uuid`, 'cancelled by a person');
    if (!count) return null;
    const instance = await tx.instance.findUniqueOrThrow({ where: { id: instanceId }, include: { webhook: { select: { orderedDelivery: true } } } });
    if (instance.webhook.orderedDelivery) await releaseNext(tx, instance.webhookId, instance.entityId);
    return instance;
  });
}

async function cancelWhere(client: Tx, where: Prisma.Sql, message: string): Promise<number> {
  const rows = await client.$queryRaw<unknown[]>`
    WITH changed AS (
      UPDATE instance SET status = 'CANCELLED', next_attempt_at = NULL, last_message = ${message}, updated_at = now()
      WHERE ${where} AND status IN ('PENDING', 'RETRYING', 'PAUSED')
      RETURNING id, tenant_id, webhook_id, status)
    ${NOTIFY_CHANGED_INSTANCES}`;
  return rows.length;
}

/**
 * Sends instances again now, whatever their status and attempts (trigger MANUAL); not
 * those with nothing to send (their payload could not be rendered when published).
 */
export async function requeue(instanceIds: string[]): Promise<number> {
  if (instanceIds.length === 0) return 0;
  return db().$transaction(async (tx) => {
    const ready = await tx.$queryRaw<Array<{ id: string; webhook_id: string }>>`
      WITH changed AS (
        UPDATE instance SET status = 'PENDING', held = false, parked = false, next_attempt_at = NULL, updated_at = now()
        WHERE id = ANY(${instanceIds}::uuid[]) AND status <> 'SENDING' AND payload->>'url' IS NOT NULL
        RETURNING id, tenant_id, webhook_id, status)
      ${NOTIFY_CHANGED_INSTANCES}`;
    await enqueueDeliveries(tx, ready.map((r) => ({ instanceId: r.id, webhookId: r.webhook_id, trigger: 'MANUAL' as const })));
    return ready.length;
  });
}
