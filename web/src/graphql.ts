// Typed GraphQL documents: `graphql(...)` checks each document against schema.graphql
// (through graphql-env.d.ts, written by `npm run schema:print`) and types its result and variables.
import { print, type DocumentNode } from '@0no-co/graphql.web';
import { initGraphQLTada } from 'gql.tada';
import type { introspection } from './graphql-env.d.ts';

export const graphql = initGraphQLTada<{
  introspection: introspection;
  disableMasking: true;
  scalars: { DateTime: string; JSON: unknown };
}>();

export type { FragmentOf, ResultOf, TadaDocumentNode, VariablesOf } from 'gql.tada';

const texts = new WeakMap<object, string>();
/** A document's text, printed once. */
export function textOf(document: DocumentNode): string {
  let text = texts.get(document);
  if (text === undefined) texts.set(document, (text = print(document)));
  return text;
}

