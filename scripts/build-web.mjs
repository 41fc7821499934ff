// Builds the dashboard (web/) into web/dist, which the server serves at `/`.
// `npm install` runs it; `npm start` runs it with --if-stale, which skips the
// build when web/dist is newer than every source file.
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { isStale } from './stale.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'web');
const outDir = path.join(root, 'dist');

export async function buildDashboard({ ifStale = false } = {}) {
  if (ifStale && !isStale(path.join(outDir, 'index.html'), [path.join(root, 'src'), path.join(root, 'index.html')])) return false;
  // Always React's production build, also when run from the tests (NODE_ENV=test).
  process.env.NODE_ENV = 'production';
  const { build } = await import('vite');
  await build({
    root,
    configFile: false,
    mode: 'production',
    logLevel: 'warn',
    base: '/',
    oxc: { jsx: { runtime: 'automatic' } },
    build: { outDir, emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1000 },
  });
  // Compressed copies, which the server sends to browsers that accept gzip.
  const assets = path.join(outDir, 'assets');
  for (const name of fs.readdirSync(assets).filter((n) => /\.(js|css)$/.test(n))) {
    fs.writeFileSync(path.join(assets, `${name}.gz`), gzipSync(fs.readFileSync(path.join(assets, name)), { level: 9 }));
  }
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildDashboard({ ifStale: process.argv.includes('--if-stale') });
}
