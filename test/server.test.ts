import { request as httpRequest } from 'node:http';
import { createClient, type Client } from 'graphql-ws';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ADMIN_KEY, startTestApp, type TestApp } from './support/app.ts';

function wsClient(url: string, authorization?: string): Client {
  return createClient({
    url: url.replace('http', 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: authorization ? { authorization } : {},
    retryAttempts: 0,
    lazy: true,
  });
}

function runOverWs(client: Client, query: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let result: unknown;
    client.subscribe({ query }, { next: (value) => (result = value), error: reject, complete: () => resolve(result) });
  });
}

describe('the server on a real port', () => {
  let t: TestApp;
  let url: string;
  beforeAll(async () => {
    t = await startTestApp({ HERALD_MAX_QUERY_DEPTH: '4', HERALD_MAX_REQUEST_BYTES: '20000' });
    url = (await t.app.start(0, '127.0.0.1')).url;
  });

  it('answers /healthz and /readyz', async () => {
    expect((await fetch(url.replace('/graphql', '/healthz'))).status).toBe(200);
    const ready = await fetch(url.replace('/graphql', '/readyz'));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, checks: { database: 'ok', migrations: 'ok', queue: 'ok' } });
  });

  it("serves GraphiQL to a browser, from Herald's own files (test/graphiql.test.ts runs it in Chromium)", async () => {
    const page = await fetch(url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('GraphiQL');
    expect(html).not.toMatch(/https?:\/\//);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('runs GraphQL over WebSocket with the key in connectionParams', async () => {
    const client = wsClient(url, `Bearer ${ADMIN_KEY}`);
    try {
      expect(await runOverWs(client, '{ viewer { role } }')).toEqual({ data: { viewer: { role: 'ADMIN' } } });
    } finally {
      await client.dispose();
    }
  });

  it('also takes the key as connectionParams.headers.Authorization, as GraphiQL-style clients send it', async () => {
    const client = createClient({
      url: url.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { headers: { Authorization: `Bearer ${ADMIN_KEY}` } },
      retryAttempts: 0,
      lazy: true,
    });
    try {
      expect(await runOverWs(client, '{ viewer { role } }')).toEqual({ data: { viewer: { role: 'ADMIN' } } });
    } finally {
      await client.dispose();
    }
  });

  it('closes a WebSocket without a valid key with 4401 Unauthorized', async () => {
    for (const authorization of [undefined, 'Bearer hk_not_a_key_at_all_000000000']) {
      const client = wsClient(url, authorization);
      const error = await runOverWs(client, '{ viewer { role } }').catch((e: unknown) => e);
      await client.dispose();
      expect((error as { code?: number }).code).toBe(4401);
      expect((error as { reason?: string }).reason).toMatch(/^Unauthorized: (no API key given|unknown API key)/);
    }
  });

  it('refuses a query deeper than HERALD_MAX_QUERY_DEPTH before running it', async () => {
    // HERALD_MAX_QUERY_DEPTH is 4 here: topics > edges > node > fields > path is 5 deep.
    expect((await t.gql('{ topics { edges { node { key } } } }')).errors).toBeUndefined();
    const refused = await t.gql('{ topics { edges { node { fields { path } } } } }');
    expect(refused.data).toBeUndefined();
    expect(refused.errors?.[0]?.message).toMatch(/Query depth limit of 4 exceeded, found 5/);
  });

  it('sends no CORS headers to another origin by default (same origin only)', async () => {
    const response = await fetch(url, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` }, body: '{"query":"{ viewer { role } }"}' });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    const preflight = await fetch(url, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses a request body over HERALD_MAX_REQUEST_BYTES with 413', async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
      body: JSON.stringify({ query: `{ viewer { role } }`, variables: { pad: 'x'.repeat(30_000) } }),
    });
    expect(response.status).toBe(413);
  });

  /** POSTs `body` in chunks without a content-length (Transfer-Encoding: chunked), as a stream would. */
  function chunkedPost(path: string, chunks: string[], endless = false): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const request = httpRequest(url.replace('/graphql', path), { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` } }, (response) => {
        let body = '';
        response.on('data', (c) => (body += c));
        response.on('end', () => resolve({ status: response.statusCode!, body }));
      });
      request.on('error', reject);
      let sent = 0;
      const next = () => {
        if (request.destroyed) return;
        if (sent < chunks.length || endless) {
          request.write(chunks[sent % chunks.length]!, () => setImmediate(next));
          sent += 1;
        } else request.end();
      };
      next();
    });
  }

  it('holds HERALD_MAX_REQUEST_BYTES for a chunked body too, and answers a small chunked one', async () => {
    const small = await chunkedPost('/graphql', ['{"query":', '"{ viewer { role } }"}']);
    expect(small.status).toBe(200);
    expect(JSON.parse(small.body)).toEqual({ data: { viewer: { role: 'ADMIN' } } });
    const big = await chunkedPost('/graphql', ['{"query":"{ viewer { role } }","variables":{"pad":"', ...Array.from({ length: 30 }, () => 'x'.repeat(1000)), '"}}']);
    expect(big.status).toBe(413);
    expect(big.body).toContain('HERALD_MAX_REQUEST_BYTES');
    // A body that never ends is cut off at the limit, not read forever.
    const endless = await chunkedPost('/graphql', ['x'.repeat(4096)], true);
    expect(endless.status).toBe(413);
    expect((await t.ok('{ viewer { role } }')).viewer.role).toBe('ADMIN');
  });
});
