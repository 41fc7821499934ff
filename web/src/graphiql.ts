// GraphiQL at /graphql, served whole by Herald (scripts, styles and editor workers under
// /graphiql/), so it works offline and tells no third party where it runs. Queries go over
// HTTP, subscriptions over graphql-ws; both with the Authorization header of the Headers tab.
import { getOperationAST, parse } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { savedKey } from './session.ts';

/** Where the build puts GraphiQL's own files (scripts/build-web.mjs). */
const VENDOR = '/graphiql';
const WORKERS: Record<string, string> = { editorWorkerService: 'editor.worker.js', json: 'json.worker.js', graphql: 'graphql.worker.js' };

interface Params {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
}
interface FetcherOptions {
  headers?: Record<string, unknown>;
}
type Result = Record<string, unknown>;

declare global {
  interface Window {
    YogaGraphiQL: { renderYogaGraphiQL(root: Element, options: Record<string, unknown>): void };
    MonacoEnvironment: { globalAPI: boolean; getWorkerUrl(moduleId: string, label: string): string };
  }
}

const authorizationOf = (headers: Record<string, unknown> = {}) =>
  Object.entries(headers).find(([name, value]) => name.toLowerCase() === 'authorization' && typeof value === 'string')?.[1] as string | undefined;

/** Whether the operation to run is a subscription (one that does not parse goes over HTTP, which says why). */
function isSubscription(params: Params): boolean {
  try {
    return getOperationAST(parse(params.query), params.operationName)?.operation === 'subscription';
  } catch {
    return false;
  }
}

/** One graphql-ws client per key: a new key in the Headers tab opens a new connection with it. */
let live: { authorization: string | undefined; client: Client } | undefined;
function liveClient(authorization: string | undefined): Client {
  if (!live || live.authorization !== authorization) {
    live?.client.dispose();
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
    live = { authorization, client: createClient({ url, lazy: true, connectionParams: authorization ? { authorization } : {} }) };
  }
  return live.client;
}

async function overHttp(params: Params, headers: Record<string, unknown>): Promise<Result> {
  const given = Object.fromEntries(Object.entries(headers).filter((e): e is [string, string] => typeof e[1] === 'string'));
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { ...given, 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
    body: JSON.stringify(params),
  });
  try {
    return (await response.json()) as Result;
  } catch {
    return { errors: [{ message: `Herald answered ${response.status} ${response.statusText}` }] };
  }
}

function fetcher(params: Params, options?: FetcherOptions): Promise<Result> | AsyncIterable<Result> {
  const headers = options?.headers ?? {};
  if (!isSubscription(params)) return overHttp(params, headers);
  return liveClient(authorizationOf(headers)).iterate({ query: params.query, operationName: params.operationName ?? undefined, variables: params.variables ?? undefined }) as AsyncIterable<Result>;
}

function load(tag: 'script' | 'link', file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const element = document.createElement(tag);
    if (element instanceof HTMLScriptElement) element.src = `${VENDOR}/${file}`;
    else Object.assign(element, { rel: 'stylesheet', href: `${VENDOR}/${file}` });
    element.addEventListener('load', () => resolve());
    element.addEventListener('error', () => reject(new Error(`could not load ${VENDOR}/${file}`)));
    document.head.append(element);
  });
}

/** Gives every <style> element the page makes the nonce its Content-Security-Policy allows (the server's, per response). */
function nonceStyles(): void {
  const nonce = document.querySelector<HTMLMetaElement>('meta[name="style-nonce"]')?.content;
  if (!nonce) return;
  (window as { __webpack_nonce__?: string }).__webpack_nonce__ = nonce;
  const create = document.createElement.bind(document);
  document.createElement = ((tag: string, options?: ElementCreationOptions) => {
    const element = create(tag, options);
    if (element instanceof HTMLStyleElement) element.nonce = nonce;
    return element;
  }) as typeof document.createElement;
}

async function start(): Promise<void> {
  nonceStyles();
  window.MonacoEnvironment = { globalAPI: false, getWorkerUrl: (_moduleId, label) => `${VENDOR}/${WORKERS[label] ?? WORKERS.editorWorkerService}` };
  await Promise.all([load('link', 'graphiql.css'), load('script', 'yoga-graphiql.js')]);
  const root = document.getElementById('graphiql')!;
  root.textContent = '';
  const key = savedKey();
  window.YogaGraphiQL.renderYogaGraphiQL(root, {
    title: 'Herald',
    fetcher,
    // The key stays out of localStorage; a tab signed in to the dashboard lends it its key.
    shouldPersistHeaders: false,
    headers: JSON.stringify({ authorization: key ? `Bearer ${key}` : 'Bearer <your API key>' }, null, 2),
  });
}

void start();
