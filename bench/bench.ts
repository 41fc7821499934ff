// `npm run bench`: how fast Herald delivers, next to what its parts can do alone.
// One run, one embedded PostgreSQL, receivers on loopback; see docs/benchmarks.md.
//   --smoke       a few seconds instead of minutes (the test suite runs this)
//   --rounds <n>  how many times the limits and Herald with 1 webhook are measured, in turn (default 3; smoke 2)
//   --out <dir>   where results go (default bench/results)
//   --before <commit>  an earlier commit whose server is measured beside this one with 1 webhook, every round (default c389b8b)
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { DELIVERIES_PER_JOB } from '../src/queue/boss.ts';
import { chart } from './lib/chart.ts';
import { commit } from './lib/commit.ts';
import { between, perItem, postgresPids, read, type CpuUse } from './lib/cpu.ts';
import { buildCommit } from './lib/before.ts';
import { buildForStart, createTopic, createWebhook, Herald, openDatabase, Postgres, publish, publishAtRate, watchCompleted } from './lib/cluster.ts';
import { measureLimit, type Rate } from './lib/limits.ts';
import { Receivers } from './lib/receiver.ts';
import { oneEventPerCall, oneEventPerCallReport, type OneEventPerCall } from './lib/singleCalls.ts';
import { format, percentiles, sleep, table, until, type Percentiles } from './lib/stats.ts';

const { values: args } = parseArgs({ options: { smoke: { type: 'boolean', default: false }, rounds: { type: 'string' }, out: { type: 'string', default: 'bench/results' }, before: { type: 'string', default: 'c389b8b' } } });
const size = args.smoke
  ? { events1: 400, events10: 40, limitJobs: 1000, limitRequests: 1000, peerDeliveries: 300, moderateRate: 50, latencySeconds: 2, saturationSeconds: 2, singleSeconds: 1 }
  : { events1: 30_000, events10: 3_000, limitJobs: 30_000, limitRequests: 30_000, peerDeliveries: 10_000, moderateRate: 200, latencySeconds: 15, saturationSeconds: 10, singleSeconds: 6 };
const ROUNDS = Number(args.rounds ?? (args.smoke ? 2 : 3));
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 20) {
  console.error(`--rounds: a whole number from 1 to 20, not ${args.rounds}`);
  process.exit(2);
}
const PRODUCERS = 4;
/** The earlier server measured beside this one (default: the last commit before tenants shared the workers). */
const EARLIER = args.before!;
const config = loadConfig(process.env);
const settings = { batchSize: config.workerBatchSize, inFlight: config.workerConcurrency, perWebhook: config.webhookConcurrency, producers: PRODUCERS, publishBatch: 100 };

buildForStart(); // the server as `npm start` runs it, rebuilt if src/ changed
const postgres = await Postgres.start();
const receivers = await Receivers.start();
let herald: Herald | undefined;
let quiet: Herald | undefined;
let traced: Herald | undefined;
let before: Herald | undefined;
let otlp: Server | undefined;
try {
  // Where the CPU goes, besides the process under test: PostgreSQL, and this process (publishers, receivers).
  const accounted = { postgres: () => postgresPids(postgres.dataDir), bench: () => [process.pid] };
  // 1. Herald's server (it idles while the limits are measured).
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
  const heraldDb = db;
  // The same server with its metrics off, on a database of its own: what counting and a scrape every 5 s cost.
  const quietUrl = await postgres.database('herald_quiet');
  quiet = new Herald({ DATABASE_URL: quietUrl, HERALD_METRICS: 'off' });
  await quiet.start();
  const quietDb = await openDatabase(quietUrl);
  // And with tracing on too (metrics on), every span sent to an OTLP collector on loopback that takes and drops it.
  otlp = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => otlp!.listen(0, '127.0.0.1', resolve));
  const tracedUrl = await postgres.database('herald_traced');
  traced = new Herald({ DATABASE_URL: tracedUrl, HERALD_TRACES_ENDPOINT: `http://127.0.0.1:${(otlp.address() as AddressInfo).port}/v1/traces` });
  await traced.start();
  const tracedDb = await openDatabase(tracedUrl);
  // And the server as it was before tenants shared the workers fairly, built from that commit, on a database of its own.
  const beforeUrl = await postgres.database('herald_before');
  before = new Herald({ DATABASE_URL: beforeUrl }, [], buildCommit(EARLIER));
  await before.start();
  const beforeDb = await openDatabase(beforeUrl);
  await createTopic(herald, 'ten');
  const ten = await Promise.all(Array.from({ length: 10 }, (_, i) => createWebhook(herald!, { label: `ten-${i}`, events: ['ten.created'], url: receivers.route(`ten-${i}`) })));

  // Before each timed Herald run, the three servers' databases are vacuumed and checkpointed: the
  // previous run's 30,000 rows are not left for autovacuum to clean up during the next (it made a
  // later run's PostgreSQL three times as busy per delivery).
  const quietDown = async () => {
    for (const pool of [heraldDb, quietDb, tracedDb, beforeDb]) await pool.query('VACUUM (ANALYZE)');
    await heraldDb.query('CHECKPOINT');
  };
  const throughput = async (topic: string, webhookIds: string[], routes: string[], events: number, server = herald!, db = heraldDb) => {
    await quietDown();
    const expected = events * webhookIds.length;
    // As Prometheus would, every 5 s (a common interval is 15 s), while metrics are on.
    const scraper = server !== quiet ? setInterval(() => void fetch(server.url.replace(/\/graphql$/, '/metrics')).then((r) => r.text()).catch(() => undefined), 5000) : undefined;
    const delivered = () => routes.reduce((n, r) => n + receivers.get(r).ids.size, 0);
    const recorded = async () =>
      (await db.query(`SELECT count(*)::int AS n FROM instance WHERE webhook_id = ANY($1::uuid[]) AND status = 'COMPLETED'`, [webhookIds])).rows[0].n as number;
    const cpuFrom = read({ herald: () => [server.pid], ...accounted });
    const started = performance.now();
    const series: Array<{ t: number; delivered: number }> = [];
    let next = 0;
    const publishing = Promise.all(
      Array.from({ length: PRODUCERS }, async () => {
        while (next < events) {
          const ids = Array.from({ length: Math.min(settings.publishBatch, events - next) }, () => `${topic}-${next++}`);
          await publish(server, topic, ids);
        }
      }),
    ).then(() => performance.now());
    // Progress from the receivers (free); the database is asked (a count costs PostgreSQL
    // some milliseconds) once a second, and often once everything has arrived.
    let lastCount = started;
    for (;;) {
      const now = performance.now();
      series.push({ t: (now - started) / 1000, delivered: delivered() });
      if (delivered() >= expected || now - lastCount >= 1000) {
        lastCount = now;
        const n = await recorded();
        if (n >= expected) break;
        if (now - started > 60_000 + expected * 5) throw new Error(`only ${n} of ${expected} deliveries recorded`);
      }
      await sleep(delivered() >= expected ? 20 : 100);
    }
    clearInterval(scraper);
    const cpu = between(cpuFrom, read({ herald: () => [server.pid], ...accounted }));
    const seconds = (performance.now() - started) / 1000;
    const publishSeconds = ((await publishing) - started) / 1000;
    return { events, deliveries: expected, received: delivered(), seconds, perSecond: expected / seconds, publishedPerSecond: events / publishSeconds, series, cpu };
  };
  // 2. The limits and Herald with 1 webhook, measured in turn, round after round: the
  // machine's speed drifts (neighbours), so each round's figures are compared with each
  // other, and the round with the median share of the HTTP limit is the one reported.
  const rounds = [];
  for (let round = 1; round <= ROUNDS; round += 1) {
    const pgBoss = await measureLimit(['pg-boss', await postgres.database(`limit${round}`), ...[size.limitJobs, settings.batchSize, settings.inFlight, PRODUCERS].map(String)], accounted);
    const http = await measureLimit(['http', receivers.route(`limit${round}`), String(size.limitRequests), String(settings.inFlight)], accounted);
    // What a team would build instead: one job per delivery, signed, sent with got, one attempt row recorded.
    const pgBossGot = await measureLimit(
      ['pg-boss+got', await postgres.database(`peer_pgboss${round}`), receivers.route(`pgboss${round}`), ...[size.peerDeliveries, settings.batchSize, settings.inFlight, PRODUCERS].map(String)],
      accounted,
    );
    const graphileGot = await measureLimit(
      ['graphile-worker+got', await postgres.database(`peer_graphile${round}`), receivers.route(`graphile${round}`), ...[size.peerDeliveries, settings.inFlight, PRODUCERS].map(String)],
      accounted,
    );
    for (const peer of [`pgboss${round}`, `graphile${round}`])
      if (receivers.get(peer).ids.size !== size.peerDeliveries) throw new Error(`${peer}: the receiver got ${receivers.get(peer).ids.size} of ${size.peerDeliveries} deliveries`);
    await createTopic(herald, `one${round}`);
    const one = await createWebhook(herald, { label: `one ${round}`, events: [`one${round}.created`], url: receivers.route(`one${round}`) });
    await createTopic(quiet, `quiet${round}`);
    const quietHook = await createWebhook(quiet, { label: `quiet ${round}`, events: [`quiet${round}.created`], url: receivers.route(`quiet${round}`) });
    await createTopic(before, `before${round}`);
    const beforeHook = await createWebhook(before, { label: `before ${round}`, events: [`before${round}.created`], url: receivers.route(`before${round}`) });
    await createTopic(traced, `traced${round}`);
    const tracedHook = await createWebhook(traced, { label: `traced ${round}`, events: [`traced${round}.created`], url: receivers.route(`traced${round}`) });
    // Metrics on and off in turn, the first one alternating round by round (the machine drifts within a round too).
    const on = async () => {
      phase = 'fanout1';
      return throughput(`one${round}`, [one], [`one${round}`], size.events1);
    };
    const off = () => throughput(`quiet${round}`, [quietHook], [`quiet${round}`], size.events1, quiet!, quietDb);
    const withTraces = () => throughput(`traced${round}`, [tracedHook], [`traced${round}`], size.events1, traced!, tracedDb);
    const unshared = () => throughput(`before${round}`, [beforeHook], [`before${round}`], size.events1, before!, beforeDb);
    let fanout1: Awaited<ReturnType<typeof on>>;
    let metricsOff: Awaited<ReturnType<typeof on>>;
    let tracing: Awaited<ReturnType<typeof on>>;
    let earlier: Awaited<ReturnType<typeof on>>;
    if (round % 2 === 1) {
      fanout1 = await on();
      earlier = await unshared();
      metricsOff = await off();
      tracing = await withTraces();
    } else {
      tracing = await withTraces();
      metricsOff = await off();
      earlier = await unshared();
      fanout1 = await on();
    }
    // The same with a rate limit set, too high to be reached: what passing the gate costs (a transaction per claim).
    await createTopic(herald, `limited${round}`);
    const limitedHook = await createWebhook(herald, { label: `limited ${round}`, events: [`limited${round}.created`], url: receivers.route(`limited${round}`), rateLimit: { perSecond: 10_000 } });
    phase = 'limited';
    const limited = await throughput(`limited${round}`, [limitedHook], [`limited${round}`], size.events1);
    rounds.push({ round, pgBoss, http, pgBossGot, graphileGot, fanout1, metricsOff, tracing, limited, earlier });
  }
  const { pgBoss, http: httpLimit, pgBossGot, graphileGot, fanout1, metricsOff, tracing, limited, earlier, round: reported } = [...rounds].sort((a, b) => a.fanout1.perSecond / a.http.perSecond - b.fanout1.perSecond / b.http.perSecond)[Math.floor((rounds.length - 1) / 2)]!;
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
  // One event per call, as hosts publish one domain change at a time: beside the cheapest authenticated query.
  await createTopic(herald, 'single');
  await createWebhook(herald, { label: 'single', events: ['single.created'], url: receivers.route('single') });
  phase = 'singleCalls';
  const singleCalls = await oneEventPerCall(herald, receivers, 'single', 'single', size.singleSeconds);
  const peakMemoryMb = await herald.peakMemoryMb();
  clearInterval(sampler);
  await db.end();
  await quietDb.end();
  await tracedDb.end();
  await beforeDb.end();

  // 4. Results.
  const results = {
    date: new Date().toISOString(),
    commit: commit(),
    smoke: args.smoke,
    machine: { cpus: os.cpus().length, memoryGb: Math.round(os.totalmem() / 1024 ** 3), node: process.version },
    settings,
    limits: { pgBoss, http: httpLimit, pgBossGot, graphileGot },
    herald: { fanout1: summary(fanout1), fanout10: summary(fanout10), limited: summary(limited), metricsOff: summary(metricsOff), tracing: summary(tracing), earlier: summary(earlier) },
    earlierCommit: EARLIER,
    reportedRound: reported,
    rounds: rounds.map((r) => ({
      round: r.round,
      pgBoss: r.pgBoss.perSecond,
      http: r.http.perSecond,
      pgBossGot: r.pgBossGot.perSecond,
      graphileGot: r.graphileGot.perSecond,
      fanout1: r.fanout1.perSecond,
      limited: r.limited.perSecond,
      metricsOff: r.metricsOff.perSecond,
      tracing: r.tracing.perSecond,
      earlier: r.earlier.perSecond,
      ofPgBoss: (100 * r.fanout1.perSecond) / r.pgBoss.perSecond,
    })),
    latency: { moderate, nearSaturation },
    singleCalls,
    subscription,
    peakMemoryMb,
    phasePeakMb,
    targets: targets(fanout1.perSecond, { http: httpLimit, pgBossGot, graphileGot }, moderate, peakMemoryMb, singleCalls),
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
  await before?.stop();
  await traced?.stop();
  otlp?.close();
  await quiet?.stop();
  await herald?.stop();
  await receivers.down();
  await postgres.stop();
}

function summary(run: { events: number; deliveries: number; received: number; seconds: number; perSecond: number; publishedPerSecond: number; cpu: CpuUse }) {
  const { series: _, ...rest } = run as typeof run & { series?: unknown };
  return rest;
}

function targets(perSecond: number, limits: { http: Rate; pgBossGot: Rate; graphileGot: Rate }, moderate: Percentiles, memoryMb: number, single: OneEventPerCall) {
  return [
    { target: 'deliveries/s end to end (1 webhook) ≥ 2,000', value: perSecond, met: perSecond >= 2000 },
    { target: 'share of the HTTP limit (1 webhook) ≥ 50%', value: (100 * perSecond) / limits.http.perSecond, met: perSecond >= limits.http.perSecond / 2 },
    { target: 'Herald ÷ pg-boss + got ≥ 2', value: perSecond / limits.pgBossGot.perSecond, met: perSecond >= 2 * limits.pgBossGot.perSecond },
    { target: 'Herald ÷ graphile-worker + got ≥ 2', value: perSecond / limits.graphileGot.perSecond, met: perSecond >= 2 * limits.graphileGot.perSecond },
    { target: `p99 publish→delivery at ${moderate.count ? 'the moderate rate' : '–'} < 150 ms`, value: moderate.p99, met: moderate.p99 < 150 },
    { target: 'server peak memory < 300 MB', value: memoryMb, met: memoryMb < 300 },
    { target: 'publishEvent calls/s ≥ 50% of { viewer { role } }', value: single.share, met: single.share >= 50 },
    ...single.atRates.map((a) => {
      const limit = a.rate <= 100 ? 50 : 100;
      return { target: `p99 publish→receiver at ${a.rate} single-event calls/s < ${limit} ms, the rate reached`, value: a.delivery.p99, met: a.delivery.p99 < limit && a.achievedRate >= a.rate * 0.95 };
    }),
  ];
}

type HeraldRun = { perSecond: number; received: number; deliveries: number; publishedPerSecond: number; cpu: CpuUse };

/** CPU per item, in µs of one core: the whole machine's, and each part's. */
function cpuPer(cpu: CpuUse, count: number) {
  const of = (cores: number) => perItem(cores, cpu, count);
  return { total: of(cpu.machine), tested: of(cpu.groups.client ?? cpu.groups.herald ?? 0), postgres: of(cpu.groups.postgres ?? 0), bench: of(cpu.groups.bench ?? 0), other: of(cpu.groups.other ?? 0), busy: cpu.machine };
}

/** The CPU table, and what 50% of pg-boss leaves for Herald's own work. */
function cpuReport(r: Results): string[] {
  const job = cpuPer(r.limits.pgBoss.cpu, r.limits.pgBoss.count);
  const request = cpuPer(r.limits.http.cpu, r.limits.http.count);
  const pgBossGot = cpuPer(r.limits.pgBossGot.cpu, r.limits.pgBossGot.count);
  const graphileGot = cpuPer(r.limits.graphileGot.cpu, r.limits.graphileGot.count);
  const one = cpuPer(r.herald.fanout1.cpu, r.herald.fanout1.deliveries);
  const ten = cpuPer(r.herald.fanout10.cpu, r.herald.fanout10.deliveries);
  const quietOne = cpuPer(r.herald.metricsOff.cpu, r.herald.metricsOff.deliveries);
  const tracedOne = cpuPer(r.herald.tracing.cpu, r.herald.tracing.deliveries);
  const row = (label: string, c: typeof job): Array<string | number> => [label, `${format(c.busy)} of ${r.limits.pgBoss.cpu.cpus}`, c.total, c.tested, c.postgres, c.bench, c.other];
  const target = r.limits.pgBoss.perSecond / 2;
  const budget = (r.limits.pgBoss.cpu.cpus * 1e6) / target;
  return [
    table(
      ['CPU per item (µs of one core)', 'cores busy', 'machine', 'tested process', 'PostgreSQL', 'bench process', 'other'],
      [
        row('pg-boss alone, per job', job),
        row('HTTP alone, per request', request),
        row('pg-boss + got, per delivery', pgBossGot),
        row('graphile-worker + got, per delivery', graphileGot),
        row('Herald, 1 webhook, per delivery', one),
        row('Herald, 1 webhook, metrics off', quietOne),
        row('Herald, 1 webhook, tracing on', tracedOne),
        row('Herald, 10 webhooks, per delivery', ten),
      ],
    ),
    `(tested process: the pg-boss or got client, the peer's process, or Herald's server; bench process: publishers and receivers; other: the kernel and everything else)`,
    '',
    `50% of pg-boss is ${format(target)} deliveries/s: at most ${format(budget)} µs of CPU per delivery with all ${r.limits.pgBoss.cpu.cpus} cores busy.`,
    `A got request with its receiver takes ${format(request.total)} of them, leaving ${format(budget - request.total)} µs for everything else Herald does per delivery`,
    `(its share of a queue job (up to ${DELIVERIES_PER_JOB} deliveries each), publishing through GraphQL, storing events, instances, attempts); it used ${format(one.total - request.total)} µs (1 webhook).`,
  ];
}

type Results = {
  date: string;
  commit: string;
  smoke: boolean;
  machine: { cpus: number; node: string };
  settings: typeof settings;
  limits: { pgBoss: Rate & { cpu: CpuUse }; http: Rate & { cpu: CpuUse }; pgBossGot: Rate & { cpu: CpuUse }; graphileGot: Rate & { cpu: CpuUse } };
  herald: { fanout1: HeraldRun; fanout10: HeraldRun; limited: HeraldRun; metricsOff: HeraldRun; tracing: HeraldRun; earlier: HeraldRun };
  earlierCommit: string;
  reportedRound: number;
  rounds: Array<{ round: number; pgBoss: number; http: number; pgBossGot: number; graphileGot: number; fanout1: number; limited: number; metricsOff: number; tracing: number; earlier: number; ofPgBoss: number }>;
  latency: { moderate: Percentiles & { rate: number; achievedRate: number }; nearSaturation: Percentiles & { rate: number; achievedRate: number } };
  singleCalls: OneEventPerCall;
  subscription: Percentiles;
  peakMemoryMb: number;
  targets: Array<{ target: string; value: number; met: boolean }>;
};

function report(r: Results): string {
  const { pgBoss, http, pgBossGot, graphileGot } = r.limits;
  const times = (n: number, of: number) => `${(n / of).toFixed(2)}×`;
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
        ['pg-boss + got (one job per delivery, signed, an attempt row)', pgBossGot.perSecond, pct(pgBossGot.perSecond, pgBoss.perSecond), pct(pgBossGot.perSecond, http.perSecond), `${pgBossGot.count} deliveries`],
        ['graphile-worker + got (the same)', graphileGot.perSecond, pct(graphileGot.perSecond, pgBoss.perSecond), pct(graphileGot.perSecond, http.perSecond), `${graphileGot.count} deliveries`],
        ['Herald, 1 webhook', r.herald.fanout1.perSecond, pct(r.herald.fanout1.perSecond, pgBoss.perSecond), pct(r.herald.fanout1.perSecond, http.perSecond), `${r.herald.fanout1.received}/${r.herald.fanout1.deliveries}`],
        ['Herald, 10 webhooks', r.herald.fanout10.perSecond, pct(r.herald.fanout10.perSecond, pgBoss.perSecond), pct(r.herald.fanout10.perSecond, http.perSecond), `${r.herald.fanout10.received}/${r.herald.fanout10.deliveries}`],
        ['Herald, 1 webhook, rate limit set (not reached)', r.herald.limited.perSecond, pct(r.herald.limited.perSecond, pgBoss.perSecond), pct(r.herald.limited.perSecond, http.perSecond), `${r.herald.limited.received}/${r.herald.limited.deliveries}`],
        ['Herald, 1 webhook, metrics off', r.herald.metricsOff.perSecond, pct(r.herald.metricsOff.perSecond, pgBoss.perSecond), pct(r.herald.metricsOff.perSecond, http.perSecond), `${r.herald.metricsOff.received}/${r.herald.metricsOff.deliveries}`],
        [`Herald, 1 webhook, at an earlier commit (${r.earlierCommit})`, r.herald.earlier.perSecond, pct(r.herald.earlier.perSecond, pgBoss.perSecond), pct(r.herald.earlier.perSecond, http.perSecond), `${r.herald.earlier.received}/${r.herald.earlier.deliveries}`],
        ['Herald, 1 webhook, tracing on (every span exported)', r.herald.tracing.perSecond, pct(r.herald.tracing.perSecond, pgBoss.perSecond), pct(r.herald.tracing.perSecond, http.perSecond), `${r.herald.tracing.received}/${r.herald.tracing.deliveries}`],
      ],
    ),
    `(round ${r.reportedRound} of ${r.rounds.length}, the median share of the HTTP limit; 10 webhooks measured once, after the rounds;`,
    ` Herald's metrics are on and scraped every 5 s except in "metrics off"; "metrics off", "tracing on" and "earlier" are servers of their own, run in turn)`,
    '',
    table(
      ['round', 'pg-boss alone', 'HTTP alone', 'pg-boss + got', 'graphile-worker + got', 'Herald, 1 webhook', 'of HTTP', '÷ pg-boss + got', '÷ graphile-worker + got', 'with a rate limit set', 'of no limit', 'metrics off', 'on ÷ off', 'tracing on', 'of tracing off', 'earlier commit', 'now ÷ earlier'],
      r.rounds.map((x) => [x.round, x.pgBoss, x.http, x.pgBossGot, x.graphileGot, x.fanout1, pct(x.fanout1, x.http), times(x.fanout1, x.pgBossGot), times(x.fanout1, x.graphileGot), x.limited, pct(x.limited, x.fanout1), x.metricsOff, times(x.fanout1, x.metricsOff), x.tracing, pct(x.tracing, x.fanout1), x.earlier, times(x.fanout1, x.earlier)]),
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
    ...oneEventPerCallReport(r.singleCalls),
    '',
    ...cpuReport(r),
    '',
    `server peak memory (VmHWM): ${Math.round(r.peakMemoryMb)} MB`,
    '',
    table(['target', 'value', 'met'], r.targets.map((t) => [t.target, t.value, t.met ? 'yes' : 'NO'])),
  ];
  return lines.join('\n');
}

function picture(r: Results, one: Array<{ t: number; delivered: number }>, ten: Array<{ t: number; delivered: number }>): string {
  // Each point: deliveries received over the second before it.
  const rates = (series: Array<{ t: number; delivered: number }>) =>
    series.slice(1).map((p) => {
      const from = series.findLast((q) => q.t <= p.t - 1) ?? series[0]!;
      return { t: p.t, perSecond: (p.delivered - from.delivered) / Math.max(0.001, p.t - from.t) };
    });
  return chart({
    title: `Herald bench ${r.date.slice(0, 10)} (commit ${r.commit})`,
    throughput: [
      { label: 'pg-boss alone', perSecond: r.limits.pgBoss.perSecond },
      { label: 'HTTP alone (got)', perSecond: r.limits.http.perSecond },
      { label: 'pg-boss + got', perSecond: r.limits.pgBossGot.perSecond },
      { label: 'graphile-worker + got', perSecond: r.limits.graphileGot.perSecond },
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
