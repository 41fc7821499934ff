// The conditions builder: rules (`data.status IN Completed, Cancelled`) and
// groups of rules combined by ALL or ANY, nested as deep as needed.
import type { TopicField } from './catalog.ts';
import { operators } from './meta.ts';

export type Node =
  | { kind: 'RULE'; key: number; path: string; operator: string; values: string }
  | { kind: 'GROUP'; key: number; match: 'ALL' | 'ANY'; children: Node[] };

let nextKey = 1;
/** A key for a new node of the builder's tree. */
export const newKey = () => nextKey++;
export const newRule = (): Node => ({ kind: 'RULE', key: nextKey++, path: '', operator: 'EQUALS', values: '' });
export const newGroup = (): Node => ({ kind: 'GROUP', key: nextKey++, match: 'ANY', children: [newRule()] });

/** The same tree with keys of this page (a tree kept from an earlier page). */
export function rekey(nodes: Node[]): Node[] {
  return nodes.map((n) => (n.kind === 'GROUP' ? { ...n, key: nextKey++, children: rekey(n.children) } : { ...n, key: nextKey++ }));
}

const BUILT_IN_PATHS = ['entityId', 'action', 'clientId', 'actor.type', 'actor.id', 'changedFields'];

interface Props {
  nodes: Node[];
  onChange: (nodes: Node[]) => void;
  fields: TopicField[];
  /** The form's errors by field (`conditions[0].group.conditions[1].rule.path` marks that rule). */
  errors: Record<string, string>;
}

/** The errors of one rule (path, operator, values) from the form's errors, by the rule's place. */
function errorsAt(errors: Record<string, string>, at: string): { message?: string; path?: boolean; operator?: boolean; values?: boolean } {
  const own = Object.entries(errors).filter(([name]) => name === at || name.startsWith(`${at}.rule`));
  if (own.length === 0) return {};
  return {
    message: own.map(([, m]) => m).join('; '),
    path: own.some(([n]) => n.endsWith('.path')),
    operator: own.some(([n]) => n.endsWith('.operator')),
    values: own.some(([n]) => /\.values(\[\d+\])?$/.test(n)),
  };
}

export function ConditionsBuilder({ nodes, onChange, fields, errors }: Props) {
  // What no rule claims (the list as a whole: too many, too deep).
  const general = Object.entries(errors)
    .filter(([name]) => name === 'conditions' || (name.startsWith('conditions') && !/\]\.(rule|group)/.test(name)))
    .map(([, m]) => m)
    .join('; ');
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
      <NodeList nodes={nodes} onChange={onChange} fields={fields} depth={0} at="conditions" errors={errors} />
      {general && (
        <small className="error" role="alert">
          {general}
        </small>
      )}
    </div>
  );
}

function NodeList({ nodes, onChange, fields, depth, at, errors }: { nodes: Node[]; onChange: (nodes: Node[]) => void; fields: TopicField[]; depth: number; at: string; errors: Record<string, string> }) {
  const replace = (index: number, node: Node | null) => onChange(node ? nodes.map((n, i) => (i === index ? node : n)) : nodes.filter((_, i) => i !== index));
  return (
    <>
      <ul className="condition-list">
        {nodes.map((node, index) => (
          <li key={node.key}>
            {node.kind === 'RULE' ? (
              <Rule node={node} onChange={(n) => replace(index, n)} fields={fields} errors={errorsAt(errors, `${at}[${index}]`)} />
            ) : (
              <Group node={node} onChange={(n) => replace(index, n)} fields={fields} depth={depth + 1} at={`${at}[${index}].group.conditions`} errors={errors} />
            )}
          </li>
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

function Group({ node, onChange, fields, depth, at, errors }: { node: Extract<Node, { kind: 'GROUP' }>; onChange: (n: Node | null) => void; fields: TopicField[]; depth: number; at: string; errors: Record<string, string> }) {
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
      <NodeList nodes={node.children} onChange={(children) => onChange({ ...node, children })} fields={fields} depth={depth} at={at} errors={errors} />
    </fieldset>
  );
}

function Rule({ node, onChange, fields, errors }: { node: Extract<Node, { kind: 'RULE' }>; onChange: (n: Node | null) => void; fields: TopicField[]; errors: ReturnType<typeof errorsAt> }) {
  const arity = operators().find((o) => o.value === node.operator)?.arity ?? 1;
  const field = fields.find((f) => node.path === `data.${f.path}` || node.path === `previous.${f.path}`);
  const listId = field?.values.length ? `values-${node.key}` : undefined;
  const errorId = errors.message ? `rule-${node.key}-error` : undefined;
  // A rule named by an error is marked, and each of its parts the error is about; with none named, its field is.
  const marked = (part: 'path' | 'operator' | 'values') => (errors.message && (errors[part] || (!errors.path && !errors.operator && !errors.values && part === 'path')) ? true : undefined);
  return (
    <div className={`condition-rule${errors.message ? ' invalid' : ''}`}>
      <input aria-label="Condition field" list="condition-paths" placeholder="data.status" value={node.path} onChange={(e) => onChange({ ...node, path: e.target.value })} aria-invalid={marked('path')} aria-describedby={errorId} />
      <select aria-label="Condition operator" value={node.operator} onChange={(e) => onChange({ ...node, operator: e.target.value })} aria-invalid={marked('operator')} aria-describedby={errorId}>
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
          aria-invalid={marked('values')}
          aria-describedby={errorId}
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
      {errors.message && (
        <small className="error" id={errorId} role="alert">
          {errors.message}
        </small>
      )}
    </div>
  );
}
