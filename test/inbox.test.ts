import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, errorOf, OPERATOR_KEY, startTestApp, type TestApp } from './support/app.ts';
import { eventually } from './support/receiver.ts';
import { ready, subscribe } from './support/ws.ts';

const CREATE_INBOX = 'mutation($input: CreateInboxInput!) { createInbox(input: $input) { id url respondWith expiresAt } }';
const REQUESTS = 'query($id: ID!) { inbox(id: $id) { requests(first: 10) { edges { node { method path headers body bodyTruncated signatureValid signatureMessage } } } } }';

describe('the request inspector', () => {
  let t: TestApp;
  let url: string;
  beforeAll(async () => {
    // No HERALD_OUTBOUND_ALLOW: loopback stays closed, except for Herald's own inboxes.
    t = await startTestApp({ HERALD_MIN_BACKOFF_MS: '20' });
    url = (await t.app.start(0, '127.0.0.1')).url;
    await t.ok('mutation { createTopic(input: { key: "user", name: "User" }) { key } }');
  });
  const webhookTo = async (endpoint: string, extra: object = {}) =>
    (await t.ok('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }', {
      input: { label: 'to inbox', events: ['user.created'], url: endpoint, active: true, ...extra },
    })).createWebhook.webhook.id as string;
  const requestsOf = async (id: string) => (await t.ok(REQUESTS, { id })).inbox.requests.edges.map((e: any) => e.node);

  it('captures a delivery to its URL, checks its signature, and shows it live', async () => {
    const webhookId = await webhookTo('https://placeholder.example/');
    const inbox = (await t.ok(CREATE_INBOX, { input: { name: 'try it', webhookId } })).createInbox;
    expect(inbox.url).toMatch(new RegExp(`^${url.replace('/graphql', '')}/inbox/[A-Za-z0-9_-]{24}$`));
    await t.ok('mutation($id: ID!, $url: String!) { updateWebhook(id: $id, input: { url: $url }) { id } }', { id: webhookId, url: `${inbox.url}/hooks` });
    const live = subscribe(url, ADMIN_KEY, 'subscription($id: ID!) { inboxRequestReceived(inboxId: $id) { method path signatureValid } }', { id: inbox.id });
    await ready(live);
    await t.ok('mutation { publishEvent(input: { event: { topic: "user", action: "created", entityId: "7", data: { name: "Ada" } } }) { event { id } } }');
    expect(await live.waitFor(1)).toEqual([{ inboxRequestReceived: { method: 'POST', path: '/hooks', signatureValid: true } }]);
    const [captured] = await requestsOf(inbox.id);
    expect(captured).toMatchObject({ method: 'POST', signatureMessage: 'signature verified', bodyTruncated: false });
    expect(JSON.parse(captured.body)).toMatchObject({ type: 'user.created', entityId: '7' });
    expect(captured.headers['user-agent']).toMatch(/^Herald\//);
    await live.client.dispose();
  });

  it("masks the sending webhook's secret header values and credential headers for every reader, and keeps the rest", async () => {
    const inbox = (await t.ok(CREATE_INBOX, { input: { name: 'secrets' } })).createInbox;
    await webhookTo(inbox.url, {
      events: ['user.updated'],
      headers: [
        { name: 'Authorization', value: 'Bearer receiver-credential' },
        { name: 'X-Signing-Key', value: 'custom-secret-value', secret: true },
        { name: 'X-Source', value: 'lms' },
      ],
    });
    const viewer = (await t.ok('mutation { createApiKey(input: { name: "v", role: VIEWER }) { key } }')).createApiKey.key;
    await t.ok('mutation { publishEvent(input: { event: { topic: "user", action: "updated", entityId: "8", data: {} } }) { event { id } } }');
    const [captured] = await eventually(async () => {
      const list = (await t.ok(REQUESTS, { id: inbox.id }, viewer)).inbox.requests.edges.map((e: any) => e.node);
      return list.length ? list : undefined;
    });
    expect(captured.headers).toMatchObject({ authorization: '[secret]', 'x-signing-key': '[secret]', 'x-source': 'lms' });
    // Sent by hand with no webhook behind it: credential-like names are still masked.
    await fetch(inbox.url, { method: 'POST', headers: { cookie: 'session=abc', 'x-auth-token': 't0ken', 'x-plain': 'shown' }, body: 'hi' });
    const list2 = (await t.ok(REQUESTS, { id: inbox.id }, viewer)).inbox.requests.edges.map((e: any) => e.node);
    const manual = list2.find((r: any) => r.body === 'hi');
    expect(manual.headers).toMatchObject({ cookie: '[secret]', 'x-auth-token': '[secret]', 'x-plain': 'shown' });
    const all = JSON.stringify((await t.ok(REQUESTS, { id: inbox.id })).inbox);
    for (const secret of ['receiver-credential', 'custom-secret-value', 'session=abc', 't0ken']) expect(all).not.toContain(secret);
  });

  it('holds under a burst: 1,000 requests at once are all captured and answered 200, and the latest 100 are kept', async () => {
    const inbox = (await t.ok(CREATE_INBOX, { input: { name: 'burst' } })).createInbox;
    const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) => fetch(inbox.url, { method: 'POST', body: `request ${i} \u0000 with NUL` }).then(async (r) => [r.status, await r.text()])));
    expect(answers.filter(([status]) => status !== 200)).toEqual([]);
    expect(new Set(answers.map(([, body]) => body))).toEqual(new Set(['{"captured":true}']));
    const kept = (await t.ok('query($id: ID!) { inbox(id: $id) { requests(first: 100) { edges { node { body } } pageInfo { hasNextPage } } } }', { id: inbox.id })).inbox.requests;
    expect(kept.edges).toHaveLength(100);
    expect(kept.pageInfo.hasNextPage).toBe(false);
    expect(kept.edges[0].node.body).toMatch(/^request \d+ \\u0000 with NUL$/);
  });

  it('answers with the status it is told to, so retries can be tried', async () => {
    const inbox = (await t.ok(CREATE_INBOX, { input: { name: 'failing', respondWith: 503 } })).createInbox;
    const webhookId = await webhookTo(inbox.url, { maxAttempts: 2, backoffBaseMs: 20, backoffCapMs: 40 });
    await t.ok('mutation { publishEvent(input: { event: { topic: "user", action: "created", entityId: "8", data: {} } }) { event { id } } }');
    const failed = await eventually(async () => {
      const edges = (await t.ok('query($w: ID!) { instances(filter: { webhookId: $w }) { edges { node { status attempts lastStatusCode } } } }', { w: webhookId })).instances.edges;
      return edges[0]?.node.status === 'FAILED' ? edges[0].node : undefined;
    });
    expect(failed).toEqual({ status: 'FAILED', attempts: 2, lastStatusCode: 503 });
    expect(await requestsOf(inbox.id)).toHaveLength(2);
    await t.ok('mutation($id: ID!) { setWebhookActive(id: $id, active: false) { id } }', { id: webhookId });
  });

  it('does not open the rest of loopback: the same server outside /inbox/ stays BLOCKED', async () => {
    const webhookId = await webhookTo(url, { maxAttempts: 1 });
    await t.ok('mutation { publishEvent(input: { event: { topic: "user", action: "created", entityId: "9", data: {} } }) { event { id } } }');
    const failed = await eventually(async () => {
      const edges = (await t.ok('query($w: ID!) { instances(filter: { webhookId: $w }) { edges { node { status lastErrorKind } } } }', { w: webhookId })).instances.edges;
      return edges[0]?.node.status === 'FAILED' ? edges[0].node : undefined;
    });
    expect(failed.lastErrorKind).toBe('BLOCKED');
    await t.ok('mutation($id: ID!) { setWebhookActive(id: $id, active: false) { id } }', { id: webhookId });
  });

  it('can be pointed at a webhook after the webhook exists, to check its signatures', async () => {
    const inbox = (await t.ok(CREATE_INBOX, { input: { name: 'made first' } })).createInbox;
    const webhookId = await webhookTo(inbox.url, { maxAttempts: 1 });
    const UPDATE = 'mutation($id: ID!, $input: UpdateInboxInput!) { updateInbox(id: $id, input: $input) { name webhookId respondWith expiresAt } }';
    const updated = (await t.ok(UPDATE, { id: inbox.id, input: { webhookId, name: 'checked', expiresInHours: 1 } })).updateInbox;
    expect(updated).toMatchObject({ name: 'checked', webhookId, respondWith: 200 });
    expect(new Date(updated.expiresAt).getTime()).toBeLessThan(Date.now() + 3_600_000 + 5_000);
    await t.ok('mutation { publishEvent(input: { event: { topic: "user", action: "created", entityId: "10", data: {} } }) { event { id } } }');
    const [captured] = await eventually(async () => {
      const requests = await requestsOf(inbox.id);
      return requests.length > 0 ? requests : undefined;
    });
    expect(captured.signatureValid).toBe(true);
    const bad = errorOf(await t.gql(UPDATE, { id: inbox.id, input: { respondWith: 99, expiresInHours: 9999 } }), 'BAD_USER_INPUT');
    expect(bad.extensions!.problems.map((p: any) => p.field)).toEqual(['input.expiresInHours', 'input.respondWith']);
    expect((await t.ok(UPDATE, { id: inbox.id, input: { webhookId: null } })).updateInbox).toMatchObject({ webhookId: null, respondWith: 200, name: 'checked' });
    // Requests already captured follow the choice: unchecked without a webhook, checked again (as of when they came) with one.
    expect((await requestsOf(inbox.id))[0]).toMatchObject({ signatureValid: null, signatureMessage: null });
    const other = await webhookTo('https://placeholder.example/');
    await t.ok(UPDATE, { id: inbox.id, input: { webhookId: other } });
    expect((await requestsOf(inbox.id))[0]).toMatchObject({ signatureValid: false, signatureMessage: 'no signature matches the webhook secret' });
    await t.ok(UPDATE, { id: inbox.id, input: { webhookId } });
    expect((await requestsOf(inbox.id))[0]).toMatchObject({ signatureValid: true, signatureMessage: 'signature verified' });
    // Its answer can change after it was made.
    expect((await t.ok(UPDATE, { id: inbox.id, input: { respondWith: 410 } })).updateInbox.respondWith).toBe(410);
    for (const id of [webhookId, other]) await t.ok('mutation($id: ID!) { setWebhookActive(id: $id, active: false) { id } }', { id });
    await t.ok('mutation($id: ID!) { deleteInbox(id: $id) }', { id: inbox.id });
  });

  it('keeps bodies to 64 KiB, refuses unknown inboxes, and is bounded per tenant', async () => {
    const inbox = (await t.ok(CREATE_INBOX, { input: { name: 'big' } })).createInbox;
    const response = await fetch(`${inbox.url}?x=1`, { method: 'PUT', body: 'x'.repeat(70_000) });
    expect(response.status).toBe(200);
    const [captured] = await requestsOf(inbox.id);
    expect(captured).toMatchObject({ method: 'PUT', path: '/?x=1', bodyTruncated: true, signatureValid: null });
    expect(captured.body).toHaveLength(64 * 1024);
    expect((await fetch(inbox.url.replace(/[^/]+$/, 'nope'), { method: 'POST' })).status).toBe(404);
    const existing = (await t.ok('{ inboxes(first: 50) { edges { node { id } } } }')).inboxes.edges.length;
    for (let i = existing; i < 20; i += 1) await t.ok(CREATE_INBOX, { input: { name: `n${i}` } });
    const error = errorOf(await t.gql(CREATE_INBOX, { input: { name: 'one too many' } }), 'CONFLICT');
    expect(error.message).toContain('at most 20 inboxes');
    errorOf(await t.gql(CREATE_INBOX, { input: { name: 'x', expiresInHours: 0 } }), 'BAD_USER_INPUT');
  });

  it("is per tenant: another tenant cannot read or delete it", async () => {
    const [first] = (await t.ok('{ inboxes(first: 1) { edges { node { id } } } }')).inboxes.edges;
    const other = (await t.ok('mutation { createTenant(input: { name: "B", environment: SANDBOX }) { key } }', {}, OPERATOR_KEY)).createTenant.key;
    errorOf(await t.gql(REQUESTS, { id: first.node.id }, other), 'NOT_FOUND');
    errorOf(await t.gql('mutation($id: ID!) { deleteInbox(id: $id) }', { id: first.node.id }, other), 'NOT_FOUND');
    expect((await t.ok('{ inboxes { edges { node { id } } } }', {}, other)).inboxes.edges).toEqual([]);
  });
});
