import { fromPrisma, PgBoss, type Job } from 'pg-boss';
import { query, type Statement, type Tx } from '../db/client.ts';
import type { Logger } from '../logger.ts';

export type { PgBoss };

/**
 * The queue of deliveries. A job carries up to DELIVERIES_PER_JOB instances of one
 * webhook to send (those a publish, a re-trigger or a retry made together): the
 * queue's own work (insert, fetch, complete) is then paid per job, not per delivery.
 */
export const DELIVER_QUEUE = 'deliver';
export const DELIVERIES_PER_JOB = 25;
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
 * How long a finished job stays in the queue's table. Herald records every attempt in
 * its own tables, so a finished job is of no further use: pg-boss's default (7 days)
 * would keep one row (~0.9 KB) per publish call per webhook and per retry, tens of
 * millions at a steady 100 events/s. With the sweep every two minutes the table holds
 * about the last twelve minutes of jobs.
 */
export const QUEUE_RETENTION = { deleteAfterSeconds: 600, maintenanceIntervalSeconds: 120 };

/** A job whose process dies (no heartbeat for 10 s) or whose handler fails runs again. */
export const DELIVER_QUEUE_OPTIONS = {
  deleteAfterSeconds: QUEUE_RETENTION.deleteAfterSeconds,
  notify: true,
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
  for (const name of ['close-batch', 'webhook-state', 'herald-event']) {
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
}

/**
 * The delivery queue's depth (pg-boss's counts, refreshed by its monitor every few
 * seconds) and how long its oldest job that may run has waited (two index probes of
 * pg-boss's live-jobs index (name, state, blocked, start_after), one per waiting state).
 */
export async function deliveryQueueFigures(): Promise<{ ready: number; deferred: number; active: number; oldestReadySeconds: number }> {
  const [counts, [oldest]] = await Promise.all([queue().getQueue(DELIVER_QUEUE), query<{ seconds: number }>({ text: OLDEST_READY, values: [DELIVER_QUEUE] })]);
  return { ready: counts?.readyCount ?? 0, deferred: counts?.deferredCount ?? 0, active: counts?.activeCount ?? 0, oldestReadySeconds: oldest?.seconds ?? 0 };
}

const OLDEST_READY = `
  SELECT COALESCE(extract(epoch FROM now() - LEAST(
    (SELECT min(start_after) FROM pgboss.job WHERE name = $1 AND state = 'created' AND NOT blocked AND start_after <= now()),
    (SELECT min(start_after) FROM pgboss.job WHERE name = $1 AND state = 'retry' AND NOT blocked AND start_after <= now()))), 0)::float8 AS seconds`;

export type NewDelivery = { instanceId: string; trigger: DeliverJob['trigger']; retry?: boolean; webhookId: string; startAfter?: Date; trace?: string };

/**
 * Enqueues deliveries inside the caller's transaction: they exist if and only if it
 * commits. Each job is in its webhook's group, so workers can cap how many of one
 * webhook's deliveries are in flight at once (a slow receiver cannot take every place).
 */
export async function enqueueDeliveries(tx: Tx, jobs: NewDelivery[]): Promise<void> {
  if (jobs.length === 0) return;
  await queue().insert(DELIVER_QUEUE, jobsOf(jobs), { db: fromPrisma(tx) });
}

/** The statement that enqueues deliveries, for a transaction sent in one round trip (`inOneTrip`). */
export function enqueueStatement(jobs: NewDelivery[]): Promise<Statement> {
  return statementOf((db) => queue().insert(DELIVER_QUEUE, jobsOf(jobs), { db }));
}

/** Completes fetched delivery jobs (fenced to the attempt fetched) inside the caller's transaction. */
export async function completeDeliveries(tx: Tx, jobs: Array<Pick<Job, 'id'> & { retryCount: number }>): Promise<void> {
  if (jobs.length) await queue().complete(DELIVER_QUEUE, jobs, null, { db: fromPrisma(tx) });
}

/** The statement that completes fetched delivery jobs (fenced to the attempt fetched), for a transaction sent in one round trip. */
export function completeStatement(jobs: Array<Pick<Job, 'id'> & { retryCount: number }>): Promise<Statement> {
  return statementOf((db) => queue().complete(DELIVER_QUEUE, jobs, null, { db }));
}

/** Deliveries to the same webhook, alike (trigger, retry, when), packed into jobs of up to DELIVERIES_PER_JOB, in order. */
function jobsOf(deliveries: NewDelivery[]) {
  const alike = new Map<string, NewDelivery[]>();
  for (const d of deliveries) {
    const key = `${d.webhookId} ${d.trigger} ${!!d.retry} ${d.startAfter?.getTime() ?? ''} ${d.trace ?? ''}`;
    const list = alike.get(key);
    if (list) list.push(d);
    else alike.set(key, [d]);
  }
  return [...alike.values()].flatMap((list) => {
    const { webhookId, trigger, retry, startAfter, trace } = list[0]!;
    const jobs = [];
    for (let i = 0; i < list.length; i += DELIVERIES_PER_JOB) {
      const data: DeliverJob = { instanceIds: list.slice(i, i + DELIVERIES_PER_JOB).map((d) => d.instanceId), trigger, ...(retry ? { retry } : {}), ...(trace ? { trace } : {}) };
      jobs.push({ data, group: { id: webhookId }, ...(startAfter ? { startAfter } : {}) });
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
