import { describe, expect, it } from 'vitest';
import { cruise, type ICruiseResult, type IViolation } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import { fromRoot } from '../src/paths.ts';

/** Runs the repository's dependency rules (.dependency-cruiser.cjs) over `paths`, from `baseDir`. */
async function violations(paths: string[], baseDir = fromRoot('.')): Promise<IViolation[]> {
  const options = await extractDepcruiseOptions(fromRoot('.dependency-cruiser.cjs'));
  const result = await cruise(paths, { ...options, baseDir, validate: true });
  return (result.output as ICruiseResult).summary.violations;
}

const described = (list: IViolation[]) => list.map((v) => `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (${v.cycle.map((c) => c.name).join(' → ')})` : ''}`);

describe('the layout', () => {
  it('holds: no cycles, and every layer imports only those below it', async () => {
    expect(described(await violations(['src', 'web/src']))).toEqual([]);
  });

  it('is checked: a cycle, an upward import, a rule doing I/O, a resolver past the store and past the destination seam are each refused', async () => {
    const found = await violations(['src'], fromRoot('test/fixtures/layout'));
    const rules = new Set(found.map((v) => v.rule.name));
    expect([...rules].sort()).toEqual(expect.arrayContaining(['no-cycles', 'one-door-to-the-database', 'one-seam-for-destinations', 'rules-import-no-io', 'rules-import-only-rules', 'rules-points-down', 'store-points-down']));
    expect(described(found)).toContain('rules-import-no-io: src/rules/pure.ts → fs');
    expect(described(found)).toContain('one-door-to-the-database: src/graphql/resolver.ts → src/db/client.ts');
    expect(described(found)).toContain('one-seam-for-destinations: src/graphql/resolver.ts → src/destinations/http/wire.ts');
  });
});
