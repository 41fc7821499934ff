// Builds the dashboard (web/) into web/dist, which the server serves at `/`.
// `npm install` runs it; `npm start` runs it with --if-stale, which skips the
// build when web/dist is newer than every source file.
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'web');
const outDir = path.join(root, 'dist');

function newest(dir) {
  let latest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : fs.statSync(full).mtimeMs);
  }
  return latest;
}

export async function buildDashboard({ ifStale = false } = {}) {
  const built = path.join(outDir, 'index.html');
  if (ifStale && fs.existsSync(built)) {
    const sources = Math.max(newest(path.join(root, 'src')), fs.statSync(path.join(root, 'index.html')).mtimeMs);
    if (fs.statSync(built).mtimeMs >= sources) return false;
  }
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
