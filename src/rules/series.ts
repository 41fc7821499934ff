/**
 * Delivery series for charts: per minute, attempts and what they moved deliveries to, durations as fixed-bucket histograms so
 * buckets add up (minutes into hours, webhooks into a tenant) and percentiles come from the sums.
 */

/** Upper edges (ms) of the duration buckets; the last bucket holds everything slower. */
export const DURATION_EDGES_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000];
export const DURATION_BUCKETS = DURATION_EDGES_MS.length + 1;

/** The bucket (0-based) of a duration. */
export function durationBucket(ms: number): number {
  const i = DURATION_EDGES_MS.findIndex((edge) => ms < edge);
  return i < 0 ? DURATION_EDGES_MS.length : i;
}

/** One attempt as the series count it. */
export interface SeriesAttempt {
  tenantId: string;
  webhookId: string;
  startedAt: Date;
  ok: boolean;
  durationMs: number;
  /** What it moved its delivery to. */
  status: 'COMPLETED' | 'RETRYING' | 'FAILED';
}

/** A webhook's attempts of one minute, added up. */
export interface SeriesDelta {
  tenantId: string;
  webhookId: string;
  minute: Date;
  succeeded: number;
  failed: number;
  completed: number;
  retrying: number;
  givenUp: number;
  durationMsSum: number;
  durations: number[];
}

/** Attempts added up per webhook and minute. */
export function seriesDeltas(attempts: SeriesAttempt[]): SeriesDelta[] {
  const byKey = new Map<string, SeriesDelta>();
  for (const a of attempts) {
    const minute = new Date(Math.floor(a.startedAt.getTime() / 60_000) * 60_000);
    const key = `${a.webhookId} ${minute.getTime()}`;
    let d = byKey.get(key);
    if (!d) {
      d = { tenantId: a.tenantId, webhookId: a.webhookId, minute, succeeded: 0, failed: 0, completed: 0, retrying: 0, givenUp: 0, durationMsSum: 0, durations: new Array<number>(DURATION_BUCKETS).fill(0) };
      byKey.set(key, d);
    }
    if (a.ok) d.succeeded += 1;
    else d.failed += 1;
    if (a.status === 'COMPLETED') d.completed += 1;
    else if (a.status === 'RETRYING') d.retrying += 1;
    else d.givenUp += 1;
    d.durationMsSum += a.durationMs;
    d.durations[durationBucket(a.durationMs)]! += 1;
  }
  return [...byKey.values()];
}

/**
 * The duration under which a share `p` (0–1) of the attempts took, from a histogram:
 * linear within the bucket it falls in (the last bucket, open-ended, answers its lower
 * edge). Null when there are no attempts.
 */
export function percentile(durations: number[], p: number): number | null {
  const total = durations.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = p * total;
  let seen = 0;
  for (let i = 0; i < durations.length; i += 1) {
    const n = durations[i]!;
    if (n > 0 && seen + n >= rank) {
      const low = i === 0 ? 0 : DURATION_EDGES_MS[i - 1]!;
      if (i >= DURATION_EDGES_MS.length) return low;
      const high = DURATION_EDGES_MS[i]!;
      return Math.round(low + ((rank - seen) / n) * (high - low));
    }
    seen += n;
  }
  return DURATION_EDGES_MS.at(-1)!;
}

export const SERIES_BUCKETS = ['MINUTE', 'HOUR', 'DAY'] as const;
export type SeriesBucket = (typeof SERIES_BUCKETS)[number];

/** How many points one series may answer, and the minute rows' lifetime (older minutes are read from hours). */
export const SERIES_LIMITS = { maxPoints: 1500, minutesKeptMs: 6 * 3_600_000 };

export const BUCKET_MS: Record<SeriesBucket, number> = { MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000 };
