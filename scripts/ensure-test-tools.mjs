// What the tests drive besides Node: Debian's Chromium (browser tests), Debian's
// PostgreSQL 15 (plans checked on a PostgreSQL other than the embedded one) and the
// Prometheus project's Python client, whose text-format parser reads /metrics. `npm test`
// runs this first: whatever is missing it installs with apt-get (as root); otherwise it
// says what to install. CHROMIUM_PATH, PG15_BIN and PROMETHEUS_PARSER point at other copies.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const tools = [
  { what: 'Chromium', file: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', given: process.env.CHROMIUM_PATH, setting: 'CHROMIUM_PATH', pkg: 'chromium' },
  { what: 'PostgreSQL 15', file: path.join(process.env.PG15_BIN ?? '/usr/lib/postgresql/15/bin', 'pg_ctl'), given: process.env.PG15_BIN, setting: 'PG15_BIN', pkg: 'postgresql-15' },
  { what: "Prometheus's text-format parser (Python)", file: process.env.PROMETHEUS_PARSER ?? '/usr/lib/python3/dist-packages/prometheus_client/parser.py', given: process.env.PROMETHEUS_PARSER, setting: 'PROMETHEUS_PARSER', pkg: 'python3-prometheus-client' },
];
const missing = tools.filter((t) => !existsSync(t.file));
if (missing.length === 0) process.exit(0);
for (const t of missing.filter((t) => t.given)) {
  console.error(`${t.setting}=${t.given} does not hold ${t.file}.`);
  process.exit(1);
}
const root = process.getuid?.() === 0;
const apt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
if (!root || !apt) {
  for (const t of missing) console.error(`The tests need ${t.what} at ${t.file}: install it (Debian: apt-get install ${t.pkg}) or set ${t.setting}.`);
  process.exit(1);
}
const packages = missing.map((t) => t.pkg);
console.log(`Installing Debian's ${packages.join(', ')} for the tests (apt-get)…`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [['update', '-qq'], ['install', '-y', '-qq', ...packages]]) {
  const run = spawnSync('apt-get', args, { stdio: 'inherit', env });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
for (const t of missing) {
  if (!existsSync(t.file)) {
    console.error(`apt-get installed ${t.pkg}, but ${t.file} is still missing.`);
    process.exit(1);
  }
}
