// When a build is out of date: its output is older than the newest of its sources.
import fs from 'node:fs';
import path from 'node:path';

/** The newest modification time (ms) of a file, or of any file below a directory. */
export function newest(file) {
  const stat = fs.statSync(file);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = 0;
  for (const entry of fs.readdirSync(file)) latest = Math.max(latest, newest(path.join(file, entry)));
  return latest;
}

/** Whether `output` is missing or older than any of `sources` (files or directories). */
export function isStale(output, sources) {
  return !fs.existsSync(output) || fs.statSync(output).mtimeMs < Math.max(...sources.map(newest));
}
