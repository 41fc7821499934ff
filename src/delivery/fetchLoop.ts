import type { Logger } from '../logger.ts';
import { DELIVERIES_PER_JOB } from '../queue/boss.ts';
import type { Job } from './ledger.ts';

const POLL_MS = 500;

export interface JobSource {
  /** Instances this worker can take now (places free to send, and to wait). */
  room(): number;
  /** Webhooks whose jobs the fetch skips (they have their share here already). */
  busy(): string[];
  fetch(count: number, skipGroups: string[]): Promise<Job[]>;
  /** Takes fetched jobs; answers how many instances they carried. */
  take(jobs: Job[]): number;
}

/**
 * Fetches delivery jobs a batch at a time whenever there is room, and otherwise waits
 * to be woken (deliveries finished, new ones announced) or for the next poll.
 */
export class FetchLoop {
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  /** The loop waits for places to free (it has no room, or skipped busy webhooks): finishing deliveries wake it. */
  private waitingForRoom = false;
  /**
   * Instances per fetched job, lately (a job carries 1 to DELIVERIES_PER_JOB): a fetch
   * asks for as many jobs as there is room for instances, so one webhook's big jobs
   * cannot fill this worker's hands before it is seen to be busy. Starts at the most.
   */
  private perJob = DELIVERIES_PER_JOB;

  constructor(
    private readonly source: JobSource,
    private readonly batchSize: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  /** New deliveries may be waiting: fetch now rather than at the next poll. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Places freed: fetch now if the loop was waiting for them. */
  freed(): void {
    if (this.waitingForRoom) this.wake();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const room = this.source.room();
      if (room < Math.ceil(this.batchSize / 2)) {
        this.waitingForRoom = true;
        await this.pause(POLL_MS);
        this.waitingForRoom = false;
        continue;
      }
      const asked = Math.max(1, Math.min(this.batchSize, Math.floor(room / this.perJob)));
      const busy = this.source.busy();
      this.woken = false;
      let jobs: Job[] = [];
      try {
        jobs = await this.source.fetch(asked, busy);
      } catch (error) {
        this.log.error({ err: error }, 'could not fetch delivery jobs; trying again');
      }
      if (jobs.length) this.perJob = Math.max(1, 0.7 * this.perJob + (0.3 * this.source.take(jobs)) / jobs.length);
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
}
