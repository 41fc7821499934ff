// The portal: a vendor (accessplanit, Absorb) embeds one customer's webhook settings in
// its own admin screen. createPortalSession answers a single-use link; the page it opens
// signs that browser in with one role until the session ends, shows no key, and may be
// framed only by the origins named.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFileSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame, Page } from 'playwright-core';
import { purgeOld } from '../src/store/retention.ts';
import { ADMIN_KEY, errorOf, OPERATOR_KEY, startTestApp, type TestApp } from './support/app.ts';
import { openPage } from './support/browser.ts';
import { eventually, Receiver } from './support/receiver.ts';
import { subscribe } from './support/ws.ts';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const CREATE = `mutation($input: CreatePortalSessionInput!) { createPortalSession(input: $input) { url expiresAt } }`;
const VIEWER = '{ viewer { role permissions apiKey { id } tenant { name } portal { expiresAt brandName brandColor } } }';

let herald: TestApp;
let origin: string;
let db: pg.Client;
let acme: { id: string; key: string };
// Two short sessions, made at the start so that their time passes while the other tests run: one of
// two minutes that the browser tests use and watch end (room for a slow machine), one of a minute
// whose live connection the server must close.
let vendor: string;
let intruder: string;
let browserSession: { url: string; expiresAt: number };
let ending: { url: string; expiresAt: string; secret: string; live: ReturnType<typeof subscribe> };
let receiver: Receiver;

beforeAll(async () => {
  herald = await startTestApp({ HERALD_MIN_BACKOFF_MS: '100', HERALD_OUTBOUND_ALLOW: '127.0.0.0/8' });
  const { port } = await herald.app.start(0, '127.0.0.1');
  origin = `http://127.0.0.1:${port}`;
  db = new pg.Client(herald.databaseUrl);
  await db.connect();
  const made = (await herald.ok('mutation { createTenant(input: { name: "Acme Learning", environment: PRODUCTION }) { key tenant { id } } }', {}, OPERATOR_KEY)).createTenant;
  acme = { id: made.tenant.id, key: made.key };
  vendor = (await framingPage(() => browserSession.url)).origin;
  intruder = (await framingPage(() => browserSession.url)).origin;
  receiver = await Receiver.start();
  await herald.ok('mutation { createTopic(input: { key: "course", name: "Course" }) { key } }', {}, acme.key);
  await herald.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }', { input: { label: 'Courses to the CRM', events: ['course.created'], url: receiver.url, active: true } }, acme.key);
  const forBrowser = await portalFor({ role: 'DEVELOPER', expiresInMinutes: 2, allowedOrigins: [vendor], brandName: 'Vendor LMS', brandColor: '#0f766e' });
  browserSession = { url: forBrowser.url, expiresAt: Date.parse(forBrowser.expiresAt) };
  const toEnd = await portalFor({ role: 'VIEWER', expiresInMinutes: 1 });
  const { secret } = await open(toEnd.url).then((r) => r.json());
  ending = { ...toEnd, secret, live: subscribe(`${origin}/graphql`, secret, 'subscription { instanceUpdated { id } }') };
});
afterAll(() => db?.end());

const portalFor = async (input: Record<string, unknown>, key = OPERATOR_KEY) => (await herald.ok(CREATE, { input: { tenantId: acme.id, role: 'DEVELOPER', expiresInMinutes: 30, allowedOrigins: ['https://admin.vendor.example'], ...input } }, key)).createPortalSession;
const linkOf = (url: string) => new URL(url).pathname.split('/').pop()!;
const open = (url: string, init: RequestInit = {}) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', ...init });

/** A page on another origin that frames `url` (a vendor's admin screen, or a page that must not frame it). */
async function framingPage(url: () => string): Promise<{ origin: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><head><title>Vendor LMS admin</title></head><body><h1>Course settings</h1><iframe title="Webhook settings" src="${url()}" style="width:1200px;height:760px"></iframe></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('the portal in a vendor page, in Chromium', () => {
  let page: Page;
  const consoleLines: string[] = [];
  let pageErrors: string[];

  beforeAll(async () => {
    ({ page, errors: pageErrors } = await openPage({ width: 1280, height: 900 }));
    page.on('console', (message) => consoleLines.push(message.text()));
  }, 60_000);

  const portal = (): Frame => page.frames().find((f) => f.url().startsWith(`${origin}/portal/`))!;

  it('cannot be framed by a page on another origin (and that uses nothing up)', async () => {
    await page.goto(intruder);
    await eventually(async () => consoleLines.some((l) => l.includes('frame-ancestors')), 10_000, 'the browser refusing the frame');
    expect(consoleLines.find((l) => l.includes('frame-ancestors'))).toContain(vendor);
    // The frame shows nothing of Herald's page, and its script never ran.
    expect(await page.frames()[1]!.locator('#root').count()).toBe(0);
    const row = (await db.query('SELECT used_at FROM portal_session WHERE expires_at = $1', [new Date(browserSession.expiresAt)])).rows[0];
    expect(row.used_at).toBeNull();
  });

  it("signs in inside the vendor's page with the vendor's name and colour, shows no key and no sign-out, and works live", async () => {
    await page.goto(vendor);
    const frame = portal();
    await frame.getByRole('link', { name: 'Vendor LMS' }).waitFor();
    await frame.getByText('Courses to the CRM').waitFor();
    const header = frame.locator('.shell > header');
    expect(await header.evaluate((h) => getComputedStyle(h).backgroundColor)).toBe('rgb(15, 118, 110)');
    expect(await header.evaluate((h) => getComputedStyle(h.querySelector('.brand')!).color)).toBe('rgb(255, 255, 255)');
    expect(await frame.getByText('Acme Learning · DEVELOPER').count()).toBe(1);
    expect(await frame.getByText(/^until /).count()).toBe(1);
    expect(await frame.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
    expect(await frame.getByRole('link', { name: 'API keys' }).count()).toBe(0);
    // No secret anywhere a person (or the vendor's page) could read it: not in the address, not on the page.
    const secret = await frame.evaluate(() => sessionStorage.getItem('herald.apiKey'));
    expect(secret).toMatch(/^hp_/);
    expect(frame.url()).not.toContain('hp_');
    expect(await frame.locator('body').innerText()).not.toContain(secret!);

    // Live: a delivery published now shows up on the Deliveries screen by itself.
    await frame.getByRole('navigation').getByRole('link', { name: 'Deliveries' }).click();
    await frame.getByText('● live').waitFor();
    const published = await herald.ok('mutation { publishEvent(input: { event: { topic: "course", action: "created", entityId: "c-1", data: { title: "Fire safety" } } }) { instances { id } } }', {}, acme.key);
    await frame.locator(`tr[data-instance="${published.publishEvent.instances[0].id}"][data-status="COMPLETED"]`).waitFor();
    // The picture of the portal in docs/api.md (UPDATE_SCREENSHOT=1 writes it).
    const shot = path.join(os.tmpdir(), `herald-portal-${process.pid}.png`);
    await page.screenshot({ path: shot });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    if (process.env.UPDATE_SCREENSHOT) copyFileSync(shot, path.join('web', 'portal.png'));

    // A reload keeps the session (this tab holds it); it does not open the link again.
    await page.reload();
    await portal().getByRole('link', { name: 'Vendor LMS' }).waitFor();
    expect(await portal().evaluate(() => sessionStorage.getItem('herald.apiKey'))).toBe(secret);
  });

  it('has no accessibility violations in the frame (axe)', async () => {
    const frame = portal();
    await frame.getByRole('navigation').getByRole('link', { name: 'Webhooks' }).click();
    await frame.getByText('Courses to the CRM').waitFor();
    await frame.evaluate(AXE);
    const violations = await frame.evaluate(async () => (await (window as any).axe.run(document, { resultTypes: ['violations'] })).violations.map((v: any) => `${v.id}: ${v.nodes.map((n: any) => n.target.join(' ')).join(', ')}`));
    expect(violations).toEqual([]);
  });

  it('cannot be opened again from its link in another browser', async () => {
    const other = await page.context().browser()!.newContext();
    try {
      const elsewhere = await other.newPage();
      await elsewhere.goto(browserSession.url);
      await elsewhere.getByRole('alert').getByText('This portal link was used already').waitFor();
      expect(await elsewhere.getByRole('navigation').count()).toBe(0);
      expect(await elsewhere.evaluate(() => sessionStorage.getItem('herald.apiKey'))).toBeNull();
    } finally {
      await other.close();
    }
  });

  it('says so in the frame when the session ends, and offers nothing more', async () => {
    const frame = portal();
    await frame.getByRole('alert').getByText('This session has ended.').waitFor({ timeout: Math.max(0, browserSession.expiresAt - Date.now()) + 15_000 });
    expect(Date.now()).toBeGreaterThanOrEqual(browserSession.expiresAt);
    expect(await frame.getByRole('navigation').count()).toBe(0);
    // The server agrees: the secret this tab held is refused.
    const secret = await frame.evaluate(() => sessionStorage.getItem('herald.apiKey'));
    expect(errorOf(await herald.gql('{ viewer { role } }', {}, secret), 'UNAUTHENTICATED').message).toContain('has ended');
  }, 150_000);

  it('threw no error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});

describe('createPortalSession', () => {
  it('answers a single-use link on this server for the operator, or for a tenant ADMIN key for its own tenant only', async () => {
    const before = Date.now();
    const made = await portalFor({});
    expect(made.url).toMatch(new RegExp(`^${origin}/portal/[A-Za-z0-9_-]{32}$`));
    expect(Date.parse(made.expiresAt) - before).toBeGreaterThanOrEqual(30 * 60_000 - 1000);
    expect(Date.parse(made.expiresAt) - before).toBeLessThanOrEqual(30 * 60_000 + 5000);
    // The tenant's own ADMIN key: no tenant named, or its own.
    expect((await portalFor({ tenantId: null }, acme.key)).url).toContain('/portal/');
    expect((await portalFor({}, acme.key)).url).toContain('/portal/');
    // Not another tenant's; not a weaker key.
    expect(errorOf(await herald.gql(CREATE, { input: { tenantId: acme.id, role: 'VIEWER', expiresInMinutes: 5, allowedOrigins: ['https://a.example'] } }, ADMIN_KEY), 'FORBIDDEN').message).toContain('own tenant only');
    const developer = (await herald.ok('mutation { createApiKey(input: { name: "dev", role: DEVELOPER }) { key } }', {}, acme.key)).createApiKey.key;
    expect(errorOf(await herald.gql(CREATE, { input: { role: 'VIEWER', expiresInMinutes: 5, allowedOrigins: ['https://a.example'] } }, developer), 'FORBIDDEN').message).toContain('ADMIN');
    // The operator names a tenant that exists.
    errorOf(await herald.gql(CREATE, { input: { role: 'VIEWER', expiresInMinutes: 5, allowedOrigins: ['https://a.example'] } }, OPERATOR_KEY), 'BAD_USER_INPUT');
    errorOf(await herald.gql(CREATE, { input: { tenantId: '01890000-0000-7000-8000-000000000000', role: 'VIEWER', expiresInMinutes: 5, allowedOrigins: ['https://a.example'] } }, OPERATOR_KEY), 'NOT_FOUND');
  });

  it.each([
    ['no time', { expiresInMinutes: 0 }, 'input.expiresInMinutes', 'from 1 to 1440'],
    ['more than a day', { expiresInMinutes: 100_000 }, 'input.expiresInMinutes', 'from 1 to 1440'],
    ['no origin', { allowedOrigins: [] }, 'input.allowedOrigins', 'at least one origin'],
    ['eleven origins', { allowedOrigins: Array.from({ length: 11 }, (_, i) => `https://a${i}.example`) }, 'input.allowedOrigins', 'at most 10'],
    ['http off loopback', { allowedOrigins: ['http://admin.vendor.example'] }, 'input.allowedOrigins[0]', 'must be https'],
    ['a path', { allowedOrigins: ['https://admin.vendor.example/settings'] }, 'input.allowedOrigins[0]', 'scheme, host and port only'],
    ['a wildcard', { allowedOrigins: ['*'] }, 'input.allowedOrigins[0]', 'not an origin'],
    ['another directive smuggled in', { allowedOrigins: ['https://a.example; script-src *'] }, 'input.allowedOrigins[0]', 'not an origin'],
    ['a script', { allowedOrigins: ['javascript:alert(1)'] }, 'input.allowedOrigins[0]', 'must be https'],
    ['a colour name', { brandColor: 'red' }, 'input.brandColor', '#rrggbb'],
    ['a colour with more after it', { brandColor: '#123456; background: url(x)' }, 'input.brandColor', '#rrggbb'],
    ['a long name', { brandName: 'x'.repeat(81) }, 'input.brandName', 'at most 80'],
  ])('refuses %s with BAD_USER_INPUT naming the field, and makes nothing', async (_what, input, field, allowed) => {
    const before = (await db.query('SELECT count(*)::int AS n FROM portal_session')).rows[0].n;
    const error = errorOf(await herald.gql(CREATE, { input: { tenantId: acme.id, role: 'VIEWER', expiresInMinutes: 5, allowedOrigins: ['https://a.example'], ...input } }, OPERATOR_KEY), 'BAD_USER_INPUT');
    const problems = error.extensions!.problems as Array<{ field: string; message: string }>;
    expect(problems.find((p) => p.field === field)?.message).toContain(allowed);
    expect((await db.query('SELECT count(*)::int AS n FROM portal_session')).rows[0].n).toBe(before);
  });

  it('stores neither the link nor the session secret, only their hashes', async () => {
    const made = await portalFor({});
    const { secret } = await (await open(made.url)).json();
    const rows = JSON.stringify((await db.query('SELECT * FROM portal_session')).rows);
    expect(rows).not.toContain(linkOf(made.url));
    expect(rows).not.toContain(secret);
  });
});

describe('a portal link', () => {
  it("serves the dashboard's page, framed only by its origins, and is used up only by the page's POST, once", async () => {
    const made = await portalFor({ allowedOrigins: ['https://admin.vendor.example', 'http://127.0.0.1:4000'] });
    for (let i = 0; i < 2; i++) {
      const page = await fetch(made.url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="root">');
      expect(page.headers.get('content-security-policy')).toContain("frame-ancestors https://admin.vendor.example http://127.0.0.1:4000;");
      expect(page.headers.get('cache-control')).toBe('no-store');
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    }
    // The dashboard itself may be framed by no one.
    expect((await fetch(`${origin}/`)).headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    // A form post from another page (no JSON) uses nothing up.
    expect((await fetch(made.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' })).status).toBe(415);
    const first = await open(made.url);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const opened = await first.json();
    expect(opened.secret).toMatch(/^hp_[A-Za-z0-9_-]{32}$/);
    expect(opened.expiresAt).toBe(made.expiresAt);
    const again = await open(made.url);
    expect(again.status).toBe(410);
    expect((await again.json()).error).toContain('used already');
    // A reload of the page still works (the browser keeps its session).
    expect((await fetch(made.url)).status).toBe(200);
  });

  it('of two browsers opening it at once, gives the session to one', async () => {
    const made = await portalFor({});
    const answers = await Promise.all(Array.from({ length: 8 }, () => open(made.url)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 410, 410, 410, 410, 410, 410, 410]);
  });

  it('is refused when unknown or expired, without a page', async () => {
    const unknown = await fetch(`${origin}/portal/not-a-link`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).not.toContain('<div id="root">');
    expect((await fetch(`${origin}/portal/..%2F..%2Fetc%2Fpasswd`)).status).toBe(404);
    const made = await portalFor({});
    await db.query(`UPDATE portal_session SET expires_at = now() - interval '1 second' WHERE used_at IS NULL AND expires_at = $1`, [made.expiresAt]);
    const late = await open(made.url);
    expect(late.status).toBe(410);
    expect((await late.json()).error).toContain('expired');
  });
});

describe('a portal session', () => {
  it('has its role and tenant, never ADMIN, and no key', async () => {
    const admin = await open((await portalFor({ role: 'ADMIN', brandName: ' Vendor LMS ', brandColor: '#1D4ED8' })).url).then((r) => r.json());
    const { viewer } = await herald.ok(VIEWER, {}, admin.secret);
    expect(viewer).toMatchObject({ role: 'ADMIN', apiKey: null, tenant: { name: 'Acme Learning' }, portal: { brandName: 'Vendor LMS', brandColor: '#1d4ed8' } });
    expect(viewer.permissions).toEqual(['READ', 'MANAGE', 'PUBLISH', 'OPERATE']);
    // No keys made, listed or revoked, and no portal sessions made, whatever the role.
    expect(errorOf(await herald.gql('mutation { createApiKey(input: { name: "x", role: ADMIN }) { key } }', {}, admin.secret), 'FORBIDDEN').message).toContain('portal session');
    errorOf(await herald.gql('{ apiKeys { edges { node { id } } } }', {}, admin.secret), 'FORBIDDEN');
    errorOf(await herald.gql(CREATE, { input: { role: 'ADMIN', expiresInMinutes: 5, allowedOrigins: ['https://a.example'] } }, admin.secret), 'FORBIDDEN');
    // A VIEWER session reads and changes nothing.
    const viewerSession = await open((await portalFor({ role: 'VIEWER' })).url).then((r) => r.json());
    expect((await herald.ok('{ viewer { permissions } }', {}, viewerSession.secret)).viewer.permissions).toEqual(['READ']);
    errorOf(await herald.gql('mutation { createTopic(input: { key: "x", name: "X" }) { key } }', {}, viewerSession.secret), 'FORBIDDEN');
    // Its tenant's only: the default tenant's topics are not there.
    await herald.ok('mutation { createTopic(input: { key: "only_default", name: "Default only" }) { key } }');
    expect((await herald.ok('{ topics { edges { node { key } } } }', {}, viewerSession.secret)).topics.edges.map((e: any) => e.node.key)).not.toContain('only_default');
  });

  it('can be ended early by whoever may make one: its requests are refused and its live connection closed at once', async () => {
    const END = 'mutation($id: ID!) { endPortalSession(id: $id) }';
    const made = (await herald.ok(`mutation($input: CreatePortalSessionInput!) { createPortalSession(input: $input) { id url } }`, { input: { role: 'VIEWER', expiresInMinutes: 60, allowedOrigins: ['https://a.example'] } }, acme.key)).createPortalSession;
    const { secret } = await open(made.url).then((r) => r.json());
    const live = subscribe(`${origin}/graphql`, secret, 'subscription { instanceUpdated { id } }');
    await (live as unknown as { ready: Promise<void> }).ready;
    // Not the session itself, not another tenant's key.
    errorOf(await herald.gql(END, { id: made.id }, secret), 'FORBIDDEN');
    errorOf(await herald.gql(END, { id: made.id }, ADMIN_KEY), 'NOT_FOUND');
    expect(errorOf(await herald.gql(END, { id: 'not-an-id' }, acme.key), 'BAD_USER_INPUT').extensions!.field).toBe('id');
    expect((await herald.ok('{ viewer { role } }', {}, secret)).viewer.role).toBe('VIEWER');
    const asked = Date.now();
    expect((await herald.ok(END, { id: made.id }, acme.key)).endPortalSession).toBe(true);
    const ended = (await live.ended) as { code: number; reason: string };
    expect(ended).toMatchObject({ code: 4403, reason: 'Forbidden: the portal session has ended' });
    expect(Date.now() - asked).toBeLessThan(10_000); // (well before the hour it had left)
    expect(errorOf(await herald.gql('{ viewer { role } }', {}, secret), 'UNAUTHENTICATED').message).toContain('has ended');
    // Once more: it was over already. The operator may end any tenant's.
    expect((await herald.ok(END, { id: made.id }, OPERATOR_KEY)).endPortalSession).toBe(false);
  });

  it('ends when it expires: its requests and its live connections are refused, and the nightly purge removes it', async () => {
    // The live connection made at the start is closed by the server when the minute is up.
    const ended = (await ending.live.ended) as { code: number; reason: string };
    expect(ended.code).toBe(4403);
    expect(ended.reason).toContain('portal session has ended');
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(ending.expiresAt));
    expect(errorOf(await herald.gql('{ viewer { role } }', {}, ending.secret), 'UNAUTHENTICATED').message).toContain('has ended');
    const after = subscribe(`${origin}/graphql`, ending.secret, 'subscription { instanceUpdated { id } }');
    expect(((await after.ended) as { code: number }).code).toBe(4401);
    // Ended sessions go with the purge; the others stay.
    const left = (await db.query('SELECT count(*)::int AS n FROM portal_session WHERE expires_at > now()')).rows[0].n;
    expect((await purgeOld(30)).portalSessions).toBeGreaterThanOrEqual(2);
    expect((await db.query('SELECT count(*)::int AS n FROM portal_session')).rows[0].n).toBe(left);
  }, 90_000);
});
