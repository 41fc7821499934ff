// The dashboard as an operations console, in Debian's Chromium against a real Herald:
// the delivery detail opens where the eye is (desktop and phone) and gives focus back,
// the row menu takes the keyboard, the live badge says when the connection is lost,
// filters live in the address, bulk re-trigger counts first, a VIEWER is offered only
// what it may do, and axe finds nothing on any screen.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ADMIN_KEY, OPERATOR_KEY, startTestApp, type TestApp } from './support/app.ts';
import { LiveLink, openPage } from './support/browser.ts';
import { eventually, Receiver } from './support/receiver.ts';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let herald: TestApp;
let origin: string;
let page: Page;
let failing: string;
let working: string;
let pageErrors: string[];
let live: LiveLink;

const publish = (count: number, prefix: string) =>
  herald.ok(`mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { instances { id } } }`, {
    inputs: Array.from({ length: count }, (_, i) => ({ event: { topic: 'order', action: 'created', entityId: `${prefix}-${i}`, data: { n: i } } })),
  });
const statusOf = async (id: string) => (await herald.ok(`query($id: ID!) { instance(id: $id) { status } }`, { id })).instance.status as string;

async function signIn(key: string): Promise<void> {
  await page.goto(origin);
  await page.evaluate((k) => sessionStorage.setItem('herald.apiKey', k), key);
  await page.goto(`${origin}/#/deliveries`);
  await page.reload(); // the dashboard reads the key as it starts
  await page.getByRole('heading', { name: 'Deliveries' }).waitFor();
}

beforeAll(async () => {
  herald = await startTestApp({ HERALD_MIN_BACKOFF_MS: '100', HERALD_DEACTIVATE_AFTER_FAILURES: '100000', HERALD_OUTBOUND_ALLOW: '127.0.0.0/8' });
  const { port } = await herald.app.start(0, '127.0.0.1');
  origin = `http://127.0.0.1:${port}`;
  const ok = await Receiver.start(() => ({ status: 200, body: 'ok' }));
  const down = await Receiver.start(() => ({ status: 500, body: 'nope' }));
  await herald.ok(`mutation { createTopic(input: { key: "order", name: "Order" }) { key } }`);
  const hook = async (label: string, url: string) =>
    (await herald.ok(`mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }`, { input: { label, events: ['order.created'], url, active: true, maxAttempts: 1 } }))
      .createWebhook.webhook.id as string;
  working = await hook('Orders to the ERP', ok.url);
  failing = await hook('Orders to a broken CRM', down.url);
  const made = await publish(30, 'o');
  const ids = made.publishEvents.flatMap((p: any) => p.instances.map((i: any) => i.id));
  for (const id of ids) await eventually(async () => /COMPLETED|FAILED/.test(await statusOf(id)), 15_000, `delivery ${id} settled`);

  ({ page, errors: pageErrors } = await openPage({ width: 1280, height: 800 }));
  live = await LiveLink.on(page);
  await signIn(ADMIN_KEY);
}, 60_000);

const drawer = () => page.getByRole('complementary', { name: 'Delivery detail' });
const inViewport = async (selector: string) =>
  page.evaluate((s) => {
    const box = document.querySelector(s)!.getBoundingClientRect();
    return { top: box.top, bottom: box.bottom, left: box.left, right: box.right, width: window.innerWidth, height: window.innerHeight, sideways: (document.querySelector(s) as HTMLElement).scrollWidth - (document.querySelector(s) as HTMLElement).clientWidth };
  }, selector);

describe('the operations console', () => {
  it('opens a delivery from a lower row beside it, in view, with focus; Escape gives focus back to the row', async () => {
    await page.goto(`${origin}/#/deliveries`);
    await page.getByText('● live').waitFor();
    const rows = page.locator('tr[data-instance]');
    await expect.poll(() => rows.count()).toBeGreaterThan(15);
    // (By id: in a virtual list the n-th row in the page changes as it scrolls.)
    const id = await rows.nth(15).getAttribute('data-instance');
    const row = page.locator(`tr[data-instance="${id}"]`);
    await row.scrollIntoViewIfNeeded();
    await page.evaluate(() => window.scrollBy(0, 200));
    await row.click();
    await drawer().getByText('Request sent').waitFor();
    const box = await inViewport('aside.drawer');
    expect(box.top).toBeGreaterThanOrEqual(0);
    expect(box.bottom).toBeLessThanOrEqual(box.height + 1);
    expect(box.right).toBeLessThanOrEqual(box.width);
    // The row it came from is still in view beside it.
    const rowBox = await inViewport(`tr[data-instance="${id}"]`);
    expect(rowBox.top).toBeGreaterThanOrEqual(0);
    expect(rowBox.bottom).toBeLessThanOrEqual(rowBox.height + 1);
    expect(rowBox.right).toBeLessThanOrEqual(box.left + 1);
    expect(await page.evaluate(() => !!document.activeElement?.closest('aside.drawer'))).toBe(true);
    expect(page.url()).toContain(`instance=${id}`);
    await page.keyboard.press('Escape');
    await drawer().waitFor({ state: 'detached' });
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-instance'))).toBe(id);
  });

  it('on a phone, opens the detail over the list where the eye is, without sideways scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      const row = page.locator(`tr[data-instance="${await page.locator('tr[data-instance]').nth(10).getAttribute('data-instance')}"]`);
      await row.scrollIntoViewIfNeeded();
      await row.click();
      await drawer().getByText('Request sent').waitFor();
      const box = await inViewport('aside.drawer');
      expect(box).toMatchObject({ top: 0, left: 0 });
      expect(box.bottom).toBeLessThanOrEqual(box.height + 1);
      expect(box.sideways).toBeLessThanOrEqual(0);
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
      await drawer().getByRole('button', { name: 'Close detail' }).click();
      await drawer().waitFor({ state: 'detached' });
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it('moves through the rows and the row menu with the keyboard', async () => {
    await page.evaluate(() => window.scrollTo(0, 0));
    const first = page.locator('tr[data-index="0"]');
    await first.focus();
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-index'))).toBe('0');
    const second = await page.locator('tr[data-index="1"]').getAttribute('data-instance');
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-instance'))).toBe(second);
    await page.keyboard.press('Shift+F10');
    const menu = page.getByRole('menu');
    await menu.waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Open');
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Re-trigger');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowUp'); // wraps round to the last enabled item
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Re-trigger');
    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'detached' });
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-instance'))).toBe(second);
  });

  it('says reconnecting, then offline, while the live connection is lost, and that the grid may be stale', async () => {
    await page.getByText('● live').waitFor();
    await live.cut();
    await page.getByRole('status').filter({ hasText: 'reconnecting…' }).waitFor({ timeout: 5_000 });
    await page.getByRole('alert').filter({ hasText: 'Live updates stopped at' }).waitFor();
    expect(await page.locator('table.grid.stale').count()).toBe(1);
    await page.getByRole('status').filter({ hasText: 'offline' }).waitFor({ timeout: 15_000 });
    live.restore();
    await page.getByText('● live').waitFor({ timeout: 30_000 });
    expect(await page.getByText('Live updates stopped at').count()).toBe(0);
  });

  it('says so when a server goes quiet without closing the connection (no pong)', async () => {
    // The socket stays open but nothing comes back: the client's pings go unanswered.
    await live.drop();
    await page.unrouteAll();
    await page.routeWebSocket(/\/graphql$/, (ws) => {
      const server = ws.connectToServer();
      let silent = false;
      ws.onMessage((m) => {
        if (!silent) server.send(m);
      });
      server.onMessage((m) => {
        ws.send(m);
        if (String(m).includes('connection_ack')) setTimeout(() => (silent = true), 500);
      });
    });
    await page.getByRole('status').filter({ hasText: /reconnecting|offline/ }).waitFor({ timeout: 20_000 });
    await page.unrouteAll();
    await live.route(page);
    await page.getByText('● live').waitFor({ timeout: 30_000 });
  });

  it('keeps its filters in the address: webhook, status, event type, entity, dates; a delivery id opens it', async () => {
    await page.getByLabel('Webhook').selectOption({ label: 'Orders to a broken CRM' });
    await page.getByLabel('Status').selectOption('FAILED');
    await page.getByLabel('Entity id').fill('o-7');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => page.url()).toContain('entity=o-7');
    expect(page.url()).toContain(`webhook=${failing}`);
    expect(page.url()).toContain('status=FAILED');
    await page.reload();
    await expect.poll(() => page.locator('tr[data-instance]').count()).toBe(1);
    expect(await page.locator('tr[data-instance]').first().textContent()).toContain('#o-7');
    expect(await page.getByLabel('Entity id').inputValue()).toBe('o-7');

    // A range that ended before anything was made: nothing.
    await page.goto(`${origin}/#/deliveries?webhook=${working}&until=${encodeURIComponent('2020-01-01T00:00:00.000Z')}`);
    await page.getByText('No deliveries match these filters.').waitFor();
    expect(await page.getByLabel('Created before').inputValue()).toMatch(/^20(19|20)-/);

    // By event type: none of order.deleted, all of order.created.
    await page.goto(`${origin}/#/deliveries?webhook=${working}`);
    await page.locator('tr[data-instance]').first().waitFor();
    await page.getByLabel('Event type').selectOption('order.deleted');
    await expect.poll(() => page.url()).toContain('type=order.deleted');
    await page.getByText('No deliveries match these filters.').waitFor();
    await page.getByLabel('Event type').selectOption('order.created');
    await page.locator('tr[data-instance]').first().waitFor();
    const types = await page.locator('tr[data-instance] td[data-label="Event"]').allTextContents();
    expect(types.length).toBeGreaterThan(0);
    expect(types.every((t) => t.startsWith('order.created'))).toBe(true);

    const one = (await herald.ok(`query($w: ID!) { instances(first: 1, filter: { webhookId: $w }) { edges { node { id entityId } } } }`, { w: working })).instances.edges[0].node;
    await page.getByRole('link', { name: 'Clear filters' }).click();
    await page.getByLabel('Delivery id').fill(one.id);
    await page.getByRole('button', { name: 'Apply' }).click();
    await drawer().getByText(`#${one.entityId}`).waitFor();
    await page.keyboard.press('Escape');
  });

  it('re-triggers in bulk by filter after showing how many it will send', async () => {
    await page.goto(`${origin}/#/deliveries?webhook=${failing}`);
    await page.getByRole('button', { name: 'Re-trigger failed…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Re-trigger deliveries' });
    await dialog.getByText('Send 30 failed deliveries of Orders to a broken CRM again now?').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    // Since a moment after everything: nothing to send.
    await page.goto(`${origin}/#/deliveries?webhook=${failing}&since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    await page.getByRole('button', { name: 'Re-trigger failed since the date chosen…' }).click();
    await dialog.getByText('No failed delivery of Orders to a broken CRM matches').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await page.goto(`${origin}/#/deliveries?webhook=${failing}`);
    await page.getByRole('button', { name: 'Re-trigger failed…' }).click();
    await dialog.getByRole('button', { name: 'Re-trigger 30' }).click();
    await page.getByRole('status').filter({ hasText: 'Re-triggered 30 deliveries.' }).waitFor();
  });

  it("offers a VIEWER nothing it may not do, and says why", async () => {
    const { createApiKey } = await herald.ok(`mutation { createApiKey(input: { name: "watcher", role: VIEWER }) { key } }`);
    await signIn(createApiKey.key);
    try {
      await page.locator('tr[data-instance]').first().waitFor();
      expect(await page.getByRole('button', { name: /Re-trigger/ }).count()).toBe(0);
      await page.locator('tr[data-instance]').first().click({ button: 'right' });
      expect(await page.getByRole('menuitem').allTextContents()).toEqual(['Open']);
      await page.keyboard.press('Escape');
      await page.locator('tr[data-instance]').first().click();
      await drawer().getByText('Your VIEWER key may not re-trigger or cancel deliveries.').waitFor();
      expect(await drawer().getByRole('button', { name: 'Re-trigger' }).count()).toBe(0);
      await page.keyboard.press('Escape');

      await page.getByRole('link', { name: 'Webhooks' }).click();
      await page.getByText('Your VIEWER key may not change webhooks.').waitFor();
      const list = page.getByRole('main');
      for (const name of ['New webhook', 'Delete', 'Pause', 'Resume']) expect(await list.getByRole(/^New/.test(name) ? 'link' : 'button', { name }).count(), name).toBe(0);
      expect(await list.getByRole('checkbox').count()).toBe(0);
      await list.getByRole('link', { name: 'View' }).first().click();
      await page.getByRole('heading', { name: /^Webhook: / }).waitFor();
      expect(await page.getByLabel('Label', { exact: true }).isDisabled()).toBe(true);
      for (const name of ['Save', 'Test', 'Count']) expect(await page.getByRole('button', { name, exact: true }).count(), name).toBe(0);

      await page.getByRole('link', { name: 'Topics' }).click();
      await page.getByText('Your VIEWER key may not change topics.').waitFor();
      expect(await page.getByRole('button', { name: /New topic|Edit|Delete/ }).count()).toBe(0);
      await page.getByRole('link', { name: 'Inspector' }).click();
      await page.getByText('Your VIEWER key may not create, change or delete inboxes.').waitFor();
      expect(await page.getByRole('button', { name: 'Create inbox' }).count()).toBe(0);
      expect(await page.getByRole('link', { name: 'API keys' }).count()).toBe(0);
    } finally {
      await signIn(ADMIN_KEY);
    }
  });

  it('words a refusal for a person, without the schema\'s field names', async () => {
    const { createApiKey } = await herald.ok(`mutation { createApiKey(input: { name: "publisher", role: PUBLISHER }) { key } }`);
    await signIn(createApiKey.key);
    try {
      const refusal = page.getByRole('alert').filter({ hasText: 'Not allowed with your PUBLISHER key' }).first();
      await refusal.waitFor();
      expect(await refusal.textContent()).toContain('Ask an admin of this tenant.');
      expect(await refusal.textContent()).not.toMatch(/Query\.|Mutation\./);
    } finally {
      await signIn(ADMIN_KEY);
    }
  });

  it("shows each webhook's health at a glance: failing since, last success", async () => {
    await page.goto(`${origin}/#/webhooks/${failing}`);
    await page.getByTestId('webhook-failing-since').waitFor();
    expect(await page.getByTestId('webhook-failing-since').textContent()).toMatch(/deliveries failed in a row/);
    expect(await page.getByTestId('webhook-last-success').textContent()).toBe('none yet');
    await page.goto(`${origin}/#/webhooks/${working}`);
    await expect.poll(() => page.getByTestId('webhook-last-success').textContent()).toMatch(/\d{4}.*\d{2}:\d{2}:\d{2}/);
    expect(await page.getByTestId('webhook-failing-since').count()).toBe(0);
  });

  it('changes what an inbox answers after it was made, and says "Copied" only when it copied', async () => {
    const inbox = (await herald.ok(`mutation { createInbox(input: { name: "answers" }) { id url } }`)).createInbox;
    await page.goto(`${origin}/#/inspector/${inbox.id}`);
    const view = page.getByLabel('Inbox answers');
    await view.getByLabel('Answers with').fill('503');
    await view.getByRole('button', { name: 'Change' }).click();
    await view.getByText('Now answers 503.').waitFor();
    expect((await herald.ok(`query($id: ID!) { inbox(id: $id) { respondWith } }`, { id: inbox.id })).inbox.respondWith).toBe(503);
    // The list of inboxes is read again after the change (it said so already): it shows it once that read is back.
    await expect.poll(() => page.getByRole('listitem').filter({ hasText: 'answers 503' }).count()).toBe(1);
    await view.getByText('The requests below are checked again when you choose.').waitFor();

    // No clipboard (a page served over plain http to another machine): the URL is selected instead, and it says so.
    await page.evaluate(() => Object.defineProperty(navigator, 'clipboard', { value: undefined, configurable: true }));
    await view.getByRole('button', { name: 'Copy URL' }).click();
    await view.getByText('Selected: press Ctrl+C').waitFor();
    expect(await page.evaluate(() => window.getSelection()?.toString())).toBe(inbox.url);
    expect(await view.getByText('Copied', { exact: true }).count()).toBe(0);
  });

  it('takes a topic and trigger as soon as they are chosen, and after a refused save shows the first problem with focus, on the rule itself', async () => {
    await herald.ok(`mutation { createTopic(input: { key: "delegate", name: "Delegate", fields: [{ path: "sessionId", label: "Session", type: STRING }, { path: "status", label: "Status", type: ENUM, values: ["Open", "Booked"] }] }) { key } }`);
    await page.goto(`${origin}/#/webhooks/new`);
    await page.getByLabel('Label', { exact: true }).fill('Delegates without a session');
    // Nothing chosen: Create says so, and the problem is where the eye and the focus go.
    await page.getByRole('button', { name: 'Create webhook' }).click();
    const firstProblem = await page.waitForFunction(() => {
      const el = document.activeElement as HTMLElement | null;
      return el && el.closest('.field.invalid, .condition-rule.invalid') ? el.closest('.field')?.querySelector('label')?.textContent : null;
    });
    expect(await firstProblem.jsonValue()).toMatch(/^(Topic|Or an event type)$/);
    expect(await page.locator('.field.invalid').first().textContent()).toMatch(/event|trigger/i);

    await page.getByLabel('Topic', { exact: true }).selectOption('delegate');
    await page.getByLabel('Trigger', { exact: true }).selectOption('CREATE_OR_UPDATE');
    const chips = page.getByRole('list', { name: 'Chosen events' });
    await chips.getByText('delegate is created or updated').waitFor();
    expect(await chips.getByRole('listitem').count()).toBe(1); // the trigger changed the chip the topic made
    await page.getByLabel('URL', { exact: true }).fill('http://127.0.0.1:9/hooks');
    for (let i = 0; i < 3; i += 1) await page.getByRole('button', { name: '+ Rule' }).click();
    const rules = page.locator('.condition-rule');
    await rules.nth(0).getByLabel('Condition field').fill('data.status');
    await rules.nth(0).getByLabel('Condition operator').selectOption('IN');
    await rules.nth(0).getByLabel('Condition value').fill('Booked');
    await rules.nth(1).getByLabel('Condition field').fill('data.sesionId'); // a typo
    await rules.nth(1).getByLabel('Condition operator').selectOption({ label: 'is empty' });
    await rules.nth(2).getByLabel('Condition field').fill('data.status');
    await rules.nth(2).getByLabel('Condition operator').selectOption({ label: 'is empty' });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await expect.poll(() => page.evaluate(() => (document.activeElement as HTMLElement | null)?.getAttribute('aria-label'))).toBe('Condition field');
    // The rule with the typo is the one marked, and it is in view.
    expect(await rules.nth(1).getAttribute('class')).toContain('invalid');
    expect(await rules.nth(0).getAttribute('class')).not.toContain('invalid');
    expect(await rules.nth(1).getByRole('alert').textContent()).toContain('"sesionId" is not in the field catalog');
    expect(await page.evaluate(() => document.activeElement === document.querySelectorAll('.condition-rule')[1]!.querySelector('input'))).toBe(true);
    const box = await rules.nth(1).boundingBox();
    expect(box!.y).toBeGreaterThanOrEqual(0);
    expect(box!.y + box!.height).toBeLessThanOrEqual(800);

    await rules.nth(1).getByLabel('Condition field').fill('data.sessionId');
    await rules.nth(2).getByRole('button', { name: 'Remove rule' }).click();
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page.getByRole('heading', { name: 'Webhook: Delegates without a session' }).waitFor();
    const made = (await herald.ok(`{ webhooks(filter: { search: "without a session" }) { edges { node { id events conditions { path operator } } } } }`)).webhooks.edges[0].node;
    expect(made.events.sort()).toEqual(['delegate.created', 'delegate.updated']);
    expect(made.conditions).toEqual([{ path: 'data.status', operator: 'IN' }, { path: 'data.sessionId', operator: 'IS_EMPTY' }]);

    // Saved, from the bottom of a long form: "Saved." is in view.
    await page.getByLabel('Description').fill('for the HR system');
    await page.getByRole('button', { name: 'Save' }).click();
    const saved = page.getByRole('status').filter({ hasText: 'Saved.' });
    await saved.waitFor();
    const at = await saved.boundingBox();
    expect(at!.y).toBeGreaterThanOrEqual(0);
    expect(at!.y + at!.height).toBeLessThanOrEqual(800);
  });

  it("tests with the tenant's latest real event of the topic, and says so", async () => {
    await page.goto(`${origin}/#/webhooks/${working}`);
    const source = page.getByTestId('sample-source');
    await source.getByText(/^Sample: your latest order\.created event \(entity o-\d+, /).waitFor();
    expect(await page.getByLabel('Sample data').inputValue()).toMatch(/"n": \d+/);
    await page.getByRole('button', { name: 'Test', exact: true }).click();
    const result = page.getByTestId('test-result');
    await result.getByText(/Sent your latest order\.created event/).waitFor();
    expect(await result.textContent()).toContain('200');
    // Edited, the sample is the person's, and Test says it sent theirs.
    await page.getByLabel('Sample data').fill('{"n": -1}');
    await source.getByText(/^Your own sample \(edited from your latest order\.created event/).waitFor();
    await page.getByRole('button', { name: 'Test', exact: true }).click();
    await result.getByText('Sent your sample.').waitFor();
  });

  it('keeps unsaved changes while the person goes to another screen, and gives them back', async () => {
    const made = (await herald.ok(`{ webhooks(filter: { search: "without a session" }) { edges { node { id } } } }`)).webhooks.edges[0].node;
    await page.goto(`${origin}/#/webhooks/${made.id}`);
    await page.getByLabel('Label', { exact: true }).fill('Delegates, no session yet');
    await page.getByRole('link', { name: 'Topics' }).click();
    await page.getByRole('heading', { name: 'Topics' }).waitFor();
    await page.goBack();
    await page.getByText('were kept while you were away').waitFor();
    expect(await page.getByLabel('Label', { exact: true }).inputValue()).toBe('Delegates, no session yet');
    await page.getByRole('button', { name: 'Discard them' }).click();
    expect(await page.getByLabel('Label', { exact: true }).inputValue()).toBe('Delegates without a session');
    await page.getByRole('link', { name: 'Topics' }).click();
    await page.goBack();
    await page.getByLabel('Label', { exact: true }).waitFor();
    expect(await page.getByText('were kept while you were away').count()).toBe(0);
  });

  it('lists events with the deliveries each made, filtered by type and entity in the address', async () => {
    await page.goto(`${origin}/#/events`);
    await page.getByRole('heading', { name: 'Events' }).waitFor();
    await page.getByLabel('Event type').selectOption('order.created');
    await page.getByLabel('Entity id').fill('o-3');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => page.url()).toContain('entity=o-3');
    expect(page.url()).toContain('type=order.created');
    const rows = page.locator('tr[data-event]');
    await expect.poll(() => rows.count()).toBe(1);
    const chips = rows.first().locator('.delivery-chip');
    expect((await chips.allTextContents()).sort()).toEqual(['Orders to a broken CRM FAILED', 'Orders to the ERP COMPLETED'].sort());
    await rows.first().getByRole('link', { name: 'order.created' }).click();
    const detail = page.getByRole('complementary', { name: 'Event detail' });
    await detail.getByText('"n": 3').waitFor();
    await detail.getByRole('link', { name: 'Orders to the ERP' }).click();
    await drawer().getByText('Request sent').waitFor();
    expect(page.url()).toMatch(/#\/deliveries\?event=[0-9a-f-]+&instance=/);
    await expect.poll(() => page.locator('tr[data-instance]').count()).toBe(2);
    await page.keyboard.press('Escape');
  });

  it("copies a sandbox's set-up into production after showing what it would change", async () => {
    const sandbox = (await herald.ok('mutation { createTenant(input: { name: "Acme sandbox", environment: SANDBOX }) { key } }', {}, OPERATOR_KEY)).createTenant.key;
    await herald.ok('mutation { createTopic(input: { key: "course", name: "Course" }) { key } }', {}, sandbox);
    await herald.ok('mutation { createWebhook(input: { label: "Courses to the LMS", events: ["course.created"], url: "https://lms.example/hooks", active: true }) { webhook { id } } }', {}, sandbox);
    await signIn(sandbox);
    try {
      await page.getByRole('link', { name: 'Copy set-up' }).click();
      const copy = page.getByRole('form', { name: 'Copy to production' });
      await copy.getByLabel('Production API key').fill(ADMIN_KEY);
      await copy.getByRole('button', { name: 'Show what it would change' }).click();
      const plan = page.getByLabel('Import plan');
      await plan.getByText('It would change 2 of 2 in production').waitFor();
      expect(await plan.locator('tr[data-change="CREATE"]').count()).toBe(2);
      expect(await plan.getByText('created off: switch it on when it should send').count()).toBe(1);
      // Nothing changed yet.
      expect((await herald.ok('{ webhooks(filter: { search: "Courses" }) { edges { node { id } } } }')).webhooks.edges).toEqual([]);
      await plan.getByRole('button', { name: 'Apply 2 changes' }).click();
      await plan.getByRole('heading', { name: 'Done' }).waitFor();
      expect(await page.getByTestId('imported-secret').textContent()).toMatch(/^whsec_/);
      const copied = (await herald.ok('{ webhooks(filter: { search: "Courses" }) { edges { node { label url active events } } } }')).webhooks.edges;
      expect(copied).toEqual([{ node: { label: 'Courses to the LMS', url: 'https://lms.example/hooks', active: false, events: ['course.created'] } }]);
    } finally {
      await signIn(ADMIN_KEY);
    }
  });

  it('has no accessibility violations on any screen (axe)', async () => {
    const screens = ['overview', 'webhooks', `webhooks/${working}`, 'webhooks/new', 'deliveries', 'events', `deliveries?webhook=${working}&instance=${(await herald.ok(`query($w: ID!) { instances(first: 1, filter: { webhookId: $w }) { edges { node { id } } } }`, { w: working })).instances.edges[0].node.id}`, 'topics', 'inspector', 'copy', 'keys'];
    const found: string[] = [];
    for (const screen of screens) {
      await page.goto(`${origin}/#/${screen}`);
      await page.locator('main h1').first().waitFor();
      await page.waitForLoadState('networkidle');
      await page.evaluate(AXE); // (through the debugger: the page's own policy allows no script but its own)
      const violations = await page.evaluate(async () => (await (window as any).axe.run(document, { resultTypes: ['violations'] })).violations.map((v: any) => `${v.id}: ${v.nodes.map((n: any) => n.target.join(' ')).join(', ')}`));
      found.push(...violations.map((v: string) => `#/${screen} ${v}`));
    }
    expect(found).toEqual([]);
  });

  it('threw no error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
