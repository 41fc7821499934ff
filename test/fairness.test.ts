// Every tenant gets its share: an api process and two worker processes on one PostgreSQL,
// tenant A flooding or crawling, tenant B publishing one event at a time. Each test asserts
// an order (B's delivery went while A still had a backlog), never a time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, OPERATOR_KEY } from './support/app.ts';
import { createTestDatabase } from './support/database.ts';
import { clientFor, startServerProcess, type ServerProcess } from './support/process.ts';
import { eventually, Receiver } from './support/receiver.ts';

const CREATE_WEBHOOK = 'mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }';
const PUBLISH = 'mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { event { id } } }';

describe('tenants sharing Herald (an api and two worker processes)', () => {
  let env: Record<string, string>;
  let api: ServerProcess;
  let apiUrl: string;
  let workers: ServerProcess[] = [];
  /** A tenant's GraphQL caller, its key made by the operator. */
  let tenantA: ReturnType<typeof clientFor>;
  let tenantB: ReturnType<typeof clientFor>;

  beforeAll(async () => {
    env = { DATABASE_URL: await createTestDatabase(), HERALD_BOOTSTRAP_KEY: ADMIN_KEY, HERALD_OPERATOR_KEY: OPERATOR_KEY, HERALD_OUTBOUND_ALLOW: '127.0.0.0/8' };
    api = startServerProcess({ ...env, HERALD_ROLE: 'api' });
    apiUrl = await api.listening;
    const operator = clientFor(() => apiUrl, OPERATOR_KEY);
    const tenant = async (name: string) => {
      const { createTenant } = await operator(`mutation($name: String!) { createTenant(input: { name: $name, environment: PRODUCTION }) { key } }`, { name });
      const client = clientFor(() => apiUrl, createTenant.key);
      await client('mutation { createTopic(input: { key: "order", name: "Order" }) { key } }');
      return client;
    };
    tenantA = await tenant('A (floods)');
    tenantB = await tenant('B (one at a time)');
  }, 90_000);

  afterAll(async () => {
    await stopWorkers();
    api.child.kill('SIGTERM');
    await api.exited;
  });

  async function startWorkers(): Promise<void> {
    workers = [startServerProcess({ ...env, HERALD_ROLE: 'worker' }), startServerProcess({ ...env, HERALD_ROLE: 'worker' })];
    await Promise.all(workers.map((w) => w.listening));
  }
  async function stopWorkers(): Promise<void> {
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    workers = [];
  }
  const webhook = async (client: typeof tenantA, url: string, extra: object = {}) =>
    (await client(CREATE_WEBHOOK, { input: { label: `to ${url}`, events: ['order.created'], url, active: true, ...extra } })).createWebhook.webhook.id as string;
  const publish = (client: typeof tenantA, count: number, prefix: string) =>
    client(PUBLISH, { inputs: Array.from({ length: count }, (_, i) => ({ event: { topic: 'order', action: 'created', entityId: `${prefix}-${i}`, data: { n: i } } })) });
  /** Distinct deliveries a receiver got (a delivery sent twice counts once). */
  const distinct = (r: Receiver) => new Set(r.received.map((q) => q.headers['webhook-id'])).size;

  it("a flood queued first does not go first: B's delivery, published after all of A's 8,000, is sent before half of them", async () => {
    const toA = await Receiver.start();
    const toB = await Receiver.start();
    for (let i = 0; i < 4; i += 1) await webhook(tenantA, toA.url);
    await webhook(tenantB, toB.url);
    // Nothing sends yet: A's 2,000 events to 4 webhooks wait in the queue, then B's one event behind them.
    await publish(tenantA, 1000, 'a1');
    await publish(tenantA, 1000, 'a2');
    await publish(tenantB, 1, 'b');
    await startWorkers();
    await toB.waitFor(1, 60_000);
    const aWhenB = toA.received.length;
    // First come, first served would have sent (nearly) all 8,000 of A's first.
    expect(aWhenB).toBeLessThan(4000);
    await eventually(async () => distinct(toA) >= 8000, 120_000, "all of A's deliveries");
  }, 240_000);

  it("a receiver that takes its time holds only its tenant's places: B's deliveries go while A's wait on it, and A loses none", async () => {
    const slow = await Receiver.start(() => ({ status: 200, hold: true }));
    const toB = await Receiver.start();
    await webhook(tenantA, slow.url, { timeoutMs: 30_000 });
    await webhook(tenantA, slow.url, { timeoutMs: 30_000 });
    await webhook(tenantB, toB.url);
    if (workers.length === 0) await startWorkers();
    await publish(tenantA, 1000, 'slow');
    // Each worker sends A's requests until A holds all its places there: 200 but the 20 kept for others.
    await eventually(async () => slow.received.length >= 360, 60_000, "A's requests to fill its places in both workers");
    for (let i = 1; i <= 5; i += 1) {
      await publish(tenantB, 1, `b-slow-${i}`);
      await toB.waitFor(i, 15_000);
    }
    // B's went while every one of A's was still waiting for its answer, and A took no more places than its share.
    expect(slow.holding).toBe(slow.received.length);
    expect(slow.received.length).toBe(360);
    slow.release();
    await eventually(async () => distinct(slow) >= 2000, 120_000, "all of A's deliveries");
  }, 240_000);
});
