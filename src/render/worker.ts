/** A render thread's task: one payload rendered with Liquid, away from the event loop that answers requests. */
import { renderBatch, RenderError, type PayloadSpec, type RenderedPayload, type TopicShape } from '../rules/payload.ts';
import type { EventShape } from '../rules/eventShape.ts';

export interface RenderTask {
  spec: PayloadSpec;
  events: EventShape[];
  topics: Map<string, TopicShape>;
  entityId: string | null;
}

export type RenderResult = { payload: RenderedPayload } | { error: string };

export default function render(task: RenderTask): RenderResult {
  try {
    return { payload: renderBatch(task.spec, task.events, task.topics, task.entityId) };
  } catch (error) {
    if (error instanceof RenderError) return { error: error.message };
    throw error;
  }
}
