import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY } from './support/app.ts';
import { createTestDatabase } from './support/database.ts';
import { clientFor, startServerProcess, type ServerProcess } from './support/process.ts';
import { eventually, Receiver } from './support/receiver.ts';

/** A rate limit holds for the deployment: two worker processes share it through PostgreSQL. */
describe('a rate limit across worker processes', () => {
  const running: ServerProcess[] = [];
  let apiUrl: string;
  beforeAll(async () => {
    const env = { DATABASE_URL: await createTestDatabase(), HERALD_BOOTSTRAP_KEY: ADMIN_KEY, HERALD_OUTBOUND_ALLOW: '127.0.0.0/8' };
    const api = startServerProcess({ ...env, HERALD_ROLE: 'api' });
    const workers = [startServerProcess({ ...env, HERALD_ROLE: 'worker' }), startServerProcess({ ...env, HERALD_ROLE: 'worker' })];
    running.push(api, ...workers);
    [apiUrl] = await Promise.all([api.listening, ...workers.map((w) => w.listening)]);
  }, 90_000);
  afterAll(async () => {
    for (const p of running) p.child.kill('SIGTERM');
    await Promise.all(running.map((p) => p.exited));
  });

  it('one webhook limited to 20/s gets 400 events, with two worker processes sending, at no more than 20/s', async () => {
    const gql = clientFor(() => apiUrl, ADMIN_KEY);
    const receiver = await Receiver.start();
    await gql('mutation { createTopic(input: { key: "course", name: "Course" }) { key } }');
    const { createWebhook } = await gql(
      'mutation($url: String!) { createWebhook(input: { label: "limited", events: ["course.updated"], url: $url, active: true, rateLimit: { perSecond: 20 } }) { webhook { id } } }',
      { url: receiver.url },
    );
    for (let batch = 0; batch < 4; batch += 1) {
      await gql('mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { event { id } } }', {
        inputs: Array.from({ length: 100 }, (_, i) => ({ event: { topic: 'course', action: 'updated', entityId: `c${batch * 100 + i}`, data: {} } })),
      });
    }
    await receiver.waitFor(400, 60_000);
    const at = receiver.received.map((r) => r.at).sort((a, b) => a - b);
    const seconds = (at.at(-1)! - at[0]!) / 1000;
    // The most requests that arrived within any one second.
    let most = 0;
    for (let i = 0, j = 0; i < at.length; i += 1) {
      while (at[i]! - at[j]! >= 1000) j += 1;
      most = Math.max(most, i - j + 1);
    }
    const rate = (at.length - 1) / seconds;
    console.log(`400 deliveries at 20/s: ${rate.toFixed(1)}/s on average over ${seconds.toFixed(1)} s; at most ${most} in any one second`);
    // A limit is an upper bound: 20 a second plus the bucket's burst (a fifth of a second's worth) and some delivery jitter.
    expect(most).toBeLessThanOrEqual(28);
    expect(rate).toBeLessThanOrEqual(22);
    // Nothing failed or was lost because of the limit: every delivery COMPLETED, once.
    const counts = await eventually(async () => {
      const { webhook } = await gql('query($id: ID!) { webhook(id: $id) { stats { byStatus { status count } } } }', { id: createWebhook.webhook.id });
      const byStatus = Object.fromEntries(webhook.stats.byStatus.map((s: any) => [s.status, s.count]));
      return byStatus.COMPLETED === 400 ? byStatus : undefined;
    });
    expect(counts.FAILED).toBe(0);
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(400);
  }, 120_000);
});
