import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY } from './support/app.ts';
import { createTestDatabase, runSql } from './support/database.ts';
import { clientFor, startServerProcess, type ServerProcess } from './support/process.ts';
import { eventually, Receiver } from './support/receiver.ts';

/**
 * Each process caches what publishes match against (store/catalog.ts); a change made
 * through one process is seen by the very next publish through another.
 */
describe('the catalog cache across processes', () => {
  const running: ServerProcess[] = [];
  let databaseUrl: string;
  let a: ReturnType<typeof clientFor>;
  let b: ReturnType<typeof clientFor>;
  let receiver: Receiver;
  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    const env = { DATABASE_URL: databaseUrl, HERALD_BOOTSTRAP_KEY: ADMIN_KEY, HERALD_OUTBOUND_ALLOW: '127.0.0.0/8' };
    const first = startServerProcess({ ...env, HERALD_ROLE: 'all' });
    const second = startServerProcess({ ...env, HERALD_ROLE: 'api' });
    running.push(first, second);
    const [aUrl, bUrl] = await Promise.all([first.listening, second.listening]);
    a = clientFor(() => aUrl, ADMIN_KEY);
    b = clientFor(() => bUrl, ADMIN_KEY);
    receiver = await Receiver.start();
  }, 90_000);
  afterAll(async () => {
    for (const p of running) p.child.kill('SIGTERM');
    await Promise.all(running.map((p) => p.exited));
  });

  const publish = async (clientId: string, action = 'created') =>
    (
      await b(`mutation($c: String!, $a: String!) { publishEvent(input: { event: { topic: "order", action: $a, entityId: "o1", clientId: $c, data: {} } }) { instances { status webhook { label } } } }`, {
        c: clientId,
        a: action,
      })
    ).publishEvent.instances.map((i: any) => `${i.webhook.label} ${i.status}`);
  const version = async () => Number((await runSql(databaseUrl, 'SELECT COALESCE((SELECT version FROM catalog_version), 0) AS v'))[0].v);

  it('sees webhooks created, changed, paused and turned off in the other process at once', async () => {
    await a('mutation { createTopic(input: { key: "order", name: "Order" }) { key } }');
    expect(await publish('acme')).toEqual([]); // process b has cached the topic without webhooks
    const created = await a(
      `mutation($url: String!) { createWebhook(input: { label: "acme", events: ["order.created"], url: $url, active: true,
         conditions: [{ rule: { path: "clientId", operator: EQUALS, values: ["acme"] } }] }) { webhook { id conditions { id } } } }`,
      { url: receiver.url },
    );
    const webhook = created.createWebhook.webhook;
    expect(await publish('acme')).toEqual(['acme PENDING']);
    expect(await publish('globex')).toEqual([]);

    await a('mutation($id: ID!) { updateCondition(id: $id, input: { values: ["globex"] }) { id } }', { id: webhook.conditions[0].id });
    expect(await publish('acme')).toEqual([]);
    expect(await publish('globex')).toEqual(['acme PENDING']);

    await a('mutation($id: ID!) { pauseWebhook(id: $id) { state } }', { id: webhook.id });
    expect(await publish('globex')).toEqual(['acme PAUSED']);
    await a('mutation($id: ID!) { setWebhookActive(id: $id, active: false) { state } }', { id: webhook.id });
    expect(await publish('globex')).toEqual([]);
  });

  it('sees a topic’s new action at once', async () => {
    const refused = await b('mutation { publishEvent(input: { event: { topic: "order", action: "shipped", entityId: "o1", data: {} } }) { event { id } } }').catch((e: Error) => e.message);
    expect(String(refused)).toMatch(/shipped/);
    await a('mutation { updateTopic(key: "order", input: { customActions: ["shipped"] }) { key } }');
    expect(await publish('acme', 'shipped')).toEqual([]);
  });

  it('deliveries do not move the catalog version (only configuration and circuits do)', async () => {
    await a(`mutation($url: String!) { createWebhook(input: { label: "every", events: ["order.created"], url: $url, active: true }) { webhook { id } } }`, { url: receiver.url });
    const before = await version();
    const received = receiver.received.length;
    for (let i = 0; i < 3; i += 1) await publish('acme');
    await eventually(async () => receiver.received.length >= received + 3);
    await eventually(async () => (await runSql(databaseUrl, "SELECT count(*)::int AS n FROM instance WHERE status = 'COMPLETED'"))[0].n >= 3);
    expect(await version()).toBe(before);
  });

  it('counts the version up once per tenant for each statement, whatever number of rows it writes', async () => {
    const created = await a(`mutation($url: String!) { createWebhook(input: { label: "many", events: ["order.deleted"], url: $url }) { webhook { id } } }`, { url: receiver.url });
    const id = created.createWebhook.webhook.id;
    const before = await version();
    await runSql(
      databaseUrl,
      `INSERT INTO condition (id, webhook_id, position, kind, path, operator, values)
       SELECT gen_random_uuid(), '${id}', n, 'RULE', 'clientId', 'EQUALS', jsonb_build_array('c' || n) FROM generate_series(1, 50) n`,
    );
    expect(await version()).toBe(before + 1);
    await runSql(databaseUrl, `UPDATE condition SET position = position + 1 WHERE webhook_id = '${id}'`);
    expect(await version()).toBe(before + 2);
    await runSql(databaseUrl, `DELETE FROM condition WHERE webhook_id = '${id}'`);
    expect(await version()).toBe(before + 3);
    await runSql(databaseUrl, `UPDATE webhook SET consecutive_failures = consecutive_failures + 1, failing_since = now() WHERE tenant_id = (SELECT tenant_id FROM webhook WHERE id = '${id}')`);
    expect(await version()).toBe(before + 3);
    await runSql(databaseUrl, `UPDATE webhook SET description = 'changed' WHERE id = '${id}'`);
    expect(await version()).toBe(before + 4);
  });
});
