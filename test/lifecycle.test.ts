import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './support/database.ts';
import { graphqlAt, startServerProcess, type ServerProcess } from './support/process.ts';

/** `npm start` with DATABASE_URL unset: embedded PostgreSQL under HERALD_DATA_DIR. */
describe('one command runs Herald on an embedded PostgreSQL', () => {
  let dataDir: string;
  let running: ServerProcess | undefined;

  afterAll(async () => {
    running?.child.kill('SIGKILL');
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('starts, prints an ADMIN key once, stops cleanly on SIGTERM, and finds its data again', async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'herald-data-'));
    await fs.chmod(dataDir, 0o755);
    const env = { DATABASE_URL: undefined, HERALD_DATA_DIR: dataDir, HERALD_BOOTSTRAP_KEY: undefined };

    let started = Date.now();
    running = startServerProcess(env);
    const url = await running.listening;
    const firstStartMs = Date.now() - started;
    const key = /^\s+(hk_\S+)$/m.exec(running.output())?.[1];
    expect(key, running.output()).toBeDefined();

    const viewer = await graphqlAt(url, key!, '{ viewer { role tenant { name } } }');
    expect(viewer).toEqual({ data: { viewer: { role: 'ADMIN', tenant: { name: 'default' } } } });
    const created = await graphqlAt(url, key!, 'mutation { createTopic(input: { key: "course", name: "Course" }) { key } }');
    expect(created.errors).toBeUndefined();

    const ready = await fetch(url.replace('/graphql', '/readyz'));
    expect(ready.status).toBe(200);
    // It is the build npm start runs (one file, plain node, no TypeScript loader), and it found
    // the project's files from dist/: migrations (above), the dashboard (here).
    expect(running.child.spawnargs.at(-1)).toBe('dist/server.mjs');
    expect(running.child.spawnargs.join(' ')).not.toContain('tsx');
    const page = await fetch(url.replace('/graphql', '/'));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');

    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    expect(running.output()).toContain('"msg":"stopped"');
    await expect(fs.access(path.join(dataDir, 'pg', 'postmaster.pid'))).rejects.toThrow();

    started = Date.now();
    running = startServerProcess(env);
    const url2 = await running.listening;
    const restartMs = Date.now() - started;
    expect(running.output()).not.toContain('hk_');
    const topics = await graphqlAt(url2, key!, '{ topics { edges { node { key } } } }');
    expect(topics.data.topics.edges.map((e: any) => e.node.key).sort()).toEqual(['course', 'herald']); // herald: the built-in topic

    // A killed server leaves its PostgreSQL running; the next start stops it and goes on.
    running.child.kill('SIGKILL');
    await running.exited;
    running = startServerProcess(env);
    const url3 = await running.listening;
    expect(running.output()).toContain('still using the data directory; stopping it');
    expect(await graphqlAt(url3, key!, '{ topic(key: "course") { name } }')).toEqual({ data: { topic: { name: 'Course' } } });

    running.child.kill('SIGINT');
    expect(await running.exited).toBe(0);
    running = undefined;
    console.info(`start to listening: first start ${firstStartMs} ms, restart ${restartMs} ms`);
  }, 120_000);

  it('a first start on a port already in use prints the ADMIN key before failing, and the key works on the next start', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as AddressInfo).port;
    try {
      const databaseUrl = await createTestDatabase();
      const failed = startServerProcess({ DATABASE_URL: databaseUrl, HERALD_BOOTSTRAP_KEY: undefined, PORT: String(port) });
      expect(await failed.exited).toBe(1);
      const key = /^\s+(hk_\S+)$/m.exec(failed.output())?.[1];
      expect(key, failed.output()).toBeDefined();
      expect(failed.output()).toContain(`Herald cannot listen on 127.0.0.1:${port}: the port is in use (set PORT or HOST)`);
      running = startServerProcess({ DATABASE_URL: databaseUrl, HERALD_BOOTSTRAP_KEY: undefined });
      const url = await running.listening;
      expect(await graphqlAt(url, key!, '{ viewer { role } }')).toEqual({ data: { viewer: { role: 'ADMIN' } } });
      running.child.kill('SIGTERM');
      expect(await running.exited).toBe(0);
    } finally {
      busy.close();
    }
  });
});
