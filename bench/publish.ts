// `npm run bench:publish`: one event per call, on one server as `npm start` runs it (embedded PostgreSQL, one topic,
// one webhook, a receiver on loopback that answers at once); the same section `npm run bench` reports.
//   --seconds <n>  each closed loop's length (default 6)
//   --profile      write the server's CPU profile (node --cpu-prof) to bench/results/profiles
//   --waits        sample what PostgreSQL's sessions wait for during the publish loop (pg_stat_activity, every 10 ms)
//   --pg <name=value>  a PostgreSQL setting for the run (repeatable), e.g. --pg synchronous_commit=off
//   --statements   list the statements PostgreSQL ran per published event in the closed loop (pg_stat_statements)
//   --env <NAME=value>  a setting of the server (repeatable), e.g. --env HERALD_DB_POOL_SIZE=40
//   --before <commit>   measure that commit's server too, after this one, in the same run (bench/lib/before.ts)
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildCommit } from './lib/before.ts';
import { buildForStart, createTopic, createWebhook, Herald, openDatabase, Postgres } from './lib/cluster.ts';
import { Receivers } from './lib/receiver.ts';
import { oneEventPerCall, oneEventPerCallReport } from './lib/singleCalls.ts';
import { table } from './lib/stats.ts';

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '6' }, profile: { type: 'boolean', default: false }, statements: { type: 'boolean', default: false }, waits: { type: 'boolean', default: false }, pg: { type: 'string', multiple: true, default: [] }, env: { type: 'string', multiple: true, default: [] }, before: { type: 'string' } } });
const seconds = Number(args.seconds);
buildForStart();
const pairs = (list: string[]) => Object.fromEntries(list.map((s) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)]));
const pgSettings = pairs(args.pg!);
const env = pairs(args.env!);
const postgres = await Postgres.start({ ...pgSettings, ...(args.statements ? { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all' } : {}) });
const receivers = await Receivers.start();
const profiles = path.resolve('bench/results/profiles');
const databaseUrl = await postgres.database('herald');
const herald = new Herald({ DATABASE_URL: databaseUrl, ...env }, args.profile ? ['--cpu-prof', `--cpu-prof-dir=${profiles}`] : []);
try {
  await herald.start();
  await createTopic(herald, 'one');
  await createWebhook(herald, { label: 'one', events: ['one.created'], url: receivers.route('one') });
  const db = await openDatabase(databaseUrl);
  if (args.statements) {
    await db.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  }
  const waits = new Map<string, number>();
  let sampling = false;
  let sampler: Promise<void> = Promise.resolve();
  const r = await oneEventPerCall(herald, receivers, 'one', 'one', seconds, {
    publishing: () => {
      if (args.statements) void db.query('SELECT pg_stat_statements_reset()');
      sampling = args.waits!;
      sampler = (async () => {
        while (sampling) {
          const { rows } = await db.query(`SELECT coalesce(wait_event_type || ':' || wait_event, 'on CPU') AS wait, left(regexp_replace(query, '\\s+', ' ', 'g'), 70) AS query
            FROM pg_stat_activity WHERE datname = 'herald' AND state = 'active' AND pid <> pg_backend_pid()`);
          for (const row of rows) waits.set(`${row.wait}  ${row.query}`, (waits.get(`${row.wait}  ${row.query}`) ?? 0) + 1);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })();
    },
    published: () => void (sampling = false),
  });
  await sampler;
  if (args.waits) console.log(table(['samples', 'waiting for, in (the publish loop)'], [...waits].sort((x, y) => y[1] - x[1]).slice(0, 25).map(([what, n]) => [n, what])));
  // Every publish call since the reset: the closed loop's and the fixed rates'.
  const publishCalls = r.publish.calls + r.atRates.reduce((n, a) => n + a.call.count, 0);
  if (args.statements) {
    const { rows } = await db.query(`SELECT calls, round(total_exec_time::numeric, 3) AS ms, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query FROM pg_stat_statements
      WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'herald') ORDER BY calls DESC LIMIT 40`);
    console.log(table(['per call', 'ms each', 'statement (from the publish loop on)'], rows.map((row) => [(Number(row.calls) / publishCalls).toFixed(2), (Number(row.ms) / Number(row.calls)).toFixed(3), row.query])));
  }
  await db.end();
  console.log(oneEventPerCallReport(r).join('\n'));
  await herald.stop();
  if (args.before) {
    const earlier = new Herald({ DATABASE_URL: await postgres.database('herald_before'), ...env }, [], buildCommit(args.before));
    try {
      await earlier.start();
      await createTopic(earlier, 'one');
      await createWebhook(earlier, { label: 'one', events: ['one.created'], url: receivers.route('one') });
      console.log(`\n${oneEventPerCallReport(await oneEventPerCall(earlier, receivers, 'one', 'one', seconds), ` at ${args.before}`).join('\n')}`);
    } finally {
      await earlier.stop();
    }
  }
} finally {
  await herald.stop();
  await receivers.down();
  await postgres.stop();
}
