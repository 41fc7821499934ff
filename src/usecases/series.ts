import { InputError } from '../rules/errors.ts';
import { BUCKET_MS, SERIES_LIMITS, type SeriesBucket } from '../rules/series.ts';
import { readSeries, type SeriesPoint } from '../store/series.ts';

/** What a series covers when the caller does not say: the last hour of minutes, day of hours, month of days. */
const DEFAULT_SPAN_MS: Record<SeriesBucket, number> = { MINUTE: 3_600_000, HOUR: 86_400_000, DAY: 30 * 86_400_000 };

/**
 * A webhook's series (or its tenant's, `webhookId` null) for charts: checks the range
 * (bounded in points; minutes only for their last six hours), then reads the rolled-up
 * rows. The newest couple of seconds may not be folded in yet.
 */
export async function deliverySeries(
  tenantId: string,
  webhookId: string | null,
  args: { bucket: SeriesBucket; since?: Date | null; until?: Date | null },
  now = new Date(),
): Promise<SeriesPoint[]> {
  const bucketMs = BUCKET_MS[args.bucket];
  const until = args.until ?? now;
  const since = args.since ?? new Date(until.getTime() - DEFAULT_SPAN_MS[args.bucket]);
  if (since >= until) throw new InputError([{ field: 'since', message: `must be before until (${until.toISOString()})` }]);
  const points = Math.ceil((until.getTime() - since.getTime()) / bucketMs);
  if (points > SERIES_LIMITS.maxPoints) {
    throw new InputError([{ field: 'since', message: `the range holds ${points} ${args.bucket} buckets; at most ${SERIES_LIMITS.maxPoints} are allowed: shorten it or take a larger bucket` }]);
  }
  const minutesFrom = new Date(now.getTime() - SERIES_LIMITS.minutesKeptMs);
  if (args.bucket === 'MINUTE' && since < minutesFrom) {
    throw new InputError([{ field: 'since', message: `minute buckets cover the last ${SERIES_LIMITS.minutesKeptMs / 3_600_000} hours (since ${minutesFrom.toISOString()} or later); take HOUR or DAY for older ranges` }]);
  }
  return readSeries(tenantId, webhookId, args.bucket === 'MINUTE' ? 'minute' : 'hour', bucketMs, since, until);
}
