import type { FieldType } from '../generated/prisma/client.ts';

/**
 * Herald's own happenings as events of a built-in read-only topic (`herald`), raised in the transaction of what they tell and
 * delivered like any event; they cannot loop (a webhook taking them raises no `instance_failed`, state changes raise once).
 */
export const HERALD_TOPIC = 'herald';
export const HERALD_ACTIONS = ['webhook_deactivated', 'webhook_failing', 'webhook_recovered', 'instance_failed', 'webhook_paused', 'webhook_resumed'] as const;
export type HeraldAction = (typeof HERALD_ACTIONS)[number];

const FIELDS: Array<{ path: string; label: string; type: FieldType; mergeTag: string }> = [
  { path: 'webhookId', label: 'Webhook id', type: 'STRING', mergeTag: '@@WebhookId' },
  { path: 'webhookLabel', label: 'Webhook', type: 'STRING', mergeTag: '@@WebhookLabel' },
  { path: 'url', label: 'Endpoint', type: 'STRING', mergeTag: '@@WebhookUrl' },
  { path: 'state', label: 'State', type: 'ENUM', mergeTag: '@@WebhookState' },
  { path: 'reason', label: 'Reason', type: 'STRING', mergeTag: '@@Reason' },
  { path: 'consecutiveFailures', label: 'Failed deliveries in a row', type: 'INTEGER', mergeTag: '@@ConsecutiveFailures' },
  { path: 'failingSince', label: 'Failing since', type: 'DATETIME', mergeTag: '@@FailingSince' },
  { path: 'heldDeliveries', label: 'Held deliveries', type: 'INTEGER', mergeTag: '@@HeldDeliveries' },
  { path: 'instanceId', label: 'Delivery id', type: 'STRING', mergeTag: '@@InstanceId' },
  { path: 'eventType', label: "Delivery's event type", type: 'STRING', mergeTag: '@@DeliveryEventType' },
  { path: 'attempts', label: 'Attempts', type: 'INTEGER', mergeTag: '@@Attempts' },
  { path: 'lastStatusCode', label: 'Last status code', type: 'INTEGER', mergeTag: '@@LastStatusCode' },
  { path: 'lastErrorKind', label: 'Last error kind', type: 'STRING', mergeTag: '@@LastErrorKind' },
  { path: 'lastMessage', label: 'Last answer or error', type: 'STRING', mergeTag: '@@LastMessage' },
];
const STATES = ['ACTIVE', 'PAUSED', 'DISABLED'];

/** The built-in topic as a tenant's nested create (a new tenant gets it with its first key). */
export function builtInTopics() {
  return {
    create: [
      {
        key: HERALD_TOPIC,
        name: 'Herald',
        description: 'What Herald itself does: webhooks paused, failing and recovered, deliveries that failed for good. Built in and read-only.',
        customActions: [...HERALD_ACTIONS],
        builtIn: true,
        fields: { create: FIELDS.map((f, position) => ({ ...f, position, values: f.type === 'ENUM' ? STATES : [] })) },
      },
    ],
  };
}

export interface Alert {
  tenantId: string;
  action: HeraldAction;
  webhookId: string;
  instanceId?: string;
  /** What Herald says happened, when the webhook row does not say it (a pause's reason is on the webhook). */
  reason?: string;
}
