// `npm run drill`: fault drills. Each runs Herald (a real server process) on the
// embedded PostgreSQL against loopback receivers, breaks something in the middle of
// the traffic, waits (bounded) for every acknowledged event to be delivered, and
// counts: published (acknowledged by publishEvents), delivered, lost, duplicated.
//   --smoke      a few seconds instead of minutes (the test suite runs this)
//   --out <dir>  where results go (default bench/results)
//   --only <name,...>  run some drills only (sigkill, receiver-down, postgres-restart, slow-receiver)
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type pg from 'pg';
import { buildForStart, createTopic, createWebhook, Herald, openDatabase, Postgres, publish, publishAtRate } from './lib/cluster.ts';
import { Receivers } from './lib/receiver.ts';
import { percentiles, sleep, table, until, type Percentiles } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: { smoke: { type: 'boolean', default: false }, out: { type: 'string', default: 'bench/results' }, only: { type: 'string' } },
});
const size = args.smoke
  ? { burst: 400, rate: 50, seconds: 4, downSeconds: 2, postgresDownMs: 500, slowRate: 40, slowSeconds: 2, deadlineMs: 60_000 }
  : { burst: 5000, rate: 100, seconds: 20, downSeconds: 10, postgresDownMs: 3000, slowRate: 100, slowSeconds: 10, deadlineMs: 150_000 };
/** Short retry delays so drills end in seconds (retries are what they exercise). */
const RETRIES = { backoffBaseMs: 100, backoffCapMs: 1000, maxAttempts: 50 };

export interface DrillResult {
  drill: string;
  published: number;
  delivered: number;
  lost: number;
  duplicated: number;
  seconds: number;
  note: string;
  latency?: { before: Percentiles; during: Percentiles };
}

buildForStart(); // the server as `npm start` runs it, rebuilt if src/ changed
const postgres = await Postgres.start();
const results: DrillResult[] = [];
const drills: Record<string, () => Promise<DrillResult[]>> = {
  sigkill: () => sigkill(),
  'receiver-down': () => receiverDown(),
  'postgres-restart': () => postgresRestart(),
  'slow-receiver': () => slowReceiver(),
};
const chosen = args.only ? args.only.split(',') : Object.keys(drills);
try {
  for (const name of chosen) {
    if (!drills[name]) throw new Error(`no drill "${name}"; there are ${Object.keys(drills).join(', ')}`);
    results.push(...(await drills[name]()));
  }
} finally {
  await postgres.stop();
}
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
await fs.mkdir(args.out!, { recursive: true });
const file = path.join(args.out!, `drill-${stamp}.json`);
await fs.writeFile(file, `${JSON.stringify({ date: new Date().toISOString(), smoke: args.smoke, results }, null, 2)}\n`);
console.log(`\nHerald drills${args.smoke ? ' (smoke)' : ''}\n`);
console.log(table(['drill', 'published', 'delivered', 'lost', 'duplicated', 'seconds', 'note'], results.map((r) => [r.drill, r.published, r.delivered, r.lost, r.duplicated, Math.round(r.seconds), r.note])));
console.log(`\nresults: ${file}`);
process.exitCode = results.every((r) => r.lost === 0) ? 0 : 1;

/** A Herald process on a fresh database, a receiver route and a webhook to it. */
async function setUp(name: string, webhook: Record<string, unknown> = {}, answer: { delayMs?: number } = {}) {
  const databaseUrl = await postgres.database(name.replace(/-/g, '_'));
  const receivers = await Receivers.start();
  const herald = new Herald({ DATABASE_URL: databaseUrl, HERALD_MIN_BACKOFF_MS: '50' });
  await herald.start();
  const db = await openDatabase(databaseUrl);
  await createTopic(herald, 'order');
  const webhookId = await createWebhook(herald, { label: name, events: ['order.created'], url: receivers.route(name, answer), ...RETRIES, ...webhook });
  const tearDown = async () => {
    await herald.stop();
    await receivers.down();
    await db.end();
  };
  return { herald, receivers, db, webhookId, tearDown };
}

/** Waits (bounded) until every acknowledged instance reached the route and none is still on its way. */
async function settled(receivers: Receivers, route: string, acknowledged: Iterable<string>, db: pg.Pool, deadline: number): Promise<void> {
  const ids = [...acknowledged];
  await receivers.waitFor(() => ids.every((id) => receivers.get(route).ids.has(id)), Math.max(1000, deadline - Date.now()), `every acknowledged delivery at ${route}`).catch(() => undefined);
  await until(
    async () => (await db.query(`SELECT count(*)::int AS n FROM instance WHERE status IN ('PENDING', 'SENDING', 'RETRYING')`).catch(() => ({ rows: [{ n: 1 }] }))).rows[0].n === 0,
    Math.max(1000, deadline - Date.now()),
    'every instance to finish',
  ).catch(() => undefined);
}

function count(drill: string, receivers: Receivers, route: string, acknowledged: Iterable<string>, started: number, note: string): DrillResult {
  const got = receivers.get(route);
  const ids = [...acknowledged];
  const delivered = ids.filter((id) => got.ids.has(id)).length;
  return { drill, published: ids.length, delivered, lost: ids.length - delivered, duplicated: got.total - got.ids.size, seconds: (performance.now() - started) / 1000, note };
}

/** SIGKILL of the server in the middle of a burst; a new process takes over. */
async function sigkill(): Promise<DrillResult[]> {
  const started = performance.now();
  const deadline = Date.now() + size.deadlineMs;
  const { herald, receivers, db, tearDown } = await setUp('sigkill', {}, { delayMs: 20 });
  try {
    const acknowledged = new Set<string>();
    let next = 0;
    let killedAfter = 0;
    let killing: Promise<void> | undefined;
    await Promise.all(
      Array.from({ length: 2 }, async () => {
        while (next < size.burst) {
          const ids = Array.from({ length: Math.min(50, size.burst - next) }, () => `k${next++}`);
          for (const id of await publish(herald, 'order', ids, deadline)) acknowledged.add(id);
          if (!killing && acknowledged.size >= size.burst / 2) {
            killedAfter = receivers.get('sigkill').ids.size;
            killing = herald.stop('SIGKILL').then(() => herald.start());
          }
        }
      }),
    );
    await killing;
    await settled(receivers, 'sigkill', acknowledged, db, deadline);
    return [count('SIGKILL of the server mid-burst', receivers, 'sigkill', acknowledged, started, `killed with ${killedAfter} delivered; a new process took over`)];
  } finally {
    await tearDown();
  }
}

/**
 * Events published at a steady rate while `fault` (started `after` seconds in) breaks
 * something; answers the drill's row, `fault`'s answer in its note, and whether the
 * server outlived it.
 */
async function underLoad(name: string, drill: string, after: number, fault: (herald: Herald, receivers: Receivers) => Promise<string>): Promise<DrillResult[]> {
  const started = performance.now();
  const deadline = Date.now() + size.deadlineMs;
  const { herald, receivers, db, tearDown } = await setUp(name);
  try {
    const faulted = sleep(after * 1000).then(() => fault(herald, receivers));
    const acknowledged = await publishAtRate(herald, 'order', size.rate, size.seconds, { perCall: 10, retryUntil: deadline });
    const what = await faulted;
    await settled(receivers, name, acknowledged.keys(), db, deadline);
    return [count(drill, receivers, name, acknowledged.keys(), started, `${size.rate} events/s for ${size.seconds} s; ${what}; server ${herald.alive ? 'kept running' : 'DIED'}`)];
  } finally {
    await tearDown();
  }
}

/** The receiver refuses connections for a while, then comes back on the same port. */
function receiverDown(): Promise<DrillResult[]> {
  return underLoad('down', `receiver down for ${size.downSeconds} s`, size.seconds / 4, async (_, receivers) => {
    await receivers.down();
    await sleep(size.downSeconds * 1000);
    await receivers.up();
    return `receiver down from ${size.seconds / 4} s`;
  });
}

/** PostgreSQL stopped and started again while events are published and delivered. */
function postgresRestart(): Promise<DrillResult[]> {
  return underLoad('restart', 'PostgreSQL restarted under load', size.seconds / 3, async () => {
    const t = performance.now();
    await postgres.restart(size.postgresDownMs);
    return `database down ${((performance.now() - t) / 1000).toFixed(1)} s`;
  });
}

/**
 * A slow receiver (every answer after the webhook's timeout) next to a healthy one on
 * the same events: the healthy one's latency with the slow one active, against before.
 */
async function slowReceiver(): Promise<DrillResult[]> {
  const started = performance.now();
  const deadline = Date.now() + size.deadlineMs;
  const { herald, receivers, db, tearDown } = await setUp('healthy');
  try {
    const slow = await createWebhook(herald, { label: 'slow', events: ['order.created'], url: receivers.route('slow', { delayMs: 2000 }), timeoutMs: 1000, maxAttempts: 2, backoffBaseMs: 100, backoffCapMs: 500 });
    await herald.gql('mutation($id: ID!) { setWebhookActive(id: $id, active: false) { id } }', { id: slow });
    const latencies = (acknowledged: Map<string, number>) => {
      const arrivals = receivers.get('healthy').firstAt;
      return percentiles([...acknowledged].filter(([id]) => arrivals.has(id)).map(([id, at]) => Math.max(0, arrivals.get(id)! - at)));
    };
    const before = await publishAtRate(herald, 'order', size.slowRate, size.slowSeconds, { retryUntil: deadline, run: 'alone' });
    await settled(receivers, 'healthy', before.keys(), db, deadline);
    await herald.gql('mutation($id: ID!) { setWebhookActive(id: $id, active: true) { id } }', { id: slow });
    const during = await publishAtRate(herald, 'order', size.slowRate, size.slowSeconds, { retryUntil: deadline, run: 'beside' });
    const healthyDuring = new Map(await instancesOf(db, 'healthy', during.keys()));
    const slowDuring = (await instancesOf(db, 'slow', during.keys())).map(([id]) => id);
    await settled(receivers, 'healthy', healthyDuring.keys(), db, deadline);
    const duringLatency = latencies(new Map([...healthyDuring].map(([id]) => [id, during.get(id)!])));
    await settled(receivers, 'slow', slowDuring, db, deadline);
    const beforeLatency = latencies(before);
    const healthy = count('slow receiver: the healthy one', receivers, 'healthy', [...before.keys(), ...healthyDuring.keys()], started, `p50/p99 ${beforeLatency.p50}/${beforeLatency.p99} ms alone, ${duringLatency.p50}/${duringLatency.p99} ms beside the slow one`);
    const slowResult = count('slow receiver: the slow one', receivers, 'slow', slowDuring, started, 'every answer after the 1 s timeout; duplicated = the second attempts');
    return [{ ...healthy, latency: { before: beforeLatency, during: duringLatency } }, slowResult];
  } finally {
    await tearDown();
  }
}

/**
 * Which of the acknowledged instances (publishAtRate answers both webhooks' instances
 * of each event) belong to the webhook labelled `label`.
 */
async function instancesOf(db: pg.Pool, label: string, ids: Iterable<string>): Promise<Array<[string, string]>> {
  const { rows } = await db.query(`SELECT i.id::text AS id FROM instance i JOIN webhook w ON w.id = i.webhook_id WHERE w.label = $1 AND i.id = ANY($2::uuid[])`, [label, [...ids]]);
  return rows.map((r: { id: string }) => [r.id, label]);
}
