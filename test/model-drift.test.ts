import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDatamodel } from '../src/generated/pothos-types.ts';
import { PrismaClient } from '../src/generated/prisma/client.ts';
import { PrismaPg } from '@prisma/adapter-pg';
import { createTestDatabase } from './support/database.ts';

/**
 * Migrations are hand-written SQL (the Prisma CLI's engine cannot run here), so this
 * checks them against prisma/schema.prisma: every model's table and every scalar
 * field's column, with the same nullability, list-ness and enum type, and no
 * column the model does not know.
 */
describe('the migrated database matches prisma/schema.prisma', () => {
  let client: pg.Client;
  let columns: Map<string, Map<string, { nullable: boolean; dataType: string; udt: string }>>;

  beforeAll(async () => {
    client = new pg.Client({ connectionString: await createTestDatabase() });
    await client.connect();
    const rows = await client.query<{ table_name: string; column_name: string; is_nullable: string; data_type: string; udt_name: string }>(
      `SELECT table_name, column_name, is_nullable, data_type, udt_name FROM information_schema.columns WHERE table_schema = 'public'`,
    );
    columns = new Map();
    for (const r of rows.rows) {
      if (!columns.has(r.table_name)) columns.set(r.table_name, new Map());
      columns.get(r.table_name)!.set(r.column_name, { nullable: r.is_nullable === 'YES', dataType: r.data_type, udt: r.udt_name });
    }
  });
  afterAll(() => client.end());

  const runtime = (
    new PrismaClient({ adapter: new PrismaPg({ connectionString: 'postgresql://unused@127.0.0.1:1/unused' }) }) as unknown as {
      _runtimeDataModel: { models: Record<string, { dbName: string | null; fields: Array<{ name: string; kind: string; dbName?: string }> }> };
    }
  )._runtimeDataModel.models;
  const models = getDatamodel().datamodel.models;

  it.each(Object.keys(models))('model %s', (name) => {
    const model = models[name]!;
    const table = runtime[name]!.dbName ?? name;
    const actual = columns.get(table);
    expect(actual, `table ${table}`).toBeDefined();
    const expected = new Set<string>();
    for (const field of model.fields) {
      if (field.kind === 'object') continue;
      const column = runtime[name]!.fields.find((f) => f.name === field.name)?.dbName ?? field.name;
      expected.add(column);
      const found = actual!.get(column);
      expect(found, `${table}.${column}`).toBeDefined();
      if (!field.isList) expect(found!.nullable, `${table}.${column} nullable`).toBe(!field.isRequired);
      expect(found!.dataType === 'ARRAY', `${table}.${column} is a list`).toBe(field.isList);
      if (field.kind === 'enum') expect(found!.udt.replace(/^_/, ''), `${table}.${column} enum`).toBe(field.type);
    }
    expect([...actual!.keys()].filter((c) => !expected.has(c)), `columns of ${table} unknown to the model`).toEqual([]);
  });
});
