import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MetricsConfig } from '../config.ts';

/**
 * Every metric Herald keeps, in Prometheus's terms (docs/observing.md, "Metrics" lists them with
 * their labels). The rest of the code reports what happened through the functions of
 * `metrics`; only this module knows the metrics' names and labels. Off, they do nothing.
 */

/** What a process can tell at scrape time (app.ts wires them; one app per process). */
export interface MetricSources {
  /** Deliveries by status, the database's (the same figure from every process). */
  deliveriesByStatus(): Promise<Array<{ status: string; count: number }>>;
  /** The delivery queue, the database's. */
  queue(): Promise<{ ready: number; deferred: number; active: number; oldestReadySeconds: number }>;
  /** The tenants whose oldest ready delivery has waited longest (a bounded few), the database's. */
  tenants(): Promise<Array<{ tenantId: string; waiting: number; oldestWaitingSeconds: number }>>;
  pools(): Array<{ pool: string; total: number; idle: number; waiting: number }>;
  subscribers(): { connections: number; subscriptions: number };
}

/** How long the database-wide figures are reused: scrapes from several Prometheus servers cost one look-up. */
const SNAPSHOT_MS = 1000;

const SECONDS_FAST = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const SECONDS_SLOW = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21_600, 86_400];

class Metrics {
  readonly registry = new Registry();
  private enabled = false;
  private perWebhook = 0;
  private readonly ownSeries = new Set<string>();
  private sources: MetricSources | undefined;
  private snapshot: { at: number; figures: Promise<DatabaseFigures> } | undefined;

  private readonly publishCalls = new Counter({ name: 'herald_publish_calls_total', help: 'publishEvent and publishEvents calls, by result (ok, refused: bad input, limited: over the tenant\'s publish limit, error)', labelNames: ['result'], registers: [this.registry] });
  private readonly eventsPublished = new Counter({ name: 'herald_events_published_total', help: 'Events stored by publishing (an idempotent repeat is not counted again)', registers: [this.registry] });
  private readonly deliveriesCreated = new Counter({ name: 'herald_deliveries_created_total', help: 'Deliveries (instances) made by publishing, by the status they start in (FAILED: the payload did not render)', labelNames: ['status'], registers: [this.registry] });
  private readonly renderSeconds = new Histogram({ name: 'herald_render_duration_seconds', help: "Rendering one webhook's payload for an event, by payload mode", labelNames: ['mode'], buckets: SECONDS_FAST, registers: [this.registry] });
  private readonly attempts = new Counter({ name: 'herald_attempts_total', help: 'Delivery attempts recorded, by outcome (success, failure) and error kind (none on success)', labelNames: ['outcome', 'error_kind'], registers: [this.registry] });
  private readonly attemptSeconds = new Histogram({ name: 'herald_attempt_duration_seconds', help: "One attempt's HTTP request, from sending to the receiver's answer (or the error)", labelNames: ['outcome'], buckets: SECONDS_FAST, registers: [this.registry] });
  private readonly webhookAttempts = new Counter({ name: 'herald_webhook_attempts_total', help: 'Delivery attempts per webhook (HERALD_METRICS_WEBHOOKS webhooks by id, the rest as "other")', labelNames: ['webhook_id', 'outcome'], registers: [this.registry] });
  private readonly finished = new Counter({ name: 'herald_deliveries_finished_total', help: 'Deliveries settled by an attempt, by status: COMPLETED, RETRYING (a retry is scheduled), FAILED', labelNames: ['status'], registers: [this.registry] });
  private readonly retries = new Counter({ name: 'herald_retries_scheduled_total', help: 'Retries scheduled after a failed attempt', registers: [this.registry] });
  private readonly latency = new Histogram({ name: 'herald_publish_to_delivery_seconds', help: 'From publishing to the receiver accepting the delivery, retries included', buckets: SECONDS_SLOW, registers: [this.registry] });

  constructor() {
    const figures = () => this.databaseFigures();
    const sources = () => this.sources;
    new Gauge({
      name: 'herald_deliveries',
      help: "Deliveries stored, by status (PENDING, SENDING, RETRYING, PAUSED: held while its webhook is paused, COMPLETED, FAILED, CANCELLED); the database's, the same from every process",
      labelNames: ['status'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const { status, count } of (await figures())?.byStatus ?? []) this.set({ status }, count);
      },
    });
    new Gauge({
      name: 'herald_queue_jobs',
      help: "Delivery jobs in the queue, by state (ready to run, deferred: a retry's time has not come, active); the database's",
      labelNames: ['state'],
      registers: [this.registry],
      async collect() {
        this.reset();
        const queue = (await figures())?.queue;
        if (queue) for (const state of ['ready', 'deferred', 'active'] as const) this.set({ state }, queue[state]);
      },
    });
    new Gauge({
      name: 'herald_queue_oldest_ready_seconds',
      help: 'How long the oldest delivery job that may run has waited for a worker (0: none waits); the database’s',
      registers: [this.registry],
      async collect() {
        this.reset();
        const queue = (await figures())?.queue;
        if (queue) this.set(queue.oldestReadySeconds);
      },
    });
    new Gauge({
      name: 'herald_tenant_deliveries_waiting',
      help: 'Deliveries waiting to be sent (PENDING or RETRYING) of the tenants whose oldest ready delivery has waited longest (HERALD_METRICS_TENANTS of them); the database’s',
      labelNames: ['tenant_id'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const t of (await figures())?.tenants ?? []) this.set({ tenant_id: t.tenantId }, t.waiting);
      },
    });
    new Gauge({
      name: 'herald_tenant_oldest_waiting_seconds',
      help: 'How long the oldest delivery that may go now has waited for a worker, of the same tenants; the database’s',
      labelNames: ['tenant_id'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const t of (await figures())?.tenants ?? []) this.set({ tenant_id: t.tenantId }, t.oldestWaitingSeconds);
      },
    });
    new Gauge({
      name: 'herald_db_connections',
      help: "This process's database connections, by pool (prisma, fast: the publish and delivery paths) and state (in_use, idle)",
      labelNames: ['pool', 'state'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const p of sources()?.pools() ?? []) {
          this.set({ pool: p.pool, state: 'in_use' }, p.total - p.idle);
          this.set({ pool: p.pool, state: 'idle' }, p.idle);
        }
      },
    });
    new Gauge({
      name: 'herald_db_waiting',
      help: "Queries of this process waiting for a database connection, by pool",
      labelNames: ['pool'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const p of sources()?.pools() ?? []) this.set({ pool: p.pool }, p.waiting);
      },
    });
    new Gauge({
      name: 'herald_subscribers_connected',
      help: 'GraphQL WebSocket connections open on this process',
      registers: [this.registry],
      collect() {
        this.set(sources()?.subscribers().connections ?? 0);
      },
    });
    new Gauge({
      name: 'herald_subscriptions_active',
      help: 'GraphQL subscriptions running on this process',
      registers: [this.registry],
      collect() {
        this.set(sources()?.subscribers().subscriptions ?? 0);
      },
    });
  }

  /** Turns metrics on (or leaves them off), with the number of webhooks that get series of their own. */
  configure(config: Pick<MetricsConfig, 'enabled' | 'perWebhook'>, role: string): void {
    this.enabled = config.enabled;
    this.perWebhook = config.perWebhook;
    if (!this.enabled || this.registry.getSingleMetric('process_cpu_seconds_total')) return;
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
    new Gauge({ name: 'herald_info', help: 'This process: its role (all, api, worker)', labelNames: ['role'], registers: [this.registry] }).set({ role }, 1);
  }

  get on(): boolean {
    return this.enabled;
  }

  /** What this process can tell at scrape time; answers a function that forgets them. */
  watch(sources: MetricSources): () => void {
    this.sources = sources;
    this.snapshot = undefined;
    return () => {
      if (this.sources === sources) this.sources = undefined;
    };
  }

  published(result: 'ok' | 'refused' | 'limited' | 'error', stored?: { events: number; deliveries: Array<{ status: string }> }): void {
    if (!this.enabled) return;
    this.publishCalls.inc({ result });
    if (!stored) return;
    this.eventsPublished.inc(stored.events);
    for (const d of stored.deliveries) this.deliveriesCreated.inc({ status: d.status });
  }

  rendered(mode: string, seconds: number): void {
    if (this.enabled) this.renderSeconds.observe({ mode }, seconds);
  }

  attempted(webhookId: string, outcome: { ok: boolean; errorKind: string | null; durationMs: number }): void {
    if (!this.enabled) return;
    const result = outcome.ok ? 'success' : 'failure';
    this.attempts.inc({ outcome: result, error_kind: outcome.errorKind ?? 'none' });
    this.attemptSeconds.observe({ outcome: result }, outcome.durationMs / 1000);
    if (this.perWebhook > 0) this.webhookAttempts.inc({ webhook_id: this.seriesOf(webhookId), outcome: result });
  }

  /** A delivery settled by an attempt; `publishedAt`: when it was made (for COMPLETED, the latency). */
  settled(status: string, publishedAt: number, now = Date.now()): void {
    if (!this.enabled) return;
    this.finished.inc({ status });
    if (status === 'RETRYING') this.retries.inc();
    if (status === 'COMPLETED') this.latency.observe(Math.max(0, now - publishedAt) / 1000);
  }

  /** The metrics in Prometheus's text format. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** A webhook's own label while there is room for one, "other" after. */
  private seriesOf(webhookId: string): string {
    if (this.ownSeries.has(webhookId)) return webhookId;
    if (this.ownSeries.size >= this.perWebhook) return 'other';
    this.ownSeries.add(webhookId);
    return webhookId;
  }

  /** The database-wide figures, looked up once for all the gauges of a scrape (undefined: they could not be). */
  private databaseFigures(): Promise<DatabaseFigures | undefined> {
    const sources = this.sources;
    if (!sources) return Promise.resolve(undefined);
    if (!this.snapshot || Date.now() - this.snapshot.at > SNAPSHOT_MS) {
      this.snapshot = {
        at: Date.now(),
        figures: Promise.all([sources.deliveriesByStatus(), sources.queue(), sources.tenants()]).then(([byStatus, queue, tenants]) => ({ byStatus, queue, tenants })),
      };
    }
    return this.snapshot.figures.catch(() => undefined);
  }
}

interface DatabaseFigures {
  byStatus: Array<{ status: string; count: number }>;
  queue: Awaited<ReturnType<MetricSources['queue']>>;
  tenants: Awaited<ReturnType<MetricSources['tenants']>>;
}

/** The process's metrics (one registry: Prometheus scrapes a process). */
export const metrics = new Metrics();

/**
 * Serves GET /metrics: 404 when metrics are off, 401 without the token when one is
 * set. Answers false for any other path (the caller serves it).
 */
export async function serveMetrics(req: IncomingMessage, res: ServerResponse, config: MetricsConfig): Promise<boolean> {
  if (req.url?.split('?')[0] !== '/metrics') return false;
  if (!config.enabled) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('metrics are off (HERALD_METRICS=off)\n');
    return true;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('GET /metrics\n');
    return true;
  }
  if (config.token && !hasToken(req.headers.authorization, config.token)) {
    res.writeHead(401, { 'www-authenticate': 'Bearer realm="metrics"', 'content-type': 'text/plain' }).end('/metrics needs the token of HERALD_METRICS_TOKEN as a Bearer token\n');
    return true;
  }
  const { contentType, body } = await metrics.text();
  res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : body);
  return true;
}

function hasToken(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7).trim() : '');
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}
