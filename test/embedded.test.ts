import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { letOthersPassThrough } from '../src/db/embedded.ts';
import { createLogger } from '../src/logger.ts';

describe('embedded PostgreSQL as root', () => {
  it('lets the postgres user pass through a private checkout (mktemp -d is 700) without letting it list anything', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'herald-private-'));
    const bin = path.join(root, 'node_modules', 'pkg', 'native', 'bin');
    await fs.mkdir(bin, { recursive: true });
    await fs.chmod(root, 0o700);
    await fs.chmod(path.join(root, 'node_modules'), 0o750);
    await letOthersPassThrough([bin], createLogger('silent'));
    expect((await fs.stat(root)).mode & 0o777).toBe(0o701);
    expect((await fs.stat(path.join(root, 'node_modules'))).mode & 0o777).toBe(0o751);
    expect((await fs.stat(path.join(root, 'node_modules', 'pkg'))).mode & 0o777).toBe(0o755); // already passable: untouched
    await fs.rm(root, { recursive: true, force: true });
  });
});
