// The browser tests drive Debian's Chromium. `npm test` runs this first: when
// Chromium is missing and apt-get can install it (as root), it does; otherwise it
// says what to install. CHROMIUM_PATH points at another Chromium.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (existsSync(path)) process.exit(0);
if (process.env.CHROMIUM_PATH) {
  console.error(`CHROMIUM_PATH=${path} does not exist.`);
  process.exit(1);
}
const root = process.getuid?.() === 0;
const apt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
if (!root || !apt) {
  console.error('The browser tests need Chromium at /usr/bin/chromium: install it (Debian: apt-get install chromium) or set CHROMIUM_PATH.');
  process.exit(1);
}
console.log('Installing Debian\'s chromium for the browser tests (apt-get)…');
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [['update', '-qq'], ['install', '-y', '-qq', 'chromium']]) {
  const run = spawnSync('apt-get', args, { stdio: 'inherit', env });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
if (!existsSync(path)) {
  console.error(`apt-get installed chromium, but ${path} is still missing.`);
  process.exit(1);
}
