import { describe, expect, it } from 'vitest';
import { startTestApp } from './support/app.ts';
import { setUpTopics } from './support/fixtures.ts';
import { Receiver } from './support/receiver.ts';

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }`;

describe('a webhook with a big backlog', () => {
  it("does not hold up another webhook's deliveries: once it has its share on the way, its jobs of 25 stay in the queue", async () => {
    const t = await startTestApp({ HERALD_OUTBOUND_ALLOW: '127.0.0.0/8', HERALD_WORKER_CONCURRENCY: '10', HERALD_WEBHOOK_CONCURRENCY: '5' });
    await setUpTopics(t);
    const slow = await Receiver.start(() => ({ status: 200, delayMs: 1000 }));
    const fast = await Receiver.start();
    const create = (url: string, events: string[]) => t.ok(CREATE, { input: { label: `backlog ${events[0]}`, events, url, active: true } });
    await create(slow.url, ['delegate.created']);
    await create(fast.url, ['user.created']);
    const publishMany = (topic: string, n: number, from: number) =>
      t.ok('mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { instances { id } } }', {
        inputs: Array.from({ length: n }, (_, i) => ({ event: { topic, action: 'created', entityId: `b-${from + i}`, data: {} } })),
      });
    // 200 deliveries to the slow webhook (8 jobs of 25): 5 at a time, 1 s each, 40 s of work.
    await publishMany('delegate', 100, 0);
    await publishMany('delegate', 100, 100);
    await slow.waitFor(1);
    await publishMany('user', 1, 0);
    await fast.waitFor(1, 20_000);
    // The other webhook's delivery went out at once, not after a worker's hands full of the backlog
    // (10 places, room for 50 waiting: had it taken 10 jobs of 25, 50 more would have to go first).
    expect(slow.received.length).toBeLessThan(30);
  }, 40_000);
});
