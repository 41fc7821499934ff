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

/** Executions so far in this database of statements whose text matches `like`, leaving out the queue's own and this count. */
async function executed(like = '%'): Promise<number> {
  const [row] = await runSql(
    t.databaseUrl,
    `SELECT COALESCE(sum(calls), 0)::int AS calls FROM pg_stat_statements
     WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND query ILIKE $1 AND query NOT ILIKE '%pgboss%' AND query NOT ILIKE '%pg_stat_statements%'
       AND query NOT IN ('BEGIN', 'COMMIT', 'SELECT 1') AND query NOT ILIKE 'LISTEN%'`,
    [like],
  );
  return row.calls;
}

describe('statements per request', () => {
  it('webhooks { stats } of 20 webhooks counts their instances in one statement', async () => {
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

    const [instancesBefore, allBefore] = [await executed('%instance%GROUP BY%'), await executed()];
    const { webhooks } = await t.ok(list);
    const [instancesAfter, allAfter] = [await executed('%instance%GROUP BY%'), await executed()];

    expect(webhooks.edges).toHaveLength(20);
    for (const { node } of webhooks.edges) {
      expect(ids).toContain(node.id);
      expect(node.stats).toMatchObject({ total: 3, successRate: 1 });
    }
    expect(instancesAfter - instancesBefore).toBe(1);
    // The page, its count and the stats (was 22: one stats query per webhook); the counting query itself is left out.
    expect(allAfter - allBefore).toBeLessThanOrEqual(4);
  });
});
