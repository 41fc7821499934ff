import type { Job as QueueJob } from 'pg-boss';
import type { Logger } from '../logger.ts';
import { DELIVER_QUEUE_OPTIONS, touchDeliveries, type DeliverJob } from '../queue/boss.ts';

/** A fetched delivery job (its retryCount fences completion to this attempt of it). */
export type Job = QueueJob<DeliverJob> & { retryCount: number; groupId?: string | null };

/**
 * The delivery jobs in this worker's hands, with their heartbeats (a dead process's jobs run elsewhere) and how many instances of
 * each are still open; a job given back to the queue is not completed here, though its requests on their way are still recorded.
 */
export class JobLedger {
  private readonly inHand = new Map<string, Job>();
  private readonly open = new Map<string, number>();
  private readonly givenUp = new Set<string>();
  private drained: Array<() => void> = [];
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly log: Logger) {}

  startHeartbeats(): void {
    this.heartbeat = setInterval(() => void this.beat(), (DELIVER_QUEUE_OPTIONS.heartbeatSeconds * 1000) / 2);
  }

  stopHeartbeats(): void {
    clearInterval(this.heartbeat);
  }

  take(job: Job, instances: number): void {
    this.inHand.set(job.id, job);
    this.open.set(job.id, instances);
  }

  /** Whether `count` outcomes of `job` are all it has open, so recording them completes it. */
  completedBy(job: Job, count: number): boolean {
    return count >= (this.open.get(job.id) ?? 0) && !this.givenUp.has(job.id);
  }

  /** One of a job's instances is no longer open (recorded, given up or dropped). */
  close(job: Job): void {
    const left = (this.open.get(job.id) ?? 0) - 1;
    if (left > 0) {
      this.open.set(job.id, left);
      return;
    }
    this.open.delete(job.id);
    this.inHand.delete(job.id);
    this.givenUp.delete(job.id);
  }

  /** Instances recorded (or given up): their jobs are finished once none of their instances is open. */
  done(of: Array<{ job: Job }>): void {
    for (const { job } of of) this.close(job);
    this.checkDrained();
  }

  /** Of these jobs, those not given up yet. */
  notGivenUp(jobs: Job[]): Job[] {
    return [...new Set(jobs)].filter((job) => !this.givenUp.has(job.id));
  }

  /** Takes jobs out of this worker's hands: no more heartbeats, not completed here. */
  giveUp(jobs: Job[]): void {
    for (const job of jobs) {
      this.givenUp.add(job.id);
      this.inHand.delete(job.id);
    }
  }

  checkDrained(): void {
    if (this.open.size === 0) this.drained.splice(0).forEach((resolve) => resolve());
  }

  /** Resolves once no instance of any job is open. */
  async drain(): Promise<void> {
    if (this.open.size > 0) await new Promise<void>((resolve) => this.drained.push(resolve));
  }

  private async beat(): Promise<void> {
    if (this.inHand.size === 0) return;
    try {
      await touchDeliveries([...this.inHand.values()]);
    } catch (error) {
      this.log.warn({ err: error }, 'could not refresh delivery job heartbeats');
    }
  }
}
