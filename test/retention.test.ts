import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, errorOf, OPERATOR_KEY, startTestApp, type TestApp } from './support/app.ts';
import { setUpTopics } from './support/fixtures.ts';
import { runSql } from './support/database.ts';
import { eventually, Receiver } from './support/receiver.ts';
import { purgeOld } from '../src/store/retention.ts';
import { uuidv7 } from '../src/db/ids.ts';

const DAY = 86_400_000;
const PUBLISH = `mutation($input: PublishEventInput!) { publishEvent(input: $input) { event { id } instances { id } } }`;
const UPDATE = 'mutation($id: ID!, $input: UpdateTenantInput!) { updateTenant(id: $id, input: $input) { id name retentionDays retentionDaysInEffect } }';

/** The nightly purge, run here by hand with a clock moved forward: each tenant's finished history goes after its own period. */
describe('retention', () => {
  let t: TestApp;
  let receiver: Receiver;
  beforeAll(async () => {
    t = await startTestApp({ HERALD_OUTBOUND_ALLOW: '127.0.0.0/8,::1/128', HERALD_RETENTION_DAYS: '30' });
    receiver = await Receiver.start();
  });

  const sql = (text: string, values: unknown[] = []) => runSql(t.databaseUrl, text, values);
  /** A tenant (made by the operator) with a webhook on user.created; answers its id and key. */
  async function tenant(name: string, retentionDays?: number) {
    const created = (
      await t.ok('mutation($input: CreateTenantInput!) { createTenant(input: $input) { key tenant { id retentionDays retentionDaysInEffect } } }', { input: { name, environment: 'PRODUCTION', retentionDays } }, OPERATOR_KEY)
    ).createTenant;
    await setUpTopics(t, created.key);
    const webhook = (await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }', { input: { label: name, events: ['user.created'], url: receiver.url, active: true } }, created.key)).createWebhook.webhook;
    return { id: created.tenant.id as string, key: created.key as string, webhookId: webhook.id as string, shown: created.tenant };
  }
  /** Publishes one event as the tenant and waits for its delivery to finish. */
  async function delivered(key: string, entityId: string) {
    const published = (await t.ok(PUBLISH, { input: { event: { topic: 'user', action: 'created', entityId, data: {} } } }, key)).publishEvent;
    const [instance] = published.instances;
    await eventually(async () => (await sql(`SELECT 1 FROM instance WHERE id = $1 AND status = 'COMPLETED'`, [instance.id])).length > 0 || undefined, 20_000, `${entityId} delivered`);
    return { eventId: published.event.id as string, instanceId: instance.id as string };
  }
  /** The tenant's stored history: deliveries, their attempts, events. */
  const history = async (tenantId: string) => {
    const [row] = await sql(
      `SELECT (SELECT count(*) FROM instance WHERE tenant_id = $1)::int AS instances, (SELECT count(*) FROM attempt a JOIN instance i ON i.id = a.instance_id WHERE i.tenant_id = $1)::int AS attempts,
              (SELECT count(*) FROM event WHERE tenant_id = $1)::int AS events`,
      [tenantId],
    );
    return row;
  };
  const later = (days: number) => new Date(Date.now() + days * DAY);

  it('purges finished instances and events older than the limit, and keeps the rest', async () => {
    const own = (await t.ok('{ viewer { tenant { id } } }')).viewer.tenant.id;
    await setUpTopics(t);
    const webhook = (await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }', { input: { label: 'own', events: ['user.created'], url: receiver.url, active: true } })).createWebhook.webhook;
    const done = await delivered(ADMIN_KEY, 'old');
    const kept = await delivered(ADMIN_KEY, 'waiting');
    expect(await purgeOld(30)).toEqual({ instances: 0, events: 0, inboxes: 0, portalSessions: 0 });
    // A delivery still waiting is kept, with its event; a closed batch whose delivery went is purged.
    await sql(`UPDATE instance SET status = 'PENDING' WHERE id = $1`, [kept.instanceId]);
    const [batch] = await sql(`INSERT INTO batch (id, webhook_id, opened_at, closes_at, closed_at, size) VALUES ($1, $2, now(), now(), now(), 0) RETURNING id::text`, [uuidv7(), webhook.id]);
    const purged = await purgeOld(30, later(31));
    expect(purged).toMatchObject({ instances: 1, events: 1 });
    expect(await sql('SELECT 1 FROM instance WHERE id = $1', [done.instanceId])).toHaveLength(0);
    expect(await sql('SELECT 1 FROM event WHERE id = $1', [done.eventId])).toHaveLength(0);
    expect(await sql('SELECT 1 FROM attempt WHERE instance_id = $1', [done.instanceId])).toHaveLength(0);
    expect(await sql('SELECT 1 FROM instance WHERE id = $1', [kept.instanceId])).toHaveLength(1);
    expect(await sql('SELECT 1 FROM event WHERE id = $1', [kept.eventId])).toHaveLength(1);
    expect(await sql('SELECT 1 FROM batch WHERE id = $1', [batch.id])).toHaveLength(0);
    await sql(`DELETE FROM instance WHERE tenant_id = $1`, [own]);
  });

  it("applies each tenant's own period, shorter or longer than the server's, and a changed one at the next purge", async () => {
    const short = await tenant('short', 7);
    const long = await tenant('long', 90);
    const plain = await tenant('plain');
    expect(short.shown).toEqual({ id: short.id, retentionDays: 7, retentionDaysInEffect: 7 });
    expect(plain.shown).toEqual({ id: plain.id, retentionDays: null, retentionDaysInEffect: 30 });
    for (const each of [short, long, plain]) for (const n of [1, 2, 3]) await delivered(each.key, `${each.id}-${n}`);
    // One of the short-lived tenant's deliveries is still waiting: it outlives the period, with its event.
    const waiting = await delivered(short.key, 'waiting');
    await sql(`UPDATE instance SET status = 'RETRYING' WHERE id = $1`, [waiting.instanceId]);
    // One held for a paused webhook ages out like a finished one (it would otherwise be kept for ever).
    const held = await delivered(short.key, 'held');
    await sql(`UPDATE instance SET status = 'PAUSED' WHERE id = $1`, [held.instanceId]);
    const full = { instances: 3, attempts: 3, events: 3 };

    await purgeOld(30, later(10));
    expect(await history(short.id)).toEqual({ instances: 1, attempts: 1, events: 1 });
    expect(await sql('SELECT 1 FROM instance WHERE id = $1', [held.instanceId])).toHaveLength(0);
    expect(await history(long.id)).toEqual(full);
    expect(await history(plain.id)).toEqual(full);

    await purgeOld(30, later(31));
    expect(await history(plain.id)).toEqual({ instances: 0, attempts: 0, events: 0 });
    expect(await history(long.id)).toEqual(full);
    expect(await sql('SELECT 1 FROM instance WHERE id = $1', [waiting.instanceId])).toHaveLength(1);

    // The operator gives the long-lived tenant the server's period back: the next purge applies it.
    const cleared = (await t.ok(UPDATE, { id: long.id, input: { retentionDays: null } }, OPERATOR_KEY)).updateTenant;
    expect(cleared).toEqual({ id: long.id, name: 'long', retentionDays: null, retentionDaysInEffect: 30 });
    await purgeOld(30, later(31));
    expect(await history(long.id)).toEqual({ instances: 0, attempts: 0, events: 0 });
  });

  it("a tenant's period is the operator's to set, checked, and shown to the tenant", async () => {
    const one = await tenant('checked', 14);
    expect((await t.ok('{ viewer { tenant { retentionDays retentionDaysInEffect } } }', {}, one.key)).viewer.tenant).toEqual({ retentionDays: 14, retentionDaysInEffect: 14 });
    for (const retentionDays of [0, -1, 3651]) {
      const error = errorOf(await t.gql(UPDATE, { id: one.id, input: { retentionDays } }, OPERATOR_KEY), 'BAD_USER_INPUT');
      expect(error.extensions!.field).toBe('input.retentionDays');
      expect(error.message).toContain(`must be a whole number from 1 to 3650 days (or null for the server default) (got ${retentionDays})`);
    }
    const atCreation = errorOf(await t.gql('mutation { createTenant(input: { name: "x", environment: SANDBOX, retentionDays: 0 }) { key } }', {}, OPERATOR_KEY), 'BAD_USER_INPUT');
    expect(atCreation.extensions!.field).toBe('input.retentionDays');
    expect(errorOf(await t.gql(UPDATE, { id: one.id, input: { name: null } }, OPERATOR_KEY), 'BAD_USER_INPUT').extensions!.field).toBe('input.name');
    expect(errorOf(await t.gql(UPDATE, { id: one.id, input: { name: '  ' } }, OPERATOR_KEY), 'BAD_USER_INPUT').extensions!.field).toBe('input.name');
    // A tenant's own ADMIN key may not change it (the operator decides what is stored), nor find other tenants.
    errorOf(await t.gql(UPDATE, { id: one.id, input: { retentionDays: 3650 } }, one.key), 'FORBIDDEN');
    errorOf(await t.gql(UPDATE, { id: uuidv7(), input: { retentionDays: 5 } }, OPERATOR_KEY), 'NOT_FOUND');
    expect(errorOf(await t.gql(UPDATE, { id: 'not-an-id', input: { retentionDays: 5 } }, OPERATOR_KEY), 'BAD_USER_INPUT').extensions!.field).toBe('id');
    // Fields left out stay.
    expect((await t.ok(UPDATE, { id: one.id, input: { name: 'renamed' } }, OPERATOR_KEY)).updateTenant).toMatchObject({ name: 'renamed', retentionDays: 14 });
    expect((await t.ok(UPDATE, { id: one.id, input: { retentionDays: 365 } }, OPERATOR_KEY)).updateTenant).toMatchObject({ name: 'renamed', retentionDays: 365, retentionDaysInEffect: 365 });
  });
});
