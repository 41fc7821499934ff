import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, startTestApp, type TestApp } from './support/app.ts';
import { createTestDatabase, runSql } from './support/database.ts';
import { setUpTopics } from './support/fixtures.ts';
import { startServerProcess, type ServerProcess } from './support/process.ts';
import { Scrape } from './support/prometheus.ts';
import { eventually, Receiver } from './support/receiver.ts';
import { ready, subscribe } from './support/ws.ts';

const TOKEN = 'metrics_test_token_000000000000000';
const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }`;

describe('Prometheus metrics at /metrics, scraped during real deliveries', () => {
  let t: TestApp;
  let base: string;
  let graphqlUrl: string;
  const scrape = async () => {
    const response = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return new Scrape(await response.text());
  };

  beforeAll(async () => {
    t = await startTestApp({ HERALD_OUTBOUND_ALLOW: '127.0.0.0/8', HERALD_MIN_BACKOFF_MS: '20', HERALD_METRICS_TOKEN: TOKEN, HERALD_METRICS_WEBHOOKS: '1' });
    graphqlUrl = (await t.app.start(0, '127.0.0.1')).url;
    base = graphqlUrl.replace(/\/graphql$/, '');
    await setUpTopics(t);
  });

  it('asks for the token, and takes no other', async () => {
    for (const authorization of [undefined, 'Bearer wrong', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const response = await fetch(`${base}/metrics`, { headers: authorization ? { authorization } : {} });
      expect(response.status).toBe(401);
      expect(await response.text()).not.toContain('herald_');
    }
  });

  it('counts publishing, attempts by outcome and error kind, retries, latency and what waits', async () => {
    const fine = await Receiver.start(() => ({ status: 200 }));
    const flaky = await Receiver.start((_, i) => ({ status: i < 2 ? 500 : 200 }));
    const down = await Receiver.start(() => ({ status: 503 }));
    const hook = async (url: string, retryScheduleMs: number[]) =>
      (await t.ok(CREATE, { input: { label: `m ${url}`, events: ['user.created'], url, active: true, retryScheduleMs, maxAttempts: 5 } })).createWebhook.webhook.id as string;
    const ids = [await hook(fine.url, [20]), await hook(flaky.url, [20]), await hook(down.url, [60_000])];
    const live = subscribe(graphqlUrl, ADMIN_KEY, 'subscription($w: ID) { instanceUpdated(webhookId: $w) { status } }', { w: ids[0] });
    await ready(live);

    for (const entityId of ['u1', 'u2', 'u3', 'u4']) {
      await t.ok(`mutation { publishEvent(input: { event: { topic: "user", action: "created", entityId: "${entityId}", data: {} } }) { event { id } } }`);
    }
    const refused = await t.gql(`mutation { publishEvent(input: { event: { topic: "nope", action: "created", entityId: "x", data: {} } }) { event { id } } }`);
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    // 4 + 4 successes (the flaky receiver's two failures retried), 2 + 4 failures; the down receiver's 4 wait a minute.
    const byStatus = async () => JSON.stringify(await runSql(t.databaseUrl, `SELECT status::text, count(*)::int AS n FROM instance GROUP BY status ORDER BY status`));
    const stored = JSON.stringify([{ status: 'COMPLETED', n: 8 }, { status: 'RETRYING', n: 4 }]);
    await eventually(async () => ((await byStatus()) === stored ? true : undefined), 20_000, 'eight deliveries completed and four retrying, in the table');
    // The gauge is the database's, read at most once a second (SNAPSHOT_MS): it comes to the table within one.
    const settled = await eventually(async () => {
      const s = await scrape();
      const gauge = s.samples('herald_deliveries').filter((m) => m.value > 0).map((m) => ({ status: m.labels.status, n: m.value }));
      return s.value('herald_attempts_total') === 14 && JSON.stringify(gauge.sort((a, b) => a.status!.localeCompare(b.status!))) === stored ? s : undefined;
    }, 5_000, 'the deliveries gauge to show what the table holds, and fourteen attempts counted');

    expect(settled.value('herald_publish_calls_total', { result: 'ok' })).toBe(4);
    expect(settled.value('herald_publish_calls_total', { result: 'refused' })).toBe(1);
    expect(settled.value('herald_events_published_total')).toBe(4);
    expect(settled.value('herald_deliveries_created_total', { status: 'PENDING' })).toBe(12);
    expect(settled.count('herald_render_duration_seconds')).toBeGreaterThanOrEqual(12);

    expect(settled.value('herald_attempts_total', { outcome: 'success', error_kind: 'none' })).toBe(8);
    expect(settled.value('herald_attempts_total', { outcome: 'failure', error_kind: 'HTTP_STATUS' })).toBe(6);
    expect(settled.count('herald_attempt_duration_seconds', { outcome: 'success' })).toBe(8);
    expect(settled.count('herald_attempt_duration_seconds', { outcome: 'failure' })).toBe(6);
    expect(settled.value('herald_retries_scheduled_total')).toBe(6);
    expect(settled.value('herald_deliveries_finished_total', { status: 'COMPLETED' })).toBe(8);
    expect(settled.value('herald_deliveries_finished_total', { status: 'RETRYING' })).toBe(6);
    expect(settled.count('herald_publish_to_delivery_seconds')).toBe(8);
    expect(settled.value('herald_publish_to_delivery_seconds_sum')).toBeGreaterThan(0);
    expect(settled.value('herald_publish_to_delivery_seconds_bucket', { le: '+Inf' })).toBe(8);

    // One webhook has series of its own (HERALD_METRICS_WEBHOOKS=1: the first delivered for); the others add up as "other".
    const labels = new Set(settled.samples('herald_webhook_attempts_total').map((m) => m.labels.webhook_id!));
    expect(labels.size).toBe(2);
    expect(labels.has('other')).toBe(true);
    const own = [...labels].find((l) => l !== 'other')!;
    expect(ids).toContain(own);
    const [{ n: ownAttempts }] = await runSql(t.databaseUrl, `SELECT count(*)::int AS n FROM attempt a JOIN instance i ON i.id = a.instance_id WHERE i.webhook_id = $1`, [own]);
    expect(settled.value('herald_webhook_attempts_total', { webhook_id: own })).toBe(ownAttempts);
    expect(settled.value('herald_webhook_attempts_total', { webhook_id: 'other' })).toBe(14 - ownAttempts);

    // The down receiver's retries wait in the queue (pg-boss counts them every few seconds).
    const queued = await eventually(async () => {
      const s = await scrape();
      return s.value('herald_queue_jobs', { state: 'deferred' }) >= 1 ? s : undefined;
    }, 20_000, 'the retries deferred in the queue');
    expect(queued.value('herald_queue_jobs', { state: 'ready' })).toBe(0);
    expect(queued.value('herald_queue_oldest_ready_seconds')).toBe(0);

    expect(queued.value('herald_subscribers_connected')).toBe(1);
    expect(queued.value('herald_subscriptions_active')).toBe(1);
    await live.client.dispose();
    await eventually(async () => ((await scrape()).value('herald_subscriptions_active') === 0 ? true : undefined), 5000, 'the subscription to end');
  });

  it('shows the database pools, memory and event-loop lag of the process', async () => {
    const s = await scrape();
    for (const pool of ['prisma', 'fast']) {
      expect(s.samples('herald_db_connections', { pool, state: 'idle' })).toHaveLength(1);
      expect(s.samples('herald_db_connections', { pool, state: 'in_use' })).toHaveLength(1);
      expect(s.samples('herald_db_waiting', { pool })).toHaveLength(1);
    }
    expect(s.value('herald_db_connections', { pool: 'fast' })).toBeGreaterThan(0);
    expect(s.value('process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
    expect(s.family('nodejs_eventloop_lag_seconds').type).toBe('gauge');
    expect(s.value('herald_info', { role: 'all' })).toBe(1);
    // Every family has its help text, and every Herald family is one docs/observing.md lists.
    for (const family of s.families.values()) expect(family.help, family.name).not.toBe('');
  });

});

describe('/metrics on every process role', () => {
  const running: ServerProcess[] = [];
  afterAll(async () => {
    for (const p of running) p.child.kill('SIGTERM');
    await Promise.all(running.map((p) => p.exited));
  });
  const metricsPortOf = async (p: ServerProcess) => {
    await p.listening;
    return Number(/"metricsPort":(\d+)/.exec(p.output())![1]);
  };
  const scrapeAt = async (url: string) => {
    const response = await fetch(url);
    expect(response.status).toBe(200);
    return new Scrape(await response.text());
  };

  it('an api process on a port of its own shows the job no worker takes, and a worker then sends it', async () => {
    const receiver = await Receiver.start();
    const env = { DATABASE_URL: await createTestDatabase(), HERALD_BOOTSTRAP_KEY: ADMIN_KEY, HERALD_OUTBOUND_ALLOW: '127.0.0.0/8' };
    const api = startServerProcess({ ...env, HERALD_ROLE: 'api', HERALD_METRICS_PORT: '0' });
    running.push(api);
    const apiUrl = await api.listening;
    const apiMetrics = `http://127.0.0.1:${await metricsPortOf(api)}/metrics`;
    // Not beside the API when it has a port of its own; nothing but /metrics on its own.
    expect((await fetch(apiUrl.replace('/graphql', '/metrics'))).headers.get('content-type') ?? '').not.toMatch(/^text\/plain; version/);
    expect((await fetch(apiMetrics.replace('/metrics', '/graphql'))).status).toBe(404);

    const gql = async (query: string, variables?: object) => {
      const response = await fetch(apiUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` }, body: JSON.stringify({ query, variables }) });
      const body = (await response.json()) as { data?: any; errors?: unknown[] };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return body.data;
    };
    await gql('mutation { createTopic(input: { key: "course", name: "Course" }) { key } }');
    await gql('mutation($url: String!) { createWebhook(input: { label: "w", events: ["course.created"], url: $url, active: true }) { webhook { id } } }', { url: receiver.url });
    await gql('mutation { publishEvent(input: { event: { topic: "course", action: "created", entityId: "c1", data: {} } }) { event { id } } }');

    const waiting = await eventually(async () => {
      const s = await scrapeAt(apiMetrics);
      return s.value('herald_queue_jobs', { state: 'ready' }) === 1 && s.value('herald_queue_oldest_ready_seconds') >= 1 ? s : undefined;
    }, 20_000, 'the api process to show one job waiting');
    expect(waiting.value('herald_info', { role: 'api' })).toBe(1);
    expect(waiting.value('herald_publish_calls_total', { result: 'ok' })).toBe(1);
    expect(waiting.value('herald_deliveries', { status: 'PENDING' })).toBe(1);
    expect(waiting.value('herald_attempts_total')).toBe(0);

    const worker = startServerProcess({ ...env, HERALD_ROLE: 'worker' });
    running.push(worker);
    const workerMetrics = (await worker.listening).replace('/graphql', '/metrics');
    await receiver.waitFor(1);
    const sent = await eventually(async () => {
      const s = await scrapeAt(workerMetrics);
      return s.value('herald_attempts_total', { outcome: 'success' }) === 1 ? s : undefined;
    }, 20_000, 'the worker to count its attempt');
    expect(sent.value('herald_info', { role: 'worker' })).toBe(1);
    expect(sent.count('herald_publish_to_delivery_seconds')).toBe(1);
    await eventually(async () => ((await scrapeAt(apiMetrics)).value('herald_deliveries', { status: 'COMPLETED' }) === 1 ? true : undefined), 20_000, 'the api process to see it delivered');

    // Switched off, a process serves no /metrics.
    const off = startServerProcess({ ...env, HERALD_ROLE: 'api', HERALD_METRICS: 'off' });
    running.push(off);
    const response = await fetch((await off.listening).replace('/graphql', '/metrics'));
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('HERALD_METRICS=off');
  }, 120_000);
});

describe('docs/observing.md lists every metric', () => {
  it('names each herald_ metric', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../docs/observing.md', import.meta.url), 'utf8');
    const source = readFileSync(new URL('../src/telemetry/metrics.ts', import.meta.url), 'utf8');
    const names = [...source.matchAll(/name: '(herald_[a-z_]+)'/g)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(15);
    for (const name of names) expect(readme, name).toContain(`\`${name}\``);
  });
});
