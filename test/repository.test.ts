import { readFileSync } from 'node:fs';
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
