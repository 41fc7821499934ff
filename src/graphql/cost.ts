import { getNamedType, getNullableType, isListType, isObjectType, isScalarType, type GraphQLField } from 'graphql';
import { HeraldError } from '../rules/errors.ts';

/** Page sizes of every connection (the Relay plugin's): `first` defaults to 20 and is held to 100. */
export const PAGE = { default: 20, max: 100 };
/** What a list with no `first` is counted as holding (headers, conditions, catalog fields: small and bounded on save). */
const SHORT_LIST = 10;
/** JSON values (data, payloads, requests) are large to read and send. */
const JSON_COST = 5;

/**
 * What selecting a field costs (complexity plugin): 1 (JSON 5); lists and connections multiply by what they may return (`first`, else
 * the default page; `publishEvents` its events); nested lists without `first` count their usual size, the rest is counted as they load.
 */
export function fieldCost(args: Record<string, unknown>, _ctx: unknown, field: GraphQLField<unknown, unknown>): { field: number; multiplier: number } {
  const type = getNullableType(field.type);
  const named = getNamedType(field.type);
  const cost = isScalarType(named) && named.name === 'JSON' ? JSON_COST : 1;
  const first = typeof args.first === 'number' ? Math.max(0, args.first) : undefined;
  if (isObjectType(named) && named.name.endsWith('Connection') && !isListType(type)) return { field: cost, multiplier: Math.min(first ?? PAGE.default, PAGE.max) };
  if (!isListType(type)) return { field: cost, multiplier: 1 };
  if (field.name === 'edges') return { field: cost, multiplier: 1 };
  if (Array.isArray(args.inputs)) return { field: cost, multiplier: args.inputs.length };
  return { field: cost, multiplier: first ?? SHORT_LIST };
}

/** The refusal of a query over the cost limit, saying what to change. */
export function tooCostly(cost: number, max: number): HeraldError {
  return new HeraldError(
    'BAD_USER_INPUT',
    `this query would cost ${Math.round(cost)}, over the limit of ${max} (HERALD_MAX_QUERY_COST): each list multiplies what is selected inside it by the items it may return (its first when given; else 20 per page of a connection, what an instance's attemptLog and events typically hold, 10 for other short lists); ask for fewer items or fewer nested lists`,
    { field: 'query', cost: Math.round(cost), maxCost: max },
  );
}
