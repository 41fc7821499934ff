import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { databaseUrl, TEMPLATE_DATABASE } from './global-setup.ts';

/** A fresh database for one test file: migrated (from the template) unless `empty`. */
export async function createTestDatabase({ empty = false } = {}): Promise<string> {
  const adminUrl = inject('adminUrl');
  const name = `herald_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}${empty ? '' : ` TEMPLATE ${TEMPLATE_DATABASE}`}`);
  } finally {
    await admin.end();
  }
  return databaseUrl(adminUrl, name);
}

/** Runs one statement on a database straight (not through Herald) and answers its rows. */
export async function runSql(url: string, text: string, values: unknown[] = []): Promise<any[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}
