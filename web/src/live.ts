// The live connection: graphql-ws on /graphql for subscriptions, its state as a person
// should read it, and subscriptions that stay subscribed through reconnects.
import { createClient, type Client } from 'graphql-ws';
import { ApiError, toApiError, type WireError } from './errors.ts';
import { textOf, type TadaDocumentNode } from './graphql.ts';
import { onKeyChanged, refused, savedKey } from './session.ts';

let wsClient: Client | undefined;
// A new key: the next subscription connects with it.
onKeyChanged(() => {
  wsClient?.dispose();
  wsClient = undefined;
});
/** What each live subscription does to catch up after it may have missed changes. */
const catchUps = new Set<() => void>();

/**
 * The live connection as a person should read it: `connecting` (first time), `live`,
 * `reconnecting` (lost, trying again), `offline` (lost for OFFLINE_AFTER_MS or more),
 * `idle` (nothing subscribed, so no connection is wanted). `since`: when it last changed.
 */
export type LiveState = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'offline';
export interface Connection {
  state: LiveState;
  since: number;
}
/** How long a lost connection says "reconnecting" before it says "offline". */
export const OFFLINE_AFTER_MS = 10_000;
/** A ping every PING_MS; no pong within PONG_MS and the connection is taken as lost (a server that froze, a network that dropped). */
const PING_MS = 5_000;
const PONG_MS = 3_000;

let connection: Connection = { state: 'idle', since: Date.now() };
const watchers = new Set<(c: Connection) => void>();
let subscriptions = 0;
let offlineTimer: ReturnType<typeof setTimeout> | undefined;

function setConnection(state: LiveState): void {
  if (state === connection.state) return;
  clearTimeout(offlineTimer);
  if (state === 'reconnecting') offlineTimer = setTimeout(() => setConnection('offline'), OFFLINE_AFTER_MS);
  // Lost and still trying: it stays offline until it is back.
  if (connection.state === 'offline' && state === 'reconnecting') return;
  connection = { state, since: Date.now() };
  for (const watch of watchers) watch(connection);
}

/** Follows the live connection; answers the way to stop following. */
export function watchConnection(watch: (c: Connection) => void): () => void {
  watchers.add(watch);
  watch(connection);
  return () => watchers.delete(watch);
}

function isRefusal(event: unknown): boolean {
  const code = (event as CloseEvent | undefined)?.code;
  return code === 4401 || code === 4403;
}

function client(): Client {
  if (!wsClient) {
    const url = new URL('/graphql', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let socket: WebSocket | undefined;
    let pongDue: ReturnType<typeof setTimeout> | undefined;
    // Lost while something was subscribed (not closed because nothing was: the client is lazy).
    let lost = false;
    wsClient = createClient({
      url: url.toString(),
      connectionParams: () => ({ authorization: `Bearer ${savedKey() ?? ''}` }),
      retryAttempts: Infinity,
      // Not once the server refused the key (4401) or it was revoked or ended (4403).
      shouldRetry: (event) => !isRefusal(event),
      lazy: true,
      keepAlive: PING_MS,
      on: {
        connecting: () => setConnection(lost ? 'reconnecting' : 'connecting'),
        opened: (opened) => (socket = opened as WebSocket),
        connected: () => {
          lost = false;
          setConnection('live');
        },
        closed: (event) => {
          if (isRefusal(event)) refused((event as CloseEvent).reason);
          clearTimeout(pongDue);
          socket = undefined;
          lost = subscriptions > 0;
          setConnection(lost ? 'reconnecting' : 'idle');
        },
        ping: (received) => {
          if (received) return;
          clearTimeout(pongDue);
          pongDue = setTimeout(() => socket?.readyState === WebSocket.OPEN && socket.close(4408, 'no pong'), PONG_MS);
        },
        pong: (received) => received && clearTimeout(pongDue),
      },
    });
    // The client subscribes again after a reconnect; what changed meanwhile is read afresh.
    wsClient.on('connected', (_socket, _payload, wasRetry) => {
      if (wasRetry) for (const catchUp of catchUps) catchUp();
    });
  }
  return wsClient;
}

/**
 * Subscribes and stays subscribed: when the server ends it or the connection drops, `onGap` reads what may have been missed and it
 * starts again. Answers the unsubscribe function.
 */
export function subscribe<T, V>(
  document: TadaDocumentNode<T, V>,
  variables: V,
  onData: (data: T) => void,
  { onGap, onError }: { onGap?: () => void; onError?: (error: ApiError) => void } = {},
): () => void {
  let stopped = false;
  let off: () => void = () => undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const again = () => {
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      if (stopped) return;
      onGap?.();
      start();
    }, 1000);
  };
  const start = () => {
    off = client().subscribe<T>(
      { query: textOf(document), variables: variables as Record<string, unknown> },
      {
        next: (result) => {
          if (result.errors?.length) onError?.(toApiError(result.errors as readonly WireError[]));
          else if (result.data) onData(result.data as T);
        },
        error: (error) => {
          onError?.(new ApiError(error instanceof Error ? error.message : Array.isArray(error) ? error.map((e) => e.message).join('; ') : 'the subscription ended', 'WS', []));
          again();
        },
        complete: again,
      },
    );
  };
  if (onGap) catchUps.add(onGap);
  subscriptions += 1;
  start();
  return () => {
    if (!stopped) subscriptions -= 1;
    stopped = true;
    clearTimeout(retry);
    if (onGap) catchUps.delete(onGap);
    off();
  };
}
