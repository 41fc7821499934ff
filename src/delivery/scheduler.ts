import type { Job } from './ledger.ts';

/** One delivery of a job: an instance to send. */
export interface Unit {
  job: Job;
  instanceId: string;
  /** The job's instances may be RETRYING ones (a retry's job). */
  retry: boolean;
}

/**
 * Per webhook (job group): requests on their way here, instances waiting, when its gate lets them go, and failed attempts in a row;
 * at the breaker's threshold it sends nothing more until those are recorded, so the circuit opens before a backlog's worth goes.
 */
interface Line {
  sending: number;
  waiting: Unit[];
  blockedUntil: number;
  timer?: NodeJS.Timeout;
  failingHere: number;
  /** The outcome that reached the threshold, until it is recorded. */
  awaitingGate?: object;
}

export interface SchedulerLimits {
  workerConcurrency: number;
  webhookConcurrency: number;
  breakerFailures: number;
}

/** A tenant's part of this worker: its webhooks' lines, and its places taken. */
interface Share {
  lines: Map<string, Line>;
  sending: number;
  waiting: number;
}

/**
 * Places kept for tenants that hold few (fewer than `light` may take one of the last `reserve`), so a tenant whose receivers take
 * seconds cannot make another tenant's delivery wait; with up to 9 places none are kept.
 */
export function reserveOf(workerConcurrency: number): { reserve: number; light: number } {
  const reserve = Math.floor(workerConcurrency / 10);
  return { reserve, light: Math.max(1, Math.floor(reserve / 4)) };
}

/**
 * The fair scheduler: `workerConcurrency` places shared between tenants by weight, within a tenant between its webhooks, at most
 * `webhookConcurrency` to one: a slow receiver holds its own places, never everyone's.
 */
export class FairScheduler {
  /** By lane (tenant), in turn order: the tenant served last goes to the back. */
  private readonly shares = new Map<string, Share>();
  sending = 0;
  waiting = 0;
  private startScheduled = false;
  private stopped = false;
  private readonly reserve: { reserve: number; light: number };

  constructor(
    private readonly limits: SchedulerLimits,
    /** Starts units given places (one claim for them all). */
    private readonly start: (units: Unit[]) => void,
    /** Places were freed. */
    private readonly freed: () => void,
    /** A tenant's weight (lane): its places at a turn. */
    private readonly weightOf: (lane: string) => number = () => 1,
  ) {
    this.reserve = reserveOf(limits.workerConcurrency);
  }

  /** Queues a job's instances behind its webhook. */
  enqueue(job: Job, instanceIds: string[], retry: boolean): void {
    const { share, line } = this.lineOf(job);
    for (const instanceId of instanceIds) line.waiting.push({ job, instanceId, retry });
    share.waiting += instanceIds.length;
    this.waiting += instanceIds.length;
  }

  /** Instances of a lane (tenant) in this worker's hands: waiting here or on their way. */
  held(lane: string): number {
    const share = this.shares.get(lane);
    return share ? share.waiting + share.sending : 0;
  }

  /** Lanes (tenants) with instances in this worker's hands. */
  lanes(): string[] {
    return [...this.shares.keys()];
  }

  /**
   * A lane's webhooks with their share on the way and as many again waiting: their jobs
   * stay in the queue (the fetch skips them) rather than fill this worker's hands, so the
   * jobs of the lane's other webhooks behind them are still fetched.
   */
  busyWebhooks(lane: string): string[] {
    const busy: string[] = [];
    for (const [key, line] of this.shares.get(lane)?.lines ?? []) if (line.waiting.length >= this.limits.webhookConcurrency && !key.startsWith('job:')) busy.push(key);
    return busy;
  }

  /**
   * Starts waiting instances while places are free: each to the tenant holding the fewest for its weight (longest unserved among
   * equals), then its webhook holding the fewest, so places converge to the shares however long requests take.
   */
  startWaiting(): void {
    const ready: Unit[] = [];
    const now = Date.now();
    const stuck = new Set<Share>();
    while (this.sending < this.limits.workerConcurrency) {
      let next: { lane: string; share: Share; load: number } | undefined;
      for (const [lane, share] of this.shares) {
        if (share.waiting === 0 || stuck.has(share) || !this.mayTake(share)) continue;
        const load = share.sending / this.weightOf(lane);
        if (!next || load < next.load) next = { lane, share, load };
      }
      if (!next) break;
      const unit = this.nextOf(next.share, now);
      if (!unit) {
        stuck.add(next.share);
        continue;
      }
      ready.push(unit);
      next.share.sending += 1;
      next.share.waiting -= 1;
      this.sending += 1;
      this.waiting -= 1;
      this.shares.delete(next.lane);
      this.shares.set(next.lane, next.share);
    }
    for (const [lane, share] of this.shares) {
      if (share.waiting === 0 && share.sending === 0 && [...share.lines.values()].every((line) => !line.timer)) this.shares.delete(lane);
    }
    if (ready.length) this.start(ready);
  }

  /** Whether a tenant may take a free place now: the last few go only to tenants that hold few. */
  private mayTake(share: Share): boolean {
    const free = this.limits.workerConcurrency - this.sending;
    return free > this.reserve.reserve || share.sending < this.reserve.light;
  }

  /** The next instance of a tenant's webhooks: of the startable one holding the fewest places (the one served longest ago among equals), which goes to the back. */
  private nextOf(share: Share, now: number): Unit | undefined {
    let best: [string, Line] | undefined;
    for (const entry of share.lines) {
      const [key, line] = entry;
      if (line.waiting.length === 0) {
        if (line.sending === 0 && !line.timer && !line.awaitingGate) share.lines.delete(key);
        continue;
      }
      if (line.sending >= this.limits.webhookConcurrency || line.awaitingGate || line.blockedUntil > now) continue;
      if (!best || line.sending < best[1].sending) best = entry;
      if (line.sending === 0) break;
    }
    if (!best) return undefined;
    const [key, line] = best;
    line.sending += 1;
    share.lines.delete(key);
    share.lines.set(key, line);
    return line.waiting.shift()!;
  }

  /** A request finished (or never started): its place goes to the next waiting instance. */
  release(unit: Unit): void {
    const { share, line } = this.lineOf(unit.job);
    line.sending -= 1;
    share.sending -= 1;
    this.sending -= 1;
    if (this.startScheduled) return;
    this.startScheduled = true;
    setImmediate(() => {
      this.startScheduled = false;
      this.startWaiting();
      this.freed();
    });
  }

  /** Units the gate did not let through yet: back to the front of their webhook's line, which waits until `retryAt`. */
  holdBack(units: Unit[], retryAt: Date): void {
    const { share, line } = this.lineOf(units[0]!.job);
    line.waiting.unshift(...units);
    share.waiting += units.length;
    this.waiting += units.length;
    line.blockedUntil = Math.max(line.blockedUntil, retryAt.getTime());
    const wakeAtTheEnd = () => {
      line.timer = undefined;
      if (this.stopped) return;
      if (line.blockedUntil > Date.now()) line.timer = setTimeout(wakeAtTheEnd, line.blockedUntil - Date.now());
      else this.startWaiting();
    };
    line.timer ??= setTimeout(wakeAtTheEnd, Math.max(1, line.blockedUntil - Date.now()));
    for (const unit of units) this.release(unit);
  }

  /** An attempt came back: counts the receiver's failures in a row here; at the breaker's threshold the webhook waits for `outcome` to be recorded. */
  attempted(unit: Unit, ok: boolean, receiverFailure: boolean, outcome: object): void {
    const { line } = this.lineOf(unit.job);
    if (ok) line.failingHere = 0;
    else if (receiverFailure && (line.failingHere += 1) >= this.limits.breakerFailures) line.awaitingGate ??= outcome;
  }

  /** Outcomes were recorded: a webhook that stopped at the breaker's threshold goes on (its gate decides from now on). */
  recorded(outcomes: Array<{ job: Job }>): void {
    let any = false;
    for (const outcome of outcomes) {
      const line = this.shares.get(outcome.job.name)?.lines.get(keyOf(outcome.job));
      if (line?.awaitingGate !== outcome) continue;
      line.awaitingGate = undefined;
      line.failingHere = 0;
      any = true;
    }
    if (any) this.startWaiting();
  }

  /** Takes the waiting units of these jobs out of their lines, answering them. */
  remove(jobIds: Set<string>): Unit[] {
    const removed: Unit[] = [];
    for (const share of this.shares.values()) {
      for (const line of share.lines.values()) {
        const kept = line.waiting.filter((unit) => !jobIds.has(unit.job.id));
        removed.push(...line.waiting.filter((unit) => jobIds.has(unit.job.id)));
        share.waiting -= line.waiting.length - kept.length;
        this.waiting -= line.waiting.length - kept.length;
        line.waiting = kept;
      }
    }
    return removed;
  }

  /** Jobs with instances still waiting. */
  waitingJobs(): Job[] {
    return [...new Set([...this.shares.values()].flatMap((share) => [...share.lines.values()].flatMap((line) => line.waiting.map((unit) => unit.job))))];
  }

  stop(): void {
    this.stopped = true;
    for (const share of this.shares.values()) for (const line of share.lines.values()) clearTimeout(line.timer);
  }

  /** Jobs are grouped by lane (tenant), then by webhook; a job without a group is its own. */
  private lineOf(job: Job): { share: Share; line: Line } {
    let share = this.shares.get(job.name);
    if (!share) this.shares.set(job.name, (share = { lines: new Map(), sending: 0, waiting: 0 }));
    const key = keyOf(job);
    let line = share.lines.get(key);
    if (!line) share.lines.set(key, (line = { sending: 0, waiting: [], blockedUntil: 0, failingHere: 0 }));
    return { share, line };
  }
}

const keyOf = (job: Job) => job.groupId ?? `job:${job.id}`;
