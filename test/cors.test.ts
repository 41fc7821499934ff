import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { ADMIN_KEY, startTestApp, type TestApp } from './support/app.ts';

const preflight = (t: TestApp, origin: string) =>
  t.app.yoga.fetch('http://herald.test/graphql', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
const post = (t: TestApp, origin: string) =>
  t.app.yoga.fetch('http://herald.test/graphql', { method: 'POST', headers: { origin, 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` }, body: '{"query":"{ viewer { role } }"}' });

describe('CORS: only the origins HERALD_CORS_ORIGINS names', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ HERALD_CORS_ORIGINS: 'https://admin.example, http://localhost:5173/' });
  });

  it('answers a named origin, with credentials', async () => {
    const response = await post(t, 'https://admin.example');
    expect(response.headers.get('access-control-allow-origin')).toBe('https://admin.example');
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect((await preflight(t, 'http://localhost:5173')).headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
  });

  it('never reflects another origin', async () => {
    for (const response of [await post(t, 'https://evil.example'), await preflight(t, 'https://evil.example')]) {
      expect(response.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });

  it('refuses a setting that is not a list of origins, naming it', () => {
    expect(() => loadConfig({ HERALD_CORS_ORIGINS: 'https://ok.example,admin.example/path' })).toThrow(/HERALD_CORS_ORIGINS has "admin.example\/path": expected comma-separated origins/);
    expect(loadConfig({}).corsOrigins).toEqual([]);
  });
});
