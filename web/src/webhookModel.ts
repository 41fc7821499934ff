// The webhook form's model: the form as a person fills it in, from a saved webhook and to the API's
// input (conditions included), and the documents that read and write a webhook.
import { graphql, type ResultOf, type VariablesOf } from './graphql.ts';
import { topicKeysOf, typedValue, type Topic, type TopicField } from './catalog.ts';
import { newKey, type Node } from './Conditions.tsx';
import { operators } from './meta.ts';
import { formatDuration, parseDuration } from './durations.ts';

export const WEBHOOK = graphql(`query($id: ID!) { webhook(id: $id) {
  id label description events active url method payloadMode selectedFields template templateFormat
  timeoutMs maxAttempts retryScheduleMs backoffBaseMs backoffCapMs finalStatusCodes batchWindowMs batchMaxSize orderedDelivery traceContext conditionMatch
  secretHint previousSecretExpiresAt deletedAt deactivatedReason
  headers { name value secret }
  conditions { ...C children { ...C children { ...C children { ...C children { ...C } } } } }
} }
fragment C on Condition { id kind match operator path values }`);
export type SavedWebhook = NonNullable<ResultOf<typeof WEBHOOK>['webhook']>;
export const CREATE = graphql(`mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { id } } }`);
export const UPDATE = graphql(`mutation($id: ID!, $input: UpdateWebhookInput!) { updateWebhook(id: $id, input: $input) { id } }`);
export const ROTATE = graphql(`mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }`);

/** The API's input for a webhook, and its parts the form chooses from. */
export type WebhookInput = VariablesOf<typeof CREATE>['input'];
export type Method = NonNullable<WebhookInput['method']>;
export type PayloadMode = NonNullable<WebhookInput['payloadMode']>;
export type TemplateFormat = NonNullable<WebhookInput['templateFormat']>;
export type Trigger = NonNullable<WebhookInput['triggers']>[number];
type ConditionInput = NonNullable<WebhookInput['conditions']>[number];
type Operator = NonNullable<ConditionInput['rule']>['operator'];

export interface Header {
  name: string;
  value: string;
  secret: boolean;
  /** A saved secret value is never shown again: left empty, it is kept. */
  hidden?: boolean;
}

export interface Form {
  label: string;
  description: string;
  events: string[];
  triggers: Trigger[];
  conditionMatch: 'ALL' | 'ANY';
  conditions: Node[];
  url: string;
  method: Method;
  headers: Header[];
  payloadMode: PayloadMode;
  selectedFields: string[];
  template: string;
  templateFormat: TemplateFormat;
  timeoutMs: string;
  maxAttempts: string;
  /** SCHEDULE: the delays listed in retryScheduleMs; EXPONENTIAL: from backoffBaseMs, doubling. */
  retryMode: 'SCHEDULE' | 'EXPONENTIAL';
  /** Delays as people write them: "5m, 30m, 2h, 24h". */
  retryScheduleMs: string;
  backoffBaseMs: string;
  backoffCapMs: string;
  /** "400, 401, 422" */
  finalStatusCodes: string;
  batchWindowMs: string;
  batchMaxSize: string;
  orderedDelivery: boolean;
  traceContext: boolean;
  active: boolean;
}

export const EMPTY: Form = {
  label: '',
  description: '',
  events: [],
  triggers: [],
  conditionMatch: 'ALL',
  conditions: [],
  url: '',
  method: 'POST',
  headers: [],
  payloadMode: 'FULL',
  selectedFields: [],
  template: '',
  templateFormat: 'JSON',
  timeoutMs: '10000',
  maxAttempts: '5',
  // The API's default for a new webhook: 5 attempts over a day and a half.
  retryMode: 'SCHEDULE',
  retryScheduleMs: '5m, 30m, 2h, 24h',
  backoffBaseMs: '30000',
  backoffCapMs: '3600000',
  finalStatusCodes: '',
  batchWindowMs: '',
  batchMaxSize: '100',
  orderedDelivery: false,
  traceContext: false,
  // As the API and the seed products: a new webhook waits inactive until it is switched on.
  active: false,
};

/** The form's fields, to tell which API errors a field shows and which go to the banner. */
export const FIELDS = Object.keys(EMPTY);

export function fromWebhook(w: SavedWebhook): Form {
  return {
    ...EMPTY,
    label: w.label,
    description: w.description,
    events: w.events,
    conditionMatch: w.conditionMatch,
    conditions: fromApi(w.conditions),
    url: w.url,
    method: w.method,
    headers: w.headers.map((h) => ({ name: h.name, value: h.value ?? '', secret: h.secret, hidden: h.value === null })),
    payloadMode: w.payloadMode,
    selectedFields: w.selectedFields,
    template: w.template ?? '',
    templateFormat: w.templateFormat ?? 'JSON',
    timeoutMs: String(w.timeoutMs),
    maxAttempts: String(w.maxAttempts),
    retryMode: w.retryScheduleMs.length ? 'SCHEDULE' : 'EXPONENTIAL',
    retryScheduleMs: w.retryScheduleMs.length ? w.retryScheduleMs.map(formatDuration).join(', ') : EMPTY.retryScheduleMs,
    backoffBaseMs: String(w.backoffBaseMs),
    backoffCapMs: String(w.backoffCapMs),
    finalStatusCodes: w.finalStatusCodes.join(', '),
    batchWindowMs: w.batchWindowMs === null ? '' : String(w.batchWindowMs),
    batchMaxSize: String(w.batchMaxSize),
    orderedDelivery: w.orderedDelivery,
    traceContext: w.traceContext,
    active: w.active,
  };
}

const number = (text: string) => (text.trim() === '' ? undefined : Number(text));

/** The form as `CreateWebhookInput`; `headers` only when they may be sent as they are. */
export function toInput(form: Form, topics: Topic[], { withHeaders }: { withHeaders: boolean }): WebhookInput {
  const fields = topics.filter((t) => topicKeysOf(form.events, form.triggers).includes(t.key)).flatMap((t) => t.fields);
  return {
    label: form.label,
    description: form.description,
    events: form.events,
    triggers: form.triggers,
    conditionMatch: form.conditionMatch,
    conditions: toApi(form.conditions, fields),
    url: form.url,
    method: form.method,
    ...(withHeaders ? { headers: form.headers.map(({ name, value, secret }) => ({ name, value, secret })) } : {}),
    payloadMode: form.payloadMode,
    selectedFields: form.selectedFields,
    template: form.payloadMode === 'CUSTOM' ? form.template : null,
    templateFormat: form.payloadMode === 'CUSTOM' ? form.templateFormat : null,
    timeoutMs: number(form.timeoutMs),
    maxAttempts: number(form.maxAttempts),
    ...(form.retryMode === 'SCHEDULE'
      ? { retryScheduleMs: form.retryScheduleMs.split(',').map((d) => d.trim()).filter(Boolean).map(parseDuration) }
      : { retryScheduleMs: null, backoffBaseMs: number(form.backoffBaseMs), backoffCapMs: number(form.backoffCapMs) }),
    finalStatusCodes: form.finalStatusCodes.split(/[\s,]+/).filter(Boolean).map((c) => (/^\d+$/.test(c) ? Number(c) : 0)),
    batchWindowMs: number(form.batchWindowMs) ?? null,
    batchMaxSize: number(form.batchMaxSize),
    orderedDelivery: form.orderedDelivery,
    traceContext: form.traceContext,
    active: form.active,
  };
}

/** A condition as the API answers it, as deep as WEBHOOK reads. */
interface ApiCondition {
  kind: string;
  match: 'ALL' | 'ANY' | null;
  operator: string | null;
  path: string | null;
  values: unknown;
  children?: ApiCondition[] | null;
}

/** From the API's condition tree to the builder's. */
export function fromApi(conditions: readonly ApiCondition[]): Node[] {
  return conditions.map((c): Node =>
    c.kind === 'GROUP'
      ? { kind: 'GROUP', key: newKey(), match: c.match ?? 'ALL', children: fromApi(c.children ?? []) }
      : { kind: 'RULE', key: newKey(), path: c.path ?? '', operator: c.operator ?? 'EQUALS', values: ((c.values ?? []) as unknown[]).map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ') },
  );
}

/** From the builder's tree to `ConditionInput`s, values typed by the catalog. */
export function toApi(nodes: Node[], fields: TopicField[]): ConditionInput[] {
  return nodes.map((node) => {
    if (node.kind === 'GROUP') return { group: { match: node.match, conditions: toApi(node.children, fields) } };
    const arity = operators().find((o) => o.value === node.operator)?.arity ?? 1;
    const field = fields.find((f) => node.path === `data.${f.path}` || node.path === `previous.${f.path}`);
    const texts = arity === 0 ? [] : arity === 'many' ? node.values.split(',').filter((v) => v.trim() !== '') : [node.values];
    // The operator is one the server listed (meta.operators).
    return { rule: { path: node.path.trim(), operator: node.operator as Operator, values: texts.map((t) => typedValue(t, field)) } };
  });
}
