import { beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.ts';
import { runSql } from './support/database.ts';
import { setUpTopics } from './support/fixtures.ts';
import { eventually, Receiver } from './support/receiver.ts';

/**
 * Statements a request runs, counted by PostgreSQL itself (pg_stat_statements, which the
 * test PostgreSQL preloads), in this file's own database.
 */
let t: TestApp;
let receiver: Receiver;

beforeAll(async () => {
  t = await startTestApp({ HERALD_OUTBOUND_ALLOW: '127.0.0.0/8,::1/128' });
  receiver = await Receiver.start();
  await runSql(t.databaseUrl, 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  await setUpTopics(t);
});

/** Executions so far in this database of statements whose text matches `like`, leaving out the queue's own, the roll-ups (they run on a timer) and this count. */
async function executed(like = '%'): Promise<number> {
  const [row] = await runSql(
    t.databaseUrl,
    `SELECT COALESCE(sum(calls), 0)::int AS calls FROM pg_stat_statements
     WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND query ILIKE $1 AND query NOT ILIKE '%pgboss%' AND query NOT ILIKE '%pg_stat_statements%'
       AND query NOT IN ('BEGIN', 'COMMIT', 'SELECT 1') AND query NOT ILIKE 'LISTEN%' AND query NOT ILIKE '%DELETE FROM instance_count_delta%' AND query NOT ILIKE '%DELETE FROM delivery_%'`,
    [like],
  );
  return row.calls;
}

describe('statements per request', () => {
  it('webhooks { stats } of 20 webhooks reads their counts in one statement, never the instances', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      const { createWebhook } = await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }', {
        input: { label: `customer ${i}`, events: ['user.created'], url: receiver.url, active: true },
      });
      ids.push(createWebhook.webhook.id);
    }
    for (let i = 0; i < 3; i += 1) await t.ok('mutation($e: PublishEventInput!) { publishEvent(input: $e) { event { id } } }', { e: { event: { topic: 'user', action: 'created', entityId: `u${i}`, data: {} } } });
    await receiver.waitFor(60);
    const list = '{ webhooks(first: 20) { edges { node { id stats { total successRate byStatus { status count } } } } } }';
    await eventually(async () => (await t.ok(list)).webhooks.edges.every((e: any) => e.node.stats.byStatus.find((s: any) => s.status === 'COMPLETED').count === 3), 15_000, 'all delivered');

    const [statsBefore, instancesBefore, allBefore] = [await executed('%FROM webhook_status_count WHERE%'), await executed('%FROM instance %'), await executed()];
    const { webhooks } = await t.ok(list);
    const [statsAfter, instancesAfter, allAfter] = [await executed('%FROM webhook_status_count WHERE%'), await executed('%FROM instance %'), await executed()];

    expect(webhooks.edges).toHaveLength(20);
    for (const { node } of webhooks.edges) {
      expect(ids).toContain(node.id);
      expect(node.stats).toMatchObject({ total: 3, successRate: 1 });
    }
    expect(statsAfter - statsBefore).toBe(1);
    expect(instancesAfter - instancesBefore).toBe(0);
    // The page, its count and the stats (was 22: one stats query per webhook); the counting query itself is left out.
    expect(allAfter - allBefore).toBeLessThanOrEqual(4);
  });
});

describe('delivery counts', () => {
  it('stay exact before and after the roll-up, and when deliveries are deleted', async () => {
    const { rollUpCounts } = await import('../src/store/stats.ts');
    const { createWebhook } = await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }', {
      input: { label: 'counted', events: ['user.updated'], url: receiver.url, active: true },
    });
    const id = createWebhook.webhook.id;
    const stats = async () => (await t.ok('query($id: ID!) { webhook(id: $id) { stats { total byStatus { status count } } } }', { id })).webhook.stats;
    const counted = async () => {
      const rows = await runSql(t.databaseUrl, `SELECT status::text, count(*)::int AS n FROM instance WHERE webhook_id = $1 GROUP BY status`, [id]);
      return Object.fromEntries(rows.map((r) => [r.status, r.n]));
    };
    const shown = async () => Object.fromEntries((await stats()).byStatus.filter((s: any) => s.count > 0).map((s: any) => [s.status, s.count]));
    for (let i = 0; i < 5; i += 1) await t.ok('mutation($e: PublishEventInput!) { publishEvent(input: $e) { event { id } } }', { e: { event: { topic: 'user', action: 'updated', entityId: `c${i}`, data: {} } } });
    await eventually(async () => (await counted()).COMPLETED === 5, 15_000, 'all delivered');
    expect(await shown()).toEqual(await counted());
    await rollUpCounts();
    expect(await shown()).toEqual({ COMPLETED: 5 });
    await runSql(t.databaseUrl, `DELETE FROM instance WHERE id IN (SELECT id FROM instance WHERE webhook_id = $1 LIMIT 2)`, [id]);
    expect(await shown()).toEqual({ COMPLETED: 3 });
    await rollUpCounts();
    expect(await stats()).toMatchObject({ total: 3 });
  });
});
