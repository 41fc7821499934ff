import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { renderBatch, RenderError, type PayloadSpec, type RenderedPayload, type TopicShape } from '../rules/payload.ts';
import type { EventShape } from '../rules/eventShape.ts';
import { RENDER_LIMITS } from '../rules/template.ts';
import { fromRoot } from '../paths.ts';
import { metrics } from '../telemetry/metrics.ts';
import type { RenderResult, RenderTask } from './worker.ts';

/**
 * Renders payloads: templates on worker threads (a loop holds a render thread, never the event loop), other modes here; a request's
 * renders share one deadline, past which they fail as RENDER and the thread is replaced.
 */
export async function render(spec: PayloadSpec, events: EventShape[], topics: Map<string, TopicShape>, entityId: string | null, deadline: Deadline): Promise<RenderedPayload> {
  const started = performance.now();
  try {
    return await renderHere(spec, events, topics, entityId, deadline);
  } finally {
    metrics.rendered(spec.mode, (performance.now() - started) / 1000);
  }
}

async function renderHere(spec: PayloadSpec, events: EventShape[], topics: Map<string, TopicShape>, entityId: string | null, deadline: Deadline): Promise<RenderedPayload> {
  if (spec.mode !== 'CUSTOM' || events.length !== 1 || entityId === null) return renderBatch(spec, events, topics, entityId);
  const left = deadline.at - Date.now();
  if (left <= 0) throw new RenderError(spent());
  let result: RenderResult;
  try {
    result = await threads().run({ spec, events, topics, entityId } satisfies RenderTask, { signal: AbortSignal.timeout(left) });
  } catch (error) {
    if ((error as Error).name === 'AbortError' || (error as Error).name === 'TimeoutError') throw new RenderError(spent());
    throw error;
  }
  if ('error' in result) throw new RenderError(result.error);
  return result.payload;
}

/** The time all renders of one request may take together, from when it starts. */
export interface Deadline {
  at: number;
}

export const deadlineForRequest = (): Deadline => ({ at: Date.now() + RENDER_LIMITS.requestMs });

const spent = () => `rendering was stopped: this request's templates may take ${RENDER_LIMITS.requestMs} ms in all, and that time was spent`;

let pool: Piscina<RenderTask, RenderResult> | undefined;

function threads(): Piscina<RenderTask, RenderResult> {
  if (pool) return pool;
  // From the one-file build (dist/server.mjs) the worker is its sibling build; from src/ (tests, tsx) it is TypeScript.
  const here = fileURLToPath(import.meta.url);
  const built = here.endsWith('.mjs');
  pool = new Piscina<RenderTask, RenderResult>({
    filename: built ? path.join(path.dirname(here), 'render-worker.mjs') : fromRoot('src', 'render', 'worker.ts'),
    execArgv: built ? [] : ['--import', 'tsx'],
    minThreads: 1,
    maxThreads: Math.max(1, Math.min(2, availableParallelism())),
    idleTimeout: 60_000,
    resourceLimits: { maxOldGenerationSizeMb: 64 },
  });
  return pool;
}

export async function closeRenderPool(): Promise<void> {
  const closing = pool;
  pool = undefined;
  await closing?.destroy();
}
