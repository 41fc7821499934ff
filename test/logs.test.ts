import { afterAll, describe, expect, it } from 'vitest';
import { inOneTrip, loudLogSettings, query } from '../src/db/client.ts';
import { startTestApp } from './support/app.ts';
import { createTestDatabase } from './support/database.ts';
import { graphqlAt, startServerProcess, type ServerProcess } from './support/process.ts';

const KEY = 'hk_logs_test_bootstrap_key_000000000000';

describe("the server's log", () => {
  let server: ServerProcess | undefined;
  afterAll(() => void server?.child.kill('SIGKILL'));

  it("does not log client mistakes as errors, and every line has a message (no key named '0')", async () => {
    server = startServerProcess({ DATABASE_URL: await createTestDatabase(), HERALD_BOOTSTRAP_KEY: KEY, LOG_LEVEL: 'debug' });
    const url = await server.listening;
    const mistakes = [
      graphqlAt(url, KEY, 'query($n: Int) { webhooks(first: $n) { edges { node { id } } } }', { n: 'abc' }),
      graphqlAt(url, KEY, '{ viewer { role '),
      graphqlAt(url, KEY, '{ nope }'),
      graphqlAt(url, KEY, 'mutation { revokeApiKey(id: "not-a-uuid") { id } }'),
      graphqlAt(url, KEY, 'mutation($n: String!) { createApiKey(input: { name: $n, role: VIEWER }) { key } }', { n: 'a\u0000' }),
      graphqlAt(url, 'hk_wrong_key_00000000000000000000000', '{ viewer { role } }'),
      graphqlAt(url, KEY, `{ ${'a: viewer { role } '.repeat(40)} }`),
    ];
    for (const result of await Promise.all(mistakes)) expect(result.errors?.length).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 300));
    const lines = server.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) {
      expect(line.level, JSON.stringify(line)).toBeLessThan(50);
      expect(typeof line.msg, JSON.stringify(line)).toBe('string');
      expect(line).not.toHaveProperty('0');
    }
    expect(server.output()).not.toContain(KEY);
  });
});

describe("PostgreSQL's log", () => {
  it('keeps the values of a refused one-round-trip statement out: its connections log no statements and no error details', async () => {
    await startTestApp();
    expect(await loudLogSettings()).toEqual([]);
    await expect(inOneTrip([{ text: 'SELECT $1::uuid', values: ['payload-value-that-must-not-be-logged'] }])).rejects.toThrow(/invalid input syntax for type uuid/);
    // The same pool's connections, after a refusal: still quiet.
    const rows = await query<{ statement: string; verbosity: string }>({ text: "SELECT current_setting('log_min_error_statement') AS statement, current_setting('log_error_verbosity') AS verbosity", values: [] });
    expect(rows).toEqual([{ statement: 'panic', verbosity: 'terse' }]);
  });
});
