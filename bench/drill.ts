// `npm run drill`: fault drills. Each runs Herald (a real server process) on the
// embedded PostgreSQL against loopback receivers, breaks something in the middle of
// the traffic, waits (bounded) for every acknowledged event to be delivered, and
// counts: published (acknowledged by publishEvents), delivered, lost, duplicated.
//   --smoke      a few seconds instead of minutes (the test suite runs this)
//   --out <dir>  where results go (default bench/results)
//   --only <name,...>  run some drills only (sigkill, receiver-down, postgres-restart, slow-receiver, dead-receiver, outage-pause,
//                      fast-flood, slow-flood, fast-flood-2, slow-flood-2)
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import net from 'node:net';
import type pg from 'pg';
import { buildForStart, createTopic, createWebhook, Herald, openDatabase, Postgres, publish, publishAtRate } from './lib/cluster.ts';
import { clientFor } from '../test/support/process.ts';
import { Receivers } from './lib/receiver.ts';
import { percentiles, sleep, table, until, type Percentiles } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: { smoke: { type: 'boolean', default: false }, out: { type: 'string', default: 'bench/results' }, only: { type: 'string' } },
});
const size = args.smoke
  ? { burst: 400, rate: 50, seconds: 4, downSeconds: 2, postgresDownMs: 500, slowRate: 40, slowSeconds: 2, deadBacklog: 500, deadSeconds: 3, outageSeconds: 4, deadlineMs: 60_000 }
  : { burst: 5000, rate: 100, seconds: 20, downSeconds: 10, postgresDownMs: 3000, slowRate: 100, slowSeconds: 10, deadBacklog: 5000, deadSeconds: 15, outageSeconds: 60, deadlineMs: 150_000 };
/** Tenant A's flood (events, each to 8 webhooks) and the windows its throughput is measured over, alone then beside B. */
const flood = args.smoke
  ? { fast: { events: 400, windowSeconds: 1 }, slow: { events: 200, windowSeconds: 2 }, quietSeconds: 2 }
  : { fast: { events: 8000, windowSeconds: 4 }, slow: { events: 3000, windowSeconds: 16 }, quietSeconds: 10 };
const OPERATOR_KEY = 'hk_drill_operator_key_000000000000000';
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
  /** Acknowledged, not delivered yet, and still kept by Herald (waiting behind an open circuit): not lost. */
  held?: number;
  latency?: { before: Percentiles; during: Percentiles };
  /** Fair-share drills: tenant A's deliveries a second alone and beside B, and what it still had waiting after. */
  share?: { aAlonePerSecond: number; aDuringPerSecond: number; aBacklogLeft: number };
}

buildForStart(); // the server as `npm start` runs it, rebuilt if src/ changed
const postgres = await Postgres.start();
const results: DrillResult[] = [];
const drills: Record<string, () => Promise<DrillResult[]>> = {
  sigkill: () => sigkill(),
  'receiver-down': () => receiverDown(),
  'postgres-restart': () => postgresRestart(),
  'slow-receiver': () => slowReceiver(),
  'dead-receiver': () => deadReceiver(),
  'outage-pause': () => outagePause(),
  'fast-flood': () => fairShare('fast', 1),
  'slow-flood': () => fairShare('slow', 1),
  'fast-flood-2': () => fairShare('fast', 2),
  'slow-flood-2': () => fairShare('slow', 2),
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
async function setUp(name: string, webhook: Record<string, unknown> = {}, answer: { delayMs?: number } = {}, env: Record<string, string> = {}) {
  const databaseUrl = await postgres.database(name.replace(/-/g, '_'));
  const receivers = await Receivers.start();
  const herald = new Herald({ DATABASE_URL: databaseUrl, HERALD_MIN_BACKOFF_MS: '50', ...env });
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
    // Parked deliveries (an open circuit's) are kept, not on their way.
    async () => (await db.query(`SELECT count(*)::int AS n FROM instance WHERE status IN ('PENDING', 'SENDING', 'RETRYING') AND NOT parked`).catch(() => ({ rows: [{ n: 1 }] }))).rows[0].n === 0,
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
    // The slow one never answers in time: its circuit opens, and what it has not reached yet waits (parked, probed), not lost.
    const reachedSlow = receivers.get('slow').ids;
    const waitingForCircuit = async () =>
      ((await db.query(`SELECT id::text FROM instance WHERE id = ANY($1::uuid[]) AND parked`, [slowDuring])).rows as Array<{ id: string }>).filter((r) => !reachedSlow.has(r.id)).length;
    await until(
      async () => slowDuring.filter((id) => reachedSlow.has(id)).length + (await waitingForCircuit()) >= slowDuring.length,
      Math.max(1000, deadline - Date.now()),
      'the slow one to be reached or held',
    ).catch(() => undefined);
    const held = await waitingForCircuit();
    const beforeLatency = latencies(before);
    const healthy = count('slow receiver: the healthy one', receivers, 'healthy', [...before.keys(), ...healthyDuring.keys()], started, `p50/p99 ${beforeLatency.p50}/${beforeLatency.p99} ms alone, ${duringLatency.p50}/${duringLatency.p99} ms beside the slow one`);
    const reached = count('slow receiver: the slow one', receivers, 'slow', slowDuring, started, `every answer after the 1 s timeout; ${held} wait behind its open circuit (probed one at a time, not lost); duplicated = the second attempts`);
    const slowResult = { ...reached, lost: reached.lost - held, held };
    return [{ ...healthy, latency: { before: beforeLatency, during: duringLatency } }, slowResult];
  } finally {
    await tearDown();
  }
}

/**
 * A receiver that refuses every connection, with a backlog of thousands, beside a
 * healthy webhook at 20 events/s: the healthy one's latency alone and beside it. Its
 * circuit opens after HERALD_BREAKER_FAILURES failed attempts: the backlog waits, one
 * probe at a time, instead of filling the queue with failing attempts.
 */
async function deadReceiver(): Promise<DrillResult[]> {
  const started = performance.now();
  const deadline = Date.now() + size.deadlineMs;
  const { herald, receivers, db, tearDown } = await setUp('healthy20');
  try {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const refusedUrl = `http://127.0.0.1:${(closed.address() as net.AddressInfo).port}/`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const latencies = (acknowledged: Map<string, number>) => {
      const arrivals = receivers.get('healthy20').firstAt;
      return percentiles([...acknowledged].filter(([id]) => arrivals.has(id)).map(([id, at]) => Math.max(0, arrivals.get(id)! - at)));
    };
    const alone = await publishAtRate(herald, 'order', 20, size.deadSeconds, { retryUntil: deadline, run: 'alone' });
    await settled(receivers, 'healthy20', alone.keys(), db, deadline);
    await createTopic(herald, 'backlog');
    const dead = await createWebhook(herald, { label: 'dead', events: ['backlog.created'], url: refusedUrl, ...RETRIES });
    for (let i = 0; i < size.deadBacklog; i += 500) await publish(herald, 'backlog', Array.from({ length: Math.min(500, size.deadBacklog - i) }, (_, j) => `b${i + j}`), deadline);
    const attemptsBefore = await attemptsOf(db, dead);
    const beside = await publishAtRate(herald, 'order', 20, size.deadSeconds, { retryUntil: deadline, run: 'beside' });
    await settled(receivers, 'healthy20', beside.keys(), db, deadline);
    const deadAttempts = (await attemptsOf(db, dead)) - attemptsBefore;
    const [circuit] = (await db.query(`SELECT open_until IS NOT NULL AS open, (SELECT count(*)::int FROM instance WHERE webhook_id = $1 AND parked) AS parked FROM webhook_gate WHERE webhook_id = $1`, [dead])).rows;
    const a = latencies(alone);
    const b = latencies(beside);
    const row = count(
      'dead receiver: the healthy one beside it',
      receivers,
      'healthy20',
      [...alone.keys(), ...beside.keys()],
      started,
      `p50/p99 ${a.p50}/${a.p99} ms alone, ${b.p50}/${b.p99} ms beside a refused-connection webhook with ${size.deadBacklog} waiting (${(b.p50 / Math.max(1, a.p50)).toFixed(1)}×/${(b.p99 / Math.max(1, a.p99)).toFixed(1)}×); the dead one made ${deadAttempts} attempts in ${size.deadSeconds} s, circuit ${circuit?.open ? 'open' : 'closed'}, ${circuit?.parked ?? 0} parked`,
    );
    return [{ ...row, latency: { before: a, during: b } }];
  } finally {
    await tearDown();
  }
}

async function attemptsOf(db: pg.Pool, webhookId: string): Promise<number> {
  return (await db.query(`SELECT count(*)::int AS n FROM attempt a JOIN instance i ON i.id = a.instance_id WHERE i.webhook_id = $1`, [webhookId])).rows[0].n;
}

/**
 * The receiver goes down for a minute while events are published throughout; Herald
 * pauses the webhook after 10 failed deliveries in a row and holds everything; when the
 * receiver is back, a person resumes it: every acknowledged event arrives.
 */
async function outagePause(): Promise<DrillResult[]> {
  const started = performance.now();
  const deadline = Date.now() + size.deadlineMs + size.outageSeconds * 1000;
  const { herald, receivers, db, webhookId, tearDown } = await setUp('outage', { maxAttempts: 1 }, {}, { HERALD_DEACTIVATE_AFTER_FAILURES: '10' });
  try {
    const downAt = 2;
    const outage = sleep(downAt * 1000).then(async () => {
      await receivers.down();
      await sleep(size.outageSeconds * 1000);
      await receivers.up();
    });
    const acknowledged = await publishAtRate(herald, 'order', 20, size.outageSeconds + 2 * downAt, { perCall: 5, retryUntil: deadline, run: 'outage' });
    await outage;
    const { webhook } = await herald.gql('query($id: ID!) { webhook(id: $id) { state deactivatedReason heldDeliveries } }', { id: webhookId });
    await herald.gql('mutation($id: ID!) { resumeWebhook(id: $id) { state } }', { id: webhookId });
    await settled(receivers, 'outage', acknowledged.keys(), db, deadline);
    return [
      count(
        `receiver down for ${size.outageSeconds} s, the webhook paused after 10 failures, then resumed`,
        receivers,
        'outage',
        acknowledged.keys(),
        started,
        `20 events/s throughout; when it came back the webhook was ${webhook.state} ("${webhook.deactivatedReason ?? ''}") holding ${webhook.heldDeliveries}; resumed by hand`,
      ),
    ];
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

/**
 * Every tenant gets its share. Tenant B publishes 5 events a second, one a call, to one
 * webhook whose receiver answers at once; tenant A floods the same Herald: 8 webhooks
 * whose receiver answers at once (`fast`) or after 2 s (`slow`). B's publish→receiver
 * latency quiet, then during the flood; A's deliveries a second over a window alone,
 * then over the next window beside B (A's backlog outlasting both). With `workers` 2:
 * an api process and two worker processes.
 */
async function fairShare(kind: 'fast' | 'slow', workers: 1 | 2): Promise<DrillResult[]> {
  const started = performance.now();
  const deadline = Date.now() + size.deadlineMs;
  const name = `share-${kind}-${workers}`;
  const databaseUrl = await postgres.database(name.replace(/-/g, '_'));
  const receivers = await Receivers.start();
  const env = { DATABASE_URL: databaseUrl, HERALD_OPERATOR_KEY: OPERATOR_KEY };
  const api = new Herald({ ...env, ...(workers === 2 ? { HERALD_ROLE: 'api' } : {}) });
  const workerProcesses = workers === 2 ? [new Herald({ ...env, HERALD_ROLE: 'worker' }), new Herald({ ...env, HERALD_ROLE: 'worker' })] : [];
  const db = await openDatabase(databaseUrl);
  try {
    await Promise.all([api, ...workerProcesses].map((h) => h.start()));
    const operator = clientFor(() => api.url, OPERATOR_KEY);
    const { createTenant } = await operator('mutation { createTenant(input: { name: "A, flooding", environment: PRODUCTION }) { key } }');
    const a = clientFor(() => api.url, createTenant.key);
    await a('mutation { createTopic(input: { key: "order", name: "Order" }) { key } }');
    for (let i = 0; i < 8; i += 1) {
      await a('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }', { input: { label: `a${i}`, events: ['order.created'], url: receivers.route(`${name}-a`, { delayMs: kind === 'slow' ? 2000 : 0 }), active: true } });
    }
    await createTopic(api, 'order');
    await createWebhook(api, { label: 'b', events: ['order.created'], url: receivers.route(`${name}-b`) });
    const latencies = (acknowledged: Map<string, number>) => {
      const arrivals = receivers.get(`${name}-b`).firstAt;
      return percentiles([...acknowledged].filter(([id]) => arrivals.has(id)).map(([id, at]) => Math.max(0, arrivals.get(id)! - at)));
    };
    const quiet = await publishAtRate(api, 'order', 5, flood.quietSeconds, { retryUntil: deadline, run: 'quiet' });
    await settled(receivers, `${name}-b`, quiet.keys(), db, deadline);
    // A's flood, 1,000 events a call (8,000 deliveries).
    const events = flood[kind].events;
    for (let i = 0; i < events; i += 1000) {
      await a('mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { event { id } } }', {
        inputs: Array.from({ length: Math.min(1000, events - i) }, (_, j) => ({ event: { topic: 'order', action: 'created', entityId: `a-${i + j}`, data: { n: i + j } } })),
      });
    }
    // A's rate alone over a window before B publishes and one after, beside B over the window between
    // (the mean of the two alone cancels a drift of A's own rate over time).
    const toA = receivers.get(`${name}-a`);
    const window = flood[kind].windowSeconds;
    const rateOver = async (during: () => Promise<unknown>) => {
      const from = toA.ids.size;
      const t0 = performance.now();
      await during();
      return (toA.ids.size - from) / ((performance.now() - t0) / 1000);
    };
    const aloneBefore = await rateOver(() => sleep(window * 1000));
    let during = new Map<string, number>();
    const duringRate = await rateOver(async () => (during = await publishAtRate(api, 'order', 5, window, { retryUntil: deadline, run: 'during' })));
    const aloneAfter = await rateOver(() => sleep(window * 1000));
    const aloneRate = (aloneBefore + aloneAfter) / 2;
    const backlogLeft = events * 8 - toA.ids.size;
    await settled(receivers, `${name}-b`, during.keys(), db, Math.min(deadline, Date.now() + 30_000));
    const q = latencies(quiet);
    const d = latencies(during);
    // Where B's time went during the flood: from its publish (the instance made) to the attempt's start (its turn, the fetch, the claim).
    const { rows: [turn] } = await db.query(
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.started_at - i.created_at) * 1000) AS p50 FROM instance i JOIN attempt a ON a.instance_id = i.id AND a.number = 1 WHERE i.id = ANY($1::uuid[])`,
      [[...during.keys()]],
    );
    const row = count(
      `fair share: ${kind} flood, ${workers === 2 ? 'api + two workers' : 'one process'}`,
      receivers,
      `${name}-b`,
      [...quiet.keys(), ...during.keys()],
      started,
      `B p50/p99 ${q.p50}/${q.p99} ms quiet, ${d.p50}/${d.p99} ms during A's flood of ${events * 8} deliveries${kind === 'slow' ? ' (2 s each)' : ''} (${(d.p50 / Math.max(1, q.p50)).toFixed(1)}× p50; ${Math.round(turn?.p50 ?? 0)} ms from its publish to its attempt starting); ` +
        `A ${Math.round(aloneRate)}/s alone, ${Math.round(duringRate)}/s beside B (${Math.round((100 * duringRate) / Math.max(1, aloneRate))}%)${backlogLeft > 0 ? `, ${backlogLeft} of A's still waiting after` : '; A DRAINED within the windows: its rates are not comparable'}`,
    );
    return [{ ...row, latency: { before: q, during: d }, share: { aAlonePerSecond: aloneRate, aDuringPerSecond: duringRate, aBacklogLeft: backlogLeft } }];
  } finally {
    await Promise.all([api, ...workerProcesses].map((h) => h.stop()));
    await receivers.down();
    await db.end();
  }
}

