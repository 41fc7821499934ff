import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printedSchema, schema } from '../src/graphql/schema/index.ts';
import { DASHBOARD_TYPES, dashboardTypes } from '../scripts/dashboard-types.ts';

describe('schema.graphql', () => {
  it('is the schema the code builds (run `npm run schema:print` after changing the API)', () => {
    const file = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');
    expect(file).toBe(printedSchema());
  });

  it('types the dashboard: web/src/graphql-env.d.ts is its introspection (run `npm run schema:print`)', () => {
    const sdl = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');
    expect(readFileSync(DASHBOARD_TYPES, 'utf8')).toBe(dashboardTypes(sdl));
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
