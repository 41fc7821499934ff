import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY } from './support/app.ts';
import { createTestDatabase } from './support/database.ts';
import { clientFor, startServerProcess, type ServerProcess } from './support/process.ts';
import { Receiver } from './support/receiver.ts';
import { ready, subscribe } from './support/ws.ts';

/** How Herald grows: API and worker processes on one PostgreSQL. */
describe('an api process and a worker process on one database', () => {
  const running: ServerProcess[] = [];
  let apiUrl: string;
  let workerUrl: string;
  beforeAll(async () => {
    const env = { DATABASE_URL: await createTestDatabase(), HERALD_BOOTSTRAP_KEY: ADMIN_KEY, HERALD_OUTBOUND_ALLOW: '127.0.0.0/8' };
    const api = startServerProcess({ ...env, HERALD_ROLE: 'api' });
    const worker = startServerProcess({ ...env, HERALD_ROLE: 'worker' });
    running.push(api, worker);
    [apiUrl, workerUrl] = await Promise.all([api.listening, worker.listening]);
  }, 90_000);
  afterAll(async () => {
    for (const p of running) p.child.kill('SIGTERM');
    await Promise.all(running.map((p) => p.exited));
  });

  it("the subscriber on the api process sees the worker process's deliveries", async () => {
    const gql = clientFor(() => apiUrl, ADMIN_KEY);
    const receiver = await Receiver.start();
    await gql('mutation { createTopic(input: { key: "course", name: "Course" }) { key } }');
    const webhookId = (
      await gql('mutation($url: String!) { createWebhook(input: { label: "w", events: ["course.created"], url: $url, active: true }) { webhook { id } } }', { url: receiver.url })
    ).createWebhook.webhook.id;
    const sub = subscribe(apiUrl, ADMIN_KEY, 'subscription($w: ID) { instanceUpdated(webhookId: $w) { status attempts } }', { w: webhookId });
    await ready(sub);
    await gql('mutation { publishEvent(input: { event: { topic: "course", action: "created", entityId: "c1", data: {} } }) { event { id } } }');
    const values = await sub.waitFor(3);
    expect(values.map((v: any) => v.instanceUpdated.status)).toEqual(['PENDING', 'SENDING', 'COMPLETED']);
    expect(receiver.received).toHaveLength(1);
    await sub.client.dispose();
  });

  it('the worker process serves health only', async () => {
    const health = await fetch(workerUrl.replace('/graphql', '/healthz'));
    expect(health.status).toBe(200);
    const graphql = await fetch(workerUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ viewer { role } }"}' });
    expect(graphql.status).toBe(404);
    expect(await graphql.text()).toContain('HERALD_ROLE=worker');
  });
});
