import { GraphQLError, type ExecutionResult } from 'graphql';

/** Results a subscriber may fall behind by before its subscription ends (it then catches up with a query). */
export const MAX_BEHIND = 1024;

/** The error a subscriber that fell too far behind ends with. */
export const fellBehind = () =>
  new GraphQLError(`this subscriber fell more than ${MAX_BEHIND} changes behind; subscribe again and catch up with a query (instances(filter: { updatedSince }))`);

type Started = AsyncIterable<ExecutionResult> | ExecutionResult;

/**
 * Subscribers who asked for the same thing (the same operation and variables, with the
 * same key) share one execution: each change is loaded, resolved and shaped once, and
 * its result handed to each of them. Each subscriber has its own queue: one that reads
 * slowly (its socket backs up) falls behind alone and, past MAX_BEHIND results, is
 * ended with an error, while the others go on.
 */
export class SharedSubscriptions {
  private readonly starting = new Map<string, Promise<Source | ExecutionResult>>();

  async subscribe(key: string, start: () => Started | Promise<Started>): Promise<Started> {
    for (;;) {
      let pending = this.starting.get(key);
      if (!pending) {
        pending = this.open(key, start);
        this.starting.set(key, pending);
      }
      const source = await pending;
      if (!(source instanceof Source)) return source;
      const sink = source.join();
      if (sink) return sink;
      // It closed meanwhile (its last subscriber left): start another.
    }
  }

  /** Executions running (for tests and metrics). */
  get size(): number {
    return this.starting.size;
  }

  private async open(key: string, start: () => Started | Promise<Started>): Promise<Source | ExecutionResult> {
    let started: Started;
    try {
      started = await start();
    } catch (error) {
      this.starting.delete(key);
      throw error;
    }
    // An error answer (bad arguments, not found): given to whoever asked, not kept.
    if (!(Symbol.asyncIterator in started)) {
      this.starting.delete(key);
      return started;
    }
    return new Source(started[Symbol.asyncIterator](), () => this.starting.delete(key));
  }
}

/** One execution, and the subscribers it feeds. */
class Source {
  private readonly sinks = new Set<Sink>();
  private closed = false;

  constructor(
    private readonly upstream: AsyncIterator<ExecutionResult>,
    private readonly forget: () => void,
  ) {
    void this.pump();
  }

  join(): Sink | undefined {
    if (this.closed) return undefined;
    const sink = new Sink(() => {
      this.sinks.delete(sink);
      if (this.sinks.size === 0) this.close();
    });
    this.sinks.add(sink);
    return sink;
  }

  private async pump(): Promise<void> {
    let failure: Error | undefined;
    try {
      for (;;) {
        const next = await this.upstream.next();
        if (next.done) break;
        for (const sink of this.sinks) sink.push(next.value);
      }
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    }
    this.close();
    for (const sink of [...this.sinks]) sink.end(failure);
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.forget();
    void this.upstream.return?.();
  }
}

/** What one subscriber reads: its own queue of the shared results. */
class Sink implements AsyncIterableIterator<ExecutionResult> {
  private readonly queue: ExecutionResult[] = [];
  private waiting: { resolve: (r: IteratorResult<ExecutionResult>) => void; reject: (e: Error) => void } | undefined;
  private finished = false;
  private failure: Error | undefined;

  constructor(private readonly leave: () => void) {}

  push(value: ExecutionResult): void {
    if (this.finished) return;
    if (this.waiting) {
      const { resolve } = this.waiting;
      this.waiting = undefined;
      resolve({ value, done: false });
    } else if (this.queue.length >= MAX_BEHIND) this.end(fellBehind());
    else this.queue.push(value);
  }

  /** No more results: what is queued is still read, then the failure (if any) is thrown. */
  end(failure?: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.failure = failure;
    this.leave();
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) this.settle().then(waiting.resolve, waiting.reject);
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift()!, done: false });
    if (this.finished) return this.settle();
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  private settle(): Promise<IteratorResult<ExecutionResult>> {
    const failure = this.failure;
    this.failure = undefined;
    return failure ? Promise.reject(failure) : Promise.resolve({ value: undefined, done: true });
  }

  /** The subscriber left (graphql-ws completes it): it stops at once, even while waiting. */
  return(): Promise<IteratorResult<ExecutionResult>> {
    this.queue.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(): Promise<IteratorResult<ExecutionResult>> {
    return this.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
