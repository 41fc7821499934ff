import { afterAll } from 'vitest';
import { buildApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { createTestDatabase } from './database.ts';

export const ADMIN_KEY = 'hk_test_bootstrap_admin_key_0000000000';
export const OPERATOR_KEY = 'operator_test_key_0000000000000000';

export interface GraphQLResult<T = any> {
  data?: T;
  errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, any> }>;
}

export interface TestApp {
  app: App;
  databaseUrl: string;
  /** Runs an operation through `yoga.fetch`, with `key` as the Bearer token (none when null). */
  gql<T = any>(query: string, variables?: Record<string, unknown>, key?: string | null): Promise<GraphQLResult<T>>;
  /** Runs an operation and fails on any error. */
  ok<T = any>(query: string, variables?: Record<string, unknown>, key?: string | null): Promise<T>;
}

/** Builds Herald on a fresh database for this test file; stopped after the file. */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const databaseUrl = await createTestDatabase();
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    HERALD_BOOTSTRAP_KEY: ADMIN_KEY,
    HERALD_OPERATOR_KEY: OPERATOR_KEY,
    HERALD_DB_POOL_SIZE: '5',
    ...env,
  });
  const app = await buildApp(config, createLogger(process.env.TEST_LOG_LEVEL === 'debug' ? 'debug' : 'silent'));
  afterAll(() => app.stop());
  const gql = async (query: string, variables?: Record<string, unknown>, key: string | null = ADMIN_KEY) => {
    const response = await app.yoga.fetch('http://herald.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as GraphQLResult;
  };
  const ok = async (query: string, variables?: Record<string, unknown>, key?: string | null) => {
    const result = await gql(query, variables, key);
    if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors, null, 2)}`);
    return result.data;
  };
  return { app, databaseUrl, gql, ok };
}

/** The single error of a result, checked to carry `code`. */
export function errorOf(result: GraphQLResult, code: string) {
  if (!result.errors || result.errors.length === 0) {
    throw new Error(`expected a ${code} error, got data ${JSON.stringify(result.data)}`);
  }
  const error = result.errors[0]!;
  if (error.extensions?.code !== code) {
    throw new Error(`expected ${code}, got ${JSON.stringify(result.errors)}`);
  }
  return error;
}
