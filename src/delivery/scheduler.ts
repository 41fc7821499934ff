import type { Job } from './ledger.ts';

/** One delivery of a job: an instance to send. */
export interface Unit {
  job: Job;
  instanceId: string;
  /** The job's instances may be RETRYING ones (a retry's job). */
  retry: boolean;
}

/**
 * Per webhook (job group): its requests on their way here, its instances waiting, until
 * when its gate holds them back, and its failed attempts in a row here: at the circuit
 * breaker's threshold it sends nothing more until those outcomes are recorded (and the
 * circuit, open by then, is in force), so a receiver that refuses at once does not get
 * a whole backlog's worth of attempts before the first of them is written.
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

/**
 * The fair per-webhook scheduler: up to `workerConcurrency` requests on their way, at
 * most `webhookConcurrency` of them to one webhook, started round robin over webhooks.
 * An instance whose webhook already has its share on the way waits here, unclaimed, for
 * one of them to finish: a slow receiver holds its own places, never everyone's.
 */
export class FairScheduler {
  private readonly lines = new Map<string, Line>();
  sending = 0;
  waiting = 0;
  private startScheduled = false;
  private stopped = false;

  constructor(
    private readonly limits: SchedulerLimits,
    /** Starts units given places (one claim for them all). */
    private readonly start: (units: Unit[]) => void,
    /** Places were freed. */
    private readonly freed: () => void,
  ) {}

  /** Queues a job's instances behind its webhook. */
  enqueue(job: Job, instanceIds: string[], retry: boolean): void {
    const line = this.lineOf(job);
    for (const instanceId of instanceIds) line.waiting.push({ job, instanceId, retry });
    this.waiting += instanceIds.length;
  }

  /**
   * Webhooks with their share on the way and as many again waiting: their jobs stay in
   * the queue (the fetch skips them) rather than fill this worker's hands, so the jobs of
   * other webhooks behind them are still fetched.
   */
  busyWebhooks(): string[] {
    const busy: string[] = [];
    for (const [key, line] of this.lines) if (line.waiting.length >= this.limits.webhookConcurrency && !key.startsWith('job:')) busy.push(key);
    return busy;
  }

  /** Starts waiting instances, round robin over webhooks, while places are free. */
  startWaiting(): void {
    const ready: Unit[] = [];
    let progress = true;
    while (progress && this.sending < this.limits.workerConcurrency) {
      progress = false;
      for (const [key, line] of this.lines) {
        if (this.sending >= this.limits.workerConcurrency) break;
        if (line.waiting.length === 0) {
          if (line.sending === 0 && !line.timer) this.lines.delete(key);
          continue;
        }
        if (line.sending >= this.limits.webhookConcurrency || line.awaitingGate || line.blockedUntil > Date.now()) continue;
        ready.push(line.waiting.shift()!);
        line.sending += 1;
        this.sending += 1;
        this.waiting -= 1;
        progress = true;
      }
    }
    if (ready.length) this.start(ready);
  }

  /** A request finished (or never started): its place goes to the next waiting instance. */
  release(unit: Unit): void {
    const line = this.lineOf(unit.job);
    line.sending -= 1;
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
    const line = this.lineOf(units[0]!.job);
    line.waiting.unshift(...units);
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
    const line = this.lineOf(unit.job);
    if (ok) line.failingHere = 0;
    else if (receiverFailure && (line.failingHere += 1) >= this.limits.breakerFailures) line.awaitingGate ??= outcome;
  }

  /** Outcomes were recorded: a webhook that stopped at the breaker's threshold goes on (its gate decides from now on). */
  recorded(outcomes: Array<{ job: Job }>): void {
    let any = false;
    for (const outcome of outcomes) {
      const line = this.lines.get(keyOf(outcome.job));
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
    for (const line of this.lines.values()) {
      const kept = line.waiting.filter((unit) => !jobIds.has(unit.job.id));
      removed.push(...line.waiting.filter((unit) => jobIds.has(unit.job.id)));
      this.waiting -= line.waiting.length - kept.length;
      line.waiting = kept;
    }
    return removed;
  }

  /** Jobs with instances still waiting. */
  waitingJobs(): Job[] {
    return [...new Set([...this.lines.values()].flatMap((line) => line.waiting.map((unit) => unit.job)))];
  }

  stop(): void {
    this.stopped = true;
    for (const line of this.lines.values()) clearTimeout(line.timer);
  }

  /** Jobs are grouped by webhook when enqueued; a job without a group is its own. */
  private lineOf(job: Job): Line {
    const key = keyOf(job);
    let line = this.lines.get(key);
    if (!line) this.lines.set(key, (line = { sending: 0, waiting: [], blockedUntil: 0, failingHere: 0 }));
    return line;
  }
}

const keyOf = (job: Job) => job.groupId ?? `job:${job.id}`;
