import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import { buildForStart } from './process.ts';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/logger.ts';
import { startQueue } from '../../src/queue/boss.ts';

export const TEMPLATE_DATABASE = 'herald_test_template';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser connection string of the test PostgreSQL (its `postgres` database). */
    adminUrl: string;
  }
}

/**
 * One PostgreSQL for the whole run: an embedded one in a temporary directory, or
 * TEST_DATABASE_URL's server. A migrated template database lets every test file
 * get its own fresh database in milliseconds (test/support/database.ts).
 */
export default async function setup(project: TestProject) {
  const log = createLogger('warn');
  // The dashboard the browser tests load is the one in web/, and the server processes tests start run the
  // build of src/, as `npm start` does: both built now if their sources changed.
  buildForStart();
  let embedded: EmbeddedPostgres | undefined;
  let dir: string | undefined;
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'herald-test-pg-'));
    await fs.chmod(dir, 0o755);
    embedded = await startEmbeddedPostgres({
      dir: path.join(dir, 'pg'),
      port: 0,
      persistent: false,
      log,
      // pg_stat_statements: tests count the statements a request runs (test/statements.test.ts).
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', shared_preload_libraries: 'pg_stat_statements' },
    });
    adminUrl = embedded.adminUrl;
  }
  await recreateTemplate(adminUrl, log);
  project.provide('adminUrl', adminUrl);
  return async () => {
    await embedded?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  };
}

async function recreateTemplate(adminUrl: string, log: ReturnType<typeof createLogger>) {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(adminUrl, TEMPLATE_DATABASE);
  await migrate(url, log);
  const boss = await startQueue(url, log);
  await boss.stop({ graceful: false, close: true });
}

export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}
