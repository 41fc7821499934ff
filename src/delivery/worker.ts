import type { Job as QueueJob } from 'pg-boss';
import type { Config } from '../config.ts';
import type { StoredHeader } from '../domain/webhooks.ts';
import type { RenderedPayload } from '../domain/payload.ts';
import type { Logger } from '../logger.ts';
import type { ChangeFeed } from '../pubsub/changes.ts';
import { DELIVER_QUEUE, DELIVER_QUEUE_OPTIONS, DELIVERIES_PER_JOB, deliveriesOf, queue, type DeliverJob } from '../queue/boss.ts';
import { AddressGuard } from './guard.ts';
import { claim, claimThroughGate, settle, type Claimed, type Settlement, type Wanted } from './instances.ts';
import { BATCH_QUEUE, closeBatch } from './batching.ts';
import { convergeAll, WEBHOOK_STATE_QUEUE } from './webhookState.ts';
import { isReceiverFailure, wakeProbe } from './gate.ts';
import { ALERT_QUEUE, alertEvent, type Alert } from '../alerts/herald.ts';
import { publishEvents } from '../domain/publish.ts';
import { buildRequest, storedRequest } from './request.ts';
import { sharedSender, type Sender } from './sender.ts';

/** A fetched delivery job (its retryCount fences completion to this attempt of it). */
type Job = QueueJob<DeliverJob> & { retryCount: number; groupId?: string | null };
/** One delivery of a job: an instance to send. */
interface Unit {
  job: Job;
  instanceId: string;
  /** The job's instances may be RETRYING ones (a retry's job). */
  retry: boolean;
}

const POLL_MS = 500;
/** Largest group of outcomes recorded in one transaction. */
const SETTLE_GROUP = 500;

export interface DeliveryWorker {
  sender: Sender;
  stop(): Promise<void>;
}

/** Takes delivery jobs from the queue and sends them; closes batches when their window ends. */
export async function startDeliveryWorker(config: Config, log: Logger, feed: ChangeFeed): Promise<DeliveryWorker> {
  const sender = sharedSender(new AddressGuard(config.outboundAllow));
  const boss = queue();
  const dispatcher = new Dispatcher(config, log, sender);
  // New deliveries (published, re-triggered, released, batched) are announced as PENDING changes, whichever process made them.
  const onChange = (change: { k: string; s?: string }) => change.k === 'instance' && change.s === 'PENDING' && dispatcher.wake();
  const onReconnect = () => dispatcher.wake();
  feed.on('change', onChange);
  feed.on('reconnected', onReconnect);
  dispatcher.start();
  const batchWorker = await boss.work<{ batchId: string }>(
    BATCH_QUEUE,
    { batchSize: 10, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5 },
    async (jobs) => {
      for (const job of jobs) await closeBatch(job.data.batchId);
    },
  );
  // Webhooks paused, resumed or turned off, or whose circuit closed: the rest of their deliveries follow,
  // step by step. An open circuit's probe is woken when its wait is over.
  const stateWorker = await boss.work<{ webhookId: string; probe?: boolean }>(
    WEBHOOK_STATE_QUEUE,
    { batchSize: 5, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5 },
    async (jobs) => {
      for (const job of jobs) await (job.data.probe ? wakeProbe(job.data.webhookId) : convergeAll(job.data.webhookId));
    },
  );
  // Herald's own happenings, published as events of its built-in topic once what they tell has committed.
  const alertWorker = await boss.work<Alert>(ALERT_QUEUE, { batchSize: 10, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5 }, async (jobs) => {
    for (const job of jobs) {
      const input = await alertEvent(job.data, job.id);
      if (input) await publishEvents(job.data.tenantId, [input], config, 'inputs', { internal: true });
    }
  });
  return {
    sender,
    async stop() {
      await boss.offWork(ALERT_QUEUE, { id: alertWorker, wait: true });
      feed.off('change', onChange);
      feed.off('reconnected', onReconnect);
      await boss.offWork(BATCH_QUEUE, { id: batchWorker, wait: true });
      await boss.offWork(WEBHOOK_STATE_QUEUE, { id: stateWorker, wait: true });
      await dispatcher.stop();
    },
  };
}

/**
 * Keeps up to `workerConcurrency` requests on their way, at most `webhookConcurrency`
 * of them to one webhook: fetches jobs a batch at a time whenever there is room, claims
 * the instances about to be sent in one statement, sends each request on its own, and
 * records outcomes in groups as they come back (group commit). A job (up to
 * DELIVERIES_PER_JOB instances of one webhook) is completed in the same transaction
 * as the last of its outcomes, so it is done exactly when all its attempts are
 * recorded. An instance whose webhook already has its share on the way waits here,
 * unclaimed, for one of them to finish: a slow receiver holds its own places, never a
 * whole batch nor everyone's. Jobs in hand carry heartbeats: if this process dies they
 * run again elsewhere, skip what was recorded and take over the instances left SENDING.
 */
class Dispatcher {
  /** Jobs in hand (heartbeats keep them): their instances waiting, being sent or being recorded. */
  private readonly held = new Map<string, Job>();
  /** Per job in hand or given up, its instances not recorded yet (nor dropped). */
  private readonly open = new Map<string, number>();
  /** Jobs failed back to the queue (they run again) while some of their instances were on their way: those are still recorded, the job is not completed. */
  private readonly givenUp = new Set<string>();
  private sending = 0;
  /**
   * Per webhook (job group): its requests on their way here, its instances waiting, until
   * when its gate holds them back, and its failed attempts in a row here: at the circuit
   * breaker's threshold it sends nothing more until those outcomes are recorded (and the
   * circuit, open by then, is in force), so a receiver that refuses at once does not get
   * a whole backlog's worth of attempts before the first of them is written.
   */
  private readonly webhooks = new Map<string, { sending: number; waiting: Unit[]; blockedUntil: number; timer?: NodeJS.Timeout; failingHere: number; awaitingGate?: Outcome }>();
  private waiting = 0;
  /** Gated webhooks with a gate pass running here, and the deliveries that will go in the next. */
  private readonly gating = new Map<string, Array<{ unit: Unit; wanted: Wanted }>>();
  private startScheduled = false;
  private readonly outcomes: Outcome[] = [];
  private writing = false;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  /** The loop waits for places to free (it has no room, or skipped busy webhooks): finishing deliveries wake it. */
  private waitingForRoom = false;
  private drained: Array<() => void> = [];
  private readonly batchSize: number;
  /**
   * Instances per fetched job, lately (a job carries 1 to DELIVERIES_PER_JOB): a fetch
   * asks for as many jobs as there is room for instances, so one webhook's big jobs
   * cannot fill this worker's hands before it is seen to be busy. Starts at the most.
   */
  private perJob = DELIVERIES_PER_JOB;
  /** Instances that may wait for their webhook's turn (beyond this, fetching pauses). */
  private readonly maxWaiting: number;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly sender: Sender,
  ) {
    this.batchSize = Math.min(config.workerBatchSize, config.workerConcurrency);
    this.maxWaiting = 5 * config.workerConcurrency;
  }

  start(): void {
    this.loop = this.run();
    this.heartbeat = setInterval(() => void this.beat(), (DELIVER_QUEUE_OPTIONS.heartbeatSeconds * 1000) / 2);
  }

  /** New deliveries may be waiting, or places freed: fetch now rather than at the next poll. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const room = Math.min(this.config.workerConcurrency - this.sending, this.maxWaiting - this.waiting);
      if (room < Math.ceil(this.batchSize / 2)) {
        this.waitingForRoom = true;
        await this.pause(POLL_MS); // woken when deliveries finish
        this.waitingForRoom = false;
        continue;
      }
      const asked = Math.max(1, Math.min(this.batchSize, Math.floor(room / this.perJob)));
      const busy = this.busyWebhooks();
      this.woken = false;
      let jobs: Job[] = [];
      try {
        jobs = (await queue().fetch<DeliverJob>(DELIVER_QUEUE, { batchSize: asked, ignoreGroups: busy })) as Job[];
      } catch (error) {
        this.log.error({ err: error }, 'could not fetch delivery jobs; trying again');
      }
      if (jobs.length) this.take(jobs);
      if (jobs.length < asked && !this.stopping) {
        this.waitingForRoom = busy.length > 0;
        await this.pause(POLL_MS);
        this.waitingForRoom = false;
      }
    }
  }

  /** Waits `ms`, or less when woken. */
  private pause(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = undefined;
        this.woken = false;
        done();
      };
    });
  }

  /** Queues fetched jobs' instances behind their webhooks and starts what may start. */
  private take(jobs: Job[]): void {
    const before = this.waiting;
    for (const job of jobs) {
      const { instanceIds, retry } = deliveriesOf(job.data);
      this.held.set(job.id, job);
      this.open.set(job.id, instanceIds.length);
      const webhook = this.webhookOf(job);
      for (const instanceId of instanceIds) webhook.waiting.push({ job, instanceId, retry });
      this.waiting += instanceIds.length;
      if (instanceIds.length === 0) this.record({ job });
    }
    this.perJob = Math.max(1, 0.7 * this.perJob + (0.3 * (this.waiting - before)) / jobs.length);
    this.startWaiting();
  }

  /**
   * Webhooks with their share on the way and as many again waiting: their jobs stay in
   * the queue (the fetch skips them) rather than fill this worker's hands, so the jobs of
   * other webhooks behind them are still fetched.
   */
  private busyWebhooks(): string[] {
    const busy: string[] = [];
    for (const [key, webhook] of this.webhooks) if (webhook.waiting.length >= this.config.webhookConcurrency && !key.startsWith('job:')) busy.push(key);
    return busy;
  }

  /** Jobs are grouped by webhook when enqueued; a job without a group is its own. */
  private webhookOf(job: Job) {
    const key = job.groupId ?? `job:${job.id}`;
    let webhook = this.webhooks.get(key);
    if (!webhook) this.webhooks.set(key, (webhook = { sending: 0, waiting: [], blockedUntil: 0, failingHere: 0 }));
    return webhook;
  }

  /** Starts waiting instances, round robin over webhooks, while places are free; one claim for them all. */
  private startWaiting(): void {
    const ready: Unit[] = [];
    let progress = true;
    while (progress && this.sending < this.config.workerConcurrency) {
      progress = false;
      for (const [key, webhook] of this.webhooks) {
        if (this.sending >= this.config.workerConcurrency) break;
        if (webhook.waiting.length === 0) {
          if (webhook.sending === 0 && !webhook.timer) this.webhooks.delete(key);
          continue;
        }
        if (webhook.sending >= this.config.webhookConcurrency || webhook.awaitingGate || webhook.blockedUntil > Date.now()) continue;
        ready.push(webhook.waiting.shift()!);
        webhook.sending += 1;
        this.sending += 1;
        this.waiting -= 1;
        progress = true;
      }
    }
    if (ready.length) void this.claimAndSend(ready);
  }

  /** A request finished (or never started): its place goes to the next waiting instance. */
  private release(unit: Unit): void {
    const webhook = this.webhookOf(unit.job);
    webhook.sending -= 1;
    this.sending -= 1;
    if (this.startScheduled) return;
    this.startScheduled = true;
    setImmediate(() => {
      this.startScheduled = false;
      this.startWaiting();
      if (this.waitingForRoom) this.wake();
    });
  }

  private async claimAndSend(units: Unit[]): Promise<void> {
    const wanted = (u: Unit): Wanted => ({ instanceId: u.instanceId, takeOver: u.job.retryCount > 0, retry: u.retry, manual: u.job.data.trigger === 'MANUAL' });
    let plain: Awaited<ReturnType<typeof claim>>;
    try {
      // A job that runs again (its worker died or failed before recording) may take over an instance left SENDING.
      plain = await claim(units.map(wanted));
    } catch (error) {
      await this.cannotClaim(units, error);
      return;
    }
    const gatedIds = new Set([...plain.gated.values()].flat().map((w) => w.instanceId));
    // What the plain claim took goes at once; gated webhooks' deliveries do not wait for it, nor it for them.
    this.dispatch(
      units.filter((u) => !gatedIds.has(u.instanceId)),
      plain.claimed,
    );
    await Promise.all(
      [...plain.gated].map(([webhookId, gatedWanted]) => {
        const mine = new Set(gatedWanted.map((w) => w.instanceId));
        return this.passGate(webhookId, units.filter((u) => mine.has(u.instanceId)).map((unit) => ({ unit, wanted: wanted(unit) })));
      }),
    );
  }

  /**
   * Passes a gated webhook's deliveries through its gate. One pass per webhook at a time
   * in this process: deliveries that come while one runs go together in the next, so a
   * webhook whose places free one by one costs one gate transaction per pass, not per delivery.
   */
  private async passGate(webhookId: string, entries: Array<{ unit: Unit; wanted: Wanted }>): Promise<void> {
    const queued = this.gating.get(webhookId);
    if (queued) {
      queued.push(...entries);
      return;
    }
    this.gating.set(webhookId, []);
    try {
      for (let batch = entries; batch.length > 0; batch = this.gating.get(webhookId)!.splice(0)) await this.passGateOnce(webhookId, batch);
    } finally {
      this.gating.delete(webhookId);
    }
  }

  private async passGateOnce(webhookId: string, entries: Array<{ unit: Unit; wanted: Wanted }>): Promise<void> {
    const theirs = entries.map((e) => e.unit);
    let passed: Awaited<ReturnType<typeof claimThroughGate>>;
    try {
      passed = await claimThroughGate(webhookId, entries.map((e) => e.wanted));
    } catch (error) {
      await this.cannotClaim(theirs, error);
      return;
    }
    // Those the gate holds back (rate limit, in-flight places) wait here again, their webhook blocked until they may try.
    const waiting = new Set(passed.waiting);
    const back = theirs.filter((u) => waiting.has(u.instanceId));
    if (back.length) this.holdBack(back, new Date(Date.now() + passed.retryInMs!));
    this.dispatch(
      theirs.filter((u) => !waiting.has(u.instanceId)),
      passed.claimed,
    );
  }

  /** Sends the units that were claimed; the others had nothing to send (delivered, cancelled, waiting for a retry or a circuit, or someone else's). */
  private dispatch(units: Unit[], claimed: Claimed[]): void {
    const byId = new Map(claimed.map((c) => [c.id, c]));
    for (const unit of units) {
      const instance = byId.get(unit.instanceId);
      byId.delete(unit.instanceId);
      if (instance) {
        void this.send(unit, instance);
      } else {
        this.release(unit);
        this.record({ job: unit.job });
      }
    }
  }

  private async cannotClaim(units: Unit[], error: unknown): Promise<void> {
    for (const unit of units) this.release(unit);
    await this.giveUp(units, error, 'could not claim deliveries; their jobs will run again');
    this.done(units);
  }

  /** Units the gate did not let through yet: back to the front of their webhook's line, which waits until `retryAt`. */
  private holdBack(units: Unit[], retryAt: Date): void {
    const webhook = this.webhookOf(units[0]!.job);
    webhook.waiting.unshift(...units);
    this.waiting += units.length;
    webhook.blockedUntil = Math.max(webhook.blockedUntil, retryAt.getTime());
    const wakeAtTheEnd = () => {
      webhook.timer = undefined;
      if (this.stopping) return;
      if (webhook.blockedUntil > Date.now()) webhook.timer = setTimeout(wakeAtTheEnd, webhook.blockedUntil - Date.now());
      else this.startWaiting();
    };
    webhook.timer ??= setTimeout(wakeAtTheEnd, Math.max(1, webhook.blockedUntil - Date.now()));
    for (const unit of units) this.release(unit);
  }

  private async send(unit: Unit, instance: Claimed): Promise<void> {
    const headers = instance.webhook.headers as unknown as StoredHeader[];
    const startedAt = new Date();
    let settlement: Settlement;
    try {
      const request = buildRequest(instance.payload as RenderedPayload, { ...instance.webhook, headers }, instance.id, startedAt);
      const outcome = await this.sender.send(request, instance.webhook.timeoutMs);
      settlement = { instance, trigger: unit.job.data.trigger, startedAt, request: storedRequest(request, headers), outcome };
    } catch (error) {
      this.release(unit);
      await this.giveUp([unit], error, 'delivery failed before it could be recorded; its job will run again');
      this.done([unit]);
      return;
    }
    const webhook = this.webhookOf(unit.job);
    const outcome: Outcome = { job: unit.job, settlement };
    if (settlement.outcome.ok) webhook.failingHere = 0;
    else if (isReceiverFailure(settlement.outcome) && (webhook.failingHere += 1) >= this.config.breakerFailures) webhook.awaitingGate ??= outcome;
    this.release(unit);
    this.record(outcome);
  }

  /** Queues an outcome; outcomes that arrive while a group is being written go in the next group. */
  private record(outcome: Outcome): void {
    this.outcomes.push(outcome);
    if (!this.writing) void this.writeGroups();
  }

  private async writeGroups(): Promise<void> {
    this.writing = true;
    while (this.outcomes.length) {
      const group = this.outcomes.splice(0, SETTLE_GROUP);
      try {
        await this.write(group);
        this.done(group);
      } catch (error) {
        // One bad outcome must not hold up the others: write them one by one.
        for (const one of group) {
          const failure = group.length === 1 ? error : await this.write([one]).then(() => undefined, (e: unknown) => e ?? new Error('write failed'));
          if (failure) await this.giveUp([one], failure, 'could not record a delivery; its job will run again');
          this.done([one]);
        }
      }
      this.gateRecorded(group);
    }
    this.writing = false;
  }

  /** A webhook that stopped at the breaker's threshold here goes on once its failures are recorded: its gate decides from now on. */
  private gateRecorded(group: Outcome[]): void {
    let any = false;
    for (const outcome of group) {
      const webhook = this.webhooks.get(outcome.job.groupId ?? `job:${outcome.job.id}`);
      if (webhook?.awaitingGate !== outcome) continue;
      webhook.awaitingGate = undefined;
      webhook.failingHere = 0;
      any = true;
    }
    if (any) this.startWaiting();
  }

  /** Records a group's outcomes, completing the jobs whose last open instances they are, in one transaction. */
  private write(group: Outcome[]): Promise<void> {
    const settlements = group.flatMap((o) => (o.settlement ? [o.settlement] : []));
    const inGroup = new Map<Job, number>();
    for (const o of group) inGroup.set(o.job, (inGroup.get(o.job) ?? 0) + 1);
    const complete = [...inGroup].filter(([job, n]) => n >= (this.open.get(job.id) ?? 0) && !this.givenUp.has(job.id)).map(([job]) => job);
    return settle(settlements, this.config, complete);
  }

  /** Instances recorded (or given up): their jobs are finished once none of their instances is open. */
  private done(outcomes: Array<{ job: Job }>): void {
    for (const { job } of outcomes) this.close(job);
    if (this.open.size === 0) this.drained.splice(0).forEach((resolve) => resolve());
  }

  /** One of a job's instances is no longer open (recorded, given up or dropped). */
  private close(job: Job): void {
    const left = (this.open.get(job.id) ?? 0) - 1;
    if (left > 0) {
      this.open.set(job.id, left);
      return;
    }
    this.open.delete(job.id);
    this.held.delete(job.id);
    this.givenUp.delete(job.id);
  }

  /**
   * Fails jobs back to the queue so they run again (after pg-boss's retry delay; if even
   * that fails, their heartbeats lapse and they run again): their instances still
   * waiting here are dropped (the job's next run sends them), those on their way are
   * still recorded, and the job is no longer completed here.
   */
  private async giveUp(of: Array<{ job: Job }>, error: unknown, message: string): Promise<void> {
    const jobs = [...new Set(of.map((o) => o.job))].filter((job) => !this.givenUp.has(job.id));
    if (jobs.length === 0) return;
    this.log.error({ err: error, instanceIds: jobs.flatMap((job) => deliveriesOf(job.data).instanceIds) }, message);
    this.drop(jobs);
    await queue()
      .fail(DELIVER_QUEUE, jobs)
      .catch(() => undefined);
  }

  /** Takes jobs out of this worker's hands: no more heartbeats, their waiting instances dropped. */
  private drop(jobs: Job[]): void {
    const ids = new Set(jobs.map((job) => job.id));
    for (const job of jobs) {
      this.givenUp.add(job.id);
      this.held.delete(job.id);
    }
    for (const webhook of this.webhooks.values()) {
      const kept = webhook.waiting.filter((unit) => !ids.has(unit.job.id));
      for (const unit of webhook.waiting) if (ids.has(unit.job.id)) this.close(unit.job);
      this.waiting -= webhook.waiting.length - kept.length;
      webhook.waiting = kept;
    }
    if (this.open.size === 0) this.drained.splice(0).forEach((resolve) => resolve());
  }

  private async beat(): Promise<void> {
    if (this.held.size === 0) return;
    try {
      await queue().touch(DELIVER_QUEUE, [...this.held.values()]);
    } catch (error) {
      this.log.warn({ err: error }, 'could not refresh delivery job heartbeats');
    }
  }

  /** Stops fetching, hands back jobs with instances still waiting, and waits for those on their way to be recorded. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
    const waiting = [...new Set([...this.webhooks.values()].flatMap((w) => w.waiting.map((unit) => unit.job)))];
    if (waiting.length) {
      this.drop(waiting);
      await queue()
        .fail(DELIVER_QUEUE, waiting, { message: 'this worker stopped before sending it' })
        .catch(() => undefined);
    }
    for (const webhook of this.webhooks.values()) clearTimeout(webhook.timer);
    if (this.open.size > 0) await new Promise<void>((resolve) => this.drained.push(resolve));
    clearInterval(this.heartbeat);
  }
}

/** An instance's outcome: sent (`settlement`) or nothing to send; `job` is the job it came in. */
interface Outcome {
  job: Job;
  settlement?: Settlement;
}
