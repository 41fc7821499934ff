import { serverAudits } from 'graphql-http';
import { beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.ts';

describe('GraphQL over HTTP, as the specification and its audits ask', () => {
  let t: TestApp;
  let url: string;
  beforeAll(async () => {
    t = await startTestApp();
    url = (await t.app.start(0, '127.0.0.1')).url;
  });

  it("passes every one of graphql-http's server audits: no error, no warning", async () => {
    const results = await Promise.all(serverAudits({ url }).map((audit) => audit.fn()));
    const failed = results.filter((r) => r.status !== 'ok').map((r) => `${r.status} ${r.id} ${r.name}: ${'reason' in r ? r.reason : ''}`);
    expect(failed).toEqual([]);
    expect(results.length).toBeGreaterThan(50);
  });

  const post = (accept: string, body: unknown) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept }, body: JSON.stringify(body) });
  const refusals: Array<[string, unknown]> = [
    ['a document that does not parse', { query: '{ viewer { role ' }],
    ['a document that does not validate', { query: '{ nope }' }],
    ['a variable that cannot be coerced', { query: 'query($n: Int) { webhooks(first: $n) { edges { node { id } } } }', variables: { n: 'abc' } }],
  ];

  it.each(refusals)('%s: 200 with errors to a client that accepts application/json, 400 to one that accepts application/graphql-response+json', async (_what, body) => {
    const legacy = await post('application/json', body);
    expect(legacy.status).toBe(200);
    expect(legacy.headers.get('content-type')).toMatch(/^application\/json/);
    const answer = (await legacy.json()) as { data?: unknown; errors: Array<{ extensions: { code: string } }> };
    expect(answer.data).toBeUndefined();
    expect(answer.errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
    const modern = await post('application/graphql-response+json', body);
    expect(modern.status).toBe(400);
    expect(modern.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
    expect(((await modern.json()) as typeof answer).errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
  });
});
