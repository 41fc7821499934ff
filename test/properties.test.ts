import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, startTestApp, type TestApp } from './support/app.ts';
import { setUpTopics } from './support/fixtures.ts';

/** Fixed, so a failure is replayed exactly; fast-check prints it (and the failing case) when a property fails. */
const SEED = Number(process.env.HERALD_PROPERTY_SEED ?? 20261201);
const RUNS = Number(process.env.HERALD_PROPERTY_RUNS ?? 40);

/** Strings a hostile client would send: any code units (lone surrogates too), NUL, prototype names, long ones. */
const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
  fc.constantFrom('\u0000', 'a\u0000b', '\ud800', '\udfff x', '__proto__', 'constructor', 'prototype', '__proto__.x', 'data.__proto__.x', '', ' ', '😀', '\r\nX-Injected: 1'),
  fc.string({ minLength: 300, maxLength: 2000 }),
);
const hostileNumber = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, 1e308, -0));
/** JSON as a client writes it: nested, with hostile keys and strings, and numbers JSON changes (written raw, below). */
const hostileJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, hostileString, hostileNumber, fc.boolean(), fc.constant(null), tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(hostileString, tie('value'), { maxKeys: 5 }),
})).value;
/** Raw JSON texts no JSON.stringify makes: numbers that overflow or lose digits, deep nesting. */
const rawOddities = fc.constantFrom('1e400', '-1e400', '12345678901234567890', `${'['.repeat(40)}1${']'.repeat(40)}`, `${'{"a":'.repeat(200)}1${'}'.repeat(200)}`);

const eventArbitrary = fc.record(
  {
    topic: fc.oneof(fc.constantFrom('user', 'delegate', 'enrollment'), hostileString),
    action: fc.oneof(fc.constantFrom('created', 'updated', 'deleted', 'completed'), hostileString),
    entityId: hostileString,
    data: hostileJson,
    previous: hostileJson,
    changedFields: fc.array(hostileString, { maxLength: 4 }),
    actor: fc.record({ type: hostileString, id: fc.option(hostileString) }),
    clientId: fc.option(hostileString),
    correlationId: fc.option(hostileString),
    occurredAt: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), hostileString, fc.constant('0000-01-01T00:00:00Z')),
  },
  { requiredKeys: ['topic', 'action', 'entityId'] },
);

const operators = ['EQUALS', 'NOT_EQUALS', 'IN', 'NOT_IN', 'GREATER_THAN', 'LESS_THAN', 'CONTAINS', 'STARTS_WITH', 'IS_EMPTY', 'IS_NOT_EMPTY', 'IS_NULL', 'IS_NOT_NULL', 'BEFORE_NOW', 'AFTER_NOW', 'CHANGED', 'CHANGED_TO', 'CHANGED_FROM'];
const webhookArbitrary = fc.record(
  {
    label: hostileString,
    events: fc.array(fc.oneof(fc.constantFrom('user.created', 'delegate.*', 'delegate.updated'), hostileString), { maxLength: 3 }),
    url: fc.oneof(fc.webUrl(), hostileString, fc.constantFrom('http://127.0.0.1/', 'https://x.example/{id}?a=b', 'javascript:alert(1)')),
    method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'),
    headers: fc.array(fc.record({ name: hostileString, value: hostileString, secret: fc.boolean() }), { maxLength: 3 }),
    payloadMode: fc.constantFrom('FULL', 'ID_ONLY', 'ID_AND_MODIFIED_FIELDS', 'SELECTED_FIELDS', 'CUSTOM', 'CHANGES'),
    selectedFields: fc.array(hostileString, { maxLength: 3 }),
    template: fc.oneof(hostileString, fc.constantFrom('{{ data.name }}', '{% for x in data %}{{ x }}{% endfor %}', '{{ data.__proto__ }}', '@@Nope', '{% raw %}')),
    templateFormat: fc.constantFrom('JSON', 'XML', 'FORM', 'TEXT'),
    conditions: fc.array(fc.record({ rule: fc.record({ path: fc.oneof(fc.constantFrom('data.status', 'previous.status', 'entityId'), hostileString), operator: fc.constantFrom(...operators), values: fc.array(hostileJson, { maxLength: 3 }) }) }), { maxLength: 3 }),
    timeoutMs: fc.oneof(fc.integer(), fc.constant(1000)),
    maxAttempts: fc.integer({ min: -5, max: 200 }),
    batchWindowMs: fc.option(fc.integer({ min: -10, max: 4_000_000 })),
  },
  { requiredKeys: ['label', 'url'] },
);

describe('whatever JSON and strings a client throws, the answer is never an internal error', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await setUpTopics(t);
  });

  /** Sends a raw body; the answer must be a coded GraphQL answer, never INTERNAL_SERVER_ERROR or a 5xx. */
  async function send(query: string, variablesJson: string) {
    const response = await t.app.yoga.fetch('http://herald.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
      body: `{"query":${JSON.stringify(query)},"variables":${variablesJson}}`,
    });
    const text = await response.text();
    expect(response.status, text).toBeLessThan(500);
    const result = JSON.parse(text) as { errors?: Array<{ extensions?: { code?: string } }> };
    for (const error of result.errors ?? []) {
      expect(error.extensions?.code, text).toBeDefined();
      expect(error.extensions?.code, text).not.toBe('INTERNAL_SERVER_ERROR');
    }
  }
  const withOddity = (json: string, oddity: string | null) => (oddity ? json.replace(/"entityId":("(?:[^"\\]|\\.)*")/, `"entityId":$1,"data":{"odd":${oddity}}`) : json);

  it('publishEvent', async () => {
    await fc.assert(
      fc.asyncProperty(eventArbitrary, fc.option(rawOddities), async (event, oddity) => {
        await send('mutation($input: PublishEventInput!) { publishEvent(input: $input) { event { id } instances { id } } }', withOddity(JSON.stringify({ input: { event } }), oddity));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('createWebhook', async () => {
    await fc.assert(
      fc.asyncProperty(webhookArbitrary, async (input) => {
        await send('mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }', JSON.stringify({ input }));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('previewWebhookPayload', async () => {
    await fc.assert(
      fc.asyncProperty(webhookArbitrary, eventArbitrary, fc.option(rawOddities), async (webhook, event, oddity) => {
        await send('query($webhook: CreateWebhookInput, $event: EventInput!) { previewWebhookPayload(webhook: $webhook, event: $event) { wouldSend body renderError } }', withOddity(JSON.stringify({ webhook, event }), oddity));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('and the server stays healthy', async () => {
    expect(Object.getOwnPropertyNames(Object.prototype).filter((n) => ['x', 'polluted'].includes(n))).toEqual([]);
    expect((await t.ok('{ viewer { role } }')).viewer.role).toBe('ADMIN');
  });
});
