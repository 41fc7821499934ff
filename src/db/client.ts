import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient, type Prisma } from '../generated/prisma/client.ts';

export type { PrismaClient };
export type Tx = Prisma.TransactionClient;

/** One SQL statement and its parameters ($1, $2, … in the text). */
export interface Statement {
  text: string;
  values: unknown[];
}

let current: PrismaClient | undefined;
let prismaPool: pg.Pool | undefined;
let plain: pg.Pool | undefined;

/**
 * Opens the process's database clients; Herald talks to one database per process.
 * Prisma serves everything; a few plain connections serve the hot paths of publishing
 * and delivering, which send whole transactions in one round trip (`inOneTrip`).
 */
export function connectDatabase(url: string, poolSize: number): PrismaClient {
  if (current) throw new Error('the database is already connected');
  prismaPool = new pg.Pool({ connectionString: url, max: poolSize });
  prismaPool.on('error', () => undefined); // as below
  current = new PrismaClient({ adapter: new PrismaPg(prismaPool) });
  plain = new pg.Pool({
    connectionString: url,
    max: Math.max(2, Math.ceil(poolSize / 4)),
    application_name: 'herald-fast',
    // These connections write values into the SQL text (inOneTrip): PostgreSQL must not log them with a
    // statement it refuses, nor in an error's detail. Setting this needs the right (superuser, or on
    // PostgreSQL 15+ GRANT SET ON PARAMETER); without it the connection works as before (loudLogSettings).
    onConnect: async (client: pg.ClientBase) => {
      for (const setting of QUIET_LOGS) await client.query(`SET ${setting.name} = '${setting.value}'`).catch(() => undefined);
    },
  });
  plain.on('error', () => undefined); // an idle connection that drops is replaced on next use
  return current;
}

const QUIET_LOGS = [
  { name: 'log_min_error_statement', value: 'panic' },
  { name: 'log_error_verbosity', value: 'terse' },
];

/** The logging settings the fast connections could not take (empty when PostgreSQL keeps their values out of its log). */
export async function loudLogSettings(): Promise<string[]> {
  const rows = await query<{ name: string; setting: string }>({ text: 'SELECT name, setting FROM pg_settings WHERE name = ANY($1)', values: [QUIET_LOGS.map((s) => s.name)] });
  return QUIET_LOGS.filter((s) => rows.find((r) => r.name === s.name)?.setting !== s.value).map((s) => s.name);
}

export function db(): PrismaClient {
  if (!current) throw new Error('the database is not connected yet');
  return current;
}

/** Runs one statement on a plain connection (no client-side work beyond the driver's). */
export async function query<R>(statement: Statement): Promise<R[]> {
  if (!plain) throw new Error('the database is not connected yet');
  return (await plain.query(statement.text, statement.values)).rows as R[];
}

/**
 * Runs statements as one transaction in one round trip (`BEGIN; …; COMMIT`, parameters written in as escaped literals): the hottest
 * transactions go this way, since a round trip costs more than their statements. Answers each one's rows.
 * `durable: false` commits without waiting for the disk; `after` runs once it committed, as a transaction of its own that does not
 * wait for the disk, in the same round trip (announcements: NOTIFY holds a lock every notifying commit shares until it ends).
 */
export async function inOneTrip(statements: Statement[], { durable = true, after = [] }: { durable?: boolean; after?: Statement[] } = {}): Promise<unknown[][]> {
  if (!plain) throw new Error('the database is not connected yet');
  const client = await plain.connect();
  let broken: Error | undefined;
  try {
    const quick = 'SET LOCAL synchronous_commit TO off';
    const first = ['BEGIN', ...(durable ? [] : [quick])];
    const text = [...first, ...statements.map(inline), 'COMMIT', ...(after.length ? ['BEGIN', quick, ...after.map(inline), 'COMMIT'] : [])].join(';\n');
    const results = (await client.query(text)) as unknown as pg.QueryResult[];
    return results.slice(first.length, first.length + statements.length).map((r) => r.rows);
  } catch (error) {
    await client.query('ROLLBACK').catch((e: Error) => (broken = e));
    throw error;
  } finally {
    client.release(broken);
  }
}

/** A statement with its parameters written in as literals. */
export function inline({ text, values }: Statement): string {
  return text.replace(/\$(\d+)/g, (_, n: string) => {
    const value = prepareValue(values[Number(n) - 1]);
    return value === null ? 'NULL' : literal(value);
  });
}

const QUOTE = '$herald$';

/**
 * A string literal: dollar-quoted (taken exactly as written, no escaping to do, which
 * matters for the large JSON documents of a publish), unless the value contains the
 * quote, then escaped by the driver's rules.
 */
function literal(value: string): string {
  return (value + QUOTE).indexOf(QUOTE) === value.length ? QUOTE + value + QUOTE : pg.escapeLiteral(value);
}

/** The driver's own conversion of a parameter to its text form (arrays, dates, JSON). */
const prepareValue = (pg as unknown as { utils: { prepareValue(value: unknown): string | null } }).utils.prepareValue;

/** Each pool's connections (total, idle) and the queries waiting for one (the metrics read them at scrape time). */
export function poolFigures(): Array<{ pool: string; total: number; idle: number; waiting: number }> {
  const figures = (pool: string, p: pg.Pool | undefined) => (p ? [{ pool, total: p.totalCount, idle: p.idleCount, waiting: p.waitingCount }] : []);
  return [...figures('prisma', prismaPool), ...figures('fast', plain)];
}

export async function disconnectDatabase(): Promise<void> {
  const client = current;
  const pools = [prismaPool, plain];
  current = undefined;
  prismaPool = undefined;
  plain = undefined;
  await client?.$disconnect();
  for (const pool of pools) await pool?.end();
}
