import { Prisma } from '../../generated/prisma/client.ts';
import type { SeriesDelta } from '../../rules/series.ts';

/** The webhook id of a tenant's totals in delivery_minute and delivery_hour. */
export const TENANT_TOTAL = '00000000-0000-0000-0000-000000000000';

const COUNTS = ['succeeded', 'failed', 'completed', 'retrying', 'given_up', 'duration_ms_sum'] as const;

/** Appends the deltas of a settle (a CTE of its statement: `series`). */
export function appendDeltas(deltas: SeriesDelta[]): Prisma.Sql {
  const column = <T>(f: (d: SeriesDelta) => T) => deltas.map(f);
  return Prisma.sql`
    INSERT INTO delivery_series_delta (tenant_id, webhook_id, minute, succeeded, failed, completed, retrying, given_up, duration_ms_sum, durations)
    SELECT tenant_id, webhook_id, minute, succeeded, failed, completed, retrying, given_up, duration_ms_sum, durations::int[]
    FROM unnest(${column((d) => d.tenantId)}::uuid[], ${column((d) => d.webhookId)}::uuid[], ${column((d) => d.minute.toISOString())}::timestamptz[],
      ${column((d) => d.succeeded)}::int[], ${column((d) => d.failed)}::int[], ${column((d) => d.completed)}::int[], ${column((d) => d.retrying)}::int[],
      ${column((d) => d.givenUp)}::int[], ${column((d) => d.durationMsSum)}::bigint[], ${column((d) => `{${d.durations.join(',')}}`)}::text[])
      AS d(tenant_id, webhook_id, minute, succeeded, failed, completed, retrying, given_up, duration_ms_sum, durations)`;
}

/** Adds one row's counts to the row there (an upsert's SET). */
const ADD = Prisma.raw(`${COUNTS.map((c) => `${c} = t.${c} + EXCLUDED.${c}`).join(', ')}, durations = herald_histogram_merge(t.durations, EXCLUDED.durations)`);
const SUMS = Prisma.raw(`${COUNTS.map((c) => `sum(${c})::${c === 'duration_ms_sum' ? 'bigint' : 'int'} AS ${c}`).join(', ')}, herald_histogram_sum(durations) AS durations`);

/**
 * Folds up to `limit` of the oldest deltas into the minute and hour rows of their
 * webhooks and tenants (several processes may run it: each takes its own deltas).
 */
export function foldDeltas(limit: number): Prisma.Sql {
  return Prisma.sql`
    WITH moved AS (
      DELETE FROM delivery_series_delta WHERE id IN (SELECT id FROM delivery_series_delta ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED)
      RETURNING *),
    scoped AS (
      SELECT tenant_id, webhook_id, minute, ${Prisma.raw(COUNTS.join(', '))}, durations FROM moved
      UNION ALL
      SELECT tenant_id, ${TENANT_TOTAL}::uuid, minute, ${Prisma.raw(COUNTS.join(', '))}, durations FROM moved),
    minutes AS (
      INSERT INTO delivery_minute AS t (tenant_id, webhook_id, at, ${Prisma.raw(COUNTS.join(', '))}, durations)
      SELECT tenant_id, webhook_id, minute, ${SUMS} FROM scoped GROUP BY tenant_id, webhook_id, minute ORDER BY tenant_id, webhook_id, minute
      ON CONFLICT (tenant_id, webhook_id, at) DO UPDATE SET ${ADD}),
    hours AS (
      INSERT INTO delivery_hour AS t (tenant_id, webhook_id, at, ${Prisma.raw(COUNTS.join(', '))}, durations)
      SELECT tenant_id, webhook_id, date_bin('1 hour', minute, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS hour, ${SUMS}
      FROM scoped GROUP BY tenant_id, webhook_id, hour ORDER BY tenant_id, webhook_id, hour
      ON CONFLICT (tenant_id, webhook_id, at) DO UPDATE SET ${ADD})
    SELECT count(*)::int AS moved FROM moved`;
}

/** Up to `limit` minute rows older than `before` (hours keep what they said). */
export function dropMinutes(before: Date, limit: number): Prisma.Sql {
  return Prisma.sql`
    WITH gone AS (DELETE FROM delivery_minute WHERE ctid = ANY (ARRAY(SELECT ctid FROM delivery_minute WHERE at < ${before} LIMIT ${limit})) RETURNING 1)
    SELECT count(*)::int AS deleted FROM gone`;
}

/** Up to `limit` of a tenant's hour rows older than its cutoff (the nightly purge). */
export function purgeHours(tenantId: string, cutoff: Date, limit: number): Prisma.Sql {
  return Prisma.sql`
    WITH gone AS (
      DELETE FROM delivery_hour WHERE ctid = ANY (ARRAY(SELECT ctid FROM delivery_hour WHERE tenant_id = ${tenantId}::uuid AND at < ${cutoff} LIMIT ${limit})) RETURNING 1)
    SELECT count(*)::int AS deleted FROM gone`;
}

/**
 * One series: the rows of a webhook (or the tenant's totals) in [since, until), added up
 * per bucket of `bucketMs` (aligned to UTC), from the minute rows or the hour rows.
 */
export function series(tenantId: string, webhookId: string, table: 'minute' | 'hour', bucketMs: number, since: Date, until: Date): Prisma.Sql {
  const from = Prisma.raw(table === 'minute' ? 'delivery_minute' : 'delivery_hour');
  return Prisma.sql`
    SELECT date_bin(${`${bucketMs} milliseconds`}::interval, at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket, ${SUMS}
    FROM ${from} WHERE tenant_id = ${tenantId}::uuid AND webhook_id = ${webhookId}::uuid AND at >= ${since} AND at < ${until}
    GROUP BY bucket ORDER BY bucket`;
}
