import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY } from './support/app.ts';
import { createTestDatabase } from './support/database.ts';
import { clientFor, startServerProcess, type ServerProcess } from './support/process.ts';
import { eventually, Receiver } from './support/receiver.ts';

/** PRODUCT.md: an event acknowledged by publishEvent is never lost, not by a crash. */
describe('a server killed with SIGKILL mid-delivery', () => {
  let server: ServerProcess | undefined;
  let env: Record<string, string | undefined>;
  beforeAll(async () => {
    env = {
      DATABASE_URL: await createTestDatabase(),
      HERALD_BOOTSTRAP_KEY: ADMIN_KEY,
      HERALD_OUTBOUND_ALLOW: '127.0.0.0/8',
      HERALD_MIN_BACKOFF_MS: '50',
    };
  });
  afterAll(() => {
    server?.child.kill('SIGKILL');
  });

  it('delivers every acknowledged event after a restart (at least once; duplicates counted)', async () => {
    const receiver = await Receiver.start(() => ({ status: 200, delayMs: 20 }));
    server = startServerProcess(env);
    let url = await server.listening;
    const gql = clientFor(() => url, ADMIN_KEY);
    await gql('mutation { createTopic(input: { key: "order", name: "Order" }) { key } }');
    await gql('mutation($url: String!) { createWebhook(input: { label: "r", events: ["order.created"], url: $url, active: true, backoffBaseMs: 50, backoffCapMs: 500, maxAttempts: 20 }) { secret } }', {
      url: receiver.url,
    });
    const total = 300;
    const acknowledged: string[] = [];
    for (let batch = 0; batch < total / 50; batch += 1) {
      const inputs = Array.from({ length: 50 }, (_, i) => ({ event: { topic: 'order', action: 'created', entityId: `o${batch * 50 + i}`, data: { n: batch * 50 + i } } }));
      const data = await gql('mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { event { entityId } } }', { inputs });
      acknowledged.push(...data.publishEvents.map((p: any) => p.event.entityId));
    }
    // Kill while deliveries are in flight.
    await receiver.waitFor(20);
    server.child.kill('SIGKILL');
    await server.exited;
    const beforeRestart = receiver.received.length;
    expect(beforeRestart).toBeLessThan(total);

    server = startServerProcess(env);
    url = await server.listening;
    await eventually(async () => new Set(receiver.received.map((r) => JSON.parse(r.body).entityId)).size === total, 60_000, 'every event delivered');
    // Instances the killed process had sent but not recorded are sent again once their jobs' heartbeats lapse.
    await eventually(async () => {
      const open = await gql('{ instances(first: 1, filter: { statuses: [PENDING, SENDING, RETRYING, FAILED, CANCELLED] }) { edges { node { id status } } } }');
      return open.instances.edges.length === 0;
    }, 60_000, 'every instance COMPLETED');
    const ids = receiver.received.map((r) => JSON.parse(r.body).entityId as string);
    const unique = new Set(ids);
    expect([...unique].sort()).toEqual([...acknowledged].sort());
    console.info(`SIGKILL drill: ${total} published, ${beforeRestart} delivered before the kill, ${unique.size} delivered in all, ${total - unique.size} lost, ${ids.length - unique.size} duplicates`);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    server = undefined;
  }, 120_000);
});
