import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf, startTestApp, type TestApp } from './support/app.ts';
import { runSql } from './support/database.ts';
import { eventually, Receiver } from './support/receiver.ts';

const CIRCUIT = 'query($id: ID!) { webhook(id: $id) { circuit { open failingAttempts reason nextProbeAt inFlightLimit parkedDeliveries } } }';

describe("a failing receiver's circuit and the receiver's own limits", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      HERALD_OUTBOUND_ALLOW: '127.0.0.0/8,::1/128',
      HERALD_MIN_BACKOFF_MS: '20',
      HERALD_BREAKER_FAILURES: '5',
      HERALD_BREAKER_PROBE_MS: '300',
      HERALD_BREAKER_MAX_PROBE_MS: '1200',
      HERALD_WEBHOOK_CONCURRENCY: '10',
      HERALD_DEACTIVATE_AFTER_FAILURES: '100000',
    });
  });

  let topics = 0;
  async function hook(url: string, extra: object = {}) {
    const key = `g${(topics += 1)}`;
    await t.ok('mutation($input: CreateTopicInput!) { createTopic(input: $input) { key } }', { input: { key, name: key } });
    const { webhook } = (await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id rateLimit { perSecond maxInFlight } } } }', {
      input: { label: key, events: [`${key}.*`], url, active: true, maxAttempts: 50, backoffBaseMs: 20, backoffCapMs: 50, ...extra },
    })).createWebhook;
    return { ...webhook, topic: key };
  }
  const publish = async (topic: string, count: number, from = 0) =>
    (
      await t.ok('mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { instances { id } } }', {
        inputs: Array.from({ length: count }, (_, i) => ({ event: { topic, action: 'updated', entityId: `e${from + i}`, data: {} } })),
      })
    ).publishEvents.map((p: any) => p.instances[0].id as string);
  const circuit = async (id: string) => (await t.ok(CIRCUIT, { id })).webhook.circuit;
  const completed = (ids: string[], timeoutMs = 30_000) =>
    eventually(
      async () => {
        const rows = await Promise.all(ids.map(async (id) => (await t.ok('query($id: ID!) { instance(id: $id) { status } }', { id })).instance.status));
        return rows.every((s) => s === 'COMPLETED');
      },
      timeoutMs,
      `${ids.length} deliveries to complete`,
    );

  it('opens after N failed attempts in a row: the backlog waits parked, one probe at a time; the first success sends it all', async () => {
    let up = false;
    const receiver = await Receiver.start(() => ({ status: up ? 200 : 500, body: up ? 'ok' : 'down' }));
    const w = await hook(receiver.url);
    const ids = await publish(w.topic, 200);
    const open = await eventually(async () => {
      const c = await circuit(w.id);
      return c.open && c.parkedDeliveries > 100 ? c : undefined;
    }, 20_000, 'the circuit to open and park the backlog');
    expect(open.reason).toMatch(/^5 attempts in a row failed \(the last: 500 down\)$/);
    const parked = await eventually(async () => {
      const i = (await t.ok('query($id: ID!) { instance(id: $id) { status parked waitingReason } }', { id: ids.at(-1) })).instance;
      return i.parked ? i : undefined;
    }, 10_000, 'the last of the backlog to be parked');
    // PENDING, or RETRYING if it was tried once before the circuit opened.
    expect(parked).toMatchObject({ status: expect.stringMatching(/^(PENDING|RETRYING)$/), parked: true, waitingReason: expect.stringContaining('probes with one delivery at a time') });
    await new Promise((r) => setTimeout(r, 1500));
    const whileOpen = receiver.received.length;
    // Without the circuit, 200 deliveries retrying every 20–50 ms make thousands of attempts in this time.
    console.log(`while open: ${whileOpen} requests for 200 deliveries (5 to open it, those already on their way, then probes)`);
    expect(whileOpen).toBeLessThan(60);
    up = true;
    await completed(ids);
    expect(await circuit(w.id)).toMatchObject({ open: false, failingAttempts: 0, parkedDeliveries: 0 });
    expect(new Set(receiver.received.filter((r) => r.body).map((r) => JSON.parse(r.body).entityId)).size).toBe(200);
  });

  it('a receiver answering 429 with Retry-After: 2 sees no request of the webhook for 2 s', async () => {
    let first: number | undefined;
    const receiver = await Receiver.start((r) => {
      if (first === undefined) {
        first = r.at;
        return { status: 429, headers: { 'retry-after': '2' } };
      }
      return { status: 200 };
    });
    const w = await hook(receiver.url);
    const [head] = await publish(w.topic, 1);
    await receiver.waitFor(1);
    await eventually(async () => (await circuit(w.id)).open, 5000, 'the webhook to wait');
    const rest = await publish(w.topic, 5, 1);
    await completed([head!, ...rest]);
    const later = receiver.received.slice(1).map((r) => r.at - first!);
    console.log(`after the 429 (Retry-After: 2): next requests ${later.join(', ')} ms later`);
    expect(later).toHaveLength(6);
    expect(Math.min(...later)).toBeGreaterThanOrEqual(2000);
  });

  it('429, 502, 503 and 504 halve the requests kept in flight; each success adds one back', async () => {
    let answered = 0;
    const receiver = await Receiver.start(() => ((answered += 1) <= 3 ? { status: 502 } : { status: 200, delayMs: 150 }));
    const w = await hook(receiver.url);
    const ids = await publish(w.topic, 40);
    const reduced = await eventually(async () => (await circuit(w.id)).inFlightLimit, 20_000, 'the window to shrink');
    expect(reduced).toBeGreaterThanOrEqual(1);
    expect(reduced).toBeLessThanOrEqual(5); // at most half of the 10 a worker keeps in flight
    await completed(ids);
    await eventually(async () => (await circuit(w.id)).inFlightLimit === null, 10_000, 'the window to grow back');
  });

  it('rateLimit is checked and shown; null clears it', async () => {
    const w = await hook('https://receiver.example/', { rateLimit: { perSecond: 2.5, maxInFlight: 3 } });
    expect(w.rateLimit).toEqual({ perSecond: 2.5, maxInFlight: 3 });
    const cleared = await t.ok('mutation($id: ID!) { updateWebhook(id: $id, input: { rateLimit: null }) { rateLimit { perSecond } } }', { id: w.id });
    expect(cleared.updateWebhook.rateLimit).toBeNull();
    const cases: Array<[object, string, RegExp]> = [
      [{ perSecond: 0 }, 'input.rateLimit.perSecond', /from 0.01 to 10000/],
      [{ maxInFlight: 0 }, 'input.rateLimit.maxInFlight', /from 1 to 1000/],
      [{}, 'input.rateLimit', /give perSecond, maxInFlight or both/],
    ];
    for (const [rateLimit, field, message] of cases) {
      const error = errorOf(await t.gql('mutation($id: ID!, $r: RateLimitInput) { updateWebhook(id: $id, input: { rateLimit: $r }) { id } }', { id: w.id, r: rateLimit }), 'BAD_USER_INPUT');
      expect(error.extensions?.field).toBe(field);
      expect(error.message).toMatch(message);
    }
  });

  it('a delivery waiting under a rate limit is PENDING and says why; none fails because of it', async () => {
    const receiver = await Receiver.start();
    const w = await hook(receiver.url, { rateLimit: { perSecond: 2 } });
    const ids = await publish(w.topic, 6);
    const last = (await t.ok('query($id: ID!) { instance(id: $id) { status waitingReason } }', { id: ids.at(-1) })).instance;
    expect(last).toEqual({ status: 'PENDING', waitingReason: "in turn, under the webhook's rate limit (2 per second)" });
    await completed(ids);
    expect(receiver.received).toHaveLength(6);
  });

  it('maxInFlight holds: never more requests on their way at once than allowed', async () => {
    let inFlight = 0;
    let most = 0;
    const receiver = await Receiver.start(() => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      setTimeout(() => (inFlight -= 1), 40);
      return { status: 200, delayMs: 40 };
    });
    const w = await hook(receiver.url, { rateLimit: { maxInFlight: 2 } });
    const ids = await publish(w.topic, 30);
    await completed(ids);
    expect(receiver.received).toHaveLength(30);
    expect(most).toBeLessThanOrEqual(2);
  });
  it('events replayed to a webhook whose circuit is open wait parked, without a job; they go once it closes', async () => {
    let up = false;
    const receiver = await Receiver.start(() => ({ status: up ? 200 : 500, body: up ? 'ok' : 'down' }));
    const key = `g${(topics += 1)}`;
    await t.ok('mutation($input: CreateTopicInput!) { createTopic(input: $input) { key } }', { input: { key, name: key } });
    const since = new Date(Date.now() - 60_000).toISOString();
    // Stored before the webhook existed: replayed below.
    await t.ok('mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { event { id } } }', {
      inputs: ['old1', 'old2', 'old3'].map((entityId) => ({ event: { topic: key, action: 'updated', entityId, data: {} } })),
    });
    const { webhook: w } = (await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }', {
      input: { label: key, events: [`${key}.*`], url: receiver.url, active: true, maxAttempts: 50, backoffBaseMs: 20, backoffCapMs: 50 },
    })).createWebhook;
    const live = await publish(key, 5);
    await eventually(async () => (await circuit(w.id)).open || undefined, 20_000, 'the circuit to open');
    const replayed = await t.ok('mutation($id: ID!, $since: DateTime!) { replayEvents(webhookId: $id, filter: { since: $since }) { matched created } }', { id: w.id, since });
    expect(replayed.replayEvents).toEqual({ matched: 3, created: 3 });
    const rows = await runSql(t.databaseUrl, `SELECT id::text, status::text, parked FROM instance WHERE webhook_id = $1::uuid AND entity_id LIKE 'old%'`, [w.id]);
    expect(rows.map((r) => ({ status: r.status, parked: r.parked }))).toEqual(Array(3).fill({ status: 'PENDING', parked: true }));
    const [jobs] = await runSql(t.databaseUrl, `SELECT count(*)::int AS n FROM pgboss.job WHERE name LIKE 'deliver%' AND data->'instanceIds' ?| $1::text[]`, [rows.map((r) => r.id)]);
    expect(jobs.n).toBe(0);
    const sentReplayed = () => receiver.received.filter((r) => r.body && JSON.parse(r.body).entityId.startsWith('old')).length;
    await new Promise((r) => setTimeout(r, 1000));
    expect(sentReplayed()).toBe(0);
    up = true;
    await completed([...live, ...rows.map((r) => r.id)]);
    expect(sentReplayed()).toBe(3);
  });
  it('a batch that closes while its circuit is open waits parked, without a job; it goes once the circuit closes', async () => {
    let up = false;
    const receiver = await Receiver.start(() => ({ status: up ? 200 : 500, body: up ? 'ok' : 'down' }));
    // Batches of one event: each closes at once, and five failing ones open the circuit.
    const w = await hook(receiver.url, { batchWindowMs: 60_000, batchMaxSize: 1 });
    const publishBatched = (entityIds: string[]) =>
      t.ok('mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { event { id } } }', { inputs: entityIds.map((entityId) => ({ event: { topic: w.topic, action: 'updated', entityId, data: {} } })) });
    await publishBatched(['e1', 'e2', 'e3', 'e4', 'e5']);
    await eventually(async () => (await circuit(w.id)).open || undefined, 20_000, 'the circuit to open');
    await publishBatched(['e100']);
    const [batch] = await eventually(async () => {
      const rows = await runSql(t.databaseUrl, `SELECT i.id::text, i.status::text, i.parked FROM batch b JOIN batch_event be ON be.batch_id = b.id JOIN event e ON e.id = be.event_id JOIN instance i ON i.id = b.instance_id WHERE b.webhook_id = $1::uuid AND e.entity_id = 'e100'`, [w.id]);
      return rows.length ? rows : undefined;
    }, 10_000, 'the last batch to close');
    expect(batch).toMatchObject({ status: 'PENDING', parked: true });
    const [jobs] = await runSql(t.databaseUrl, `SELECT count(*)::int AS n FROM pgboss.job WHERE name LIKE 'deliver%' AND data->'instanceIds' ? $1`, [batch.id]);
    expect(jobs.n).toBe(0);
    up = true;
    await completed([batch.id]);
  });
});
