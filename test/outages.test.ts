import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf, OPERATOR_KEY, startTestApp, type TestApp } from './support/app.ts';
import { setUpTopics } from './support/fixtures.ts';
import { runSql } from './support/database.ts';
import { eventually, Receiver } from './support/receiver.ts';
import { claim } from '../src/store/instances.ts';
import { convergeAll } from '../src/store/webhookState.ts';

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id maxAttempts retryScheduleMs retryDelaysMs finalStatusCodes backoffBaseMs state } } }`;
const PUBLISH = `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { instances { id status webhook { id } } } }`;
const WEBHOOK = `query($id: ID!) { webhook(id: $id) { state active pausedAt heldDeliveries deactivatedReason } }`;

describe('outages lose nothing: pausing, resuming, discarding, retry schedules', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ HERALD_OUTBOUND_ALLOW: '127.0.0.0/8,::1/128', HERALD_MIN_BACKOFF_MS: '20', HERALD_DEACTIVATE_AFTER_FAILURES: '1000' });
    await setUpTopics(t);
  });

  let topicCount = 0;
  /** A webhook on a topic of its own, so no other test's webhook takes its events. */
  async function hook(url: string, extra: object = {}) {
    const key = `t${(topicCount += 1)}`;
    await t.ok('mutation($input: CreateTopicInput!) { createTopic(input: $input) { key } }', { input: { key, name: key } });
    const { webhook } = (await t.ok(CREATE, { input: { label: key, events: [`${key}.*`], url, active: true, ...extra } })).createWebhook;
    return { ...webhook, topic: key };
  }
  const publish = async (topic: string, entities: string[]) =>
    (await t.ok(PUBLISH, { inputs: entities.map((entityId) => ({ event: { topic, action: 'updated', entityId, data: { n: entityId } } })) })).publishEvents.map(
      (p: any) => p.instances[0],
    );
  const status = async (id: string) => (await t.ok('query($id: ID!) { instance(id: $id) { status attempts } }', { id })).instance;
  const until = (id: string, wanted: string) => eventually(async () => ((await status(id)).status === wanted ? true : undefined), 15_000, `instance ${id} ${wanted}`);
  const webhook = async (id: string) => (await t.ok(WEBHOOK, { id })).webhook;
  const sql = (text: string, values: unknown[] = []) => runSql(t.databaseUrl, text, values);

  it('a person pauses a webhook: what waits and every later event is held (PAUSED, counted); resume sends it all', async () => {
    let up = false;
    const receiver = await Receiver.start(() => (up ? { status: 200 } : { status: 503, headers: { 'retry-after': '60' } }));
    const w = await hook(receiver.url, { maxAttempts: 5, backoffBaseMs: 20, backoffCapMs: 100 });
    const [retrying] = await publish(w.topic, ['r1']);
    await until(retrying.id, 'RETRYING');
    const paused = await t.ok('mutation($id: ID!) { pauseWebhook(id: $id) { state active pausedAt deactivatedReason } }', { id: w.id });
    expect(paused.pauseWebhook).toMatchObject({ state: 'PAUSED', active: false, deactivatedReason: null });
    expect(await status(retrying.id)).toEqual({ status: 'PAUSED', attempts: 1 });
    const during = await publish(w.topic, ['p1', 'p2', 'p3']);
    expect(during.map((i: any) => i.status)).toEqual(['PAUSED', 'PAUSED', 'PAUSED']);
    expect((await webhook(w.id)).heldDeliveries).toBe(4);
    const listed = await t.ok('query($w: ID!) { instances(filter: { webhookId: $w, statuses: [PAUSED] }) { edges { node { id } } } }', { w: w.id });
    expect(listed.instances.edges).toHaveLength(4);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.received).toHaveLength(1); // nothing sent while paused

    up = true;
    expect((await t.ok('mutation($id: ID!) { resumeWebhook(id: $id) { state } }', { id: w.id })).resumeWebhook.state).toBe('ACTIVE');
    await receiver.waitFor(5);
    for (const i of [retrying, ...during]) await until(i.id, 'COMPLETED');
    expect((await status(retrying.id)).attempts).toBe(2); // its attempt count carried on
    expect(receiver.received.slice(1).map((r) => JSON.parse(r.body).entityId).sort()).toEqual(['p1', 'p2', 'p3', 'r1']);
    expect((await webhook(w.id)).heldDeliveries).toBe(0);
  });

  it('an ordered webhook resumes in order: per entity, one at a time, oldest first', async () => {
    const receiver = await Receiver.start(() => ({ status: 200, delayMs: 20 }));
    const w = await hook(receiver.url, { orderedDelivery: true });
    await t.ok('mutation($id: ID!) { pauseWebhook(id: $id) { state } }', { id: w.id });
    const held = await publish(w.topic, ['a', 'b', 'a', 'a', 'b', 'c']);
    expect(held.every((i: any) => i.status === 'PAUSED')).toBe(true);
    await t.ok('mutation($id: ID!) { resumeWebhook(id: $id) { state } }', { id: w.id });
    await receiver.waitFor(6);
    const sequence = receiver.received.map((r) => JSON.parse(r.body).id as string);
    const eventIds = await sql('SELECT entity_id, event_id::text FROM instance WHERE webhook_id = $1 ORDER BY id', [w.id]);
    for (const entity of ['a', 'b', 'c']) {
      const expected = eventIds.filter((r: any) => r.entity_id === entity).map((r: any) => r.event_id);
      expect(sequence.filter((id) => expected.includes(id)), `entity ${entity}`).toEqual(expected);
    }
  });

  it('held deliveries can be discarded (the count first, then one mutation); the webhook stays paused', async () => {
    const receiver = await Receiver.start();
    const w = await hook(receiver.url);
    await t.ok('mutation($id: ID!) { pauseWebhook(id: $id) { state } }', { id: w.id });
    const held = await publish(w.topic, ['d1', 'd2']);
    expect((await webhook(w.id)).heldDeliveries).toBe(2);
    const discarded = await t.ok('mutation($id: ID!) { discardHeldDeliveries(webhookId: $id) }', { id: w.id });
    expect(discarded.discardHeldDeliveries).toBe(2);
    for (const i of held) expect((await status(i.id)).status).toBe('CANCELLED');
    expect(await webhook(w.id)).toMatchObject({ state: 'PAUSED', heldDeliveries: 0 });
    await t.ok('mutation($id: ID!) { resumeWebhook(id: $id) { state } }', { id: w.id });
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.received).toHaveLength(0);
  });

  it('turning a webhook off or deleting it cancels what it holds; a disabled webhook takes no events', async () => {
    const receiver = await Receiver.start();
    const off = await hook(receiver.url);
    const gone = await hook(receiver.url);
    for (const w of [off, gone]) await t.ok('mutation($id: ID!) { pauseWebhook(id: $id) { state } }', { id: w.id });
    const [a] = await publish(off.topic, ['x']);
    const [b] = await publish(gone.topic, ['y']);
    expect((await t.ok('mutation($id: ID!) { setWebhookActive(id: $id, active: false) { state } }', { id: off.id })).setWebhookActive.state).toBe('DISABLED');
    await t.ok('mutation($id: ID!) { deleteWebhook(id: $id) { id } }', { id: gone.id });
    expect(await status(a.id)).toMatchObject({ status: 'CANCELLED' });
    expect(await status(b.id)).toMatchObject({ status: 'CANCELLED' });
    expect((await t.ok(PUBLISH, { inputs: [{ event: { topic: off.topic, action: 'updated', entityId: 'z', data: {} } }] })).publishEvents[0].instances).toEqual([]);
  });

  it('a delivery published just before its webhook paused is held when its job comes, not sent; one recorded in the old state just after a resume is sent by the second pass', async () => {
    const receiver = await Receiver.start();
    const w = await hook(receiver.url);
    // As if a publish had read the webhook as active just before a pause committed: a PENDING instance with a job, webhook paused.
    await t.ok('mutation($id: ID!) { pauseWebhook(id: $id) { state } }', { id: w.id });
    const [row] = await publish(w.topic, ['early']);
    await sql(`UPDATE instance SET status = 'PENDING' WHERE id = $1`, [row.id]);
    expect((await claim([{ instanceId: row.id, takeOver: false, retry: false }])).claimed).toEqual([]);
    expect((await status(row.id)).status).toBe('PAUSED');
    // A MANUAL re-trigger is a person's explicit ask: it is sent even while paused.
    await t.ok('mutation($id: ID!) { retriggerInstance(id: $id) { status } }', { id: row.id });
    await receiver.waitFor(1);
    await until(row.id, 'COMPLETED');

    // As if a publish had read the webhook as paused just before a resume committed.
    await t.ok('mutation($id: ID!) { resumeWebhook(id: $id) { state } }', { id: w.id });
    const [late] = await publish(w.topic, ['late']);
    await until(late.id, 'COMPLETED');
    await sql(`UPDATE instance SET status = 'PAUSED' WHERE id = $1`, [late.id]);
    const passes = await sql(`SELECT start_after > now() + interval '5 seconds' AS later FROM pgboss.job WHERE name = 'webhook-state' AND data->>'webhookId' = $1 AND state = 'created'`, [w.id]);
    expect(passes.some((p: any) => p.later)).toBe(true); // the second pass is queued
    expect(await convergeAll(w.id)).toBe(1); // what that pass runs
    await until(late.id, 'COMPLETED');
    expect(receiver.received.length).toBeGreaterThanOrEqual(3);
  });

  it("a weak or foreign key may not pause, resume, discard or replay, and changes nothing; a PUBLISHER cannot read what is held", async () => {
    const receiver = await Receiver.start();
    const w = await hook(receiver.url);
    await t.ok('mutation($id: ID!) { pauseWebhook(id: $id) { state } }', { id: w.id });
    await publish(w.topic, ['h1']);
    const key = async (role: string, as?: string) =>
      (await t.ok('mutation($name: String!, $role: Role!) { createApiKey(input: { name: $name, role: $role }) { key } }', { name: role, role }, as)).createApiKey.key as string;
    const other = (await t.ok('mutation { createTenant(input: { name: "intruder", environment: SANDBOX }) { key } }', {}, OPERATOR_KEY)).createTenant.key as string;
    const since = new Date(Date.now() - 60_000).toISOString();
    const mutations: Array<[string, Record<string, unknown>]> = [
      ['mutation($id: ID!) { resumeWebhook(id: $id) { state } }', { id: w.id }],
      ['mutation($id: ID!) { pauseWebhook(id: $id) { state } }', { id: w.id }],
      ['mutation($id: ID!) { discardHeldDeliveries(webhookId: $id) }', { id: w.id }],
      ['mutation($id: ID!, $since: DateTime!) { replayEvents(webhookId: $id, filter: { since: $since }) { created } }', { id: w.id, since }],
    ];
    for (const [role, code] of [['VIEWER', 'FORBIDDEN'], ['PUBLISHER', 'FORBIDDEN']] as const) {
      const k = await key(role);
      for (const [query, variables] of mutations) errorOf(await t.gql(query, variables, k), code);
    }
    for (const [query, variables] of mutations) errorOf(await t.gql(query, variables, other), 'NOT_FOUND');
    expect(await webhook(w.id)).toMatchObject({ state: 'PAUSED', heldDeliveries: 1 });
    const viewer = await key('VIEWER');
    expect((await t.ok('query($id: ID!) { webhook(id: $id) { heldDeliveries circuit { open } } }', { id: w.id }, viewer)).webhook).toEqual({ heldDeliveries: 1, circuit: { open: false } });
    errorOf(await t.gql('query($id: ID!) { webhook(id: $id) { heldDeliveries } }', { id: w.id }, await key('PUBLISHER')), 'FORBIDDEN');
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.received).toHaveLength(0);
  });

  describe('replaying stored events', () => {
    const REPLAY = `mutation($id: ID!, $filter: ReplayFilter!, $dryRun: Boolean) { replayEvents(webhookId: $id, filter: $filter, dryRun: $dryRun) { matched created more dryRun } }`;

    it('backfills a new webhook with the events it never received, matched as if published now, each once; a dry run counts first', async () => {
      const receiver = await Receiver.start();
      const early = await hook(receiver.url, { active: false });
      const since = new Date(Date.now() - 60_000).toISOString();
      // Published while no webhook took them: stored, delivered nowhere.
      await t.ok(PUBLISH, {
        inputs: [
          { event: { topic: early.topic, action: 'updated', entityId: 'a', data: { status: 'Completed' } } },
          { event: { topic: early.topic, action: 'updated', entityId: 'b', data: { status: 'Booked' } } },
          { event: { topic: early.topic, action: 'created', entityId: 'c', data: { status: 'Completed' } } },
          { event: { topic: early.topic, action: 'updated', entityId: 'd', data: { status: 'Completed' } } },
        ],
      });
      const w = (
        await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }', {
          input: { label: 'late', events: [`${early.topic}.updated`], url: receiver.url, active: true, conditions: [{ rule: { path: 'data.status', operator: 'EQUALS', values: ['Completed'] } }] },
        })
      ).createWebhook.webhook;
      const dry = await t.ok(REPLAY, { id: w.id, filter: { since }, dryRun: true });
      expect(dry.replayEvents).toEqual({ matched: 2, created: 0, more: false, dryRun: true });
      await new Promise((r) => setTimeout(r, 200));
      expect(receiver.received).toHaveLength(0);
      const done = await t.ok(REPLAY, { id: w.id, filter: { since } });
      expect(done.replayEvents).toEqual({ matched: 2, created: 2, more: false, dryRun: false });
      await receiver.waitFor(2);
      expect(receiver.received.map((r) => JSON.parse(r.body).entityId).sort()).toEqual(['a', 'd']);
      // Again: nothing it already has is sent twice.
      expect((await t.ok(REPLAY, { id: w.id, filter: { since } })).replayEvents).toMatchObject({ matched: 0, created: 0 });
      // Narrowed to one entity, and to a type.
      expect((await t.ok(REPLAY, { id: w.id, filter: { since, entityId: 'a' }, dryRun: true })).replayEvents.matched).toBe(0);
      await new Promise((r) => setTimeout(r, 200));
      expect(receiver.received).toHaveLength(2);
    });

    it('a paused webhook holds what is replayed; a webhook that is off, or a type it does not take, is refused', async () => {
      const receiver = await Receiver.start();
      const w = await hook(receiver.url, { active: false });
      const since = new Date(Date.now() - 60_000).toISOString();
      await publish(w.topic, ['x1', 'x2']);
      const off = errorOf(await t.gql(REPLAY, { id: w.id, filter: { since } }), 'CONFLICT');
      expect(off.message).toMatch(/the webhook is off/);
      await t.ok('mutation($id: ID!) { pauseWebhook(id: $id) { state } }', { id: w.id });
      expect((await t.ok(REPLAY, { id: w.id, filter: { since, eventTypes: [`${w.topic}.updated`] } })).replayEvents).toMatchObject({ matched: 2, created: 2 });
      expect((await webhook(w.id)).heldDeliveries).toBe(2);
      const wrong = errorOf(await t.gql(REPLAY, { id: w.id, filter: { since, eventTypes: ['user.created'] } }), 'BAD_USER_INPUT');
      expect(wrong.extensions?.field).toBe('filter.eventTypes[0]');
      const backwards = errorOf(await t.gql(REPLAY, { id: w.id, filter: { since, until: '2020-01-01T00:00:00Z' } }), 'BAD_USER_INPUT');
      expect(backwards.extensions?.field).toBe('filter.since');
      await t.ok('mutation($id: ID!) { resumeWebhook(id: $id) { state } }', { id: w.id });
      await receiver.waitFor(2);
    });
  });

  describe('retry schedules and final status codes', () => {
    it('a new webhook retries on the default schedule: 5 attempts over more than a day, shown in its settings', async () => {
      const w = await hook('https://receiver.example/hooks');
      expect(w).toMatchObject({ maxAttempts: 5, retryScheduleMs: [300_000, 1_800_000, 7_200_000, 86_400_000], retryDelaysMs: [300_000, 1_800_000, 7_200_000, 86_400_000] });
      const exponential = await hook('https://receiver.example/hooks', { backoffBaseMs: 1000 });
      expect(exponential).toMatchObject({ maxAttempts: 5, retryScheduleMs: [], retryDelaysMs: [1000, 2000, 4000, 8000], backoffBaseMs: 1000 });
      const switched = await t.ok('mutation($id: ID!) { updateWebhook(id: $id, input: { retryScheduleMs: [1000, 60000] }) { maxAttempts retryScheduleMs retryDelaysMs } }', { id: exponential.id });
      expect(switched.updateWebhook).toEqual({ maxAttempts: 3, retryScheduleMs: [1000, 60_000], retryDelaysMs: [1000, 60_000] });
      const back = await t.ok('mutation($id: ID!) { updateWebhook(id: $id, input: { retryScheduleMs: null }) { retryScheduleMs retryDelaysMs } }', { id: exponential.id });
      expect(back.updateWebhook).toEqual({ retryScheduleMs: [], retryDelaysMs: [1000, 2000] });
    });

    it('an explicit schedule spaces the attempts as listed (never sooner), the last delay repeating', async () => {
      const receiver = await Receiver.start(() => ({ status: 500 }));
      const w = await hook(receiver.url, { retryScheduleMs: [100, 300], maxAttempts: 4 });
      expect(w.retryDelaysMs).toEqual([100, 300, 300]);
      const [i] = await publish(w.topic, ['s']);
      await until(i.id, 'FAILED');
      const at = receiver.received.map((r) => r.at);
      expect(at).toHaveLength(4);
      const gaps = at.slice(1).map((time, n) => time - at[n]!);
      expect(gaps[0]).toBeGreaterThanOrEqual(100);
      expect(gaps[1]).toBeGreaterThanOrEqual(300);
      expect(gaps[2]).toBeGreaterThanOrEqual(300);
      console.log(`scheduled [100, 300, 300] ms: attempts ${gaps.join(', ')} ms apart`);
    });

    it('a status code marked final fails the delivery at once; others retry', async () => {
      // 'bad' is refused with 422 every time; others fail once with 500, then succeed.
      const tries = new Map<string, number>();
      const receiver = await Receiver.start((r) => {
        const entity = JSON.parse(r.body).entityId as string;
        tries.set(entity, (tries.get(entity) ?? 0) + 1);
        return { status: entity === 'bad' ? 422 : tries.get(entity)! > 1 ? 200 : 500 };
      });
      const w = await hook(receiver.url, { finalStatusCodes: [422, 400, 422], backoffBaseMs: 20, backoffCapMs: 40 });
      expect(w.finalStatusCodes).toEqual([400, 422]);
      const [bad, good] = await publish(w.topic, ['bad', 'good']);
      await until(bad.id, 'FAILED');
      expect((await status(bad.id)).attempts).toBe(1);
      await until(good.id, 'COMPLETED');
      expect((await status(good.id)).attempts).toBe(2);
    });

    it('refuses a schedule with backoff settings, delays out of bounds, and status codes that are not failures', async () => {
      const base = { label: 'bad', events: ['user.created'], url: 'https://receiver.example/' };
      const cases: Array<[object, string, RegExp]> = [
        [{ retryScheduleMs: [1000], backoffBaseMs: 1000 }, 'input.retryScheduleMs', /either a retry schedule or backoffBaseMs/],
        [{ retryScheduleMs: [1000, 5] }, 'input.retryScheduleMs[1]', /from 20 to 604800000/],
        [{ retryScheduleMs: [1000, 700_000_000] }, 'input.retryScheduleMs[1]', /\(7 days\)/],
        [{ retryScheduleMs: Array.from({ length: 100 }, () => 1000) }, 'input.retryScheduleMs', /at most 99 delays/],
        [{ finalStatusCodes: [204] }, 'input.finalStatusCodes[0]', /a 2xx answer is a successful delivery/],
        [{ finalStatusCodes: [1000] }, 'input.finalStatusCodes[0]', /from 300 to 599/],
      ];
      for (const [extra, field, message] of cases) {
        const error = errorOf(await t.gql(CREATE, { input: { ...base, ...extra } }), 'BAD_USER_INPUT');
        const problem = error.extensions!.problems.find((p: any) => p.field === field);
        expect(problem, `${JSON.stringify(extra)} → ${JSON.stringify(error.extensions!.problems)}`).toBeDefined();
        expect(problem.message).toMatch(message);
      }
    });
  });
});
