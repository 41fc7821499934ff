import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY } from './support/app.ts';
import { createTestDatabase, runSql } from './support/database.ts';
import { clientFor, startServerProcess, type ServerProcess } from './support/process.ts';
import { eventually, Receiver } from './support/receiver.ts';
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

/** API keys are kept in each process while its change feed listens (usecases/authenticate.ts). */
describe('two api processes on one database: a key revoked on one', () => {
  const running: ServerProcess[] = [];
  let databaseUrl: string;
  let aUrl: string;
  let bUrl: string;
  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    const env = { DATABASE_URL: databaseUrl, HERALD_BOOTSTRAP_KEY: ADMIN_KEY, HERALD_ROLE: 'api' };
    running.push(startServerProcess(env), startServerProcess(env));
    [aUrl, bUrl] = (await Promise.all(running.map((p) => p.listening))) as [string, string];
  }, 90_000);
  afterAll(async () => {
    for (const p of running) p.child.kill('SIGTERM');
    await Promise.all(running.map((p) => p.exited));
  });

  const newKey = async () => (await clientFor(() => aUrl, ADMIN_KEY)('mutation { createApiKey(input: { name: "k", role: VIEWER }) { key apiKey { id } } }')).createApiKey;
  const viewerAt = (url: string, key: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: '{"query":"{ viewer { role } }"}' }).then((r) => r.json() as Promise<{ data?: any; errors?: any[] }>);

  it('is refused by the other as soon as its change feed says so', async () => {
    const { key, apiKey } = await newKey();
    expect((await viewerAt(bUrl, key)).data.viewer.role).toBe('VIEWER'); // b now keeps it
    await clientFor(() => aUrl, ADMIN_KEY)('mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: apiKey.id });
    const refused = await eventually(async () => (await viewerAt(bUrl, key)).errors?.[0], 5_000, 'b refusing the revoked key');
    expect(refused.extensions.code).toBe('UNAUTHENTICATED');
    expect(refused.message).toContain('revoked');
  });

  it('is read again by a process whose change feed was lost, which may have missed the revocation', async () => {
    const { key, apiKey } = await newKey();
    expect((await viewerAt(bUrl, key)).data.viewer.role).toBe('VIEWER');
    expect((await viewerAt(aUrl, key)).data.viewer.role).toBe('VIEWER');
    // Revoked behind Herald's back (no notification), as a revocation a lost feed missed: both still keep the key...
    await runSql(databaseUrl, 'UPDATE api_key SET revoked_at = now() WHERE id = $1', [apiKey.id]);
    expect((await viewerAt(bUrl, key)).data.viewer.role).toBe('VIEWER');
    // ...until a process's feed drops: it forgets every key it kept, and reads them again.
    await runSql(databaseUrl, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'herald-changes' AND datname = current_database()");
    const refused = await eventually(async () => (await viewerAt(bUrl, key)).errors?.[0], 10_000, 'b refusing the key after its feed dropped');
    expect(refused.message).toContain('revoked');
  });
});
