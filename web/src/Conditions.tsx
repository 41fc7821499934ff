// The conditions builder: rules (`data.status IN Completed, Cancelled`) and
// groups of rules combined by ALL or ANY, nested as deep as needed.
import type { TopicField } from './catalog.ts';
import { typedValue } from './catalog.ts';
import { operators } from './meta.ts';

export type Node =
  | { kind: 'RULE'; key: number; path: string; operator: string; values: string }
  | { kind: 'GROUP'; key: number; match: 'ALL' | 'ANY'; children: Node[] };

let nextKey = 1;
export const newRule = (): Node => ({ kind: 'RULE', key: nextKey++, path: '', operator: 'EQUALS', values: '' });
export const newGroup = (): Node => ({ kind: 'GROUP', key: nextKey++, match: 'ANY', children: [newRule()] });

/** From the API's condition tree to the builder's. */
export function fromApi(conditions: any[]): Node[] {
  return conditions.map((c) =>
    c.kind === 'GROUP'
      ? { kind: 'GROUP', key: nextKey++, match: c.match, children: fromApi(c.children) }
      : { kind: 'RULE', key: nextKey++, path: c.path, operator: c.operator, values: (c.values as unknown[]).map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ') },
  );
}

/** From the builder's tree to `ConditionInput`s, values typed by the catalog. */
export function toApi(nodes: Node[], fields: TopicField[]): unknown[] {
  return nodes.map((node) => {
    if (node.kind === 'GROUP') return { group: { match: node.match, conditions: toApi(node.children, fields) } };
    const arity = operators().find((o) => o.value === node.operator)?.arity ?? 1;
    const field = fields.find((f) => node.path === `data.${f.path}` || node.path === `previous.${f.path}`);
    const texts = arity === 0 ? [] : arity === 'many' ? node.values.split(',').filter((v) => v.trim() !== '') : [node.values];
    return { rule: { path: node.path.trim(), operator: node.operator, values: texts.map((t) => typedValue(t, field)) } };
  });
}

const BUILT_IN_PATHS = ['entityId', 'action', 'clientId', 'actor.type', 'actor.id', 'changedFields'];

interface Props {
  nodes: Node[];
  onChange: (nodes: Node[]) => void;
  fields: TopicField[];
  /** Errors by path under `conditions` (`[0].group.conditions[1].rule.path`). */
  error?: string;
}

export function ConditionsBuilder({ nodes, onChange, fields, error }: Props) {
  return (
    <div className="conditions">
      <datalist id="condition-paths">
        {fields.flatMap((f) => [
          <option key={`d${f.path}`} value={`data.${f.path}`}>
            {f.label}
          </option>,
          <option key={`p${f.path}`} value={`previous.${f.path}`}>
            {`${f.label} (before)`}
          </option>,
        ])}
        {BUILT_IN_PATHS.map((p) => (
          <option key={p} value={p} />
        ))}
      </datalist>
      <NodeList nodes={nodes} onChange={onChange} fields={fields} depth={0} />
      {error && (
        <small className="error" role="alert">
          {error}
        </small>
      )}
    </div>
  );
}

function NodeList({ nodes, onChange, fields, depth }: { nodes: Node[]; onChange: (nodes: Node[]) => void; fields: TopicField[]; depth: number }) {
  const replace = (index: number, node: Node | null) => onChange(node ? nodes.map((n, i) => (i === index ? node : n)) : nodes.filter((_, i) => i !== index));
  return (
    <>
      <ul className="condition-list">
        {nodes.map((node, index) => (
          <li key={node.key}>{node.kind === 'RULE' ? <Rule node={node} onChange={(n) => replace(index, n)} fields={fields} /> : <Group node={node} onChange={(n) => replace(index, n)} fields={fields} depth={depth + 1} />}</li>
        ))}
      </ul>
      <div className="condition-add">
        <button type="button" onClick={() => onChange([...nodes, newRule()])}>
          + Rule
        </button>
        {depth < 4 && (
          <button type="button" onClick={() => onChange([...nodes, newGroup()])}>
            + Group
          </button>
        )}
      </div>
    </>
  );
}

function Group({ node, onChange, fields, depth }: { node: Extract<Node, { kind: 'GROUP' }>; onChange: (n: Node | null) => void; fields: TopicField[]; depth: number }) {
  return (
    <fieldset className="condition-group">
      <legend>
        <select aria-label="Group combines by" value={node.match} onChange={(e) => onChange({ ...node, match: e.target.value as 'ALL' | 'ANY' })}>
          <option value="ALL">All of</option>
          <option value="ANY">Any of</option>
        </select>
        <button type="button" className="link danger" onClick={() => onChange(null)} aria-label="Remove group">
          Remove group
        </button>
      </legend>
      <NodeList nodes={node.children} onChange={(children) => onChange({ ...node, children })} fields={fields} depth={depth} />
    </fieldset>
  );
}

function Rule({ node, onChange, fields }: { node: Extract<Node, { kind: 'RULE' }>; onChange: (n: Node | null) => void; fields: TopicField[] }) {
  const arity = operators().find((o) => o.value === node.operator)?.arity ?? 1;
  const field = fields.find((f) => node.path === `data.${f.path}` || node.path === `previous.${f.path}`);
  const listId = field?.values.length ? `values-${node.key}` : undefined;
  return (
    <div className="condition-rule">
      <input aria-label="Condition field" list="condition-paths" placeholder="data.status" value={node.path} onChange={(e) => onChange({ ...node, path: e.target.value })} />
      <select aria-label="Condition operator" value={node.operator} onChange={(e) => onChange({ ...node, operator: e.target.value })}>
        {operators().map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {arity !== 0 && (
        <input
          aria-label="Condition value"
          list={listId}
          placeholder={arity === 'many' ? 'Completed, Cancelled' : field?.type === 'DATE' ? '2026-01-31' : 'value'}
          value={node.values}
          onChange={(e) => onChange({ ...node, values: e.target.value })}
        />
      )}
      {listId && (
        <datalist id={listId}>
          {field!.values.map((v) => (
            <option key={v} value={v} />
          ))}
        </datalist>
      )}
      <button type="button" className="link danger" onClick={() => onChange(null)} aria-label="Remove rule">
        ✕
      </button>
    </div>
  );
}
