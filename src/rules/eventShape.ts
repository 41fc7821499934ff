/** An event as the pure modules (conditions, payloads) see it. */
export interface EventShape {
  id: string;
  topic: string;
  action: string;
  entityId: string;
  /** The entity now; absent on deletes. */
  data: Record<string, unknown> | null;
  /** The entity before the change, when the host sent it. */
  previous: Record<string, unknown> | null;
  /** Paths (relative to data) the host says changed, when it sent them. */
  changedFields: string[] | null;
  actor: { type: string; id: string | null } | null;
  clientId: string | null;
  correlationId: string | null;
  occurredAt: Date;
}

export const eventType = (e: Pick<EventShape, 'topic' | 'action'>) => `${e.topic}.${e.action}`;
