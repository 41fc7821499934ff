import { describe, expect, it } from 'vitest';
import { ADMIN_KEY, startTestApp } from './support/app.ts';
import { openPage } from './support/browser.ts';
import { setUpTopics } from './support/fixtures.ts';
import { Scrape } from './support/prometheus.ts';
import { eventually, Receiver } from './support/receiver.ts';

const TOKEN = 'metrics_test_token_000000000000000';
const QUEUE = '{ viewer { tenant { id deliveryQueue { waiting oldestWaitingSeconds } } } }';

/** What waits of a tenant, and for how long: to the tenant (Tenant.deliveryQueue, the dashboard's Overview), the operator (tenants) and /metrics. */
describe("a tenant's deliveries waiting for their turn", () => {
  it('are counted, their oldest waiting age told, while a receiver holds every place; then none', async () => {
    // Two places, ten instances in hand: of 60 deliveries (jobs of 25, 25 and 10), the third job waits in the queue.
    const t = await startTestApp({ HERALD_OUTBOUND_ALLOW: '127.0.0.0/8', HERALD_WORKER_CONCURRENCY: '2', HERALD_METRICS_TOKEN: TOKEN });
    const base = (await t.app.start(0, '127.0.0.1')).url.replace(/\/graphql$/, '');
    await setUpTopics(t);
    const receiver = await Receiver.start(() => ({ status: 200, hold: true }));
    await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }', { input: { label: 'held', events: ['user.created'], url: receiver.url, active: true, timeoutMs: 30_000 } });
    const idle = (await t.ok(QUEUE)).viewer.tenant;
    expect(idle.deliveryQueue).toEqual({ waiting: 0, oldestWaitingSeconds: 0 });
    await t.ok('mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { event { id } } }', {
      inputs: Array.from({ length: 60 }, (_, i) => ({ event: { topic: 'user', action: 'created', entityId: `u-${i}`, data: {} } })),
    });
    await receiver.waitFor(2);
    const waiting = await eventually(async () => {
      const q = (await t.ok(QUEUE)).viewer.tenant.deliveryQueue;
      return q.waiting === 58 && q.oldestWaitingSeconds >= 1 ? q : undefined;
    }, 15_000, 'the oldest delivery to have waited a second');
    // Two are on their way (SENDING): 58 wait.
    expect(waiting.waiting).toBe(58);
    // The operator sees it in the list of tenants.
    const { tenants } = await t.ok('{ tenants { edges { node { id deliveryQueue { waiting oldestWaitingSeconds } } } } }', {}, 'operator_test_key_0000000000000000');
    const mine = tenants.edges.find((e: any) => e.node.id === idle.id).node;
    expect(mine.deliveryQueue.waiting).toBe(58);
    expect(mine.deliveryQueue.oldestWaitingSeconds).toBeGreaterThanOrEqual(1);
    // /metrics: a series for this tenant.
    const scrape = new Scrape(await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text());
    expect(scrape.value('herald_tenant_deliveries_waiting', { tenant_id: idle.id })).toBe(58);
    expect(scrape.value('herald_tenant_oldest_waiting_seconds', { tenant_id: idle.id })).toBeGreaterThanOrEqual(1);
    // The dashboard's Overview says why they wait, once the oldest has waited two seconds.
    await eventually(async () => (await t.ok(QUEUE)).viewer.tenant.deliveryQueue.oldestWaitingSeconds >= 2, 15_000, 'two seconds of waiting');
    const { page, errors } = await openPage({ width: 1280, height: 860 });
    await page.goto(base);
    await page.getByLabel('API key').fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
    await page.goto(`${base}/#/overview`);
    const note = page.getByTestId('waiting-for-share');
    await note.waitFor();
    expect(await note.textContent()).toMatch(/^58 deliveries are waiting to be sent; the oldest has waited \d+ s for a worker\. Herald shares its delivery workers between tenants/);
    expect(errors).toEqual([]);
    await page.context().close();
    receiver.release();
    await eventually(async () => {
      const q = (await t.ok(QUEUE)).viewer.tenant.deliveryQueue;
      return q.waiting === 0 && q.oldestWaitingSeconds === 0 ? q : undefined;
    }, 30_000, 'nothing left waiting');
  }, 60_000);
});
