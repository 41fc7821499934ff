// The dashboard in a real browser (Debian's Chromium, driven by playwright-core)
// against a real Herald: a person creates a topic, an inbox and a webhook with
// conditions, watches a published event's delivery turn COMPLETED live, reads
// the request in the inspector and re-triggers it.
import { copyFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ADMIN_KEY, startTestApp, type TestApp } from './support/app.ts';
import { LiveLink, openPage } from './support/browser.ts';

const SCREENSHOT = path.join(os.tmpdir(), `herald-dashboard-${process.pid}.png`);

let herald: TestApp;
let origin: string;
let page: Page;
let pageErrors: string[];

beforeAll(async () => {
  herald = await startTestApp({ HERALD_MIN_BACKOFF_MS: '100' });
  const { port } = await herald.app.start(0, '127.0.0.1');
  origin = `http://127.0.0.1:${port}`;
  ({ page, errors: pageErrors } = await openPage({ width: 1280, height: 860 }));
  liveLink = await LiveLink.on(page);
});

let liveLink: LiveLink;

const publish = (status: string, entityId: string) =>
  herald.ok(`mutation($input: PublishEventInput!) { publishEvent(input: $input) { instances { id } } }`, {
    input: { event: { topic: 'delegate', action: 'created', entityId, data: { status, name: `Delegate ${entityId}` } } },
  });

describe('the dashboard', () => {
  it('is served at / with its assets, locked to this origin', async () => {
    const response = await fetch(`${origin}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await response.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${origin}${script}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');
    expect(asset.headers.get('content-encoding')).toBe('gzip');
    // React's production build, not its development one.
    expect(await asset.text()).toContain('Minified React error');
    expect((await fetch(`${origin}/assets/nothing-here.js`)).status).toBe(404);
  });

  it('refuses a wrong key and signs in with a right one', async () => {
    await page.goto(origin);
    await page.getByLabel('API key').fill('hk_not_a_real_key_000000000000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That key was refused').waitFor();
    await page.getByLabel('API key').fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
    await page.getByText('default · ADMIN').waitFor();
    await page.getByText('PRODUCTION', { exact: true }).waitFor();
    // The key lives in this tab's session storage only.
    expect(await page.evaluate(() => [sessionStorage.getItem('herald.apiKey'), localStorage.length])).toEqual([ADMIN_KEY, 0]);
  });

  it('creates a topic with its event catalog', async () => {
    await page.getByRole('link', { name: 'Topics' }).click();
    await page.getByRole('button', { name: 'New topic' }).click();
    const form = page.getByRole('form', { name: 'New topic' });
    await form.getByLabel('Key', { exact: true }).fill('delegate');
    await form.getByLabel('Name', { exact: true }).fill('Delegate');
    await form.getByRole('button', { name: '+ Field' }).click();
    await form.getByLabel('Field 1 path').fill('status');
    await form.getByLabel('Field 1 label').fill('Status');
    await form.getByLabel('Field 1 type').selectOption('ENUM');
    await form.getByLabel('Field 1 values').fill('Open, Completed');
    await form.getByRole('button', { name: '+ Field' }).click();
    await form.getByLabel('Field 2 path').fill('name');
    await form.getByLabel('Field 2 label').fill('Name');
    await form.getByLabel('Field 2 merge tag').fill('@@DelegateName');
    await form.getByRole('button', { name: 'Create topic' }).click();
    const card = page.getByRole('article', { name: /Delegate/ });
    await card.getByText('delegate.created').waitFor();
    await card.getByText('@@DelegateName').waitFor();
  });

  it('creates an inbox on this server', async () => {
    await page.getByRole('link', { name: 'Inspector' }).click();
    await page.getByLabel('Inbox name').fill('Delegate tryout');
    await page.getByRole('button', { name: 'Create inbox' }).click();
    await expect.poll(() => page.getByTestId('inbox-url').textContent()).toMatch(new RegExp(`^${origin}/inbox/`));
  });

  it('shows API errors next to the field they name', async () => {
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('link', { name: 'New webhook' }).click();
    await page.getByLabel('URL', { exact: true }).fill('ftp://example.invalid/hook');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    const label = page.locator('.field', { has: page.getByLabel('Label', { exact: true }) });
    await label.getByRole('alert').waitFor();
    expect(await label.getByRole('alert').textContent()).toMatch(/required|empty/);
    const url = page.locator('.field', { has: page.getByLabel('URL', { exact: true }) });
    expect(await url.getByRole('alert').textContent()).toMatch(/http/);
    // Nothing was saved.
    const { webhooks } = await herald.ok(`{ webhooks { edges { node { id } } } }`);
    expect(webhooks.edges).toHaveLength(0);
  });

  it('builds a webhook with a trigger and conditions, previews it live and tests it against the inbox', async () => {
    const inboxUrl = (await herald.ok(`{ inboxes { edges { node { url } } } }`)).inboxes.edges[0].node.url as string;
    await page.getByLabel('Label', { exact: true }).fill('Completed delegates');
    // Changing a field clears its error; the others stay until the next save.
    const label = page.locator('.field', { has: page.getByLabel('Label', { exact: true }) });
    await label.getByRole('alert').waitFor({ state: 'detached' });
    await page.locator('.field', { has: page.getByLabel('URL', { exact: true }) }).getByRole('alert').waitFor();
    await page.getByLabel('Topic', { exact: true }).selectOption('delegate');
    await page.getByLabel('Trigger', { exact: true }).selectOption('CREATE');
    // Choosing them is enough: no separate "add" to press.
    await page.getByRole('list', { name: 'Chosen events' }).getByText('delegate is created').waitFor();
    await page.getByRole('button', { name: '+ Rule' }).click();
    await page.getByLabel('Condition field').fill('data.status');
    await page.getByLabel('Condition operator').selectOption('IN');
    await page.getByLabel('Condition value').fill('Completed');
    await page.getByLabel('URL', { exact: true }).fill(inboxUrl);

    // The sample data says status Open (the catalog's first value): the preview says it would not send.
    const preview = page.getByTestId('preview');
    await preview.getByText(/Would not send/).waitFor();
    await page.getByLabel('Sample data').fill(JSON.stringify({ status: 'Completed', name: 'Ada' }));
    // Still off: the page and the preview say it sends nothing.
    await page.getByTestId('inactive-warning').getByText('It will be created off').waitFor();
    await preview.getByText('Would send delegate.created once it is active: it is off, so it sends nothing now').waitFor();
    await page.getByLabel('Active (sends deliveries)').check();
    await page.getByTestId('inactive-warning').waitFor({ state: 'detached' });
    await preview.getByText('Would send delegate.created', { exact: true }).waitFor();
    expect(await preview.locator('pre').textContent()).toContain('"Ada"');

    await page.getByRole('button', { name: 'Test', exact: true }).click();
    const result = page.getByTestId('test-result');
    await result.getByText('200').waitFor();
    expect(await result.textContent()).toMatch(/in \d+ ms/);

    await page.getByRole('button', { name: 'Create webhook' }).click();
    await expect.poll(() => page.getByTestId('secret').textContent()).toMatch(/^whsec_/);
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page.getByRole('heading', { name: 'Webhook: Completed delegates' }).waitFor();

    const { webhooks } = await herald.ok(`{ webhooks { edges { node { label events active url conditions { path operator values } } } } }`);
    expect(webhooks.edges[0].node).toEqual({
      label: 'Completed delegates',
      events: ['delegate.created'],
      active: true,
      url: inboxUrl,
      conditions: [{ path: 'data.status', operator: 'IN', values: ['Completed'] }],
    });
  });

  it('edits a saved webhook: chosen fields and a secret header, never shown again', async () => {
    await page.getByLabel('Payload', { exact: true }).selectOption('SELECTED_FIELDS');
    await page.getByRole('checkbox', { name: /Name name/ }).check();
    await page.getByRole('button', { name: '+ Header' }).click();
    await page.getByLabel('Header 1 name').fill('Authorization');
    await page.getByLabel('Header 1 value').fill('Bearer receiver-token-123');
    await page.getByTestId('preview').getByText('"name"').first().waitFor();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Saved.').waitFor();
    const { webhooks } = await herald.ok(`{ webhooks { edges { node { payloadMode selectedFields headers { name value secret } } } } }`);
    expect(webhooks.edges[0].node).toEqual({ payloadMode: 'SELECTED_FIELDS', selectedFields: ['name'], headers: [{ name: 'Authorization', value: null, secret: true }] });
    await page.reload();
    await page.getByLabel('Header 1 value').waitFor();
    expect(await page.getByLabel('Header 1 value').inputValue()).toBe('');
    expect(await page.content()).not.toContain('receiver-token-123');
  });

  it('checks the inbox signatures against the chosen webhook', async () => {
    await page.getByRole('link', { name: 'Inspector' }).click();
    await page.getByRole('link', { name: 'Delegate tryout' }).click();
    await page.getByRole('region', { name: 'Inbox Delegate tryout' }).or(page.locator('.inbox-view')).first().waitFor();
    await page.locator('.inbox-view').getByLabel('Check signatures of').selectOption({ label: 'Completed delegates' });
    await expect.poll(async () => (await herald.ok(`{ inboxes { edges { node { webhookId } } } }`)).inboxes.edges[0].node.webhookId).not.toBeNull();
  });

  it('shows a published delivery turn COMPLETED in the grid without reloading, and the request in the inspector', async () => {
    await page.getByRole('link', { name: 'Deliveries' }).click();
    await page.getByText('● live').waitFor();
    await page.evaluate(() => ((window as any).stillTheSamePage = true));

    await publish('Open', 'd-1'); // fails the condition: no delivery
    const published = await publish('Completed', 'd-2');
    expect(published.publishEvent.instances).toHaveLength(1);
    const row = page.locator(`tr[data-instance="${published.publishEvent.instances[0].id}"]`);
    await row.and(page.locator('[data-status="COMPLETED"]')).waitFor();
    expect(await row.textContent()).toContain('200');
    expect(await page.evaluate(() => (window as any).stillTheSamePage)).toBe(true);
    expect(await page.locator('tr[data-instance]').count()).toBe(1);

    // Open it: the request sent and its attempt.
    await row.click();
    const detail = page.getByRole('complementary', { name: 'Delivery detail' });
    await detail.getByText('Request sent').waitFor();
    expect(await detail.textContent()).toContain('webhook-signature');
    await detail.locator('.attempts li').first().waitFor();
    expect(await detail.locator('.attempts li').count()).toBe(1);

    await page.screenshot({ path: SCREENSHOT });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
    if (process.env.UPDATE_SCREENSHOT) copyFileSync(SCREENSHOT, path.join('web', 'dashboard.png'));

    await page.getByRole('link', { name: 'Inspector' }).click();
    await page.getByRole('link', { name: 'Delegate tryout' }).click();
    const captured = page.getByTestId('captured-request');
    await captured.getByText('signature valid').first().waitFor();
    expect(await captured.textContent()).toContain('"d-2"');
    // The Test request came first, before the inbox knew the webhook: two requests in all.
    expect(await page.getByRole('list', { name: 'Captured requests' }).getByRole('listitem').count()).toBe(2);
  });

  it('re-triggers a delivery from the right-click menu, live in the grid and the inspector', async () => {
    await page.getByRole('link', { name: 'Deliveries' }).click();
    const row = page.locator('tr[data-instance]').first();
    await row.waitFor();
    await row.click({ button: 'right' });
    await page.getByRole('menuitem', { name: 'Re-trigger' }).click();
    await page.getByText('Re-triggered').waitFor();
    await expect.poll(() => row.locator('td[data-label="Attempts"]').textContent()).toBe('2');
    await row.and(page.locator('[data-status="COMPLETED"]')).waitFor();

    // Keyboard: Tab to the row and Enter opens it.
    await row.focus();
    await page.keyboard.press('Enter');
    const detail = page.getByRole('complementary', { name: 'Delivery detail' });
    await expect.poll(() => detail.locator('.attempts li').count()).toBe(2);
    expect(await detail.locator('.attempts li').nth(1).textContent()).toContain('MANUAL');

    await page.getByRole('link', { name: 'Inspector' }).click();
    await page.getByRole('link', { name: 'Delegate tryout' }).click();
    await expect.poll(() => page.getByRole('list', { name: 'Captured requests' }).getByRole('listitem').count()).toBe(3);
  });

  it('catches up with what it missed while its live connection was down', async () => {
    await page.getByRole('link', { name: 'Deliveries' }).click();
    await page.locator('tr[data-instance]').first().waitFor();
    await page.getByText('● live').waitFor();
    await liveLink.cut();
    const published = await publish('Completed', 'd-3');
    const id = published.publishEvent.instances[0].id;
    await expect.poll(async () => (await herald.ok(`query($id: ID!) { instance(id: $id) { status } }`, { id })).instance.status).toBe('COMPLETED');
    expect(await page.locator(`tr[data-instance="${id}"]`).count()).toBe(0);
    liveLink.restore(); // the client reconnects by itself, and reads what changed meanwhile
    await page.locator(`tr[data-instance="${id}"][data-status="COMPLETED"]`).waitFor({ timeout: 20_000 });
    await page.getByText('● live').waitFor();
  });

  it('lists webhooks with success rate and last delivery; pauses (holding deliveries), discards after confirming with the count, resumes, turns off, and deletes after confirming', async () => {
    await page.getByRole('link', { name: 'Webhooks' }).click();
    const row = page.locator('tr[data-webhook="Completed delegates"]');
    await row.waitFor();
    await expect.poll(() => row.locator('td[data-label="Success"]').textContent()).toMatch(/^100%/);
    expect(await row.locator('td[data-label="Last delivery"]').textContent()).not.toBe('—');
    expect(await row.locator('td[data-label="Events"]').textContent()).toBe('delegate.created');

    await row.getByRole('button', { name: 'Pause' }).click();
    await row.getByText('0 deliveries held').waitFor();
    // The row turns at once; publish once the pause is saved.
    await expect.poll(async () => (await herald.ok(`{ webhooks { edges { node { state } } } }`)).webhooks.edges[0].node.state).toBe('PAUSED');
    await publish('Completed', 'held-1');
    await row.getByText('1 delivery held').waitFor();
    await row.getByRole('button', { name: 'Discard held' }).click();
    const discard = page.getByRole('dialog', { name: 'Discard held deliveries' });
    expect(await discard.textContent()).toContain('Discard the 1 delivery held for Completed delegates?');
    await discard.getByRole('button', { name: 'Discard 1' }).click();
    await row.getByText('0 deliveries held').waitFor();
    await row.getByRole('button', { name: 'Resume' }).click();
    await row.getByText('Active', { exact: true }).waitFor();
    await expect.poll(async () => (await herald.ok(`{ webhooks { edges { node { state } } } }`)).webhooks.edges[0].node.state).toBe('ACTIVE');

    await row.getByLabel('Completed delegates active').uncheck();
    await row.getByText('Off', { exact: true }).waitFor();
    // The switch turns at once; the change is saved a moment later.
    await expect.poll(async () => (await herald.ok(`{ webhooks { edges { node { active } } } }`)).webhooks.edges[0].node.active).toBe(false);

    await row.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete webhook' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await herald.ok(`{ webhooks { edges { node { id } } } }`)).webhooks.edges).toHaveLength(1);
    await row.getByRole('button', { name: 'Delete' }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await row.waitFor({ state: 'detached' });
    expect((await herald.ok(`{ webhooks { edges { node { id } } } }`)).webhooks.edges).toHaveLength(0);
  });

  it('creates an API key shown once, and revokes it after confirming', async () => {
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByLabel('Key name').fill('website integration');
    await page.getByLabel('Role').selectOption('PUBLISHER');
    await page.getByRole('button', { name: 'Create key' }).click();
    await expect.poll(() => page.getByTestId('api-key').textContent()).toMatch(/^hk_/);
    const key = (await page.getByTestId('api-key').textContent())!;
    await page.getByRole('button', { name: 'I have copied it' }).click();
    expect((await herald.gql(`{ viewer { role } }`, {}, key)).data.viewer.role).toBe('PUBLISHER');
    const row = page.locator('tr[data-key="website integration"]');
    await row.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('dialog', { name: 'Revoke API key' }).getByRole('button', { name: 'Revoke' }).click();
    await row.waitFor({ state: 'detached' });
    expect((await herald.gql(`{ viewer { role } }`, {}, key)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await page.content()).not.toContain(key);
  });

  it('pages through older deliveries', async () => {
    const inboxUrl = (await herald.ok(`{ inboxes { edges { node { url } } } }`)).inboxes.edges[0].node.url as string;
    const { createWebhook } = await herald.ok(`mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }`, {
      input: { label: 'Every delegate', events: ['delegate.created'], url: inboxUrl, active: true },
    });
    const inputs = Array.from({ length: 60 }, (_, i) => ({ event: { topic: 'delegate', action: 'created', entityId: `p-${i}`, data: { status: 'Open' } } }));
    await herald.ok(`mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { event { id } } }`, { inputs });
    await page.goto(`${origin}/#/deliveries?webhook=${createWebhook.webhook.id}`);
    // Only the rows in view are in the page (a virtual list); the table says how many it has.
    const grid = page.getByRole('table', { name: 'Deliveries' });
    await expect.poll(() => grid.getAttribute('aria-rowcount')).toBe('51');
    expect(await page.locator('tr[data-instance]').count()).toBeLessThan(50);
    await page.getByRole('button', { name: 'Load older deliveries' }).click();
    await expect.poll(() => grid.getAttribute('aria-rowcount')).toBe('61');
    await page.getByRole('button', { name: 'Load older deliveries' }).waitFor({ state: 'detached' });
    // Scrolled to the end: the oldest, once.
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    const last = page.locator('tr[aria-rowindex="61"]');
    await last.waitFor();
    expect(await last.textContent()).toContain('#p-0');
    expect(await page.getByText('#p-0', { exact: true }).count()).toBe(1);
    await page.evaluate(() => window.scrollTo(0, 0));
  });

  it("fits a phone's width", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const section of ['overview', 'deliveries', 'events', 'copy', 'topics', 'inspector', 'keys', 'webhooks/new']) {
      await page.goto(`${origin}/#/${section}`);
      await page.locator('main h1').first().waitFor();
      const overflow = await page.evaluate(() => {
        const wider = [...document.querySelectorAll('main *')].filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5);
        const culprit = wider.find((el) => ![...el.children].some((child) => wider.includes(child)));
        return { by: document.documentElement.scrollWidth - window.innerWidth, culprit: culprit && `${culprit.tagName}.${culprit.className} ${culprit.textContent?.slice(0, 40)}` };
      });
      expect(overflow.by, `#/${section} is wider than the phone (${overflow.culprit})`).toBeLessThanOrEqual(0);
    }
  });

  it("starts an alert from a preset on Herald's own events, and replays what it missed after counting it", async () => {
    const inboxUrl = (await herald.ok(`{ inboxes { edges { node { url } } } }`)).inboxes.edges[0].node.url as string;
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('link', { name: 'New webhook' }).click();
    await page.getByLabel('Start from').selectOption('Alert me — Slack: a webhook is failing, paused or recovered');
    expect(await page.getByLabel('Label', { exact: true }).inputValue()).toBe('Alert Slack about webhooks');
    await page.getByLabel('URL', { exact: true }).fill(inboxUrl);
    await page.getByLabel('Active (sends deliveries)').check();
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await expect.poll(() => page.getByTestId('secret').textContent()).toMatch(/^whsec_/);
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page.getByRole('heading', { name: 'Webhook: Alert Slack about webhooks' }).waitFor();
    const { webhooks } = await herald.ok(`{ webhooks { edges { node { label events payloadMode template } } } }`);
    const alert = webhooks.edges.find((e: any) => e.node.label === 'Alert Slack about webhooks').node;
    expect(alert.events).toContain('herald.webhook_deactivated');
    expect(alert.payloadMode).toBe('CUSTOM');

    // The pause and resume earlier in this run are stored events it never received.
    expect(await page.getByTestId('webhook-state').textContent()).toBe('Active');
    expect(await page.getByTestId('webhook-circuit').textContent()).toBe('Answering');
    await page.getByRole('button', { name: 'Count' }).click();
    const counted = await page.getByRole('status').filter({ hasText: 'stored events it takes' }).textContent();
    const matched = Number(/^(\d+)/.exec(counted!)![1]);
    expect(matched).toBeGreaterThanOrEqual(2);
    await page.getByRole('button', { name: `Replay ${matched}` }).click();
    await page.getByRole('status').filter({ hasText: `${matched} deliveries created` }).waitFor();
    const { instances } = await herald.ok(`{ instances(first: 50) { edges { node { status event { topic action } } } } }`);
    const replayed = instances.edges.filter((e: any) => e.node.event.topic === 'herald');
    expect(replayed.map((e: any) => e.node.event.action)).toEqual(expect.arrayContaining(['webhook_paused', 'webhook_resumed']));
  });

  it("charts the tenant's deliveries and each webhook's, and lists the webhooks needing a look", async () => {
    // A webhook whose only attempt fails: its receiver (an inbox of this server) answers 500.
    const failingInbox = (await herald.ok(`mutation { createInbox(input: { name: "Broken", respondWith: 500 }) { url } }`)).createInbox.url;
    const create = 'mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }';
    const broken = (await herald.ok(create, { input: { label: 'Broken receiver', events: ['delegate.created'], url: failingInbox, active: true, maxAttempts: 1 } })).createWebhook.webhook.id;
    const published = await publish('Completed', 'd-chart');
    const mine = published.publishEvent.instances.map((i: any) => i.id);
    await expect
      .poll(async () => (await herald.ok(`query($id: ID!) { webhook(id: $id) { failingSince } }`, { id: broken })).webhook.failingSince, { timeout: 15_000 })
      .not.toBeNull();
    expect(mine.length).toBeGreaterThan(0);

    await page.setViewportSize({ width: 1280, height: 860 });
    await page.goto(`${origin}/#/overview`);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const failing = page.getByTestId('failing-webhooks');
    await failing.getByRole('link', { name: 'Broken receiver' }).waitFor();
    expect(await failing.textContent()).toContain('failing since');
    // Three charts, drawn by uPlot; the summary counts the attempts the roll-up has folded (live: it follows).
    const tenantCharts = page.getByRole('region', { name: 'All webhooks' });
    await expect.poll(() => tenantCharts.locator('figure.chart canvas').count()).toBe(3);
    await expect.poll(async () => (await tenantCharts.getByTestId('chart-summary').textContent()) ?? '', { timeout: 15_000 }).toMatch(/^[1-9]\d* attempts, \d+(\.\d)?% accepted, [1-9]\d* deliver(y|ies) failed$/);
    await tenantCharts.getByRole('button', { name: 'Last 24 hours' }).click();
    expect(await tenantCharts.getByRole('button', { name: 'Last 24 hours' }).getAttribute('aria-pressed')).toBe('true');
    await expect.poll(async () => (await tenantCharts.getByTestId('chart-summary').textContent()) ?? '').toMatch(/^[1-9]\d* attempts/);
    await page.screenshot({ path: SCREENSHOT });
    if (process.env.UPDATE_SCREENSHOT) copyFileSync(SCREENSHOT, path.join('web', 'overview.png'));

    // The webhook's own charts, beside its settings and health: its one failed attempt.
    await failing.getByRole('link', { name: 'Broken receiver' }).click();
    const own = page.getByRole('region', { name: 'Deliveries over time' });
    await expect.poll(async () => (await own.getByTestId('chart-summary').textContent()) ?? '', { timeout: 15_000 }).toBe('1 attempt, 0% accepted, 1 delivery failed');
    expect(await own.locator('figure.chart canvas').count()).toBe(3);
  });

  it('threw no error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
