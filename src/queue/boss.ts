import { fromPrisma, PgBoss, type Job } from 'pg-boss';
import { inOneTrip, query, type Statement, type Tx } from '../db/client.ts';
import type { Logger } from '../logger.ts';

export type { PgBoss };

/**
 * The delivery queues: a lane per tenant (`deliver.<tenant id>`), each job up to DELIVERIES_PER_JOB instances of one webhook
 * (docs/architecture.md, "How a delivery goes"); `deliver` itself holds jobs from before lanes.
 */
export const DELIVER_QUEUE = 'deliver';
/** The other queues, each named once here: batches whose window ended, webhooks' deliveries following their state (and circuits' probes), Herald's own events, the nightly purge. */
export const BATCH_QUEUE = 'close-batch';
export const WEBHOOK_STATE_QUEUE = 'webhook-state';
export const ALERT_QUEUE = 'herald-event';
export const PURGE_QUEUE = 'purge';
export const DELIVERIES_PER_JOB = 25;
/** A tenant's lane. */
export const laneOf = (tenantId: string) => `${DELIVER_QUEUE}.${tenantId}`;
/** Whose lane this is (null: the lane of jobs enqueued before lanes). */
export const tenantOfLane = (lane: string) => (lane.startsWith(`${DELIVER_QUEUE}.`) ? lane.slice(DELIVER_QUEUE.length + 1) : null);
/**
 * Within a lane, first attempts of what was just published go before background work (retries, releases, bulk re-triggers,
 * replays), which workers still give a share.
 */
export const PRIORITY = { fresh: 0, background: -1 } as const;
export interface DeliverJob {
  instanceIds: string[];
  trigger: 'AUTO' | 'MANUAL';
  /** Its instances are RETRYING (a retry's job); other jobs send PENDING instances only. */
  retry?: boolean;
  /** The W3C traceparent of the publish that made them (tracing on): their deliveries continue its trace. */
  trace?: string;
}
/** A job enqueued before jobs carried several instances: one instance, PENDING or RETRYING. */
interface SingleDeliverJob {
  instanceId: string;
  trigger: 'AUTO' | 'MANUAL';
}

/** The instances a fetched job carries, and whether they may be RETRYING ones. */
export function deliveriesOf(data: DeliverJob | SingleDeliverJob): { instanceIds: string[]; retry: boolean } {
  return 'instanceIds' in data ? { instanceIds: data.instanceIds, retry: !!data.retry } : { instanceIds: [data.instanceId], retry: true };
}

/**
 * How long a finished job stays in the queue's table: Herald's tables record every attempt, so about the last twelve minutes are kept
 * (pg-boss's default week would keep tens of millions of rows at 100 events/s).
 */
export const QUEUE_RETENTION = { deleteAfterSeconds: 600, maintenanceIntervalSeconds: 120 };

/**
 * A job whose process dies (no heartbeat for 10 s) or whose handler fails runs again.
 * No NOTIFY on insert: workers learn of new deliveries from Herald's change feed.
 */
export const DELIVER_QUEUE_OPTIONS = {
  deleteAfterSeconds: QUEUE_RETENTION.deleteAfterSeconds,
  notify: false,
  heartbeatSeconds: 10,
  expireInSeconds: 120,
  retryLimit: 20,
  retryDelay: 1,
  retryBackoff: true,
  retryDelayMax: 300,
};

let current: PgBoss | undefined;

/** Starts pg-boss on Herald's database (its tables live in the `pgboss` schema). */
export async function startQueue(databaseUrl: string, log: Logger, options: { max?: number } = {}): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: databaseUrl,
    schema: 'pgboss',
    application_name: 'herald-queue',
    max: options.max ?? 10,
    useListenNotify: true,
    // Notice a dead worker's jobs (missed heartbeats) within seconds, not minutes.
    superviseIntervalSeconds: 5,
    monitorIntervalSeconds: 5,
    maintenanceIntervalSeconds: QUEUE_RETENTION.maintenanceIntervalSeconds,
  });
  boss.on('error', (error) => log.error({ err: error }, 'queue error'));
  boss.on('warning', (warning) => log.warn({ warning }, 'queue warning'));
  await boss.start();
  await ensureQueue(boss, DELIVER_QUEUE, DELIVER_QUEUE_OPTIONS);
  for (const name of [BATCH_QUEUE, WEBHOOK_STATE_QUEUE, ALERT_QUEUE]) {
    await ensureQueue(boss, name, { notify: true, heartbeatSeconds: 10, retryLimit: 20, retryDelay: 1, retryBackoff: true, deleteAfterSeconds: QUEUE_RETENTION.deleteAfterSeconds });
  }
  current = boss;
  return boss;
}

/** Creates a queue, or brings one made by an older Herald to today's retention (its other options stay). */
export async function ensureQueue(boss: PgBoss, name: string, options: Parameters<PgBoss['createQueue']>[1] = {}): Promise<void> {
  await boss.createQueue(name, options);
  await boss.updateQueue(name, { deleteAfterSeconds: options.deleteAfterSeconds ?? QUEUE_RETENTION.deleteAfterSeconds });
}

export function queue(): PgBoss {
  if (!current) throw new Error('the queue is not started yet');
  return current;
}

export function forgetQueue(): void {
  current = undefined;
  lanes.clear();
}

/** Lanes known to exist, by this process. */
const lanes = new Map<string, Promise<void>>();

/** Makes a tenant's lane if it does not exist yet (once per process and tenant). */
function ensureLane(lane: string): Promise<void> {
  let made = lanes.get(lane);
  if (!made) {
    made = (async () => {
      if (!(await queue().getQueue(lane))) await queue().createQueue(lane, DELIVER_QUEUE_OPTIONS);
    })();
    made.catch(() => lanes.delete(lane));
    lanes.set(lane, made);
  }
  return made;
}

/**
 * The delivery queues' depth, all lanes together (pg-boss's counts, refreshed by its
 * monitor every few seconds), and how long the oldest job that may run has waited.
 */
export async function deliveryQueueFigures(): Promise<{ ready: number; deferred: number; active: number; oldestReadySeconds: number }> {
  const [queues, ready] = await Promise.all([laneQueues(), readyLanes()]);
  const sum = (k: 'readyCount' | 'deferredCount' | 'activeCount') => queues.reduce((n, q) => n + (q[k] ?? 0), 0);
  return { ready: sum('readyCount'), deferred: sum('deferredCount'), active: sum('activeCount'), oldestReadySeconds: Math.max(0, ...ready.map((l) => l.oldestReadySeconds)) };
}

/** The delivery lanes pg-boss knows, with its counts. */
async function laneQueues() {
  return (await queue().getQueues()).filter((q) => isLane(q.name));
}

const isLane = (name: string) => name === DELIVER_QUEUE || name.startsWith(`${DELIVER_QUEUE}.`);

/**
 * The lanes with a job that may run now and how long the oldest has waited: a loose scan of pg-boss's fetch index, then two probes
 * per lane; what a worker polls when no change told it of new deliveries.
 */
export async function readyLanes(): Promise<Array<{ lane: string; oldestReadySeconds: number }>> {
  const rows = await query<{ name: string; seconds: number }>(readyLanesStatement());
  return rows.map((r) => ({ lane: r.name, oldestReadySeconds: r.seconds }));
}

/** How long the oldest job of a lane that may run now has waited (0: none waits): two probes of pg-boss's live-jobs index. */
export async function laneOldestReadySeconds(lane: string): Promise<number> {
  const [row] = await query<{ seconds: number | null }>(laneOldestStatement(lane));
  return row?.seconds ?? 0;
}

export const laneOldestStatement = (lane: string): Statement => ({ text: LANE_OLDEST, values: [lane] });

const LANE_OLDEST = `
  SELECT extract(epoch FROM now() - LEAST(
    (SELECT min(start_after) FROM pgboss.job WHERE name = $1 AND state = 'created' AND NOT blocked AND start_after <= now()),
    (SELECT min(start_after) FROM pgboss.job WHERE name = $1 AND state = 'retry' AND NOT blocked AND start_after <= now())))::float8 AS seconds`;

export const readyLanesStatement = (): Statement => ({ text: READY_LANES, values: [DELIVER_QUEUE, `${DELIVER_QUEUE}.`] });

const READY_LANES = `
  WITH RECURSIVE queues(name) AS (
    (SELECT name FROM pgboss.job WHERE state < 'active' AND NOT blocked ORDER BY name LIMIT 1)
    UNION ALL
    SELECT (SELECT j.name FROM pgboss.job j WHERE j.name > queues.name AND j.state < 'active' AND NOT j.blocked ORDER BY j.name LIMIT 1)
    FROM queues WHERE queues.name IS NOT NULL)
  SELECT queues.name, extract(epoch FROM now() - oldest.at)::float8 AS seconds
  FROM queues, LATERAL (SELECT LEAST(
    (SELECT min(start_after) FROM pgboss.job r WHERE r.name = queues.name AND r.state = 'created' AND NOT r.blocked AND r.start_after <= now()),
    (SELECT min(start_after) FROM pgboss.job r WHERE r.name = queues.name AND r.state = 'retry' AND NOT r.blocked AND r.start_after <= now())) AS at) oldest
  WHERE (queues.name = $1 OR left(queues.name, length($2)) = $2) AND oldest.at IS NOT NULL`;

export type NewDelivery = {
  instanceId: string;
  tenantId: string;
  webhookId: string;
  trigger: DeliverJob['trigger'];
  retry?: boolean;
  /** Background work (see PRIORITY): retries always are. */
  background?: boolean;
  startAfter?: Date;
  trace?: string;
};

/**
 * Enqueues deliveries in the caller's transaction (they exist if and only if it commits), each in its tenant's lane and its webhook's
 * group, so workers take turns between tenants and cap one webhook's requests in flight.
 */
export async function enqueueDeliveries(tx: Tx, jobs: NewDelivery[]): Promise<void> {
  for (const [lane, theirs] of await byLane(jobs)) await queue().insert(lane, jobsOf(theirs), { db: fromPrisma(tx) });
}

/** The statements that enqueue deliveries (one per lane), for a transaction sent in one round trip (`inOneTrip`). */
export async function enqueueStatements(jobs: NewDelivery[]): Promise<Statement[]> {
  const statements: Statement[] = [];
  for (const [lane, theirs] of await byLane(jobs)) statements.push(await statementOf((db) => queue().insert(lane, jobsOf(theirs), { db })));
  return statements;
}

/** Completes fetched delivery jobs (fenced to the attempt fetched) inside the caller's transaction. */
export async function completeDeliveries(tx: Tx, jobs: FetchedJob[]): Promise<void> {
  for (const [lane, theirs] of groupBy(jobs, (j) => j.name)) await queue().complete(lane, theirs, null, { db: fromPrisma(tx) });
}

/** The statements that complete fetched delivery jobs (fenced to the attempt fetched), for a transaction sent in one round trip. */
export async function completeStatements(jobs: FetchedJob[]): Promise<Statement[]> {
  const statements: Statement[] = [];
  for (const [lane, theirs] of groupBy(jobs, (j) => j.name)) statements.push(await statementOf((db) => queue().complete(lane, theirs, null, { db })));
  return statements;
}

/**
 * Fetches delivery jobs of a lane, committed without waiting for the disk: a fetch lost with PostgreSQL itself leaves its jobs
 * to be fetched again, and so does the claim after it (a commit that waits for the disk writes every one before it).
 */
export async function fetchDeliveries(lane: string, options: { batchSize: number; ignoreGroups: string[]; maxPriority?: number }): Promise<Job<DeliverJob>[]> {
  const db = { executeSql: async (text: string, values: unknown[] = []) => ({ rows: (await inOneTrip([{ text, values }], { durable: false }))[0] as never[] }) };
  return (await queue().fetch<DeliverJob>(lane, { ...options, db })) as Job<DeliverJob>[];
}

/** Fails fetched jobs back to their lanes: they run again after pg-boss's retry delay. */
export async function failDeliveries(jobs: FetchedJob[], message?: string): Promise<void> {
  for (const [lane, theirs] of groupBy(jobs, (j) => j.name)) await queue().fail(lane, theirs, message === undefined ? undefined : { message });
}

/** Refreshes the heartbeats of fetched jobs. */
export async function touchDeliveries(jobs: FetchedJob[]): Promise<void> {
  for (const [lane, theirs] of groupBy(jobs, (j) => j.name)) await queue().touch(lane, theirs);
}

/** What completing, failing or touching a fetched job needs: its id, lane, and the attempt fetched. */
export type FetchedJob = Pick<Job, 'id' | 'name'> & { retryCount: number };

/** Deliveries by their tenant's lane, each lane made if it did not exist. */
async function byLane(jobs: NewDelivery[]): Promise<Map<string, NewDelivery[]>> {
  const lanes = groupBy(jobs, (j) => laneOf(j.tenantId));
  await Promise.all([...lanes.keys()].map(ensureLane));
  return lanes;
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** Deliveries to the same webhook, alike (trigger, retry, class, when), packed into jobs of up to DELIVERIES_PER_JOB, in order. */
function jobsOf(deliveries: NewDelivery[]) {
  const alike = groupBy(deliveries, (d) => `${d.webhookId} ${d.trigger} ${!!d.retry} ${!!(d.retry || d.background)} ${d.startAfter?.getTime() ?? ''} ${d.trace ?? ''}`);
  return [...alike.values()].flatMap((list) => {
    const { webhookId, trigger, retry, background, startAfter, trace } = list[0]!;
    const priority = retry || background ? PRIORITY.background : PRIORITY.fresh;
    const jobs = [];
    for (let i = 0; i < list.length; i += DELIVERIES_PER_JOB) {
      const data: DeliverJob = { instanceIds: list.slice(i, i + DELIVERIES_PER_JOB).map((d) => d.instanceId), trigger, ...(retry ? { retry } : {}), ...(trace ? { trace } : {}) };
      jobs.push({ data, group: { id: webhookId }, priority, ...(startAfter ? { startAfter } : {}) });
    }
    return jobs;
  });
}

/** The one statement pg-boss runs for `act`, captured instead of run. */
async function statementOf(act: (db: { executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> }) => Promise<unknown>): Promise<Statement> {
  const captured: Statement[] = [];
  await act({
    executeSql: async (text, values = []) => {
      captured.push({ text, values });
      return { rows: [{ count: '0', ids: [] }] };
    },
  });
  if (captured.length !== 1) throw new Error(`pg-boss ran ${captured.length} statements where one was expected`);
  return captured[0]!;
}
