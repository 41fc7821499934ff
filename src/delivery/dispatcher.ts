import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Destination, DestinationType } from '../destinations/index.ts';
import { deliveriesOf, failDeliveries, fetchDeliveries, PRIORITY, readyLanes } from '../queue/boss.ts';
import { isReceiverFailure } from '../rules/failures.ts';
import type { RenderedPayload } from '../rules/payload.ts';
import type { StoredHeader } from '../rules/webhookSettings.ts';
import { claim, claimThroughGate, settle, type Claimed, type Settlement, type Wanted } from '../store/instances.ts';
import { metrics } from '../telemetry/metrics.ts';
import { DeliveryTrace } from '../telemetry/tracing.ts';
import { createdAt } from '../db/ids.ts';
import { FetchLoop } from './fetchLoop.ts';
import { JobLedger, type Job } from './ledger.ts';
import { OutcomeWriter, type Finished } from './outcomeWriter.ts';
import { FairScheduler, type Unit } from './scheduler.ts';
import { LaneWeights } from './weights.ts';

/** Why the worker gave jobs back to the queue to run again: failures of Herald's own, not outcomes of an attempt. */
const GIVEN_BACK = {
  CLAIM: 'could not claim deliveries; their jobs will run again',
  SEND: 'delivery failed before it could be recorded; its job will run again',
  RECORD: 'could not record a delivery; its job will run again',
  STOPPED: 'this worker stopped before sending it',
} as const;
type GivenBack = keyof typeof GIVEN_BACK;
const givenBack = (why: GivenBack) => `${why}: ${GIVEN_BACK[why]}`;

/**
 * Sends what the queue holds: fetch loop, fair scheduler, claim (or the gate), destination, grouped records; a job completes with
 * its last outcome (docs/architecture.md, "How a delivery goes").
 */
export class Dispatcher {
  private readonly ledger: JobLedger;
  private readonly scheduler: FairScheduler;
  private readonly writer: OutcomeWriter;
  private readonly fetcher: FetchLoop;
  /** Gated webhooks with a gate pass running here, and the deliveries that will go in the next. */
  private readonly gating = new Map<string, Array<{ unit: Unit; wanted: Wanted }>>();

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    /** Where each type of message goes (the process's destinations; a test may pass its own). */
    private readonly destination: (type?: DestinationType) => Destination,
  ) {
    this.ledger = new JobLedger(log);
    const weights = new LaneWeights(log);
    this.scheduler = new FairScheduler(config, (units) => void this.claimAndSend(units), () => this.fetcher.freed(), (lane) => weights.of(lane));
    this.writer = new OutcomeWriter((group) => this.write(group), {
      done: (group) => this.ledger.done(group),
      failed: (one, error) => {
        one.trace?.recorded(undefined, error);
        return this.giveUp([one], error, 'RECORD');
      },
      settled: (group) => this.scheduler.recorded(group),
    });
    // The instances a worker holds at most: its places, and four times as many waiting for one.
    const hands = 5 * config.workerConcurrency;
    this.fetcher = new FetchLoop(
      {
        hands: () => hands,
        held: (lane) => this.scheduler.held(lane),
        inHand: () => this.scheduler.lanes(),
        weight: (lane) => weights.of(lane),
        busy: (lane) => this.scheduler.busyWebhooks(lane),
        fetch: async (lane, count, skipGroups, background) =>
          (await fetchDeliveries(lane, { batchSize: count, ignoreGroups: skipGroups, ...(background ? { maxPriority: PRIORITY.background } : {}) })) as Job[],
        ready: async () => (await readyLanes()).map((l) => l.lane),
        take: (jobs) => this.take(jobs),
      },
      Math.min(config.workerBatchSize, config.workerConcurrency),
      log,
    );
  }

  start(): void {
    this.fetcher.start();
    this.ledger.startHeartbeats();
  }

  /** New deliveries may be waiting (in a tenant's lane, or anywhere): fetch now rather than at the next poll. */
  wake(lane?: string): void {
    this.fetcher.wake(lane);
  }

  /** Stops fetching, hands back jobs with instances still waiting, and waits for those on their way to be recorded. */
  async stop(): Promise<void> {
    this.scheduler.stop();
    await this.fetcher.stop();
    const waiting = this.scheduler.waitingJobs();
    if (waiting.length) {
      this.drop(waiting);
      await failDeliveries(waiting, givenBack('STOPPED')).catch(() => undefined);
    }
    await this.ledger.drain();
    this.ledger.stopHeartbeats();
  }

  /** Queues fetched jobs' instances behind their webhooks and starts what may start; answers how many instances they carried. */
  private take(jobs: Job[]): number {
    let instances = 0;
    for (const job of jobs) {
      const { instanceIds, retry } = deliveriesOf(job.data);
      this.ledger.take(job, instanceIds.length);
      this.scheduler.enqueue(job, instanceIds, retry);
      instances += instanceIds.length;
      if (instanceIds.length === 0) this.writer.record({ job });
    }
    this.scheduler.startWaiting();
    return instances;
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
    if (back.length) this.scheduler.holdBack(back, new Date(Date.now() + passed.retryInMs!));
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
        this.scheduler.release(unit);
        this.writer.record({ job: unit.job });
      }
    }
  }

  private async cannotClaim(units: Unit[], error: unknown): Promise<void> {
    for (const unit of units) this.scheduler.release(unit);
    await this.giveUp(units, error, 'CLAIM');
    this.ledger.done(units);
  }

  private async send(unit: Unit, instance: Claimed): Promise<void> {
    const headers = instance.webhook.headers as unknown as StoredHeader[];
    const startedAt = new Date();
    const trace = DeliveryTrace.start(unit.job.data.trace, { 'herald.instance_id': instance.id, 'herald.webhook_id': instance.webhookId, 'herald.tenant_id': instance.tenantId, 'herald.attempt': instance.attempts });
    let settlement: Settlement;
    try {
      const target = { ...instance.webhook, headers };
      const to = this.destination();
      const prepared = to.prepare(instance.payload as RenderedPayload, target, instance.id, startedAt);
      const context = trace?.requesting(prepared.span);
      if (context && instance.webhook.traceContext) prepared.carry(context);
      const outcome = await to.send(prepared, target);
      trace?.answered(outcome);
      settlement = { instance, trigger: unit.job.data.trigger, startedAt, request: prepared.stored, outcome, trace: unit.job.data.trace };
    } catch (error) {
      trace?.recorded(undefined, error);
      this.scheduler.release(unit);
      await this.giveUp([unit], error, 'SEND');
      this.ledger.done([unit]);
      return;
    }
    const finished: Finished = { job: unit.job, settlement, trace };
    this.scheduler.attempted(unit, settlement.outcome.ok, isReceiverFailure(settlement.outcome), finished);
    this.scheduler.release(unit);
    this.writer.record(finished);
  }

  /** Records a group's outcomes, completing the jobs whose last open instances they are, in one transaction; counts them once recorded. */
  private async write(group: Finished[]): Promise<void> {
    const settlements = group.flatMap((f) => (f.settlement ? [f.settlement] : []));
    const inGroup = new Map<Job, number>();
    for (const f of group) inGroup.set(f.job, (inGroup.get(f.job) ?? 0) + 1);
    const complete = [...inGroup].filter(([job, n]) => this.ledger.completedBy(job, n)).map(([job]) => job);
    const statuses = await settle(settlements, this.config, complete);
    const now = Date.now();
    settlements.forEach((s, i) => {
      metrics.attempted(s.instance.webhookId, s.outcome);
      metrics.settled(statuses[i]!, createdAt(s.instance.id), now);
    });
    let i = 0;
    for (const f of group) if (f.settlement) f.trace?.recorded(statuses[i++]);
  }

  /**
   * Fails jobs back to the queue to run again: their instances waiting here are dropped (the next run sends them); those on their way
   * are still recorded.
   */
  private async giveUp(of: Array<{ job: Job }>, error: unknown, why: GivenBack): Promise<void> {
    const jobs = this.ledger.notGivenUp(of.map((o) => o.job));
    if (jobs.length === 0) return;
    this.log.error({ err: error, failure: why, instanceIds: jobs.flatMap((job) => deliveriesOf(job.data).instanceIds) }, GIVEN_BACK[why]);
    this.drop(jobs);
    await failDeliveries(jobs, givenBack(why)).catch(() => undefined);
  }

  /** Takes jobs out of this worker's hands: no more heartbeats, their waiting instances dropped. */
  private drop(jobs: Job[]): void {
    this.ledger.giveUp(jobs);
    for (const unit of this.scheduler.remove(new Set(jobs.map((job) => job.id)))) this.ledger.close(unit.job);
    this.ledger.checkDrained();
  }
}
