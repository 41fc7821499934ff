import { beforeAll, describe, expect, it } from 'vitest';
import { purgeOld } from '../src/store/retention.ts';
import { foldSeries } from '../src/store/series.ts';
import { series as seriesStatement, TENANT_TOTAL } from '../src/store/sql/series.ts';
import { errorOf, startTestApp, type TestApp } from './support/app.ts';
import { runSql } from './support/database.ts';
import { setUpTopics } from './support/fixtures.ts';
import { eventually, Receiver } from './support/receiver.ts';

const SERIES = `query($id: ID!, $bucket: SeriesBucket!, $since: DateTime, $until: DateTime) {
  webhook(id: $id) { series(bucket: $bucket, since: $since, until: $until) { at succeeded failed completed retrying givenUp successRate latencyP50Ms latencyP95Ms latencyMeanMs } } }`;
const TENANT_SERIES = `query($bucket: SeriesBucket!) { viewer { tenant { series(bucket: $bucket) { at succeeded failed completed retrying givenUp } } } }`;

type Point = { at: string; succeeded: number; failed: number; completed: number; retrying: number; givenUp: number; latencyP50Ms: number | null };
const total = (points: Point[]) =>
  points.reduce((sum, p) => ({ succeeded: sum.succeeded + p.succeeded, failed: sum.failed + p.failed, completed: sum.completed + p.completed, retrying: sum.retrying + p.retrying, givenUp: sum.givenUp + p.givenUp }), {
    succeeded: 0, failed: 0, completed: 0, retrying: 0, givenUp: 0,
  });

describe('delivery series for charts, from minute and hour roll-ups', () => {
  let t: TestApp;
  let flaky: string;
  let slow: string;
  let tenantId: string;
  beforeAll(async () => {
    t = await startTestApp({ HERALD_OUTBOUND_ALLOW: '127.0.0.0/8', HERALD_MIN_BACKOFF_MS: '20' });
    await setUpTopics(t);
    tenantId = (await t.ok('{ viewer { tenant { id } } }')).viewer.tenant.id;
    const create = 'mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }';
    const flakyReceiver = await Receiver.start((_, i) => ({ status: i < 2 ? 500 : 200 }));
    const slowReceiver = await Receiver.start(() => ({ status: 200, delayMs: 30 }));
    flaky = (await t.ok(create, { input: { label: 'flaky', events: ['user.created'], url: flakyReceiver.url, active: true, retryScheduleMs: [20] } })).createWebhook.webhook.id;
    slow = (await t.ok(create, { input: { label: 'slow', events: ['user.created'], url: slowReceiver.url, active: true } })).createWebhook.webhook.id;
    for (const id of ['a', 'b', 'c', 'd']) await t.ok(`mutation { publishEvent(input: { event: { topic: "user", action: "created", entityId: "${id}", data: {} } }) { event { id } } }`);
    await flakyReceiver.waitFor(6);
    await slowReceiver.waitFor(4);
  });

  const seriesOf = async (id: string, bucket: string, range: object = {}) => (await t.ok(SERIES, { id, bucket, ...range })).webhook.series as Point[];

  it("counts each webhook's attempts and what they led to, per minute, hour and day", async () => {
    // The roll-up folds every couple of seconds; the last attempts are in once it has run.
    const minutes = await eventually(async () => {
      await foldSeries();
      const points = await seriesOf(flaky, 'MINUTE');
      return total(points).succeeded === 4 && total(points).failed === 2 ? points : undefined;
    }, 15_000, "the flaky webhook's six attempts in its series");
    expect(total(minutes)).toEqual({ succeeded: 4, failed: 2, completed: 4, retrying: 2, givenUp: 0 });
    for (const p of minutes) expect(new Date(p.at).getUTCSeconds()).toBe(0);
    for (const bucket of ['HOUR', 'DAY']) expect(total(await seriesOf(flaky, bucket))).toEqual({ succeeded: 4, failed: 2, completed: 4, retrying: 2, givenUp: 0 });
    const slowMinutes = await seriesOf(slow, 'MINUTE');
    expect(total(slowMinutes)).toEqual({ succeeded: 4, failed: 0, completed: 4, retrying: 0, givenUp: 0 });
    // The slow receiver answers after 30 ms: its median is at least that, and above the quick one's.
    const median = (points: Point[]) => Math.max(...points.map((p) => p.latencyP50Ms ?? 0));
    expect(median(slowMinutes)).toBeGreaterThanOrEqual(25);
    expect(median(slowMinutes)).toBeGreaterThan(median(minutes));
  });

  it("adds up the tenant's webhooks", async () => {
    await foldSeries();
    const points = (await t.ok(TENANT_SERIES, { bucket: 'HOUR' })).viewer.tenant.series;
    expect(total(points)).toEqual({ succeeded: 8, failed: 2, completed: 8, retrying: 2, givenUp: 0 });
  });

  it('refuses ranges it cannot answer, naming the argument', async () => {
    const now = Date.now();
    const cases: Array<[string, object, RegExp]> = [
      ['MINUTE', { since: new Date(now - 7 * 3_600_000).toISOString() }, /last 6 hours.*HOUR or DAY/],
      ['MINUTE', { since: new Date(now).toISOString(), until: new Date(now - 1000).toISOString() }, /before until/],
      ['HOUR', { since: new Date(now - 100 * 86_400_000).toISOString() }, /holds \d+ HOUR buckets; at most 1500 are allowed/],
    ];
    for (const [bucket, range, message] of cases) {
      const error = errorOf(await t.gql(SERIES, { id: flaky, bucket, ...range }), 'BAD_USER_INPUT');
      expect(error.extensions?.field).toBe('since');
      expect(error.message).toMatch(message);
    }
  });

  it('reads one webhook through its index whatever else is stored, drops minutes after six hours and hours with the deliveries', async () => {
    const sql = (text: string, values: unknown[] = []) => runSql(t.databaseUrl, text, values);
    // Six hours of minutes for 500 other webhooks, and a year of hours.
    await sql(`INSERT INTO delivery_minute SELECT $1::uuid, gen_random_uuid(), date_trunc('minute', now()) - m * interval '1 minute', 1, 0, 1, 0, 0, 3, '{1,0,0,0,0,0,0,0,0,0,0,0,0}' FROM generate_series(1, 500) w, generate_series(1, 350) m`, [tenantId]);
    await sql(`INSERT INTO delivery_hour SELECT $1::uuid, $2::uuid, date_trunc('hour', now()) - h * interval '1 hour', 1, 0, 1, 0, 0, 3, '{1,0,0,0,0,0,0,0,0,0,0,0,0}' FROM generate_series(1, 24 * 365) h`, [tenantId, slow]);
    await sql('ANALYZE delivery_minute; ANALYZE delivery_hour');
    const statement = seriesStatement(tenantId, flaky, 'minute', 60_000, new Date(Date.now() - 3_600_000), new Date());
    const root = (await sql(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${statement.text}`, statement.values))[0]['QUERY PLAN'][0].Plan;
    const nodes: any[] = [];
    const walk = (n: any) => (nodes.push(n), n.Plans?.forEach(walk));
    walk(root);
    expect(nodes.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([]);
    const scan = nodes.find((n) => n['Index Name'] === 'delivery_minute_pkey');
    // A few pages of its own rows (the rest of the statement's buffers are the histogram function's first call reading the catalog).
    expect(scan['Shared Hit Blocks'] + scan['Shared Read Blocks']).toBeLessThan(20);
    const tenantTotals = seriesStatement(tenantId, TENANT_TOTAL, 'hour', 86_400_000, new Date(Date.now() - 30 * 86_400_000), new Date());
    expect(JSON.stringify((await sql(`EXPLAIN (FORMAT JSON) ${tenantTotals.text}`, tenantTotals.values))[0]['QUERY PLAN'])).toContain('delivery_hour_pkey');

    await sql(`INSERT INTO delivery_minute SELECT $1::uuid, $2::uuid, date_trunc('minute', now()) - interval '7 hours', 1, 0, 1, 0, 0, 3, '{1,0,0,0,0,0,0,0,0,0,0,0,0}'`, [tenantId, flaky]);
    await foldSeries();
    const [{ old }] = await sql(`SELECT count(*)::int AS old FROM delivery_minute WHERE at < now() - interval '6 hours'`);
    expect(old).toBe(0);
    expect(total(await seriesOf(flaky, 'MINUTE')).succeeded).toBe(4);

    // The nightly purge takes the hours older than the tenant's retention (30 days here), and keeps the rest.
    await purgeOld(30);
    const [{ kept, oldest }] = await sql(`SELECT count(*)::int AS kept, min(at) AS oldest FROM delivery_hour WHERE webhook_id = $1`, [slow]);
    expect(kept).toBeGreaterThan(24 * 29);
    expect(kept).toBeLessThanOrEqual(24 * 30 + 1);
    expect(new Date(oldest).getTime()).toBeGreaterThan(Date.now() - 30 * 86_400_000 - 3_600_000);
  });
});

describe('duration histograms', () => {
  it('puts each duration in its bucket and reads percentiles from the counts', async () => {
    const { durationBucket, percentile, seriesDeltas, DURATION_BUCKETS } = await import('../src/rules/series.ts');
    expect([0, 4, 5, 24, 25, 999, 1000, 29_999, 30_000, 600_000].map(durationBucket)).toEqual([0, 0, 1, 2, 3, 7, 8, 11, 12, 12]);
    const h = new Array(DURATION_BUCKETS).fill(0);
    h[3] = 10; // 10 attempts of 25–50 ms
    h[5] = 10; // 10 of 100–250 ms
    expect(percentile(h, 0.25)).toBe(38); // halfway through the first bucket
    expect(percentile(h, 0.5)).toBe(50);
    expect(percentile(h, 0.95)).toBe(235);
    expect(percentile(new Array(DURATION_BUCKETS).fill(0), 0.5)).toBeNull();
    const open = new Array(DURATION_BUCKETS).fill(0);
    open[12] = 1;
    expect(percentile(open, 0.99)).toBe(30_000); // the open-ended bucket answers its lower edge
    const at = new Date('2026-12-03T10:00:30Z');
    const deltas = seriesDeltas([
      { tenantId: 't', webhookId: 'w', startedAt: at, ok: true, durationMs: 30, status: 'COMPLETED' },
      { tenantId: 't', webhookId: 'w', startedAt: new Date(at.getTime() + 20_000), ok: false, durationMs: 3, status: 'RETRYING' },
      { tenantId: 't', webhookId: 'w', startedAt: new Date(at.getTime() + 40_000), ok: false, durationMs: 3, status: 'FAILED' },
    ]);
    expect(deltas.map((d) => [d.minute.toISOString(), d.succeeded, d.failed, d.completed, d.retrying, d.givenUp, d.durationMsSum])).toEqual([
      ['2026-12-03T10:00:00.000Z', 1, 1, 1, 1, 0, 33],
      ['2026-12-03T10:01:00.000Z', 0, 1, 0, 0, 1, 3],
    ]);
  });
});
