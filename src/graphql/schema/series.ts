import { SERIES_BUCKETS } from '../../rules/series.ts';
import { deliverySeries } from '../../usecases/series.ts';
import { builder, READERS } from '../builder.ts';

const SeriesBucketEnum = builder.enumType('SeriesBucket', {
  values: SERIES_BUCKETS,
  description: 'The width of a series point: a minute (the last six hours only), an hour or a day (UTC).',
});

const SeriesPoint = builder.simpleObject('SeriesPoint', {
  ...READERS,
  description: 'Delivery attempts in one bucket of time, and what they moved deliveries to.',
  fields: (t) => ({
    at: t.field({ type: 'DateTime', description: 'Where the bucket starts.' }),
    succeeded: t.int({ description: 'Attempts the receiver accepted (2xx).' }),
    failed: t.int({ description: 'Attempts that failed (an error status, a timeout, a refused connection, …).' }),
    completed: t.int({ description: 'Deliveries that became COMPLETED.' }),
    retrying: t.int({ description: 'Deliveries given a retry (RETRYING).' }),
    givenUp: t.int({ description: 'Deliveries that became FAILED.' }),
    successRate: t.float({ nullable: true, description: 'succeeded / (succeeded + failed).' }),
    latencyP50Ms: t.int({ nullable: true, description: "Median attempt duration (from a histogram: exact to its bucket's bounds)." }),
    latencyP95Ms: t.int({ nullable: true, description: '95th percentile of attempt durations.' }),
    latencyMeanMs: t.int({ nullable: true }),
  }),
});

/** The arguments both fields take (typed by GraphQL: the enum and the DateTime scalar). */
type SeriesArgs = Parameters<typeof deliverySeries>[2];
const seriesArgs = (t: any) => ({
  bucket: t.arg({ type: SeriesBucketEnum, required: true }),
  since: t.arg({ type: 'DateTime', description: 'Default: an hour (MINUTE), a day (HOUR) or 30 days (DAY) before until.' }),
  until: t.arg({ type: 'DateTime', description: 'Default: now.' }),
});
const SERIES_HELP = 'Attempts and outcomes over time, one point per bucket that had attempts (at most 1,500 buckets in the range), for charts. Read from minute and hour roll-ups, so it costs the same with months of history; the last couple of seconds may not be in yet.';

builder.prismaObjectField('Webhook', 'series', (t) =>
  t.field({
    type: [SeriesPoint],
    description: SERIES_HELP,
    args: seriesArgs(t),
    resolve: (webhook, args) => deliverySeries(webhook.tenantId, webhook.id, args as SeriesArgs),
  }),
);

builder.prismaObjectField('Tenant', 'series', (t) =>
  t.field({
    type: [SeriesPoint],
    description: `All the tenant's webhooks together. ${SERIES_HELP}`,
    args: seriesArgs(t),
    resolve: (tenant, args) => deliverySeries(tenant.id, null, args as SeriesArgs),
  }),
);
