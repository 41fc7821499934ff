// The dashboard's only door to Herald: GraphQL over HTTP for queries and
// mutations, graphql-ws on the same path for subscriptions. The API key lives
// in sessionStorage: it is gone when the tab closes.
import { createClient, type Client } from 'graphql-ws';

const KEY = 'herald.apiKey';

export function savedKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function saveKey(key: string | null): void {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
  wsClient?.dispose();
  wsClient = undefined;
}

/** The portal link this page was opened from (`/portal/<link>`), or null: a vendor's embedded dashboard. */
export function portalLink(): string | null {
  return location.pathname.startsWith(PORTAL_PATH) ? location.pathname.slice(PORTAL_PATH.length) : null;
}
const PORTAL_PATH = '/portal/';
const OPENED = 'herald.portalLink';

/**
 * Signs this tab in with a portal link: the server answers the session's secret once,
 * and this tab keeps it (a reload keeps the session; no API key is ever shown).
 */
export async function openPortal(link: string): Promise<void> {
  if (sessionStorage.getItem(OPENED) === link && savedKey()) return;
  const response = await fetch(`${PORTAL_PATH}${link}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const body = (await response.json().catch(() => ({}))) as { secret?: string; error?: string };
  if (!response.ok || !body.secret) throw new ApiError(body.error ?? `Herald answered ${response.status}`, 'PORTAL', []);
  saveKey(body.secret);
  sessionStorage.setItem(OPENED, link);
}

/** Called when the server no longer takes the key (revoked, or a portal session that ended). */
const signedOut = new Set<(why: string) => void>();
export function onSignedOut(listener: (why: string) => void): () => void {
  signedOut.add(listener);
  return () => signedOut.delete(listener);
}
function refused(why: string): void {
  for (const listener of signedOut) listener(why);
}

export interface FieldProblem {
  field: string;
  message: string;
}

/** An error answer of the API, with the input fields it names (`input.label` → `label`). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly problems: FieldProblem[],
  ) {
    super(message);
  }

  /** Problems by form field: the path without its `input.`/`webhook.` prefix. */
  byField(): Record<string, string> {
    const fields: Record<string, string> = {};
    for (const { field, message } of this.problems) {
      const name = field.replace(/^(input|webhook|filter)\./, '');
      fields[name] = fields[name] ? `${fields[name]}; ${message}` : message;
    }
    return fields;
  }
}

function toApiError(errors: any[]): ApiError {
  const first = errors[0] ?? {};
  const problems: FieldProblem[] = errors.flatMap((e) => {
    const ext = e.extensions ?? {};
    if (Array.isArray(ext.problems)) return ext.problems as FieldProblem[];
    if (typeof ext.field === 'string') return [{ field: ext.field, message: e.message }];
    return [];
  });
  return new ApiError(errors.map((e) => forPeople(e.extensions?.code, e.message)).join('\n'), first.extensions?.code, problems);
}

/** An API error as a person should read it: no field names of the schema, and what to do. */
function forPeople(code: string | undefined, message: string): string {
  if (code === 'FORBIDDEN') {
    const needs = /it needs (.+)$/.exec(message)?.[1];
    const yours = /for (a \w+ (?:portal session|key)|the operator key)/.exec(message)?.[1];
    return `Not allowed with ${yours ? yours.replace(/^a /, 'your ') : 'your key'}${needs ? `: this needs ${needs}` : ''}. Ask an admin of this tenant.`;
  }
  if (code === 'INTERNAL_SERVER_ERROR' || message === 'Unexpected error.') return 'Herald could not do this because of an error on the server. Try again; if it keeps happening, the operator can find it in the server log.';
  return message;
}

/** One GraphQL operation; `key` to run it with another key than the one signed in (copy to production). */
export async function gql<T = any>(query: string, variables?: Record<string, unknown>, key?: string): Promise<T> {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${key ?? savedKey() ?? ''}` },
    body: JSON.stringify({ query, variables }),
  });
  let body: { data?: T; errors?: any[] };
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`Herald answered ${response.status} ${response.statusText}`, 'HTTP', []);
  }
  if (body.errors?.length) {
    const error = toApiError(body.errors);
    if (error.code === 'UNAUTHENTICATED' && !key) refused(error.message);
    throw error;
  }
  return body.data as T;
}

let wsClient: Client | undefined;
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
 * Subscribes and stays subscribed: `onData` gets each result's data. When the
 * server ends the subscription (an error, or a subscriber that fell too far
 * behind) or the connection was lost, `onGap` is called to read what may have been
 * missed, and the subscription starts again. Returns the unsubscribe function.
 */
export function subscribe<T = any>(
  query: string,
  variables: Record<string, unknown>,
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
      { query, variables },
      {
        next: (result) => {
          if (result.errors?.length) onError?.(toApiError(result.errors as any[]));
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
