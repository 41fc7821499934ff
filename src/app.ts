import path from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.ts';
import { loadKeys, useKeys } from './crypto/secrets.ts';
import { connectDatabase, disconnectDatabase, loudLogSettings, poolFigures } from './db/client.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './db/embedded.ts';
import { migrate } from './db/migrate.ts';
import { startDeliveryWorker } from './delivery/worker.ts';
import { serveWebSockets, type WebSockets } from './graphql/websocket.ts';
import { createGraphQL, type Yoga } from './graphql/yoga.ts';
import type { Logger } from './logger.ts';
import { followKeyChanges } from './usecases/authenticate.ts';
import { allowOwnInboxes, closeDestinations, openDestinations } from './destinations/index.ts';
import { AddressGuard } from './rules/addresses.ts';
import { ChangeFeed } from './pubsub/changes.ts';
import { longestWaitingTenants } from './usecases/queueFigures.ts';
import { deliveryQueueFigures, forgetQueue, startQueue } from './queue/boss.ts';
import { closeRenderPool } from './render/pool.ts';
import { delay, DrainingServer } from './server/draining.ts';
import { readinessCheck, type Readiness } from './server/readiness.ts';
import { routes } from './server/routes.ts';
import { ensureBuiltInTopics } from './store/alerts.ts';
import { schedulePurge } from './store/retention.ts';
import { deliveryTotals, startRollUps } from './store/stats.ts';
import { metrics, serveMetrics } from './telemetry/metrics.ts';
import { startTracing, stopTracing } from './telemetry/tracing.ts';
import { bootstrapDefaultTenant } from './usecases/tenants.ts';
import { resealSecrets } from './usecases/webhooks.ts';

export type { Readiness };

/** How often each process folds delivery-count deltas into the counters (Webhook.stats reads both). */
const ROLL_UP_MS = 2000;

export interface App {
  yoga: Yoga;
  /** The database Herald uses (the embedded one's URL when DATABASE_URL is unset). */
  databaseUrl: string;
  /** A key created by the first start on an empty database, to be shown once. */
  bootstrapKey: string | undefined;
  /** Listens; `metricsPort`: where /metrics is served when HERALD_METRICS_PORT gives it a port of its own. */
  start(port?: number, host?: string): Promise<{ url: string; port: number; metricsPort?: number }>;
  stop(): Promise<void>;
  readiness(): Promise<Readiness>;
}

/**
 * Builds everything Herald's process runs: the database (embedded when no
 * DATABASE_URL), migrations, the queue, the worker and the GraphQL server. `start`
 * listens; `stop` drains and closes everything in reverse order.
 */
export async function buildApp(config: Config, log: Logger): Promise<App> {
  metrics.configure(config.metrics, config.role);
  startTracing(config.tracing, config.role);
  const { databaseUrl, embedded } = await openDatabase(config, log);
  const bootstrap = await prepare(config, log);
  const boss = await startQueue(databaseUrl, log);
  // Every role listens: api processes stream changes to subscribers, workers are woken by new deliveries.
  const feed = new ChangeFeed(databaseUrl, log);
  await feed.start();
  const unfollowKeys = followKeyChanges(feed);
  openDestinations(new AddressGuard(config.outboundAllow));
  const worker = config.role === 'api' ? undefined : await startDeliveryWorker(config, log, feed);
  if (worker) await schedulePurge(config.retentionDays, log);
  const rollUps = startRollUps(ROLL_UP_MS, (error) => log.warn({ err: error }, 'could not roll up delivery counts; trying again'));
  let stopping = false;
  let origin = config.publicUrl ?? `http://${config.host}:${config.port}`;
  const yoga = createGraphQL(config, log, feed, () => origin);
  const check = await readinessCheck();
  const readiness = () => check(stopping);
  let http: DrainingServer | undefined;
  let webSockets: WebSockets | undefined;
  let metricsServer: Server | undefined;
  const unwatch = metrics.watch({
    deliveriesByStatus: deliveryTotals,
    queue: deliveryQueueFigures,
    tenants: () => longestWaitingTenants(config.metrics.perTenant),
    pools: poolFigures,
    subscribers: () => ({ connections: webSockets?.server.clients.size ?? 0, subscriptions: webSockets?.subscriptions() ?? 0 }),
  });

  return {
    yoga,
    databaseUrl,
    bootstrapKey: bootstrap.key,
    readiness,
    async start(port = config.port, host = config.host) {
      http = new DrainingServer(routes(config, yoga, readiness, () => stopping), log);
      webSockets = serveWebSockets(http.server, yoga, config, feed);
      const address = await http.listen(port, host);
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      origin = config.publicUrl ?? `http://${shownHost}:${address.port}`;
      allowOwnInboxes(origin);
      if (config.metrics.enabled && config.metrics.port !== undefined) metricsServer = await serveMetricsApart(config, host, log);
      const metricsPort = metricsServer ? (metricsServer.address() as AddressInfo).port : undefined;
      return { url: `http://${shownHost}:${address.port}/graphql`, port: address.port, ...(metricsPort !== undefined ? { metricsPort } : {}) };
    },
    async stop() {
      stopping = true;
      const deadline = Date.now() + config.shutdownTimeoutMs;
      await http?.close(deadline, webSockets?.server.clients ?? []);
      metricsServer?.closeAllConnections();
      await new Promise((resolve) => (metricsServer ? metricsServer.close(resolve) : resolve(undefined)));
      unwatch();
      unfollowKeys();
      await feed.stop();
      await Promise.race([worker?.stop(), delay(deadline - Date.now())]);
      await rollUps.stop();
      await boss.stop({ graceful: true, timeout: Math.max(1000, deadline - Date.now()), close: true });
      forgetQueue();
      closeDestinations();
      await closeRenderPool();
      await yoga.dispose();
      await disconnectDatabase();
      await stopTracing();
      await embedded?.stop();
    },
  };
}

/** /metrics on a port of its own (HERALD_METRICS_PORT), nothing else there. */
async function serveMetricsApart(config: Config, host: string, log: Logger): Promise<Server> {
  const server = createServer((req, res) => {
    serveMetrics(req, res, config.metrics)
      .then((served) => {
        if (!served) res.writeHead(404, { 'content-type': 'text/plain' }).end('this port serves /metrics only\n');
      })
      .catch((error: unknown) => {
        log.error({ err: error }, 'could not serve /metrics');
        if (!res.headersSent) res.writeHead(500).end();
      });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(config.metrics.port, host, resolve));
  return server;
}

/** The database, migrated and connected: DATABASE_URL's, or the embedded one in the data directory. */
async function openDatabase(config: Config, log: Logger): Promise<{ databaseUrl: string; embedded?: EmbeddedPostgres }> {
  let embedded: EmbeddedPostgres | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({ dir: path.join(config.dataDir, 'pg'), port: config.embeddedPgPort, persistent: true, log });
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
  return { databaseUrl, embedded };
}

/** What every start does before serving: the secrets' key, sealing old secrets, the first tenant, the built-in topic. */
async function prepare(config: Config, log: Logger) {
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
  return bootstrap;
}
