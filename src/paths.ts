import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project's directory (where package.json is), found from this module's own
 * place, so the same code works from `src/` (tests, tsx) and from the one-file
 * build `npm start` runs (`dist/server.mjs`).
 */
export const ROOT = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
})();

/** A path inside the project. */
export const fromRoot = (...parts: string[]) => path.join(ROOT, ...parts);
