import { createHash } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollUpCounts, statusGroups, statusTotals, waitingByTenant } from '../src/store/sql/instances.ts';
import { purgeHours, series, TENANT_TOTAL } from '../src/store/sql/series.ts';
import { purgeBatches, purgeEvents, purgeInstances, purgePortalSessions } from '../src/store/sql/retention.ts';
import { deliveryWeights, returnPublishTokens, takePublishTokens } from '../src/store/sql/tenants.ts';
import { databaseOn, planOf, VERSIONS } from './support/plans.ts';

/**
 * What the API filters and pages on is answered through an index, on the embedded
 * PostgreSQL 18 and on Debian's PostgreSQL 15 (which has no skip scan), with a history
 * of 100,000 events and 200,000 deliveries: each look-up reads a few pages, not the table.
 * The statements have the shape Prisma sends for the API's filters (WHERE …, ORDER BY id DESC, LIMIT).
 */
const EVENTS = 100_000;

interface Seeded {
  big: string;
  small: string;
  webhook: string;
  event: string;
  condition: string;
  /** Fifty deliveries that each carried a batch. */
  carriers: string[];
}

async function seed(db: pg.Client): Promise<Seeded> {
  const q = (text: string, values: unknown[] = []) => db.query(text, values);
  const [big, small] = (await q(`INSERT INTO tenant (id, name, environment) SELECT gen_random_uuid(), 't' || n, 'PRODUCTION' FROM generate_series(1, 2) n RETURNING id::text`)).rows.map((r) => r.id);
  await q(
    `INSERT INTO webhook (id, tenant_id, label, active, event_types, topics, url, secret, updated_at)
     SELECT gen_random_uuid(), CASE WHEN n <= 200 THEN $1::uuid ELSE $2::uuid END, 'w' || n, true, '{order.created}', '{order}', 'https://x.example/', 's', now() FROM generate_series(1, 202) n`,
    [big, small],
  );
  const hooks = (await q(`SELECT id::text FROM webhook WHERE tenant_id = $1 ORDER BY id`, [big])).rows.map((r) => r.id);
  // A hundred condition rules per webhook (conditions grow with webhooks, one per customer say).
  await q(`INSERT INTO condition (id, webhook_id, position, kind, path, operator, values) SELECT gen_random_uuid(), w.id, n, 'RULE', 'clientId', 'EQUALS', '[]' FROM webhook w, generate_series(1, 100) n`);
  await q(
    `INSERT INTO event (id, tenant_id, topic, action, entity_id, data, changed_fields, occurred_at, created_at)
     SELECT gen_random_uuid(), CASE WHEN n % 500 = 0 THEN $2::uuid ELSE $1::uuid END, 'order', 'created', 'e' || (n % 10000), '{"a":1}', '{}', now() - (n || ' seconds')::interval, now() - (n || ' seconds')::interval
     FROM generate_series(1, $3::int) n`,
    [big, small, EVENTS],
  );
  await q(
    `INSERT INTO instance (id, tenant_id, webhook_id, event_id, event_type, entity_id, status, payload, created_at, updated_at)
     SELECT gen_random_uuid(), e.tenant_id, ($2::uuid[])[1 + (row_number() OVER () % 200)::int], e.id, e.topic || '.' || e.action, e.entity_id, 'COMPLETED', '{"url":"https://x.example/"}', e.created_at, e.created_at
     FROM event e, generate_series(1, 2) k WHERE e.tenant_id = $1`,
    [big, hooks],
  );
  // Batches, closed and delivered (their delivery purged), a hundred per webhook.
  await q(`INSERT INTO batch (id, webhook_id, opened_at, closes_at, closed_at, size) SELECT gen_random_uuid(), w.id, now() - n * interval '1 hour', now(), now() - n * interval '1 hour', 1 FROM webhook w, generate_series(1, 100) n`);
  // A month of chart hours for every webhook and the tenants' totals.
  await q(
    `INSERT INTO delivery_hour SELECT w.tenant_id, w.id, date_trunc('hour', now()) - h * interval '1 hour', 1, 0, 1, 0, 0, 3, '{1,0,0,0,0,0,0,0,0,0,0,0,0}'
     FROM (SELECT tenant_id, id FROM webhook UNION ALL SELECT id, $1::uuid FROM tenant) w, generate_series(1, 24 * 30) h`,
    [TENANT_TOTAL],
  );
  // A month of portal sessions, a thousand a day, most of them ended.
  await q(
    `INSERT INTO portal_session (id, tenant_id, role, link_hash, session_hash, allowed_origins, expires_at, used_at)
     SELECT gen_random_uuid(), $1::uuid, 'VIEWER', md5('l' || n), md5('s' || n), '{https://admin.vendor.example}', now() - (n * interval '43 seconds') + interval '1 hour', now() - (n * interval '43 seconds')
     FROM generate_series(1, 60000) n`,
    [big],
  );
  await q(`UPDATE instance SET status = 'PAUSED' WHERE id IN (SELECT id FROM instance WHERE webhook_id = $1 ORDER BY id DESC LIMIT 100)`, [hooks[0]]);
  // Every delivery's attempts (two each); ten events in every batch, a thousand of them delivered.
  await q(`INSERT INTO attempt (id, instance_id, number, trigger, started_at, duration_ms) SELECT gen_random_uuid(), i.id, k, 'AUTO', i.created_at, 5 FROM instance i, generate_series(1, 2) k`);
  await q(`UPDATE batch b SET instance_id = i.id FROM (SELECT id, row_number() OVER () AS n FROM instance LIMIT 1000) i, (SELECT id, row_number() OVER () AS n FROM batch LIMIT 1000) c WHERE b.id = c.id AND c.n = i.n`);
  await q(`INSERT INTO batch_event (batch_id, event_id, position) SELECT b.id, e.id, e.n - 1 FROM batch b, LATERAL (SELECT id, row_number() OVER () AS n FROM event WHERE tenant_id = $1 LIMIT 10) e`, [big]);
  // The counters as the roll-up leaves them (every process folds the deltas every few seconds).
  const fold = rollUpCounts(1_000_000);
  await q(fold.text, fold.values);
  await q('ANALYZE');
  const event = (await q(`SELECT id::text FROM event WHERE tenant_id = $1 LIMIT 1 OFFSET 5000`, [big])).rows[0].id;
  const condition = (await q(`SELECT id::text FROM condition LIMIT 1`)).rows[0].id;
  const carriers = (await q(`SELECT instance_id::text AS id FROM batch WHERE instance_id IS NOT NULL LIMIT 50`)).rows.map((r) => r.id);
  return { big, small, webhook: hooks[0]!, event, condition, carriers };
}

/** `pages`: what it may read when it answers for many records at once (default 200). */
const LOOKUPS: Array<{ what: string; index: string | null; pages?: number; sql: (s: Seeded) => [string, unknown[]] }> = [
  { what: 'events(filter: { entityId })', index: 'event_tenant_id_entity_id_id_idx', sql: (s) => ['SELECT id FROM event WHERE tenant_id = $1 AND entity_id = $2 ORDER BY id DESC LIMIT 21', [s.big, 'e42']] },
  { what: "events, newest first, of a tenant with few of them", index: 'event_tenant_id_id_idx', sql: (s) => ['SELECT id FROM event WHERE tenant_id = $1 ORDER BY id DESC LIMIT 21', [s.small]] },
  // The Test button's latest real event of a topic, and the Events screen by topic: a rare topic reads a few pages too.
  // (every event here is of that topic: either index reads a page or two)
  { what: "testSample: a topic's latest event", index: null, sql: (s) => ["SELECT id FROM event WHERE tenant_id = $1 AND topic = $2 AND action = ANY($3) ORDER BY id DESC LIMIT 1", [s.big, 'order', ['created']]] },
  { what: 'events(filter: { topic }) of a topic with none', index: 'event_tenant_id_topic_id_idx', sql: (s) => ['SELECT id FROM event WHERE tenant_id = $1 AND topic = $2 ORDER BY id DESC LIMIT 21', [s.big, 'course']] },
  { what: 'instances(filter: { entityId })', index: 'instance_tenant_id_entity_id_id_idx', sql: (s) => ['SELECT id FROM instance WHERE tenant_id = $1 AND entity_id = $2 ORDER BY id DESC LIMIT 21', [s.big, 'e42']] },
  // By event type: a type with none (the worst case without the index: the whole history), and the common one.
  { what: 'instances(filter: { eventType }) of a type with none', index: 'instance_tenant_id_event_type_id_idx', sql: (s) => ['SELECT id FROM instance WHERE tenant_id = $1 AND event_type = $2 ORDER BY id DESC LIMIT 21', [s.big, 'course.created']] },
  { what: 'instances(filter: { eventType }) of the common type', index: 'instance_tenant_id_event_type_id_idx', sql: (s) => ['SELECT id FROM instance WHERE tenant_id = $1 AND event_type = $2 ORDER BY id DESC LIMIT 21', [s.big, 'order.created']] },
  { what: 'instances(filter: { webhookId })', index: 'instance_tenant_id_webhook_id_id_idx', sql: (s) => ['SELECT id FROM instance WHERE tenant_id = $1 AND webhook_id = $2 ORDER BY id DESC LIMIT 21', [s.big, s.webhook]] },
  { what: 'instances(filter: { eventId })', index: 'instance_event_id_idx', sql: (s) => ['SELECT id FROM instance WHERE tenant_id = $1 AND event_id = $2 ORDER BY id DESC LIMIT 21', [s.big, s.event]] },
  // Counters grow with webhooks, not history: a small table may well be read whole.
  { what: 'Webhook.stats', index: null, sql: (s) => { const st = statusGroups([s.webhook]); return [st.text, st.values]; } },
  // The metrics' herald_deliveries: seven rows and the deltas not folded yet, however many webhooks.
  { what: 'herald_deliveries (a scrape)', index: null, sql: () => { const st = statusTotals(); return [st.text, st.values]; } },
  // What deleting a condition (or its webhook) asks once per row deleted: the rows it was the parent of.
  { what: 'a deleted condition’s children (the cascade)', index: 'condition_parent_id_idx', sql: (s) => ['SELECT 1 FROM ONLY condition x WHERE parent_id = $1', [s.condition]] },
  // Charts: a week of one webhook's hours, and of its tenant's totals, beside 145,000 other hour rows.
  { what: 'Webhook.series (HOUR, a week)', index: 'delivery_hour_pkey', sql: (s) => { const st = series(s.big, s.webhook, 'hour', 3_600_000, new Date(Date.now() - 7 * 86_400_000), new Date()); return [st.text, st.values]; } },
  { what: 'Tenant.series (DAY, a week)', index: 'delivery_hour_pkey', sql: (s) => { const st = series(s.big, TENANT_TOTAL, 'hour', 86_400_000, new Date(Date.now() - 7 * 86_400_000), new Date()); return [st.text, st.values]; } },
  // Every request of a portal session, and every opening of a portal link.
  { what: 'a portal session by its secret', index: 'portal_session_session_hash_key', sql: () => ['SELECT * FROM portal_session WHERE session_hash = $1', [createHash('md5').update('s42').digest('hex')]] },
  { what: 'a portal link', index: 'portal_session_link_hash_key', sql: () => ['SELECT allowed_origins, expires_at, used_at FROM portal_session WHERE link_hash = $1', [createHash('md5').update('l42').digest('hex')]] },
  // Instance.attemptLog and Instance.events for a page of fifty deliveries, in one statement each (lists.ts).
  { what: 'Instance.attemptLog of fifty deliveries', index: 'attempt_instance_id_idx', sql: (s) => ['SELECT id FROM attempt WHERE instance_id = ANY($1::uuid[]) AND number <= $2 ORDER BY instance_id, number', [s.carriers, 101]] },
  { what: 'Instance.events of fifty batch deliveries (500 rows)', index: 'batch_event_pkey', pages: 600, sql: (s) => ['SELECT event_id FROM batch_event WHERE batch_id IN (SELECT id FROM batch WHERE instance_id = ANY($1::uuid[])) AND position < $2 ORDER BY batch_id, position', [s.carriers, 1001]] },
  // Tenant.deliveryQueue and the metrics' per-tenant series: the counters of its webhooks, not its deliveries
  // (of a tenant with every webhook but two, the small tables whole).
  { what: 'Tenant.deliveryQueue.waiting of a tenant with 200 webhooks', index: null, pages: 1500, sql: (s) => { const st = waitingByTenant([s.big]); return [st.text, st.values]; } },
  { what: 'Tenant.deliveryQueue.waiting of a tenant with 2 webhooks', index: 'webhook_tenant_id_active_idx', sql: (s) => { const st = waitingByTenant([s.small]); return [st.text, st.values]; } },
  { what: 'Webhook.heldDeliveries', index: 'instance_paused_idx', sql: (s) => [`SELECT count(*) FROM instance WHERE webhook_id = $1 AND status = 'PAUSED'`, [s.webhook]] },
];

/** Tables that grow with history: never read whole by a look-up. */
const HISTORY = ['event', 'instance', 'attempt', 'batch_event', 'delivery_hour', 'portal_session'];

for (const version of VERSIONS) {
  describe(`look-ups stay flat as history grows, on ${version}`, () => {
    let db: pg.Client;
    let seeded: Seeded;
    let stop: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      const { url, stop: stopIt } = await databaseOn(version);
      stop = stopIt;
      db = new pg.Client(url);
      await db.connect();
      seeded = await seed(db);
    }, 180_000);
    afterAll(async () => {
      await db?.end();
      await stop?.();
    });

    it.each(LOOKUPS.map((l) => [l.what, l] as const))('%s reads a few pages, through its index', async (_what, lookup) => {
      const [text, values] = lookup.sql(seeded);
      const plan = await planOf(db, text, values);
      expect(plan.seqScans.filter((table) => HISTORY.includes(table!))).toEqual([]);
      if (lookup.index) expect(plan.indexes).toContain(lookup.index);
      expect(plan.buffers).toBeLessThan(lookup.pages ?? 200);
    });

    // The nightly purge walks one tenant at a time with its own cutoff: a window of its
    // events along (tenant_id, id), their deliveries through event_id, its batches
    // through its webhooks, its chart hours along (tenant_id, at). Run here (and rolled back) on the first window of each
    // tenant, every event old enough and a tenth of the batches: the small tenant's
    // purge reads pages for its own 200 events (and the look-ups its deletes cascade
    // to), not for the other's 100,000.
    const FIRST = '00000000-0000-0000-0000-000000000000';
    const LAST = 'ffffffff-ffff-ffff-ffff-ffffffffffff';
    const PURGE: Array<[string, (tenant: string, last: string) => { text: string; values: unknown[] }, string[], number]> = [
      ['finished deliveries of a window of events', (tenant) => purgeInstances(tenant, FIRST, LAST, new Date(), 2000), ['event_tenant_id_id_idx', 'instance_event_id_idx'], 1_500],
      ['events of the window no delivery refers to', (tenant, last) => purgeEvents(tenant, FIRST, last, new Date()), ['event_pkey', 'instance_event_id_idx'], 3_000],
      // (a night's purge: the oldest of 30 days; the small tenant deletes 72 hour rows of its own)
      ['chart hours older than its retention', (tenant) => purgeHours(tenant, new Date(Date.now() - 29 * 86_400_000), 2000), ['delivery_hour_tenant_id_at_idx'], 400],
      ['batches whose delivery went', (tenant) => purgeBatches(tenant, new Date(Date.now() - 90 * 3_600_000), 2000), ['batch_webhook_id_closed_at_idx', 'batch_pkey'], 400],
    ];
    it.each(PURGE)("the purge's %s reads the tenant's rows through indexes, not the tables", async (_what, statement, indexes, smallMost) => {
      for (const tenant of [seeded.small, seeded.big]) {
        const [window] = (await db.query('SELECT id::text AS last FROM (SELECT id FROM event WHERE tenant_id = $1 ORDER BY id LIMIT 2000) w ORDER BY id DESC LIMIT 1', [tenant])).rows;
        const { text, values } = statement(tenant, window.last);
        await db.query('BEGIN');
        try {
          const plan = await planOf(db, text, values);
          expect(plan.seqScans.filter((table) => [...HISTORY, 'batch'].includes(table!))).toEqual([]);
          for (const index of indexes) expect(plan.indexes).toContain(index);
          if (tenant === seeded.small) expect(plan.buffers).toBeLessThan(smallMost);
        } finally {
          await db.query('ROLLBACK');
        }
      }
    });

    // Every publish call takes from its tenant's bucket (twice: the bucket made, then taken from), reading its catalog version; a refused
    // call gives its tokens back; a worker reads its tenants' weights.
    it("a publish's admission and the workers' weights read a tenant's rows by key", async () => {
      const take = takePublishTokens(seeded.small, 10, { rate: 100, burst: 1000 });
      const giveBack = returnPublishTokens(seeded.small, 10, { burst: 1000 });
      const weights = deliveryWeights([seeded.small, seeded.big]);
      await db.query('BEGIN');
      try {
        // Ten thousand tenants, each with its bucket.
        await db.query(`INSERT INTO tenant (id, name, environment) SELECT gen_random_uuid(), 'x' || n, 'PRODUCTION' FROM generate_series(1, 10000) n`);
        await db.query(`INSERT INTO publish_bucket (tenant_id, tokens, at) SELECT id, 1, now() FROM tenant WHERE id <> $1`, [seeded.small]);
        await db.query(`INSERT INTO catalog_version (tenant_id, version) SELECT id, 1 FROM tenant ON CONFLICT DO NOTHING`);
        await db.query('ANALYZE tenant, publish_bucket, catalog_version');
        for (const { text, values } of [take, take, giveBack, weights]) {
          const plan = await planOf(db, text, values);
          expect(plan.seqScans).toEqual([]);
          expect(plan.buffers).toBeLessThan(30);
        }
      } finally {
        await db.query('ROLLBACK');
      }
    });

    // The nightly purge's ended portal sessions: the day's thousand, not the month's.
    it('the purge of ended portal sessions reads the ended ones through portal_session_expires_at_idx', async () => {
      const { text, values } = purgePortalSessions(new Date(Date.now() - 29 * 86_400_000));
      await db.query('BEGIN');
      try {
        const plan = await planOf(db, text, values);
        expect(plan.seqScans).not.toContain('portal_session');
        expect(plan.indexes).toContain('portal_session_expires_at_idx');
      } finally {
        await db.query('ROLLBACK');
      }
    });
  });
}
