import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface Subscription<T> {
  /** Everything received so far. */
  values: T[];
  /** Resolves once `count` values have arrived (fails after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<T[]>;
  /** Resolves with the close event (or error) that ended the subscription. */
  ended: Promise<unknown>;
  client: Client;
}

/** A real graphql-ws client subscribed to `query` on a listening Herald. */
export function subscribe<T = any>(graphqlUrl: string, key: string, query: string, variables?: Record<string, unknown>): Subscription<T> {
  let ack: () => void;
  const acknowledged = new Promise<void>((resolve) => (ack = resolve));
  let closed: (value: unknown) => void;
  const ended = new Promise<unknown>((resolve) => (closed = resolve));
  const client = createClient({
    url: graphqlUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
    on: { connected: () => ack(), closed: (event) => closed(event) },
  });
  const values: T[] = [];
  const waiters: Array<{ count: number; resolve: (v: T[]) => void }> = [];
  client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        if (value.errors) values.push({ errors: value.errors } as T);
        else values.push(value.data as T);
        for (const w of waiters.filter((w) => values.length >= w.count)) w.resolve(values);
      },
      error: (error) => closed(error),
      complete: () => closed('complete'),
    },
  );
  return {
    values,
    client,
    ended,
    waitFor(count, timeoutMs = 15_000) {
      if (values.length >= count) return Promise.resolve(values);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`got ${values.length} of ${count} values: ${JSON.stringify(values)}`)), timeoutMs);
        waiters.push({ count, resolve: (v) => (clearTimeout(timer), resolve(v)) });
      });
    },
    // Subscriptions start after the connection is acknowledged; give the server a moment to register it.
    ...{ ready: acknowledged },
  } as Subscription<T> & { ready: Promise<void> };
}

/** Waits until the server has registered the subscription (graphql-ws acknowledges the connection first). */
export async function ready(sub: Subscription<unknown>): Promise<void> {
  await (sub as unknown as { ready: Promise<void> }).ready;
  await new Promise((r) => setTimeout(r, 400));
}
