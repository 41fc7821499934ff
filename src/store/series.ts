import { query } from '../db/client.ts';
import { DURATION_BUCKETS, percentile, SERIES_LIMITS } from '../rules/series.ts';
import * as sql from './sql/series.ts';

/** Deltas folded, and old minute rows dropped, per statement. */
const STEP = 5000;

/** Folds the charts' deltas into minutes and hours until none are left, and drops minute rows past their six hours; answers how many deltas moved. */
export async function foldSeries(now = new Date()): Promise<number> {
  let total = 0;
  for (;;) {
    const [row] = await query<{ moved: number }>(sql.foldDeltas(STEP));
    total += row?.moved ?? 0;
    if ((row?.moved ?? 0) < STEP) break;
  }
  for (;;) {
    const [row] = await query<{ deleted: number }>(sql.dropMinutes(new Date(now.getTime() - SERIES_LIMITS.minutesKeptMs), STEP));
    if ((row?.deleted ?? 0) < STEP) break;
  }
  return total;
}

export interface SeriesPoint {
  at: Date;
  succeeded: number;
  failed: number;
  completed: number;
  retrying: number;
  givenUp: number;
  /** Successful attempts of all attempts; null without any. */
  successRate: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencyMeanMs: number | null;
}

interface Row {
  bucket: Date;
  succeeded: number;
  failed: number;
  completed: number;
  retrying: number;
  given_up: number;
  duration_ms_sum: string;
  durations: number[];
}

/**
 * A webhook's series (or its tenant's totals: webhookId null) in [since, until), one
 * point per bucket with attempts (buckets without any are left out), from minute rows
 * (MINUTE) or hour rows (HOUR, DAY).
 */
export async function readSeries(tenantId: string, webhookId: string | null, table: 'minute' | 'hour', bucketMs: number, since: Date, until: Date): Promise<SeriesPoint[]> {
  const rows = await query<Row>(sql.series(tenantId, webhookId ?? sql.TENANT_TOTAL, table, bucketMs, since, until));
  return rows.map((r) => {
    const attempts = r.succeeded + r.failed;
    const durations = r.durations.length === DURATION_BUCKETS ? r.durations : [...r.durations, ...new Array<number>(DURATION_BUCKETS).fill(0)].slice(0, DURATION_BUCKETS);
    return {
      at: r.bucket,
      succeeded: r.succeeded,
      failed: r.failed,
      completed: r.completed,
      retrying: r.retrying,
      givenUp: r.given_up,
      successRate: attempts ? r.succeeded / attempts : null,
      latencyP50Ms: percentile(durations, 0.5),
      latencyP95Ms: percentile(durations, 0.95),
      latencyMeanMs: attempts ? Math.round(Number(r.duration_ms_sum) / attempts) : null,
    };
  });
}
