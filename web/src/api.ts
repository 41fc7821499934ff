// The dashboard's only door to Herald's GraphQL API over HTTP: typed documents (graphql.ts) in,
// their typed data or an ApiError (with the input fields it names) out. Subscriptions: live.ts.
import { ApiError, toApiError, type WireError } from './errors.ts';
import { textOf, type TadaDocumentNode } from './graphql.ts';
import { refused, savedKey } from './session.ts';

/** What a document's variables need to be given as: nothing when it has none (or none required). */
type VariablesArg<V> = {} extends V ? [variables?: V, key?: string] : [variables: V, key?: string];

/** One GraphQL operation; `key` to run it with another key than the one signed in (copy to production). */
export async function gql<T, V>(document: TadaDocumentNode<T, V>, ...[variables, key]: VariablesArg<V>): Promise<T> {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${key ?? savedKey() ?? ''}` },
    body: JSON.stringify({ query: textOf(document), variables }),
  });
  let body: { data?: T; errors?: WireError[] };
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`Herald answered ${response.status} ${response.statusText}`, 'HTTP', []);
  }
  if (body.errors?.length) {
    const error = toApiError(body.errors);
    if (error.code === 'UNAUTHENTICATED' && !key) refused(error.message);
    throw error;
  }
  return body.data as T;
}

