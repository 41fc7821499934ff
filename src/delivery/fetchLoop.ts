import type { Logger } from '../logger.ts';
import { DELIVERIES_PER_JOB } from '../queue/boss.ts';
import type { Job } from './ledger.ts';

const POLL_MS = 500;
/** Lanes fetched from at once (each fetch is one statement on the queue's pool). */
const FETCHES_AT_ONCE = 4;
/** Every this many fetches of a lane, background work (retries, released, bulk) goes first: it has at least this share of the lane's fetches. */
const BACKGROUND_EVERY = 4;

export interface LaneSource {
  /** Instances this worker can take into its hands in all (waiting and on their way). */
  hands(): number;
  /** Instances of a lane (tenant) in this worker's hands. */
  held(lane: string): number;
  /** Lanes with instances in this worker's hands. */
  inHand(): string[];
  /** A lane's weight (its tenant's): its part of the hands. */
  weight(lane: string): number;
  /** A lane's webhooks whose jobs the fetch skips (they have their share here already). */
  busy(lane: string): string[];
  fetch(lane: string, count: number, skipGroups: string[], background: boolean): Promise<Job[]>;
  /** Lanes with a job that may run now (a poll of the queue). */
  ready(): Promise<string[]>;
  /** Takes fetched jobs; answers how many instances they carried. */
  take(jobs: Job[]): number;
}

/**
 * Fetches delivery jobs fairly: this worker's hands are shared between the tenants' lanes with work by weight; lanes learn of work
 * from changes (`wake`) or a poll (docs/architecture.md, "How a delivery goes").
 */
export class FetchLoop {
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  /** Lanes that may have jobs ready, in turn order (a lane fetched from goes to the back). */
  private readonly withWork = new Set<string>();
  private lastPoll = 0;
  /** Fetches made beside the loop (wake), still running. */
  private readonly asides = new Set<Promise<unknown>>();
  /** Lanes being fetched from now. */
  private readonly fetching = new Set<string>();
  /** Fetches per lane, to give background work its turn. */
  private readonly fetches = new Map<string, number>();
  /** The loop waits for places to free (lanes full, or busy webhooks skipped): finishing deliveries wake it. */
  private waitingForRoom = false;
  /**
   * Instances per fetched job, lately (a job carries 1 to DELIVERIES_PER_JOB): a fetch
   * asks for as many jobs as there is room for instances, so one webhook's big jobs
   * cannot fill this worker's hands before it is seen to be busy. Starts at the most.
   */
  private perJob = DELIVERIES_PER_JOB;

  constructor(
    private readonly source: LaneSource,
    private readonly batchSize: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  /**
   * New deliveries may be waiting (in `lane`, or anywhere): fetch now. A lane this worker holds nothing of is fetched from at once,
   * beside whatever the loop is doing, so a tenant that publishes now and then does not wait for a flooding one's turn.
   */
  wake(lane?: string): void {
    if (lane && !this.stopping && this.source.held(lane) === 0 && !this.fetching.has(lane)) {
      const fetching = this.fetchFrom(lane, this.roomOf(lane, [...new Set([...this.source.inHand(), ...this.withWork, lane])])).catch((error: unknown) => {
        this.log.error({ err: error, lane }, 'could not take fetched delivery jobs');
      });
      this.asides.add(fetching);
      void fetching.finally(() => this.asides.delete(fetching));
      return;
    }
    if (lane) this.withWork.add(lane);
    else this.lastPoll = 0;
    this.woken = true;
    this.wakeUp?.();
  }

  /** Places freed: fetch now if the loop was waiting for them. */
  freed(): void {
    if (this.waitingForRoom) {
      this.woken = true;
      this.wakeUp?.();
    }
  }

  /** Stops fetching: resolves once the loop and every fetch made beside it are over (what they took is in hand). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await Promise.all([this.loop, ...this.asides]);
  }

  /** How many instances a lane may still bring in: its weighted part of the hands, less what it holds. */
  private roomOf(lane: string, sharing: string[]): number {
    const total = sharing.reduce((sum, l) => sum + this.source.weight(l), 0);
    return Math.floor((this.source.hands() * this.source.weight(lane)) / total) - this.source.held(lane);
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      this.woken = false;
      if (Date.now() - this.lastPoll >= POLL_MS) await this.poll();
      const sharing = [...new Set([...this.source.inHand(), ...this.withWork])];
      // A lane holding nothing here may always take a job, however small its part.
      const due = [...this.withWork].filter((lane) => this.source.held(lane) === 0 || this.roomOf(lane, sharing) >= Math.min(this.perJob, this.batchSize));
      const results: Array<'all' | 'short' | 'busy'> = [];
      for (let i = 0; i < due.length && !this.stopping; i += FETCHES_AT_ONCE) {
        results.push(...(await Promise.all(due.slice(i, i + FETCHES_AT_ONCE).map((lane) => this.fetchFrom(lane, this.roomOf(lane, sharing))))));
      }
      // A lane had as many as it asked for: more may be ready, for the room left.
      if (this.stopping || this.woken || results.includes('all')) continue;
      // Lanes with work but no room (their part is in hand), or busy webhooks skipped: places freeing wake the loop.
      this.waitingForRoom = this.withWork.size > 0;
      await this.pause(Math.max(1, POLL_MS - (Date.now() - this.lastPoll)));
      this.waitingForRoom = false;
    }
  }

  /** Asks the queue which lanes have jobs ready (other processes' work, retries whose time came). */
  private async poll(): Promise<void> {
    this.lastPoll = Date.now();
    try {
      for (const lane of await this.source.ready()) this.withWork.add(lane);
    } catch (error) {
      this.log.error({ err: error }, 'could not poll the delivery queue; trying again');
    }
  }

  /** Fetches up to `room` instances' worth of a lane's jobs; a lane that had fewer ready leaves the lanes with work. */
  private async fetchFrom(lane: string, room: number): Promise<'all' | 'short' | 'busy'> {
    if (this.fetching.has(lane)) return 'busy';
    this.fetching.add(lane);
    try {
      return await this.fetchOnce(lane, room);
    } finally {
      this.fetching.delete(lane);
    }
  }

  private async fetchOnce(lane: string, room: number): Promise<'all' | 'short' | 'busy'> {
    const asked = Math.max(1, Math.min(this.batchSize, Math.floor(room / this.perJob)));
    const skip = this.source.busy(lane);
    const n = (this.fetches.get(lane) ?? 0) + 1;
    this.fetches.set(lane, n % BACKGROUND_EVERY);
    let jobs: Job[] = [];
    try {
      jobs = await this.source.fetch(lane, asked, skip, n % BACKGROUND_EVERY === 0);
      // Background first found too few: the rest of the turn goes to whatever is ready.
      if (jobs.length < asked && n % BACKGROUND_EVERY === 0) jobs = jobs.concat(await this.source.fetch(lane, asked - jobs.length, skip, false));
    } catch (error) {
      this.log.error({ err: error, lane }, 'could not fetch delivery jobs; trying again');
      return 'busy';
    }
    this.withWork.delete(lane);
    if (jobs.length) this.perJob = Math.max(1, 0.7 * this.perJob + (0.3 * this.source.take(jobs)) / jobs.length);
    if (jobs.length < asked) {
      // Nothing more ready, unless busy webhooks' jobs were skipped: those come when places free.
      if (skip.length) {
        this.withWork.add(lane);
        return 'busy';
      }
      return 'short';
    }
    this.withWork.add(lane); // more may be ready: it goes to the back of the turn
    return 'all';
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
