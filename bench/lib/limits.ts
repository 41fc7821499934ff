// The limits Herald is compared with, each measured in a child process of its own
// (as Herald's server is), so the bench process only plays publisher and receiver:
//   node --import tsx bench/lib/limits.ts pg-boss <databaseUrl> <jobs> <batchSize> <inFlight> <producers>
//   node --import tsx bench/lib/limits.ts http <url> <requests> <inFlight>
//   node --import tsx bench/lib/limits.ts pg-boss+got <databaseUrl> <url> <deliveries> <batchSize> <inFlight> <producers>
//   node --import tsx bench/lib/limits.ts graphile-worker+got <databaseUrl> <url> <deliveries> <inFlight> <producers>
// Each prints `{"mark":"start"}` and `{"mark":"end"}` around what it times, then one JSON
// line: { count, seconds, perSecond }.
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import got from 'got';
import { Logger, makeWorkerUtils, run } from 'graphile-worker';
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { DELIVER_QUEUE_OPTIONS } from '../../src/queue/boss.ts';
import { between, read, type CpuUse, type Groups } from './cpu.ts';

export interface Rate {
  count: number;
  seconds: number;
  perSecond: number;
}

/**
 * Runs one limit in a child process and answers its measurement, with the CPU used
 * while it was timed: by the child (`client`), by each of `groups`, and by the machine.
 */
export function measureLimit(args: string[], groups: Groups = {}): Promise<Rate & { cpu: CpuUse }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const accounted: Groups = { client: () => [child.pid!], ...groups };
    const readings: Record<string, ReturnType<typeof read>> = {};
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      for (const mark of ['start', 'end']) if (!readings[mark] && out.includes(`{"mark":"${mark}"}`)) readings[mark] = read(accounted);
    });
    child.stderr.on('data', (c) => (out += c));
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{"count"'));
      if (code === 0 && line && readings.start && readings.end) resolve({ ...(JSON.parse(line) as Rate), cpu: between(readings.start, readings.end) });
      else reject(new Error(`limit ${args[0]} failed (${code}):\n${out}`));
    });
  });
}

const mark = (name: 'start' | 'end') => process.stdout.write(`{"mark":"${name}"}\n`);

/**
 * pg-boss alone: `jobs` no-op jobs inserted 100 at a time by `producers` concurrent
 * producers (as Herald's publishes insert them) while workers fetch `batchSize` at a
 * time with `inFlight` jobs at most in hand, on a queue set up like Herald's.
 */
async function pgBoss(databaseUrl: string, jobs: number, batchSize: number, inFlight: number, producers: number): Promise<Rate> {
  const boss = new PgBoss({ connectionString: databaseUrl, schema: 'pgboss_limit', max: 10, useListenNotify: true, superviseIntervalSeconds: 5, monitorIntervalSeconds: 5 });
  boss.on('error', (error) => console.error(error));
  await boss.start();
  await boss.createQueue('noop', DELIVER_QUEUE_OPTIONS);
  mark('start');
  const started = performance.now();
  await boss.work('noop', { batchSize, localConcurrency: Math.max(1, Math.ceil(inFlight / batchSize)), pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5, burstWhenBatchFull: true }, async () => {});
  let next = 0;
  await Promise.all(
    Array.from({ length: producers }, async () => {
      while (next < jobs) {
        const size = Math.min(100, jobs - next);
        next += size;
        await boss.insert('noop', Array.from({ length: size }, (_, i) => ({ data: { instanceId: String(next + i), trigger: 'AUTO' }, group: { id: 'webhook' } })));
      }
    }),
  );
  const counter = new pg.Client({ connectionString: databaseUrl });
  await counter.connect();
  for (;;) {
    const { rows } = await counter.query(`SELECT count(*)::int AS n FROM pgboss_limit.job WHERE name = 'noop' AND state = 'completed'`);
    if (rows[0].n >= jobs) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = (performance.now() - started) / 1000;
  mark('end');
  await counter.end();
  await boss.stop({ graceful: false, close: true });
  return { count: jobs, seconds, perSecond: jobs / seconds };
}

/**
 * got alone: `requests` POSTs of a webhook-sized body to the receiver, `inFlight` at a
 * time, kept-alive connections, used the cheapest way we know (as Herald's sender does).
 */
async function httpPosts(url: string, requests: number, inFlight: number): Promise<Rate> {
  const agent = { http: new http.Agent({ keepAlive: true, maxSockets: 256 }) };
  const client = got.extend({ followRedirect: false, throwHttpErrors: false, retry: { limit: 0 }, agent });
  const body = JSON.stringify({ type: 'order.created', timestamp: new Date().toISOString(), data: { entityId: 'e1', status: 'Completed', amount: 42 } });
  const post = (id: number) =>
    new Promise<void>((resolve, reject) => {
      const stream = client.stream(url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'webhook-id': `msg_${id}` }, timeout: { request: 10_000 } });
      stream.on('data', () => undefined);
      stream.on('end', resolve);
      stream.on('error', reject);
    });
  let next = 0;
  mark('start');
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < requests) {
        next += 1;
        await post(next);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  mark('end');
  agent.http.destroy();
  return { count: requests, seconds, perSecond: requests / seconds };
}

/**
 * What a TypeScript team would build instead of Herald, the plain way: one job per
 * delivery in a Postgres-backed queue, whose handler signs the body (Standard Webhooks,
 * HMAC-SHA256 with node's crypto), POSTs it with got (kept-alive connections) and records
 * one attempt row. No conditions, templates, ordering, circuits or live status.
 */
function buildItYourself(databaseUrl: string, url: string) {
  const agent = { http: new http.Agent({ keepAlive: true, maxSockets: 256 }) };
  const client = got.extend({ followRedirect: false, throwHttpErrors: false, retry: { limit: 0 }, agent });
  const secret = randomBytes(24);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  const body = JSON.stringify({ type: 'order.created', timestamp: new Date().toISOString(), data: { entityId: 'e1', status: 'Completed', amount: 42 } });
  return {
    payload: (n: number) => ({ id: `msg_${n}`, url, body }),
    async setUp() {
      await pool.query('CREATE TABLE IF NOT EXISTS peer_attempt (id bigserial PRIMARY KEY, delivery_id text NOT NULL, status_code int, duration_ms int NOT NULL, at timestamptz NOT NULL DEFAULT now())');
    },
    async deliver(job: { id: string; url: string; body: string }) {
      const timestamp = Math.floor(Date.now() / 1000);
      const signature = `v1,${createHmac('sha256', secret).update(`${job.id}.${timestamp}.${job.body}`).digest('base64')}`;
      const started = performance.now();
      const response = await client.post(job.url, {
        body: job.body,
        headers: { 'content-type': 'application/json', 'webhook-id': job.id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature },
        timeout: { request: 10_000 },
      });
      await pool.query('INSERT INTO peer_attempt (delivery_id, status_code, duration_ms) VALUES ($1, $2, $3)', [job.id, response.statusCode, Math.round(performance.now() - started)]);
      if (response.statusCode >= 300) throw new Error(`${response.statusCode}`);
    },
    async recorded() {
      return (await pool.query('SELECT count(*)::int AS n FROM peer_attempt')).rows[0].n as number;
    },
    async end() {
      agent.http.destroy();
      await pool.end();
    },
  };
}

/** Inserts `deliveries` jobs 100 at a time from `producers` concurrent producers, then waits until each has its attempt row. */
async function produceAndWait(peer: ReturnType<typeof buildItYourself>, deliveries: number, producers: number, insert: (payloads: object[]) => Promise<unknown>): Promise<Rate> {
  mark('start');
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: producers }, async () => {
      while (next < deliveries) {
        const size = Math.min(100, deliveries - next);
        const first = next;
        next += size;
        await insert(Array.from({ length: size }, (_, i) => peer.payload(first + i)));
      }
    }),
  );
  while ((await peer.recorded()) < deliveries) await new Promise((r) => setTimeout(r, 50));
  const seconds = (performance.now() - started) / 1000;
  mark('end');
  return { count: deliveries, seconds, perSecond: deliveries / seconds };
}

/** pg-boss + got: at its best, set up as the pg-boss limit above (notifications, batches fetched as Herald's are, bursts while batches come full). */
async function pgBossAndGot(databaseUrl: string, url: string, deliveries: number, batchSize: number, inFlight: number, producers: number): Promise<Rate> {
  const peer = buildItYourself(databaseUrl, url);
  await peer.setUp();
  const boss = new PgBoss({ connectionString: databaseUrl, schema: 'pgboss_peer', max: 10, useListenNotify: true });
  boss.on('error', (error) => console.error(error));
  await boss.start();
  await boss.createQueue('deliver', { retryLimit: 5, retryDelay: 1, retryBackoff: true, notify: true });
  await boss.work<{ id: string; url: string; body: string }>('deliver', { batchSize, localConcurrency: Math.max(1, Math.ceil(inFlight / batchSize)), pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5, burstWhenBatchFull: true }, async (jobs) => {
    await Promise.all(jobs.map((job) => peer.deliver(job.data)));
  });
  const rate = await produceAndWait(peer, deliveries, producers, (payloads) => boss.insert('deliver', payloads.map((data) => ({ data }))));
  await boss.stop({ graceful: false, close: true });
  await peer.end();
  return rate;
}

/** graphile-worker + got: its runner with `inFlight` jobs at once, jobs added in bulk. */
async function graphileWorkerAndGot(databaseUrl: string, url: string, deliveries: number, inFlight: number, producers: number): Promise<Rate> {
  const peer = buildItYourself(databaseUrl, url);
  await peer.setUp();
  const logger = new Logger(() => (level, message) => {
    if (level === 'error') console.error(message);
  });
  const utils = await makeWorkerUtils({ connectionString: databaseUrl, logger });
  await utils.migrate();
  const runner = await run({
    connectionString: databaseUrl,
    concurrency: inFlight,
    maxPoolSize: 10,
    pollInterval: 500,
    noHandleSignals: true,
    logger,
    taskList: { deliver: async (payload) => peer.deliver(payload as { id: string; url: string; body: string }) },
  });
  const rate = await produceAndWait(peer, deliveries, producers, (payloads) => utils.addJobs(payloads.map((payload) => ({ identifier: 'deliver', payload }))));
  await runner.stop();
  await utils.release();
  await peer.end();
  return rate;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [kind, target, ...numbers] = process.argv.slice(2);
  const n = numbers.map(Number);
  const [receiver, ...rest] = numbers;
  const m = rest.map(Number);
  const result =
    kind === 'pg-boss'
      ? await pgBoss(target!, n[0]!, n[1]!, n[2]!, n[3]!)
      : kind === 'pg-boss+got'
        ? await pgBossAndGot(target!, receiver!, m[0]!, m[1]!, m[2]!, m[3]!)
        : kind === 'graphile-worker+got'
          ? await graphileWorkerAndGot(target!, receiver!, m[0]!, m[1]!, m[2]!)
          : await httpPosts(target!, n[0]!, n[1]!);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
