import { GraphQLError, type ExecutionResult } from 'graphql';
import { MessageType } from 'graphql-ws';
import type { Outlet } from './socketWrites.ts';

/** Results a subscriber may fall behind by, once its socket backs up, before its subscription ends (it then catches up with a query). */
export const MAX_BEHIND = 1024;

/** The error a subscriber that fell too far behind ends with. */
export const fellBehind = (limit = MAX_BEHIND) =>
  new GraphQLError(`this subscriber fell more than ${limit} changes behind; subscribe again and catch up with a query (instances(filter: { updatedSince }))`);

/** A graphql-ws subscription: its id on the connection, and the connection's socket. */
export interface Subscriber {
  id: string;
  outlet: Outlet;
}

type Started = AsyncIterable<ExecutionResult> | ExecutionResult;

/**
 * Subscribers who asked the same (operation, variables, key) share one execution, written to each socket outside graphql-ws's
 * per-subscriber pipeline; one that backs up past MAX_BEHIND is ended (docs/architecture.md, "Live updates").
 */
export class SharedSubscriptions {
  private readonly starting = new Map<string, Promise<Source | ExecutionResult>>();
  private readonly count = { subscribers: 0 };

  constructor(private readonly maxBehind = MAX_BEHIND) {}

  async subscribe(key: string, subscriber: Subscriber, start: () => Started | Promise<Started>): Promise<Started> {
    for (;;) {
      let pending = this.starting.get(key);
      if (!pending) {
        pending = this.open(key, start);
        this.starting.set(key, pending);
      }
      const source = await pending;
      if (!(source instanceof Source)) return source;
      const sink = source.join(subscriber, this.maxBehind);
      if (sink) return sink;
      // It closed meanwhile (its last subscriber left): start another.
    }
  }

  /** Executions running (for tests). */
  get size(): number {
    return this.starting.size;
  }

  /** Subscribers fed, all executions together (for the metrics). */
  get subscribers(): number {
    return this.count.subscribers;
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
    return new Source(started[Symbol.asyncIterator](), () => this.starting.delete(key), this.count);
  }
}

/** A result as graphql-ws sends it in a `next` message (errors as their JSON; none when there are none). */
function serialised({ errors, ...result }: ExecutionResult): string {
  return JSON.stringify(errors ? { ...result, errors: errors.map((e) => e.toJSON()) } : result);
}

/** One execution, and the subscribers it feeds. */
class Source {
  private readonly sinks = new Set<Sink>();
  private closed = false;

  constructor(
    private readonly upstream: AsyncIterator<ExecutionResult>,
    private readonly forget: () => void,
    private readonly count: { subscribers: number },
  ) {
    void this.pump();
  }

  join(subscriber: Subscriber, maxBehind: number): Sink | undefined {
    if (this.closed) return undefined;
    const sink = new Sink(subscriber, maxBehind, () => {
      this.sinks.delete(sink);
      this.count.subscribers -= 1;
      if (this.sinks.size === 0) this.close();
    });
    this.sinks.add(sink);
    this.count.subscribers += 1;
    return sink;
  }

  private async pump(): Promise<void> {
    let failure: Error | undefined;
    try {
      for (;;) {
        const next = await this.upstream.next();
        if (next.done) break;
        const payload = serialised(next.value);
        for (const sink of this.sinks) sink.push(payload);
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

/**
 * One subscriber: writes each shared result to its socket, or keeps it while the socket is backed up; to graphql-ws an iterator that
 * yields nothing and ends with the subscription (its `return` is how graphql-ws ends it).
 */
class Sink implements AsyncIterableIterator<never> {
  /** `{"id":…,"type":"next","payload":` for this subscriber. */
  private readonly prefix: string;
  private readonly waiting: string[] = [];
  private draining = false;
  private finished = false;
  private failure: Error | undefined;
  private ended: { resolve: (r: IteratorResult<never>) => void; reject: (e: Error) => void } | undefined;

  constructor(
    private readonly subscriber: Subscriber,
    private readonly maxBehind: number,
    private readonly leave: () => void,
  ) {
    this.prefix = `{"id":${JSON.stringify(subscriber.id)},"type":"${MessageType.Next}","payload":`;
  }

  push(payload: string): void {
    if (this.finished) return;
    const message = `${this.prefix}${payload}}`;
    if (this.waiting.length === 0 && !this.subscriber.outlet.backedUp) return this.subscriber.outlet.send(message);
    if (this.waiting.length >= this.maxBehind) return this.end(fellBehind(this.maxBehind));
    this.waiting.push(message);
    this.drainLater();
  }

  private drainLater(): void {
    if (this.draining) return;
    this.draining = true;
    this.subscriber.outlet.onDrain(() => {
      this.draining = false;
      if (this.finished) return;
      let sent = 0;
      while (sent < this.waiting.length && !this.subscriber.outlet.backedUp) this.subscriber.outlet.send(this.waiting[sent++]!);
      this.waiting.splice(0, sent);
      if (this.waiting.length > 0) this.drainLater();
    });
  }

  /** No more results; graphql-ws then sends `complete`, or the failure as an `error`. What still waits for the socket is dropped. */
  end(failure?: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.failure = failure;
    this.waiting.length = 0;
    this.leave();
    const ended = this.ended;
    this.ended = undefined;
    if (ended) this.settle().then(ended.resolve, ended.reject);
  }

  next(): Promise<IteratorResult<never>> {
    if (this.finished) return this.settle();
    return new Promise((resolve, reject) => (this.ended = { resolve, reject }));
  }

  private settle(): Promise<IteratorResult<never>> {
    const failure = this.failure;
    this.failure = undefined;
    return failure ? Promise.reject(failure) : Promise.resolve({ value: undefined, done: true });
  }

  /** The subscriber left: it stops at once, even while waiting. */
  return(): Promise<IteratorResult<never>> {
    this.end();
    this.failure = undefined;
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(): Promise<IteratorResult<never>> {
    return this.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
