// `npm run bench`: how fast Herald delivers, next to what its parts can do alone.
// One run, one embedded PostgreSQL, receivers on loopback; see README, "Benchmarks and drills".
//   --smoke      a few seconds instead of minutes (the test suite runs this)
//   --out <dir>  where results go (default bench/results)
import { execSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { chart } from './lib/chart.ts';
import { createTopic, createWebhook, Herald, openDatabase, Postgres, publish, publishAtRate, watchCompleted } from './lib/cluster.ts';
import { measureLimit, type Rate } from './lib/limits.ts';
import { Receivers } from './lib/receiver.ts';
import { percentiles, sleep, table, until, type Percentiles } from './lib/stats.ts';

const { values: args } = parseArgs({ options: { smoke: { type: 'boolean', default: false }, out: { type: 'string', default: 'bench/results' } } });
const size = args.smoke
  ? { events1: 400, events10: 40, limitJobs: 1000, limitRequests: 1000, moderateRate: 50, latencySeconds: 2, saturationSeconds: 2 }
  : { events1: 30_000, events10: 3_000, limitJobs: 30_000, limitRequests: 30_000, moderateRate: 200, latencySeconds: 15, saturationSeconds: 10 };
const PRODUCERS = 4;
const config = loadConfig(process.env);
const settings = { batchSize: config.workerBatchSize, inFlight: config.workerConcurrency, perWebhook: config.webhookConcurrency, producers: PRODUCERS, publishBatch: 100 };

const postgres = await Postgres.start();
const receivers = await Receivers.start();
let herald: Herald | undefined;
try {
  // 1. The limits.
  const pgBoss = await measureLimit(['pg-boss', await postgres.database('limit'), ...[size.limitJobs, settings.batchSize, settings.inFlight, PRODUCERS].map(String)]);
  const httpLimit = await measureLimit(['http', receivers.route('limit'), String(size.limitRequests), String(settings.inFlight)]);

  // 2. Herald end to end.
  const databaseUrl = await postgres.database('herald');
  herald = new Herald({ DATABASE_URL: databaseUrl });
  await herald.start();
  // Resident memory sampled through the run: the peak of each phase (the picture of where memory goes).
  const phasePeakMb: Record<string, number> = { started: await herald.memoryMb() };
  let phase = 'setup';
  const sampler = setInterval(() => {
    herald!.memoryMb().then((mb) => (phasePeakMb[phase] = Math.max(phasePeakMb[phase] ?? 0, mb)), () => undefined);
  }, 100);
  const db = await openDatabase(databaseUrl);
  await createTopic(herald, 'one');
  await createTopic(herald, 'ten');
  const one = await createWebhook(herald, { label: 'one', events: ['one.created'], url: receivers.route('one') });
  const ten = await Promise.all(Array.from({ length: 10 }, (_, i) => createWebhook(herald!, { label: `ten-${i}`, events: ['ten.created'], url: receivers.route(`ten-${i}`) })));

  const throughput = async (topic: string, webhookIds: string[], routes: string[], events: number) => {
    const expected = events * webhookIds.length;
    const started = performance.now();
    const series: Array<{ t: number; recorded: number }> = [];
    let next = 0;
    const publishing = Promise.all(
      Array.from({ length: PRODUCERS }, async () => {
        while (next < events) {
          const ids = Array.from({ length: Math.min(settings.publishBatch, events - next) }, () => `${topic}-${next++}`);
          await publish(herald!, topic, ids);
        }
      }),
    ).then(() => performance.now());
    for (;;) {
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM instance WHERE webhook_id = ANY($1::uuid[]) AND status = 'COMPLETED'`, [webhookIds]);
      series.push({ t: (performance.now() - started) / 1000, recorded: rows[0].n });
      if (rows[0].n >= expected) break;
      if (performance.now() - started > 60_000 + expected * 5) throw new Error(`only ${rows[0].n} of ${expected} deliveries recorded`);
      await sleep(100);
    }
    const seconds = (performance.now() - started) / 1000;
    const publishSeconds = ((await publishing) - started) / 1000;
    const received = routes.reduce((n, r) => n + receivers.get(r).ids.size, 0);
    return { events, deliveries: expected, received, seconds, perSecond: expected / seconds, publishedPerSecond: events / publishSeconds, series };
  };
  phase = 'fanout1';
  const fanout1 = await throughput('one', [one], ['one'], size.events1);
  phase = 'fanout10';
  const fanout10 = await throughput('ten', ten, ten.map((_, i) => `ten-${i}`), size.events10);

  // 3. Latency: publishEvent returning → the receiver getting the request, at a fixed rate.
  const latencyAt = async (rate: number, seconds: number, perCall: number, route: string, topic: string) => {
    const t0 = performance.now();
    const publishedAt = await publishAtRate(herald!, topic, rate, seconds, { perCall });
    const achieved = publishedAt.size / ((performance.now() - t0) / 1000);
    const arrivals = receivers.get(route).firstAt;
    await receivers.waitFor(() => [...publishedAt.keys()].every((id) => arrivals.has(id)), 60_000, `every ${route} delivery`);
    const latencies = [...publishedAt].map(([id, at]) => Math.max(0, arrivals.get(id)! - at));
    return { rate, achievedRate: achieved, ...percentiles(latencies) };
  };
  await createTopic(herald, 'latency');
  const moderateWebhook = await createWebhook(herald, { label: 'moderate', events: ['latency.created'], url: receivers.route('moderate') });
  // Subscription delay, measured during the moderate run: COMPLETED committed (updatedAt) → the subscriber has it.
  const delays: number[] = [];
  const watcher = await watchCompleted(herald.url, moderateWebhook, (updatedAt) => delays.push(Date.now() - Date.parse(updatedAt)));
  phase = 'moderate';
  const moderate = await latencyAt(size.moderateRate, size.latencySeconds, 1, 'moderate', 'latency');
  await until(() => delays.length >= moderate.count, 30_000, 'every COMPLETED change at the subscriber').catch((error: Error) => {
    throw new Error(`${error.message}: ${delays.length} of ${moderate.count} arrived`);
  });
  await watcher.dispose();
  const subscription = percentiles(delays);
  await createTopic(herald, 'saturation');
  await createWebhook(herald, { label: 'saturation', events: ['saturation.created'], url: receivers.route('saturation') });
  // Near saturation: 60% of the 1-webhook throughput, in calls of up to 100 events at most 100 times a second.
  const saturationRate = Math.max(size.moderateRate, Math.round((fanout1.perSecond * 0.6) / 10) * 10);
  phase = 'nearSaturation';
  const nearSaturation = await latencyAt(saturationRate, size.saturationSeconds, Math.max(1, Math.ceil(saturationRate / 100)), 'saturation', 'saturation');
  const peakMemoryMb = await herald.peakMemoryMb();
  clearInterval(sampler);
  await db.end();

  // 4. Results.
  const results = {
    date: new Date().toISOString(),
    commit: commit(),
    smoke: args.smoke,
    machine: { cpus: os.cpus().length, memoryGb: Math.round(os.totalmem() / 1024 ** 3), node: process.version },
    settings,
    limits: { pgBoss, http: httpLimit },
    herald: { fanout1: summary(fanout1), fanout10: summary(fanout10) },
    latency: { moderate, nearSaturation },
    subscription,
    peakMemoryMb,
    phasePeakMb,
    targets: targets(fanout1.perSecond, pgBoss, moderate, peakMemoryMb),
  };
  const stamp = results.date.replace(/[:.]/g, '-');
  await fs.mkdir(args.out!, { recursive: true });
  const jsonFile = path.join(args.out!, `${stamp}.json`);
  await fs.writeFile(jsonFile, `${JSON.stringify({ ...results, series: { fanout1: fanout1.series, fanout10: fanout10.series } }, null, 2)}\n`);
  const svgFile = path.join(args.out!, `${stamp}.svg`);
  await fs.writeFile(svgFile, picture(results, fanout1.series, fanout10.series));
  console.log(report(results));
  console.log(`\nresults: ${jsonFile}\npicture: ${svgFile}`);
} finally {
  await herald?.stop();
  await receivers.down();
  await postgres.stop();
}

function summary(run: { events: number; deliveries: number; received: number; seconds: number; perSecond: number; publishedPerSecond: number }) {
  const { series: _, ...rest } = run as typeof run & { series?: unknown };
  return rest;
}

function targets(perSecond: number, pgBoss: Rate, moderate: Percentiles, memoryMb: number) {
  return [
    { target: 'deliveries/s end to end (1 webhook) ≥ 2,000', value: perSecond, met: perSecond >= 2000 },
    { target: 'share of raw pg-boss ≥ 50%', value: (100 * perSecond) / pgBoss.perSecond, met: perSecond >= pgBoss.perSecond / 2 },
    { target: `p99 publish→delivery at ${moderate.count ? 'the moderate rate' : '–'} < 150 ms`, value: moderate.p99, met: moderate.p99 < 150 },
    { target: 'server peak memory < 300 MB', value: memoryMb, met: memoryMb < 300 },
  ];
}

type Results = {
  date: string;
  commit: string;
  smoke: boolean;
  machine: { cpus: number; node: string };
  settings: typeof settings;
  limits: { pgBoss: Rate; http: Rate };
  herald: { fanout1: { perSecond: number; received: number; deliveries: number; publishedPerSecond: number }; fanout10: { perSecond: number; received: number; deliveries: number; publishedPerSecond: number } };
  latency: { moderate: Percentiles & { rate: number; achievedRate: number }; nearSaturation: Percentiles & { rate: number; achievedRate: number } };
  subscription: Percentiles;
  peakMemoryMb: number;
  targets: Array<{ target: string; value: number; met: boolean }>;
};

function report(r: Results): string {
  const { pgBoss, http } = r.limits;
  const pct = (n: number, of: number) => `${Math.round((100 * n) / of)}%`;
  const lines = [
    `Herald bench${r.smoke ? ' (smoke: too small to mean anything)' : ''} — ${r.date.slice(0, 19)}Z, commit ${r.commit}, ${r.machine.cpus} CPUs, node ${r.machine.node}`,
    `settings: fetch batch ${r.settings.batchSize}, ${r.settings.inFlight} deliveries in flight (${r.settings.perWebhook} per webhook), ${r.settings.producers} publishers × ${r.settings.publishBatch} events per publishEvents`,
    '',
    table(
      ['throughput', 'per second', 'of pg-boss', 'of HTTP', 'delivered'],
      [
        ['pg-boss alone (no-op jobs)', pgBoss.perSecond, '100%', '–', `${pgBoss.count} jobs`],
        ['HTTP alone (got, same receiver)', http.perSecond, '–', '100%', `${http.count} requests`],
        ['Herald, 1 webhook', r.herald.fanout1.perSecond, pct(r.herald.fanout1.perSecond, pgBoss.perSecond), pct(r.herald.fanout1.perSecond, http.perSecond), `${r.herald.fanout1.received}/${r.herald.fanout1.deliveries}`],
        ['Herald, 10 webhooks', r.herald.fanout10.perSecond, pct(r.herald.fanout10.perSecond, pgBoss.perSecond), pct(r.herald.fanout10.perSecond, http.perSecond), `${r.herald.fanout10.received}/${r.herald.fanout10.deliveries}`],
      ],
    ),
    '',
    table(
      ['latency (ms)', 'events/s', 'p50', 'p95', 'p99', 'max', 'count'],
      [
        ['publishEvent → receiver, moderate', r.latency.moderate.achievedRate, r.latency.moderate.p50, r.latency.moderate.p95, r.latency.moderate.p99, r.latency.moderate.max, r.latency.moderate.count],
        ['publishEvent → receiver, near saturation', r.latency.nearSaturation.achievedRate, r.latency.nearSaturation.p50, r.latency.nearSaturation.p95, r.latency.nearSaturation.p99, r.latency.nearSaturation.max, r.latency.nearSaturation.count],
        ['status change → subscriber (instanceUpdated)', r.latency.moderate.achievedRate, r.subscription.p50, r.subscription.p95, r.subscription.p99, r.subscription.max, r.subscription.count],
      ],
    ),
    '',
    `server peak memory (VmHWM): ${Math.round(r.peakMemoryMb)} MB`,
    '',
    table(['target', 'value', 'met'], r.targets.map((t) => [t.target, t.value, t.met ? 'yes' : 'NO'])),
  ];
  return lines.join('\n');
}

function picture(r: Results, one: Array<{ t: number; recorded: number }>, ten: Array<{ t: number; recorded: number }>): string {
  // Each point: deliveries recorded over the second before it.
  const rates = (series: Array<{ t: number; recorded: number }>) =>
    series.slice(1).map((p) => {
      const from = series.findLast((q) => q.t <= p.t - 1) ?? series[0]!;
      return { t: p.t, perSecond: (p.recorded - from.recorded) / Math.max(0.001, p.t - from.t) };
    });
  return chart({
    title: `Herald bench ${r.date.slice(0, 10)} (commit ${r.commit})`,
    throughput: [
      { label: 'pg-boss alone', perSecond: r.limits.pgBoss.perSecond },
      { label: 'HTTP alone (got)', perSecond: r.limits.http.perSecond },
      { label: 'Herald, 1 webhook', perSecond: r.herald.fanout1.perSecond },
      { label: 'Herald, 10 webhooks', perSecond: r.herald.fanout10.perSecond },
    ],
    latency: [
      { label: `${Math.round(r.latency.moderate.rate)} ev/s`, values: (['p50', 'p95', 'p99', 'max'] as const).map((k) => ({ label: k, ms: r.latency.moderate[k] })) },
      { label: `${Math.round(r.latency.nearSaturation.rate)} ev/s`, values: (['p50', 'p95', 'p99', 'max'] as const).map((k) => ({ label: k, ms: r.latency.nearSaturation[k] })) },
      { label: 'subscription', values: (['p50', 'p99'] as const).map((k) => ({ label: k, ms: r.subscription[k] })) },
    ],
    series: [
      { label: 'Herald, 1 webhook', points: rates(one) },
      { label: 'Herald, 10 webhooks', points: rates(ten) },
    ],
  });
}

function commit(): string {
  try {
    const sha = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
    const dirty = execSync('git status --porcelain --untracked-files=no', { encoding: 'utf8' }).trim();
    return dirty ? `${sha}+changes` : sha;
  } catch {
    return 'unknown';
  }
}
