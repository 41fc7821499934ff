// The dashboard's GraphQL types: schema.graphql as gql.tada's introspection
// (web/src/graphql-env.d.ts), from which every document in web/src is typed.
import { buildSchema, introspectionFromSchema } from 'graphql';
import { minifyIntrospection, outputIntrospectionFile } from '@gql.tada/internal';

export const DASHBOARD_TYPES = new URL('../web/src/graphql-env.d.ts', import.meta.url);

export function dashboardTypes(sdl: string): string {
  return outputIntrospectionFile(minifyIntrospection(introspectionFromSchema(buildSchema(sdl))), { fileType: '.d.ts', shouldPreprocess: true });
}
