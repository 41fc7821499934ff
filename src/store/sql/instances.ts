import { Prisma } from '../../generated/prisma/client.ts';
import { CHANNEL } from '../../pubsub/changes.ts';
import { HERALD_TOPIC } from '../../rules/heraldTopic.ts';
import type { SeriesDelta } from '../../rules/series.ts';
import { GATED } from './gates.ts';
import { appendDeltas } from './series.ts';

/**
 * Every statement that reads or changes instances (and the attempts they record). A
 * statement that changes statuses announces each change with `announce`, the one place
 * the change message (pubsub/changes.ts, `Change` of kind instance) is built in SQL.
 */

/** pg_notify of an instance change for a row `r` (tenant_id, id, webhook_id, status[, next_attempt_at]). */
export const announce = (r: string, { next = false } = {}) => {
  const row = Prisma.raw(r);
  const message = next
    ? Prisma.sql`json_strip_nulls(json_build_object('k', 'instance', 't', ${row}.tenant_id, 'id', ${row}.id, 'w', ${row}.webhook_id, 's', ${row}.status, 'n', ${row}.next_attempt_at))`
    : Prisma.sql`json_build_object('k', 'instance', 't', ${row}.tenant_id, 'id', ${row}.id, 'w', ${row}.webhook_id, 's', ${row}.status)`;
  return Prisma.sql`LATERAL (SELECT pg_notify(${CHANNEL}, ${message}::text)) AS sent`;
};

/** Announces changes already made (a committed transaction's, built by the caller: ids, statuses and topic keys, always short). */
export function announceAll(changes: object[]): Prisma.Sql {
  return Prisma.sql`SELECT count(pg_notify(${CHANNEL}, m)) FROM unnest(${changes.map((c) => JSON.stringify(c))}::text[]) AS m`;
}

/**
 * Announces each row of a `changed` CTE (RETURNING id, tenant_id, webhook_id, status) and
 * answers its ids, webhooks and new statuses.
 */
export const ANNOUNCE_CHANGED = Prisma.sql`SELECT changed.id::text AS id, changed.tenant_id::text AS tenant_id, changed.webhook_id::text AS webhook_id, changed.status::text AS status FROM changed, ${announce('changed')}`;

export interface Wanted {
  instanceId: string;
  takeOver: boolean;
  retry: boolean;
  manual?: boolean;
}

/** The claim (see store/instances.ts): `skip` answers gated webhooks' instances as GATED; `through`: the caller holds the gate. */
/**
 * The webhook's columns a claim reads, by their names in `Claimed.webhook`: the one list
 * (the claim selects each as "webhook.<name>", and its row type and Claimed follow from it).
 */
export const CLAIMED_WEBHOOK = {
  id: 'id',
  active: 'active',
  headers: 'headers',
  secret: 'secret',
  previousSecret: 'previous_secret',
  previousSecretUntil: 'previous_secret_until',
  timeoutMs: 'timeout_ms',
  maxAttempts: 'max_attempts',
  backoffBaseMs: 'backoff_base_ms',
  backoffCapMs: 'backoff_cap_ms',
  retryScheduleMs: 'retry_schedule_ms',
  finalStatusCodes: 'final_status_codes',
  orderedDelivery: 'ordered_delivery',
  traceContext: 'trace_context',
  consecutiveFailures: 'consecutive_failures',
} as const;
const CLAIMED_WEBHOOK_COLUMNS = Prisma.raw(Object.entries(CLAIMED_WEBHOOK).map(([name, column]) => `w.${column} AS "webhook.${name}"`).join(', '));
const NO_WEBHOOK = Prisma.raw(Object.keys(CLAIMED_WEBHOOK).map(() => 'NULL').join(', '));

export function claim(wanted: Wanted[], { gate }: { gate: 'skip' | 'through' }): Prisma.Sql {
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
      RETURNING i.id, i.tenant_id, i.webhook_id, i.event_id, i.entity_id, i.status, i.attempts, i.payload)
    SELECT changed.id::text AS id, changed.tenant_id::text AS tenant_id, changed.entity_id, changed.status::text AS status, changed.attempts,
      CASE WHEN changed.payload ? 'body' OR NOT changed.payload ? 'url' THEN changed.payload
        ELSE changed.payload || jsonb_build_object('body', (SELECT e.shared_body FROM event e WHERE e.id = changed.event_id)) END AS payload,
      w.id::text AS webhook_id, ${CLAIMED_WEBHOOK_COLUMNS},
      COALESCE(g.failing_attempts, 0) AS failing_attempts, g.open_until, g.probe_instance_id::text AS probe_instance_id, g.in_flight_window,
      ${HERALD_TOPIC} = ANY(w.topics) AS takes_alerts
    FROM changed JOIN webhook w ON w.id = changed.webhook_id LEFT JOIN webhook_gate g ON g.webhook_id = changed.webhook_id, ${announce('changed')}
    UNION ALL
    SELECT c.id::text, NULL, NULL, 'GATED', NULL, NULL, c.webhook_id::text, ${NO_WEBHOOK}, NULL, NULL, NULL, NULL, NULL
    FROM candidates c WHERE NOT c.open`;
}

/** SENDING instances at their attempt limit whose outcome was never recorded become FAILED. */
export function failUnrecorded(instanceIds: string[]): Prisma.Sql {
  return Prisma.sql`
    WITH changed AS (
      UPDATE instance i SET status = 'FAILED', next_attempt_at = NULL, updated_at = now(),
        last_message = 'attempt ' || i.attempts || ' was sent but its outcome could not be recorded; not sent again, since the webhook allows ' || w.max_attempts || ' attempts (re-trigger to send it again)'
      FROM webhook w
      WHERE i.id = ANY(${instanceIds}::uuid[]) AND i.status = 'SENDING' AND w.id = i.webhook_id AND i.attempts >= w.max_attempts
      RETURNING i.id, i.tenant_id, i.webhook_id, i.status)
    ${ANNOUNCE_CHANGED}`;
}

/** Of these instances, those of ordered webhooks, with their entities. */
export function orderedOf(instanceIds: string[]): Prisma.Sql {
  return Prisma.sql`
    SELECT i.webhook_id::text AS webhook_id, i.entity_id FROM instance i JOIN webhook w ON w.id = i.webhook_id
    WHERE i.id = ANY(${instanceIds}::uuid[]) AND w.ordered_delivery`;
}

export interface Recorded {
  instanceId: string;
  attemptId: string;
  number: number;
  trigger: string;
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  errorKind: string | null;
  message: string;
  responseBody: string | null;
  location: string | null;
  status: string;
  nextAttemptAt: Date | null;
  request: unknown;
}

/**
 * One statement: every attempt, every instance's new status, every notification (unless `announced` by the caller after the commit),
 * and the attempts' minutes for the charts.
 */
export function settle(recorded: Recorded[], series: SeriesDelta[], { announced = false } = {}): Prisma.Sql {
  const column = <T>(f: (r: Recorded) => T) => recorded.map(f);
  return Prisma.sql`
    WITH outcome AS (
      SELECT * FROM unnest(
        ${column((r) => r.instanceId)}::uuid[], ${column((r) => r.attemptId)}::uuid[], ${column((r) => r.number)}::int[],
        ${column((r) => r.trigger)}::text[], ${column((r) => r.startedAt.toISOString())}::timestamptz[], ${column((r) => r.durationMs)}::int[],
        ${column((r) => r.statusCode)}::int[], ${column((r) => r.errorKind)}::text[], ${column((r) => r.message)}::text[],
        ${column((r) => r.responseBody)}::text[], ${column((r) => r.location)}::text[], ${column((r) => r.status)}::text[],
        ${column((r) => r.nextAttemptAt?.toISOString() ?? null)}::timestamptz[], ${column((r) => JSON.stringify(r.request))}::jsonb[]
      ) AS o(instance_id, attempt_id, number, trigger, started_at, duration_ms, status_code, error_kind, message, response_body, location, status, next_attempt_at, request)),
    attempts AS (
      INSERT INTO attempt (id, instance_id, number, trigger, started_at, duration_ms, status_code, error_kind, message, response_body, location)
      SELECT attempt_id, instance_id, number, trigger::"AttemptTrigger", started_at, duration_ms, status_code, error_kind, message, response_body, location FROM outcome),
    series AS (${appendDeltas(series)}),
    changed AS (
      UPDATE instance i SET status = o.status::"InstanceStatus", next_attempt_at = o.next_attempt_at, request = o.request,
        last_status_code = o.status_code, last_message = o.message, last_duration_ms = o.duration_ms, last_error_kind = o.error_kind, updated_at = now()
      FROM outcome o WHERE i.id = o.instance_id
      RETURNING i.id, i.tenant_id, i.webhook_id, i.status, i.next_attempt_at)
    SELECT changed.id::text AS id FROM changed${announced ? Prisma.empty : Prisma.sql`, ${announce('changed', { next: true })}`}`;
}

/** The deliveries of a webhook's failed run (since `failing_since`) are held (PAUSED) with it. */
export function holdFailedRun(tenantId: string, webhookId: string): Prisma.Sql {
  return Prisma.sql`
    WITH run AS (
      SELECT i.id FROM instance i JOIN webhook w ON w.id = i.webhook_id
      WHERE i.tenant_id = ${tenantId}::uuid AND i.updated_at >= w.failing_since AND i.webhook_id = ${webhookId}::uuid
        AND i.status = 'FAILED' AND i.payload->>'url' IS NOT NULL
      ORDER BY i.updated_at DESC LIMIT (SELECT consecutive_failures FROM webhook WHERE id = ${webhookId}::uuid)),
    changed AS (
      UPDATE instance SET status = 'PAUSED', updated_at = now() WHERE id IN (SELECT id FROM run)
      RETURNING id, tenant_id, webhook_id, status)
    ${ANNOUNCE_CHANGED}`;
}

/** Cancels one instance not delivered yet. */
export function cancel(instanceId: string, message: string): Prisma.Sql {
  return Prisma.sql`
    WITH changed AS (
      UPDATE instance SET status = 'CANCELLED', next_attempt_at = NULL, last_message = ${message}, updated_at = now()
      WHERE id = ${instanceId}::uuid AND status IN ('PENDING', 'RETRYING', 'PAUSED')
      RETURNING id, tenant_id, webhook_id, status)
    ${ANNOUNCE_CHANGED}`;
}

/** Instances to send again now, whatever their status and attempts (not those with nothing to send). */
export function requeue(instanceIds: string[]): Prisma.Sql {
  return Prisma.sql`
    WITH changed AS (
      UPDATE instance SET status = 'PENDING', held = false, parked = false, next_attempt_at = NULL, updated_at = now()
      WHERE id = ANY(${instanceIds}::uuid[]) AND status <> 'SENDING' AND payload->>'url' IS NOT NULL
      RETURNING id, tenant_id, webhook_id, status)
    ${ANNOUNCE_CHANGED}`;
}

/** How many of these instances requeue would send again (a dry run of it). */
export function requeueable(instanceIds: string[]): Prisma.Sql {
  return Prisma.sql`
    SELECT count(*)::int AS count FROM instance
    WHERE id = ANY(${instanceIds}::uuid[]) AND status <> 'SENDING' AND payload->>'url' IS NOT NULL`;
}

// ---- ordered delivery ------------------------------------------------------------

/** The transaction lock of one (webhook, entity). */
export function lockEntity(webhookId: string, entityId: string): Prisma.Sql {
  return Prisma.sql`SELECT pg_advisory_xact_lock(hashtextextended(${`${webhookId}:${entityId}`}, 0))`;
}

/** The locks of many entities of a webhook, taken in the order given. */
export function lockEntities(webhookId: string, entityIds: string[]): Prisma.Sql {
  return Prisma.sql`
    SELECT count(pg_advisory_xact_lock(hashtextextended(${webhookId}::text || ':' || e, 0)))
    FROM (SELECT e FROM unnest(${entityIds}::text[]) WITH ORDINALITY AS u(e, n) ORDER BY n) AS locked`;
}

/** Whether an instance of this (webhook, entity) is being delivered or waits to be. */
export function onItsWay(webhookId: string, entityId: string): Prisma.Sql {
  return Prisma.sql`
    SELECT 1 FROM instance
    WHERE webhook_id = ${webhookId}::uuid AND entity_id = ${entityId}
      AND (status IN ('SENDING', 'RETRYING') OR (status = 'PENDING' AND NOT held))
    LIMIT 1`;
}

/** Releases the oldest held instance of each entity with nothing else on its way. */
export function releaseHeads(webhookId: string, entityIds: string[]): Prisma.Sql {
  return Prisma.sql`
    WITH heads AS (
      SELECT DISTINCT ON (entity_id) id, entity_id FROM instance
      WHERE webhook_id = ${webhookId}::uuid AND entity_id = ANY(${entityIds}::text[]) AND status = 'PENDING' AND held
      ORDER BY entity_id, id),
    busy AS (
      SELECT DISTINCT entity_id FROM instance
      WHERE webhook_id = ${webhookId}::uuid AND entity_id = ANY(${entityIds}::text[])
        AND (status IN ('SENDING', 'RETRYING') OR (status = 'PENDING' AND NOT held))),
    changed AS (
      UPDATE instance SET held = false, updated_at = now()
      WHERE id IN (SELECT id FROM heads WHERE entity_id NOT IN (SELECT entity_id FROM busy))
      RETURNING id, tenant_id, webhook_id, status)
    ${ANNOUNCE_CHANGED}`;
}

// ---- a webhook's state -------------------------------------------------------------

/** Up to `limit` waiting and held deliveries of a disabled or deleted webhook are cancelled. */
export function cancelWaiting(tenantId: string, webhookId: string, limit: number, message: string): Prisma.Sql {
  return Prisma.sql`
    WITH changed AS (
      UPDATE instance SET status = 'CANCELLED', held = false, parked = false, next_attempt_at = NULL, updated_at = now(), last_message = ${message}
      WHERE id IN (
        (SELECT id FROM instance WHERE tenant_id = ${tenantId}::uuid AND status IN ('PENDING', 'RETRYING') AND webhook_id = ${webhookId}::uuid LIMIT ${limit})
        UNION ALL (SELECT id FROM instance WHERE webhook_id = ${webhookId}::uuid AND status = 'PAUSED' LIMIT ${limit}))
      RETURNING id, tenant_id, webhook_id, status)
    ${ANNOUNCE_CHANGED}`;
}

/** Up to `limit` waiting deliveries of a paused webhook are held (PAUSED); a RETRYING one keeps its attempts. */
export function holdWaiting(tenantId: string, webhookId: string, limit: number): Prisma.Sql {
  return Prisma.sql`
    WITH changed AS (
      UPDATE instance SET status = 'PAUSED', held = false, parked = false, next_attempt_at = NULL, updated_at = now()
      WHERE id IN (SELECT id FROM instance WHERE tenant_id = ${tenantId}::uuid AND status IN ('PENDING', 'RETRYING') AND webhook_id = ${webhookId}::uuid LIMIT ${limit})
      RETURNING id, tenant_id, webhook_id, status)
    ${ANNOUNCE_CHANGED}`;
}

/** Up to `limit` held deliveries of an active webhook go, oldest first (`ordered`: they wait their entity's turn). */
export function releaseHeld(webhookId: string, limit: number, ordered: boolean): Prisma.Sql {
  return Prisma.sql`
    WITH changed AS (
      UPDATE instance SET status = 'PENDING', held = ${ordered}, updated_at = now()
      WHERE id IN (SELECT id FROM instance WHERE webhook_id = ${webhookId}::uuid AND status = 'PAUSED' ORDER BY id LIMIT ${limit})
      RETURNING id, tenant_id, webhook_id, status, entity_id)
    SELECT changed.id::text AS id, changed.tenant_id::text AS tenant_id, changed.entity_id FROM changed, ${announce('changed')}
    ORDER BY changed.id`;
}

/** Up to `limit` deliveries parked for the webhook's circuit go again, once it has closed. */
export function unpark(webhookId: string, limit: number): Prisma.Sql {
  return Prisma.sql`
    WITH changed AS (
      UPDATE instance SET parked = false, updated_at = now()
      WHERE id IN (SELECT id FROM instance WHERE webhook_id = ${webhookId}::uuid AND parked ORDER BY id LIMIT ${limit}) AND parked
        AND NOT EXISTS (SELECT 1 FROM webhook_gate g WHERE g.webhook_id = ${webhookId}::uuid AND g.open_until IS NOT NULL)
      RETURNING id, tenant_id, webhook_id, status)
    ${ANNOUNCE_CHANGED}`;
}

/** The oldest parked delivery goes again (an open circuit's probe). */
export function unparkOldest(webhookId: string): Prisma.Sql {
  return Prisma.sql`
    WITH changed AS (
      UPDATE instance SET parked = false, updated_at = now()
      WHERE id = (SELECT id FROM instance WHERE webhook_id = ${webhookId}::uuid AND parked ORDER BY id LIMIT 1) AND parked
      RETURNING id, tenant_id, webhook_id, status)
    ${ANNOUNCE_CHANGED}`;
}

/** Parks deliveries while the webhook's circuit is open; a taken-over SENDING one waits as a retry (that attempt counted). */
export function park(instanceIds: string[], takenOver: string[]): Prisma.Sql {
  return Prisma.sql`
    UPDATE instance SET parked = true, status = CASE WHEN status = 'SENDING' THEN 'RETRYING'::"InstanceStatus" ELSE status END, next_attempt_at = NULL, updated_at = now()
    WHERE id = ANY(${instanceIds}::uuid[]) AND (status IN ('PENDING', 'RETRYING') OR (status = 'SENDING' AND id = ANY(${takenOver}::uuid[])))`;
}

/** Up to `limit` held deliveries are cancelled (a person discarding them). */
export function discardHeld(webhookId: string, limit: number): Prisma.Sql {
  return Prisma.sql`
    WITH changed AS (
      UPDATE instance SET status = 'CANCELLED', next_attempt_at = NULL, updated_at = now(), last_message = 'discarded by a person while the webhook was paused'
      WHERE id IN (SELECT id FROM instance WHERE webhook_id = ${webhookId}::uuid AND status = 'PAUSED' LIMIT ${limit})
      RETURNING id, tenant_id, webhook_id, status)
    ${ANNOUNCE_CHANGED}`;
}

// ---- counts ---------------------------------------------------------------------------

/** A webhook's instances in one status (PAUSED: an index of those only; SENDING: the in-flight index). */
export function countInStatus(webhookId: string, status: 'PAUSED' | 'SENDING'): Prisma.Sql {
  // A literal status, so that the partial indexes match whatever the plan.
  const literal = status === 'PAUSED' ? Prisma.sql`'PAUSED'` : Prisma.sql`'SENDING'`;
  return Prisma.sql`SELECT count(*)::int AS n FROM instance WHERE webhook_id = ${webhookId}::uuid AND status = ${literal}`;
}

/**
 * Instances of each webhook counted by status, with when the last of each changed: the
 * rolled-up counters plus the deltas not folded yet (read in one snapshot, so exact).
 */
export function statusGroups(webhookIds: readonly string[]): Prisma.Sql {
  const ids = [...webhookIds];
  return Prisma.sql`
    SELECT webhook_id::text AS webhook_id, status::text AS status, sum(count)::int AS count, max(last_at) AS "lastAt"
    FROM (
      SELECT webhook_id, status, count, last_at FROM webhook_status_count WHERE webhook_id = ANY(${ids}::uuid[])
      UNION ALL
      SELECT webhook_id, status, delta, last_at FROM instance_count_delta WHERE webhook_id = ANY(${ids}::uuid[])) counted
    GROUP BY webhook_id, status HAVING sum(count) <> 0`;
}

/** Folds up to `limit` of the oldest count deltas into the counters (several processes may run it: each takes its own). */
export function rollUpCounts(limit: number): Prisma.Sql {
  return Prisma.sql`
    WITH moved AS (
      DELETE FROM instance_count_delta WHERE id IN (SELECT id FROM instance_count_delta ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED)
      RETURNING webhook_id, status, delta, last_at),
    summed AS (SELECT webhook_id, status, sum(delta) AS delta, max(last_at) AS last_at FROM moved GROUP BY webhook_id, status),
    folded AS (
      INSERT INTO webhook_status_count AS c (webhook_id, status, count, last_at)
      SELECT webhook_id, status, delta, last_at FROM summed ORDER BY webhook_id, status
      ON CONFLICT (webhook_id, status) DO UPDATE SET count = c.count + EXCLUDED.count, last_at = GREATEST(c.last_at, EXCLUDED.last_at)
      RETURNING 1),
    -- Runs though nothing reads it (a data-modifying WITH always runs to completion).
    totalled AS (
      INSERT INTO delivery_status_total AS t (status, count)
      SELECT status, sum(delta) FROM summed GROUP BY status ORDER BY status
      ON CONFLICT (status) DO UPDATE SET count = t.count + EXCLUDED.count)
    SELECT (SELECT count(*) FROM moved)::int AS moved, (SELECT count(*) FROM folded)::int AS folded`;
}

/** Every delivery counted by status, all webhooks together: the totals plus the deltas not folded yet (one snapshot). */
export function statusTotals(): Prisma.Sql {
  return Prisma.sql`
    SELECT status::text AS status, sum(count)::bigint::float8 AS count
    FROM (SELECT status, count FROM delivery_status_total UNION ALL SELECT status, delta FROM instance_count_delta) counted
    GROUP BY status`;
}

/** Deliveries waiting to be sent (PENDING or RETRYING) per tenant, from the counters: what its webhooks count, however long its history. */
export function waitingByTenant(tenantIds: readonly string[]): Prisma.Sql {
  return Prisma.sql`
    SELECT w.tenant_id::text AS tenant_id, COALESCE(sum(c.count), 0)::int AS waiting
    FROM webhook w
    CROSS JOIN LATERAL (
      SELECT count FROM webhook_status_count WHERE webhook_id = w.id AND status IN ('PENDING', 'RETRYING')
      UNION ALL
      SELECT delta FROM instance_count_delta WHERE webhook_id = w.id AND status IN ('PENDING', 'RETRYING')) c
    WHERE w.tenant_id = ANY(${[...tenantIds]}::uuid[])
    GROUP BY w.tenant_id`;
}
