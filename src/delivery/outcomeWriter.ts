import type { Settlement } from '../store/instances.ts';
import type { DeliveryTrace } from '../telemetry/tracing.ts';
import type { Job } from './ledger.ts';

/** An instance finished here: sent (`settlement`, to record) or with nothing to send; `job` is the job it came in. */
export interface Finished {
  job: Job;
  settlement?: Settlement;
  /** Its spans (tracing on), ended once it is recorded. */
  trace?: DeliveryTrace;
}

/** Largest group of outcomes recorded in one transaction. */
const GROUP = 500;

/**
 * Records outcomes in groups as they come back (group commit): outcomes that arrive
 * while a group is being written go in the next one. A group that cannot be written
 * is written one by one, so one bad outcome does not hold up the others.
 */
export class OutcomeWriter {
  private readonly queued: Finished[] = [];
  private writing = false;

  constructor(
    private readonly write: (group: Finished[]) => Promise<void>,
    private readonly on: {
      /** Recorded (or given up): no longer open. */
      done(group: Finished[]): void;
      /** Could not be recorded even alone. */
      failed(one: Finished, error: unknown): Promise<void>;
      /** A group is over, recorded or not. */
      settled(group: Finished[]): void;
    },
  ) {}

  record(finished: Finished): void {
    this.queued.push(finished);
    if (!this.writing) void this.writeGroups();
  }

  private async writeGroups(): Promise<void> {
    this.writing = true;
    while (this.queued.length) {
      const group = this.queued.splice(0, GROUP);
      try {
        await this.write(group);
        this.on.done(group);
      } catch (error) {
        for (const one of group) {
          const failure = group.length === 1 ? error : await this.write([one]).then(() => undefined, (e: unknown) => e ?? new Error('write failed'));
          if (failure) await this.on.failed(one, failure);
          this.on.done([one]);
        }
      }
      this.on.settled(group);
    }
    this.writing = false;
  }
}
