import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, MigrationError, migrationNames } from '../src/db/migrate.ts';
import { createLogger } from '../src/logger.ts';
import { createTestDatabase } from './support/database.ts';

const log = createLogger('silent');

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

function runMigrateProcess(databaseUrl: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts'], {
      env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('migrations', () => {
  it('two processes migrating the same empty database at once apply each migration exactly once', async () => {
    const url = await createTestDatabase({ empty: true });
    const [a, b] = await Promise.all([runMigrateProcess(url), runMigrateProcess(url)]);
    expect(a.stderr + b.stderr).toBe('');
    expect([a.code, b.code]).toEqual([0, 0]);
    const applied = [JSON.parse(a.stdout).applied, JSON.parse(b.stdout).applied];
    const names = await migrationNames();
    // One process applied everything; the other waited on the lock and found nothing to do.
    expect(applied.sort((x, y) => y.length - x.length)).toEqual([names, []]);
    const rows = await query<{ migration_name: string; n: string }>(
      url,
      'SELECT migration_name, count(*) AS n FROM "_prisma_migrations" GROUP BY migration_name ORDER BY 1',
    );
    expect(rows).toEqual(names.map((name) => ({ migration_name: name, n: '1' })));
    const tables = await query<{ table_name: string }>(
      url,
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
    );
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['tenant', 'api_key', 'topic', 'topic_field']));
  }, 60_000);

  it("records migrations in Prisma's own table with Prisma's checksum, so `prisma migrate deploy` agrees", async () => {
    const url = await createTestDatabase({ empty: true });
    await migrate(url, log);
    const [first] = await migrationNames();
    const sql = await fs.readFile(path.join('prisma/migrations', first!, 'migration.sql'));
    const { createHash } = await import('node:crypto');
    const rows = await query<{ checksum: string; finished_at: Date | null; applied_steps_count: number }>(
      url,
      `SELECT checksum, finished_at, applied_steps_count FROM "_prisma_migrations" WHERE migration_name = '${first}'`,
    );
    expect(rows[0]?.checksum).toBe(createHash('sha256').update(sql).digest('hex'));
    expect(rows[0]?.finished_at).toBeInstanceOf(Date);
    expect(await migrate(url, log)).toEqual([]);
  });

  describe('a failing migration', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'herald-migrations-'));
      await fs.mkdir(path.join(dir, '001_good'));
      await fs.writeFile(path.join(dir, '001_good', 'migration.sql'), 'CREATE TABLE good (id int);');
      await fs.mkdir(path.join(dir, '002_bad'));
      await fs.writeFile(path.join(dir, '002_bad', 'migration.sql'), 'CREATE TABLE half (id int);\nCREATE TABLE broken (id nosuchtype);');
    });
    afterAll(() => fs.rm(dir, { recursive: true, force: true }));

    it('stops with the SQL error and leaves nothing of itself behind', async () => {
      const url = await createTestDatabase({ empty: true });
      const error = await migrate(url, log, dir).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationError);
      expect((error as Error).message).toBe('migration 002_bad failed: type "nosuchtype" does not exist');
      const tables = await query<{ t: string }>(url, `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`);
      expect(tables.map((r) => r.t)).toEqual(['_prisma_migrations', 'good']);
      const applied = await query<{ migration_name: string }>(url, 'SELECT migration_name FROM "_prisma_migrations"');
      expect(applied.map((r) => r.migration_name)).toEqual(['001_good']);
    });
  });
});
