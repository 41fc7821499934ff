import type { Job, JobWithMetadata } from 'pg-boss';
import type { Config } from '../config.ts';
import type { StoredHeader } from '../domain/webhooks.ts';
import type { RenderedPayload } from '../domain/payload.ts';
import type { Logger } from '../logger.ts';
import { DELIVER_QUEUE, queue, type DeliverJob } from '../queue/boss.ts';
import { AddressGuard } from './guard.ts';
import { claim, settle } from './instances.ts';
import { BATCH_QUEUE, closeBatch } from './batching.ts';
import { buildRequest, shownHeaders } from './request.ts';
import { sharedSender, type Sender } from './sender.ts';

let workerIds: string[] = [];

/** Wakes this process's delivery workers at once (after a publish commits). */
export function wakeWorkers(): void {
  for (const id of workerIds) queue().notifyWorker(id);
}

export interface DeliveryWorker {
  sender: Sender;
  stop(): Promise<void>;
}

/** Takes delivery jobs from the queue and sends them, a batch at a time. */
export async function startDeliveryWorker(config: Config, log: Logger): Promise<DeliveryWorker> {
  const sender = sharedSender(new AddressGuard(config.outboundAllow));
  const boss = queue();
  const id = await boss.work<DeliverJob>(
    DELIVER_QUEUE,
    { batchSize: config.workerConcurrency, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5, perJobResults: true, includeMetadata: true },
    async (jobs: Job<DeliverJob>[]) =>
      Promise.all(
        jobs.map(async (job) => {
          try {
            // includeMetadata: a job that runs again may take over an instance its dead worker left SENDING.
            await deliver(job.data, sender, config, (job as JobWithMetadata<DeliverJob>).retryCount > 0);
            return { id: job.id, status: 'completed' as const };
          } catch (error) {
            log.error({ err: error, instanceId: job.data.instanceId }, 'delivery failed before it could be recorded; the job will run again');
            return { id: job.id, status: 'failed' as const };
          }
        }),
      ),
  );
  const batchWorker = await boss.work<{ batchId: string }>(
    BATCH_QUEUE,
    { batchSize: 10, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5 },
    async (jobs) => {
      for (const job of jobs) await closeBatch(job.data.batchId);
    },
  );
  workerIds.push(id, batchWorker);
  return {
    sender,
    async stop() {
      workerIds = workerIds.filter((w) => w !== id && w !== batchWorker);
      await boss.offWork(BATCH_QUEUE, { id: batchWorker, wait: true });
      await boss.offWork(DELIVER_QUEUE, { id, wait: true });
    },
  };
}

/** One delivery attempt of one instance. */
export async function deliver(job: DeliverJob, sender: Sender, config: Config, takeOver = false): Promise<void> {
  const instance = await claim(job.instanceId, takeOver);
  if (!instance) return; // delivered, cancelled, or being sent by someone else
  const payload = instance.payload as unknown as RenderedPayload;
  const webhook = instance.webhook;
  const startedAt = new Date();
  const request = buildRequest(payload, { ...webhook, headers: webhook.headers as unknown as StoredHeader[] }, instance.id, startedAt);
  const outcome = await sender.send(request, webhook.timeoutMs);
  await settle({
    instance,
    trigger: job.trigger,
    startedAt,
    request: { ...request, headers: shownHeaders(request, webhook.headers as unknown as StoredHeader[]) },
    outcome,
    deactivateAfterFailures: config.deactivateAfterFailures,
    minBackoffMs: config.minBackoffMs,
  });
}
