import pg from 'pg';
import { migrate } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/logger.ts';
import { createTestDatabase } from './database.ts';
import { startPostgres15 } from './postgres15.ts';

/** The PostgreSQL versions plans are checked on: the embedded 18, and Debian's 15 (which has no skip scan). */
export const VERSIONS = ['PostgreSQL 18 (embedded)', 'PostgreSQL 15 (Debian)'] as const;

/** A migrated database on one of VERSIONS, and how to stop what was started for it. */
export async function databaseOn(version: (typeof VERSIONS)[number]): Promise<{ url: string; stop(): Promise<void> }> {
  if (!version.includes('15')) return { url: await createTestDatabase(), stop: async () => undefined };
  const pg15 = await startPostgres15();
  const admin = new pg.Client(pg15.url);
  await admin.connect();
  await admin.query('CREATE DATABASE herald');
  await admin.end();
  const url = pg15.url.replace(/\/postgres$/, '/herald');
  await migrate(url, createLogger('silent'));
  return { url, stop: () => pg15.stop() };
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  'Shared Hit Blocks': number;
  'Shared Read Blocks': number;
  Plans?: PlanNode[];
}

/** What a statement does when run (EXPLAIN ANALYZE): the indexes it reads, the tables it scans whole, the pages it touches. */
export async function planOf(db: pg.Client, text: string, values: unknown[]) {
  const plan = (await db.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${text}`, values)).rows[0]['QUERY PLAN'][0].Plan as PlanNode;
  const nodes: PlanNode[] = [];
  const walk = (n: PlanNode) => {
    nodes.push(n);
    n.Plans?.forEach(walk);
  };
  walk(plan);
  return { indexes: nodes.map((n) => n['Index Name']).filter(Boolean), seqScans: nodes.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name']), buffers: plan['Shared Hit Blocks'] + plan['Shared Read Blocks'] };
}
