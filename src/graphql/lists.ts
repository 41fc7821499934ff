import DataLoader from 'dataloader';
import type { GraphQLResolveInfo } from 'graphql';
import { HeraldError } from '../rules/errors.ts';
import type { Context } from './context.ts';

/** A list inside a record: `first` items (`default` when not given), at most `max`; `typical`: what it usually holds. */
export interface NestedList {
  name: string;
  typical: number;
  default: number;
  max: number;
}

export const taken = (first: number | null | undefined, list: NestedList) => Math.min(Math.max(first ?? list.default, 0), list.max);

/** What a list costs in the estimate: what it typically holds, unless `first` asks for more or less. */
export const estimated = (first: number | null | undefined, list: NestedList) => ({ field: 1, multiplier: first == null ? list.typical : taken(first, list) });

/**
 * Rows of nested lists beyond what the estimate counted (cost.ts), counted as they load against HERALD_MAX_QUERY_COST per operation:
 * each level loads in one query and never more rows than the allowance has left.
 */
class RowAllowance {
  private readonly loaders = new Map<string, DataLoader<string, unknown[]>>();
  private left: number;

  constructor(private readonly limit: number) {
    this.left = limit;
  }

  loader<R>(list: NestedList, take: number, load: (ids: string[], upTo: number) => Promise<Map<string, R[]>>): DataLoader<string, R[]> {
    const key = `${list.name}:${take}`;
    let loader = this.loaders.get(key);
    if (!loader) {
      loader = new DataLoader<string, unknown[]>(async (keys) => {
        const ids = [...keys];
        const extra = Math.max(0, Math.min(take - list.typical, Math.floor(this.left / ids.length)));
        const upTo = Math.min(take, list.typical + extra);
        this.left -= ids.length * extra;
        // One row more than allowed, where fewer than asked are allowed, tells a list that holds more.
        const rows = await load(ids, upTo < take ? upTo + 1 : upTo);
        return ids.map((id) => {
          const items = rows.get(id) ?? [];
          if (items.length > upTo) return tooManyRows(this.limit, list.name);
          this.left += extra - Math.max(0, items.length - list.typical);
          return items;
        });
      });
      this.loaders.set(key, loader);
    }
    return loader as DataLoader<string, R[]>;
  }
}

const allowances = new WeakMap<object, RowAllowance>();

/** Loads `list` of one record (`id`) with the other records of its level, within the operation's allowance. */
export function loadList<R>(ctx: Context, info: GraphQLResolveInfo, list: NestedList, take: number, id: string, load: (ids: string[], upTo: number) => Promise<Map<string, R[]>>): Promise<R[]> {
  // A subscription runs its selection once per event, each with the event as its root.
  const owner = info.operation.operation === 'subscription' && typeof info.rootValue === 'object' && info.rootValue ? info.rootValue : ctx;
  let allowance = allowances.get(owner);
  if (!allowance) allowances.set(owner, (allowance = new RowAllowance(ctx.config.maxQueryCost)));
  return allowance.loader(list, take, load).load(id);
}

function tooManyRows(limit: number, list: string): HeraldError {
  return new HeraldError(
    'BAD_USER_INPUT',
    `this query's lists hold more than its estimate counted, by over ${limit} rows (HERALD_MAX_QUERY_COST), in ${list}: ask for fewer items (first) or fewer nested lists`,
    { field: 'query', maxCost: limit },
  );
}
