import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromRoot } from '../src/paths.ts';

const read = (file: string) => readFileSync(fromRoot(file), 'utf8');

describe('the repository keeps its promises', () => {
  it('npm test type-checks the server, its tests, scripts and benchmarks, and the dashboard before the suite runs', () => {
    const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(scripts.test).toBe('npm run typecheck && vitest run');
    expect(scripts.typecheck!.split('&&').map((s) => s.trim())).toEqual(['tsc --noEmit', 'tsc --noEmit -p web']);
    expect(JSON.parse(read('tsconfig.json')).include).toEqual(expect.arrayContaining(['src', 'test', 'scripts', 'bench']));
    expect(JSON.parse(read('web/tsconfig.json')).include).toEqual(['src']);
    expect(read('.ci/run')).toMatch(/\nnpm ci\nnpm test\n/);
  });
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const anchorOf = (heading: string) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
const DOCS = ['README.md', ...readdirSync(fromRoot('docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

describe('the documentation', () => {
  it('README is a front door: what Herald is, the two commands, a first webhook, and where to read next', () => {
    const readme = read('README.md');
    expect(readme.split('\n').length).toBeLessThan(150);
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
    expect(readme).toContain('## A first webhook in five minutes');
    for (const doc of DOCS.filter((d) => d !== 'README.md')) expect(readme, doc).toContain(`](${doc})`);
  });

  it('every relative link resolves: the file is there, and the heading its anchor names', () => {
    const broken: string[] = [];
    for (const doc of DOCS) {
      const text = read(doc).replace(/```[\s\S]*?```/g, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        const [file, anchor] = target!.split('#') as [string, string | undefined];
        const path = file ? join(dirname(doc), file) : doc;
        if (!existsSync(fromRoot(path))) {
          broken.push(`${doc}: ${target} (no ${path})`);
          continue;
        }
        if (anchor && !path.endsWith('.md')) broken.push(`${doc}: ${target} (an anchor into a file that is not Markdown)`);
        else if (anchor && ![...read(path).matchAll(/^#+ (.+)$/gm)].some((h) => anchorOf(h[1]!) === anchor)) broken.push(`${doc}: ${target} (no heading #${anchor} in ${path})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('documents every setting src/config.ts reads, once, in docs/operating.md', () => {
    const settings = [...read('src/config.ts').matchAll(/read\.\w+\('([A-Z_]+)'/g)].map((m) => m[1]!);
    expect(settings.length).toBeGreaterThan(30);
    // The rows of every table of settings (its first column headed "variable").
    const tables = (doc: string) => [...read(doc).matchAll(/^\| variable \|.*\n(?:\|.*\n?)+/gm)].map((m) => m[0]);
    const rows = DOCS.flatMap((doc) => tables(doc).flatMap((table) => [...table.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => ({ doc, name: m[1]! }))));
    for (const name of settings) expect(rows.filter((r) => r.name === name).map((r) => r.doc), name).toEqual(['docs/operating.md']);
    expect(rows.map((r) => r.name).filter((name) => !settings.includes(name)), 'rows for settings Herald does not read').toEqual([]);
  });
});
