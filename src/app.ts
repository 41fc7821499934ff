import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { authenticate, type Authentication } from './auth/principal.ts';
import { safeText } from './domain/values.ts';
import type { Config } from './config.ts';
import { connectDatabase, db, disconnectDatabase, loudLogSettings } from './db/client.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './db/embedded.ts';
import { migrate, migrationNames } from './db/migrate.ts';
import { bootstrapDefaultTenant } from './domain/tenants.ts';
import { ensureBuiltInTopics } from './alerts/herald.ts';
import { resealSecrets } from './domain/webhooks.ts';
import { loadKeys, useKeys } from './crypto/secrets.ts';
import type { Context } from './graphql/context.ts';
import { checkVariableDepth } from './graphql/arguments.ts';
import { isClientMistake, maskError, requestError, requestErrorCodes } from './graphql/errors.ts';
import { schema } from './graphql/schema/index.ts';
import type { Logger } from './logger.ts';
import { forgetQueue, startQueue, type PgBoss } from './queue/boss.ts';
import { startDeliveryWorker } from './delivery/worker.ts';
import { closeSharedSender } from './delivery/sender.ts';
import { closeRenderPool } from './render/pool.ts';
import { schedulePurge } from './delivery/retention.ts';
import { ChangeFeed } from './pubsub/changes.ts';
import { allowOwnInboxes } from './delivery/guard.ts';
import { capture, INBOX_LIMITS } from './domain/inboxes.ts';
import { dashboardHandler } from './dashboard.ts';

/** A WebSocket's largest frame, and how soon it must authenticate (graphql-ws closes it with 4408 after). */
export const WEBSOCKET_LIMITS = { frameBytes: 1024 * 1024, authenticateWithinMs: 3000 };

export interface App {
  yoga: YogaServerInstance<Record<string, unknown>, Context>;
  /** The database Herald uses (the embedded one's URL when DATABASE_URL is unset). */
  databaseUrl: string;
  /** A key created by the first start on an empty database, to be shown once. */
  bootstrapKey: string | undefined;
  start(port?: number, host?: string): Promise<{ url: string; port: number }>;
  stop(): Promise<void>;
  readiness(): Promise<Readiness>;
}

export interface Readiness {
  ready: boolean;
  checks: Record<'database' | 'migrations' | 'queue', string>;
}

/**
 * Builds everything Herald's process runs: the database (embedded when no
 * DATABASE_URL), migrations, the queue and the GraphQL server. `start` listens;
 * `stop` drains and closes everything in reverse order.
 */
export async function buildApp(config: Config, log: Logger): Promise<App> {
  let embedded: EmbeddedPostgres | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({
      dir: path.join(config.dataDir, 'pg'),
      port: config.embeddedPgPort,
      persistent: true,
      log,
    });
    await embedded.createDatabase('herald');
    databaseUrl = embedded.urlFor('herald');
  }
  try {
    await migrate(databaseUrl, log);
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  connectDatabase(databaseUrl, config.dbPoolSize);
  const secretKeys = loadKeys(config.secretKeys, config.dataDir);
  useKeys(secretKeys.keys);
  if (secretKeys.file && config.databaseUrl) {
    log.warn({ file: secretKeys.file }, 'secrets are sealed with the key in the data directory; set HERALD_SECRET_KEY (the same on every process) when several machines share this database');
  }
  const loud = await loudLogSettings();
  if (loud.length > 0) {
    log.warn({ settings: loud }, 'PostgreSQL may log refused statements of the publish path with their values; let Herald set these (PostgreSQL 15+: GRANT SET ON PARAMETER ... TO its role) or set them for its role');
  }
  const resealed = await resealSecrets();
  if (resealed > 0) log.info({ webhooks: resealed }, 'sealed webhook secrets with the current key');
  const bootstrap = await bootstrapDefaultTenant(config.bootstrapKey);
  await ensureBuiltInTopics();
  if (bootstrap.created) log.info('created tenant "default" with an ADMIN key');
  const boss: PgBoss = await startQueue(databaseUrl, log);
  // Every role listens: api processes stream changes to subscribers, workers are woken by new deliveries.
  const feed = new ChangeFeed(databaseUrl, log);
  await feed.start();
  const worker = config.role === 'api' ? undefined : await startDeliveryWorker(config, log, feed);
  if (worker) await schedulePurge(config.retentionDays, log);
  const shipped = await migrationNames();
  let stopping = false;
  let origin = config.publicUrl ?? `http://${config.host}:${config.port}`;

  const yoga = createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // Browsers on other origins get no CORS headers unless HERALD_CORS_ORIGINS names them.
    cors: (request) => {
      const from = request.headers.get('origin');
      return from && config.corsOrigins.includes(from) ? { origin: from, credentials: true, methods: ['GET', 'POST'] } : false;
    },
    healthCheckEndpoint: '/healthz',
    graphiql: { subscriptionsProtocol: 'WS', title: 'Herald' },
    logging: yogaLogger(log),
    maskedErrors: { maskError: maskError(log) },
    context: async ({ request, auth }: { request: Request; auth?: Authentication }) => ({
      auth: auth ?? (await authenticate(request.headers.get('authorization'), config.operatorKey)),
      config,
      feed,
      publicOrigin: () => origin,
    }),
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { n: config.maxQueryDepth },
        maxTokens: { n: config.maxQueryTokens },
        maxAliases: { n: 30 },
        maxDirectives: { n: 50 },
        costLimit: { enabled: false },
        blockFieldSuggestion: { enabled: false },
      }),
      { onParams: ({ params }) => checkVariableDepth(params.variables) },
      requestErrorCodes(),
    ],
  });

  const readiness = async (): Promise<Readiness> => {
    const checks = { database: 'ok', migrations: 'ok', queue: stopping ? 'stopping' : 'ok' };
    try {
      const rows = await db().$queryRaw<{ migration_name: string }[]>`
        SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;
      const applied = new Set(rows.map((r) => r.migration_name));
      const pending = shipped.filter((name) => !applied.has(name));
      if (pending.length > 0) checks.migrations = `pending: ${pending.join(', ')}`;
    } catch (error) {
      checks.database = `unreachable: ${(error as Error).message}`;
      checks.migrations = 'unknown';
    }
    return { ready: Object.values(checks).every((c) => c === 'ok'), checks };
  };

  const dashboard = dashboardHandler();
  let server: Server | undefined;
  let wsServer: WebSocketServer | undefined;
  const sockets = new Set<Socket>();
  let inFlight = 0;
  const idle: Array<() => void> = [];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    inFlight += 1;
    res.on('close', () => {
      inFlight -= 1;
      if (inFlight === 0) idle.splice(0).forEach((resolve) => resolve());
    });
    if (req.url === '/readyz') {
      const state = await readiness();
      res.writeHead(state.ready ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(state));
      return;
    }
    if (config.role === 'worker') {
      const alive = req.url === '/healthz';
      res.writeHead(alive ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(alive ? { status: 'ok' } : { error: 'this process runs with HERALD_ROLE=worker: it delivers and serves only /healthz and /readyz' }));
      return;
    }
    if (req.url?.startsWith('/inbox/')) {
      await receiveInInbox(req, res, config.maxRequestBytes);
      return;
    }
    if (dashboard(req, res)) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      // Read here, counted as it arrives, so a chunked body is held to the limit as a declared one is.
      const body = Number(req.headers['content-length'] ?? 0) > config.maxRequestBytes ? null : await readBody(req, config.maxRequestBytes);
      if (body === null) {
        res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
        res.end(JSON.stringify({ errors: [{ message: `request body over ${config.maxRequestBytes} bytes (HERALD_MAX_REQUEST_BYTES)`, extensions: { code: 'BAD_USER_INPUT' } }] }));
        return;
      }
      (req as IncomingMessage & { body?: Buffer }).body = body;
    }
    if (stopping) res.setHeader('connection', 'close');
    await yoga.requestListener(req, res);
  };

  return {
    yoga,
    databaseUrl,
    bootstrapKey: bootstrap.key,
    readiness,
    async start(port = config.port, host = config.host) {
      server = createServer((req, res) => {
        handle(req, res).catch((error) => {
          log.error({ err: error }, 'request failed');
          if (!res.headersSent) res.writeHead(500);
          res.end();
        });
      });
      server.on('connection', (socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      // A frame over the limit closes the socket (1009) before it is buffered whole.
      wsServer = new WebSocketServer({ server, path: yoga.graphqlEndpoint, maxPayload: WEBSOCKET_LIMITS.frameBytes });
      // A revoked key's open connections end at once, whichever process revoked it.
      const byKey = new Map<string, Set<import('ws').WebSocket>>();
      feed.on('change', (change) => {
        if (change.k !== 'key') return;
        for (const socket of byKey.get(change.id) ?? []) socket.close(4403, 'Forbidden: the API key was revoked');
      });
      useServer<Record<string, unknown>, { auth?: Authentication }>(
        {
          connectionInitWaitTimeout: WEBSOCKET_LIMITS.authenticateWithinMs,
          execute: (args: any) => args.rootValue.execute(args),
          subscribe: (args: any) => args.rootValue.subscribe(args),
          onConnect: async (ctx) => {
            // `{ authorization }` (documented); also `Authorization` and `{ headers: { … } }`, which some clients (GraphiQL's) send.
            const params = (ctx.connectionParams ?? {}) as Record<string, any>;
            const header = params.authorization ?? params.Authorization ?? params.headers?.authorization ?? params.headers?.Authorization;
            const auth = await authenticate(typeof header === 'string' ? header : undefined, config.operatorKey);
            if (!auth.principal) {
              ctx.extra.socket.close(4401, `Unauthorized: ${auth.problem}`);
              return false;
            }
            ctx.extra.auth = auth;
            if (auth.principal.kind === 'key') {
              const keyId = auth.principal.keyId;
              const sockets = byKey.get(keyId) ?? new Set();
              sockets.add(ctx.extra.socket);
              byKey.set(keyId, sockets);
              ctx.extra.socket.once('close', () => {
                sockets.delete(ctx.extra.socket);
                if (sockets.size === 0) byKey.delete(keyId);
              });
            }
            return true;
          },
          onSubscribe: async (ctx, _id, params) => {
            const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
              ...ctx,
              req: ctx.extra.request,
              socket: ctx.extra.socket,
              params,
            });
            // A bad operation is answered on its own id; thrown, it would close the socket and every subscription on it.
            let document;
            try {
              checkVariableDepth(params.variables);
              document = parse(params.query);
            } catch (error) {
              if (error instanceof GraphQLError) return [socketError(error)];
              throw error;
            }
            const errors = validate(schema, document);
            if (errors.length) return errors.map(socketError);
            return {
              schema,
              operationName: params.operationName,
              document,
              variableValues: params.variables,
              contextValue: await contextFactory({ auth: ctx.extra.auth } as never),
              rootValue: { execute, subscribe },
            };
          },
        },
        wsServer,
      );
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(port, host, () => resolve());
      });
      const address = server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      origin = config.publicUrl ?? `http://${shownHost}:${address.port}`;
      allowOwnInboxes(origin);
      return { url: `http://${shownHost}:${address.port}/graphql`, port: address.port };
    },
    async stop() {
      stopping = true;
      const deadline = Date.now() + config.shutdownTimeoutMs;
      if (server) {
        const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
        for (const client of wsServer?.clients ?? []) client.close(1001, 'server shutting down');
        server.closeIdleConnections();
        const drained = inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.push(resolve));
        await Promise.race([drained, delay(deadline - Date.now())]);
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
        await closed;
      }
      await feed.stop();
      await Promise.race([worker?.stop(), delay(deadline - Date.now())]);
      await boss.stop({ graceful: true, timeout: Math.max(1000, deadline - Date.now()), close: true });
      forgetQueue();
      closeSharedSender();
      await closeRenderPool();
      await yoga.dispose();
      await disconnectDatabase();
      await embedded?.stop();
    },
  };
}

/** The request inspector's capture endpoint: `/inbox/<token>[/anything]`, any method. */
async function receiveInInbox(req: IncomingMessage, res: ServerResponse, maxRequestBytes: number): Promise<void> {
  const whole = await readBody(req, maxRequestBytes);
  if (whole === null) {
    res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify({ error: `request body over ${maxRequestBytes} bytes` }));
    return;
  }
  const [, , token = '', ...rest] = (req.url ?? '').split('?')[0]!.split('/');
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
  const body = safeText(whole.subarray(0, INBOX_LIMITS.bodyBytes));
  const result = await capture(token, { method: req.method ?? 'GET', path: `/${rest.join('/')}${req.url?.includes('?') ? `?${req.url.split('?')[1]}` : ''}`, headers, body, truncated: whole.length > INBOX_LIMITS.bodyBytes });
  res.writeHead(result?.status ?? 404, { 'content-type': 'application/json' });
  res.end(JSON.stringify(result ? { captured: true } : { error: 'no such inbox, or it has expired' }));
}

/**
 * A request's whole body, or null as soon as it passes `limit` bytes: reading stops
 * there, and the socket stays open for the 413 answer (closed after it).
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (value: Buffer | null) => {
      req.off('data', onData).off('end', onEnd).off('error', reject);
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.pause();
      stop(null);
    };
    const onEnd = () => stop(Buffer.concat(chunks));
    req.on('data', onData).on('end', onEnd).on('error', reject);
  });
}

/**
 * Yoga's log calls (a message, then values) as pino lines with a message. Yoga logs
 * at error level only what it did not expect; a request it refused is the client's
 * mistake, worth a debug line at most.
 */
function yogaLogger(log: Logger) {
  const line = (level: 'debug' | 'info' | 'warn' | 'error') => (...args: unknown[]) => {
    const [first, ...rest] = args;
    const message = typeof first === 'string' ? first : first instanceof Error ? first.message : 'graphql-yoga';
    const err = args.find((a): a is Error => a instanceof Error);
    const detail = rest.filter((a) => !(a instanceof Error));
    log[isClientMistake(err) ? 'debug' : level]({ ...(err ? { err } : {}), ...(detail.length ? { detail } : {}) }, message);
  };
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

/** A request error as a WebSocket client gets it: coded, without the HTTP status meant for yoga. */
function socketError(error: GraphQLError): GraphQLError {
  const coded = requestError(error);
  const { http: _http, ...extensions } = coded.extensions;
  return new GraphQLError(coded.message, { nodes: coded.nodes, extensions });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)).unref());
}
