// What Herald says about how it reads input (the `meta` query), loaded once after signing in,
// so the dashboard never carries its own copy of the server's lists.
import { gql } from './api.ts';
import { graphql } from './graphql.ts';

export interface OperatorInfo {
  value: string;
  label: string;
  /** How many values it takes: none, one, or a list. */
  arity: 0 | 1 | 'many';
}

interface Meta {
  operators: OperatorInfo[];
  secretHeaders: string[];
}

const META = graphql(`{ meta { operators { operator label minValues maxValues } secretHeaders } }`);

let meta: Meta = { operators: [], secretHeaders: [] };

export async function loadMeta(): Promise<void> {
  const { meta: answer } = await gql(META);
  meta = {
    operators: answer.operators.map((o) => ({ value: o.operator, label: o.label, arity: o.maxValues === 0 ? 0 : o.maxValues === 1 ? 1 : 'many' })),
    secretHeaders: answer.secretHeaders,
  };
}

export const operators = (): OperatorInfo[] => meta.operators;

/** Whether Herald always keeps this header's value secret. */
export const alwaysSecret = (name: string): boolean => meta.secretHeaders.includes(name.trim().toLowerCase());
