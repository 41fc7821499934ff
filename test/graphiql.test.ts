import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, startTestApp, type TestApp } from './support/app.ts';
import { startBrowser } from './support/browser.ts';
import { setUpTopics } from './support/fixtures.ts';
import { eventually, Receiver } from './support/receiver.ts';

/** The text a Monaco editor of GraphiQL's shows (its lines as drawn, spaces made plain). */
const editorText = (page: Page, selector: string) => page.locator(`${selector} .view-lines`).first().innerText().then((t) => t.replace(/\u00a0/g, ' '));

describe('GraphiQL at /graphql, served whole by Herald, with the network to anywhere else cut', () => {
  let t: TestApp;
  let origin: string;
  let receiver: Receiver;
  let context: BrowserContext;
  /** Requests and sockets the page tried to open anywhere but Herald (all refused). */
  const elsewhere: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    t = await startTestApp({ HERALD_OUTBOUND_ALLOW: '127.0.0.0/8' });
    origin = new URL((await t.app.start(0, '127.0.0.1')).url).origin;
    await setUpTopics(t);
    receiver = await Receiver.start();
    await t.ok('mutation($url: String!) { createWebhook(input: { label: "live", events: ["user.created"], url: $url, active: true }) { webhook { id } } }', { url: receiver.url });
    const browser = await startBrowser();
    context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    await context.route('**/*', (route) => {
      if (new URL(route.request().url()).origin === origin) return route.continue();
      elsewhere.push(route.request().url());
      return route.abort('internetdisconnected');
    });
    await context.routeWebSocket(/.*/, (ws) => {
      if (new URL(ws.url()).host === new URL(origin).host) return ws.connectToServer();
      elsewhere.push(ws.url());
      return ws.close();
    });
    // What the page's Content-Security-Policy refused, as the page saw it.
    await context.addInitScript(() => {
      const seen: string[] = ((window as unknown as { violations: string[] }).violations = []);
      document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.effectiveDirective} ${e.blockedURI}`));
    });
  });

  const open = async (query: string) => {
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const response = await page.goto(`${origin}/graphql?query=${encodeURIComponent(query)}`);
    await page.locator('.graphiql-query-editor .view-lines').filter({ hasText: query.split(' ')[0]! }).waitFor();
    return { page, response: response! };
  };
  const run = async (page: Page, expected: string | RegExp) => {
    await page.locator('.graphiql-execute-button').click();
    await expect.poll(() => editorText(page, '.graphiql-response'), { timeout: 20_000 }).toMatch(expected);
  };
  /** Puts `text` in the Headers tab's editor, as a person would. */
  const setHeaders = async (page: Page, text: string) => {
    await page.getByRole('button', { name: 'Headers', exact: true }).click();
    const editor = page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden) .monaco-editor').first();
    await editor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(text);
    await expect.poll(() => editorText(page, '.graphiql-editor-tool .graphiql-editor:not(.hidden)')).toContain(ADMIN_KEY);
  };

  it('renders from its own files under the dashboard\'s policy, runs a query with the key of the Headers tab, and a subscription with the same key', async () => {
    const { page, response } = await open('{ viewer { role } }');
    expect(response.status()).toBe(200);
    const policy = response.headers()['content-security-policy']!;
    for (const rule of ["default-src 'self'", "script-src 'self'", "connect-src 'self' ws: wss:", "worker-src 'self'", "frame-ancestors 'none'", "style-src-attr 'unsafe-inline'"]) expect(policy).toContain(rule);
    expect(policy).toMatch(/style-src-elem 'self' 'nonce-[A-Za-z0-9+/]{24}'/);

    // No key yet: the server says so.
    await run(page, /UNAUTHENTICATED/);
    await setHeaders(page, `{ "authorization": "Bearer ${ADMIN_KEY}" }`);
    await run(page, /"role": "ADMIN"/);

    // A subscription, over graphql-ws with the same key, sees a delivery made now.
    await page.locator('.graphiql-query-editor .monaco-editor').click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText('subscription { instanceUpdated { status } }');
    await page.locator('.graphiql-execute-button').click();
    // Published again each second until it shows: the page's socket opens when it opens.
    let publishedAt = 0;
    await eventually(async () => {
      if (Date.now() - publishedAt > 1000) {
        publishedAt = Date.now();
        await t.ok('mutation { publishEvent(input: { event: { topic: "user", action: "created", entityId: "u1", data: {} } }) { event { id } } }');
      }
      return /"status": "(PENDING|SENDING|COMPLETED)"/.test(await editorText(page, '.graphiql-response')) ? true : undefined;
    }, 20_000, 'the subscription to show a delivery');
    // The subscription may show it PENDING before the receiver has it: the delivery itself arrives too.
    await receiver.waitFor(1);

    expect(await page.evaluate(() => (window as unknown as { violations: string[] }).violations)).toEqual([]);
    await page.close();
  });

  it("takes the key of a tab signed in to the dashboard, keeps keys out of localStorage, and loads nothing from anywhere else", async () => {
    const page = await context.newPage();
    await page.goto(`${origin}/`);
    await page.evaluate((key) => sessionStorage.setItem('herald.apiKey', key), ADMIN_KEY);
    await page.goto(`${origin}/graphql?query=${encodeURIComponent('{ viewer { tenant { name } } }')}`);
    await page.locator('.graphiql-execute-button').click();
    await expect.poll(() => editorText(page, '.graphiql-response'), { timeout: 20_000 }).toMatch(/"name": "default"/);
    expect(JSON.stringify(await page.evaluate(() => ({ ...localStorage })))).not.toContain(ADMIN_KEY);
    expect(await page.evaluate(() => (window as unknown as { violations: string[] }).violations)).toEqual([]);
    await page.close();
    expect(elsewhere).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('a client that asks for JSON still gets GraphQL at the same address', async () => {
    const response = await fetch(`${origin}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: { accept: 'application/json' } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
  });
});
