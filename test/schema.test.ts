import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printedSchema, schema } from '../src/graphql/schema/index.ts';

describe('schema.graphql', () => {
  it('is the schema the code builds (run `npm run schema:print` after changing the API)', () => {
    const file = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');
    expect(file).toBe(printedSchema());
  });

  it('guards every query, mutation and subscription with a permission', () => {
    const unguarded = [schema.getQueryType()!, schema.getMutationType()!, schema.getSubscriptionType()!]
      .flatMap((type) => Object.values(type.getFields()).map((field) => ({ type: type.name, field })))
      .filter(({ field }) => {
        const options = (field.extensions as { pothosOptions?: { authScopes?: unknown } }).pothosOptions;
        return !options?.authScopes;
      })
      .map(({ type, field }) => `${type}.${field.name}`);
    expect(unguarded).toEqual([]);
  });
});
