import { PgBoss } from 'pg-boss';
import { beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/db/migrate.ts';
import { createLogger } from '../src/logger.ts';
import { DELIVER_QUEUE, startQueue } from '../src/queue/boss.ts';
import { startTestApp, type TestApp } from './support/app.ts';
import { createTestDatabase, runSql } from './support/database.ts';
import { setUpTopics } from './support/fixtures.ts';
import { Receiver } from './support/receiver.ts';

/** The queue keeps finished jobs ten minutes, not pg-boss's seven days: Herald records every attempt itself. */
describe('the delivery queues: retention, lanes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ HERALD_OUTBOUND_ALLOW: '127.0.0.0/8,::1/128' });
    await setUpTopics(t);
  });

  it('every queue Herald uses deletes finished jobs after 10 minutes, and a delivered job carries it', async () => {
    const queues = await runSql(t.databaseUrl, `SELECT name, deletion_seconds FROM pgboss.queue WHERE name NOT LIKE '\_\_pgboss%' ORDER BY name`);
    expect(queues.map((q) => q.name)).toEqual(expect.arrayContaining(['close-batch', 'deliver', 'herald-event', 'purge', 'webhook-state']));
    for (const q of queues) expect(q).toMatchObject({ deletion_seconds: 600 });
    const receiver = await Receiver.start();
    await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }', { input: { label: 'r', events: ['user.created'], url: receiver.url, active: true } });
    await t.ok('mutation($e: PublishEventInput!) { publishEvent(input: $e) { event { id } } }', { e: { event: { topic: 'user', action: 'created', entityId: 'u1', data: {} } } });
    await receiver.waitFor(1);
    // In the tenant's lane, which its first delivery made, with the same retention.
    const jobs = await runSql(t.databaseUrl, `SELECT j.deletion_seconds, q.deletion_seconds AS lane FROM pgboss.job j JOIN pgboss.queue q ON q.name = j.name WHERE j.name LIKE $1`, [`${DELIVER_QUEUE}.%`]);
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) expect(job).toMatchObject({ deletion_seconds: 600, lane: 600 });
  });

  it("sends the jobs an older Herald left in the one queue before tenants had lanes", async () => {
    const receiver = await Receiver.start();
    const { createWebhook } = await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }', { input: { label: 'old', events: ['user.updated'], url: receiver.url, active: true } });
    const webhookId = createWebhook.webhook.id;
    await t.ok('mutation($id: ID!) { pauseWebhook(id: $id) { state } }', { id: webhookId });
    const published = await t.ok('mutation($e: PublishEventInput!) { publishEvent(input: $e) { instances { id status } } }', { e: { event: { topic: 'user', action: 'updated', entityId: 'u-old', data: {} } } });
    const [instance] = published.publishEvent.instances;
    expect(instance.status).toBe('PAUSED');
    // As an older Herald left it: PENDING, with a job of the older shape in the queue `deliver`.
    await runSql(t.databaseUrl, `UPDATE webhook SET paused_at = NULL, active = true WHERE id = $1`, [webhookId]);
    await runSql(t.databaseUrl, `UPDATE instance SET status = 'PENDING' WHERE id = $1`, [instance.id]);
    const boss = new PgBoss({ connectionString: t.databaseUrl, schema: 'pgboss', supervise: false, schedule: false });
    await boss.start();
    try {
      await boss.insert(DELIVER_QUEUE, [{ data: { instanceId: instance.id, trigger: 'AUTO' }, group: { id: webhookId } }]);
    } finally {
      await boss.stop({ graceful: false, close: true });
    }
    await receiver.waitFor(1);
    expect(receiver.received[0]!.headers['webhook-id']).toBe(instance.id);
  });

  // Last: it starts a queue of its own in this process.
  it('a queue an older Herald made with the 7-day default is brought to 10 minutes at start', async () => {
    const url = await createTestDatabase({ empty: true });
    await migrate(url, createLogger('silent'));
    const old = new PgBoss({ connectionString: url, schema: 'pgboss' });
    await old.start();
    await old.createQueue(DELIVER_QUEUE, { retryLimit: 20 });
    expect((await old.getQueue(DELIVER_QUEUE))!.deleteAfterSeconds).toBe(604_800);
    await old.stop({ graceful: false, close: true });
    const boss = await startQueue(url, createLogger('silent'));
    try {
      expect((await boss.getQueue(DELIVER_QUEUE))!).toMatchObject({ deleteAfterSeconds: 600, retryLimit: 20 });
    } finally {
      await boss.stop({ graceful: false, close: true });
    }
  });

});
