import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { destination } from '../destinations/index.ts';
import type { ChangeFeed } from '../pubsub/changes.ts';
import { ALERT_QUEUE, BATCH_QUEUE, laneOf, queue, WEBHOOK_STATE_QUEUE } from '../queue/boss.ts';
import type { Alert } from '../rules/heraldTopic.ts';
import { alertEvent } from '../store/alerts.ts';
import { closeBatch } from '../store/batches.ts';
import { wakeProbe } from '../store/gates.ts';
import { convergeAll } from '../store/webhookState.ts';
import { publishEvents } from '../usecases/publish.ts';
import { Dispatcher } from './dispatcher.ts';

export interface DeliveryWorker {
  stop(): Promise<void>;
}

/** The worker's four queues: deliveries (the dispatcher), batches whose window ended, webhooks' state changes and probes, Herald's own events. */
export async function startDeliveryWorker(config: Config, log: Logger, feed: ChangeFeed): Promise<DeliveryWorker> {
  const boss = queue();
  const dispatcher = new Dispatcher(config, log, destination);
  // New deliveries (published, re-triggered, released, batched) are announced as PENDING changes, whichever process made them.
  const onChange = (change: { k: string; t?: string; s?: string }) => change.k === 'instance' && change.s === 'PENDING' && dispatcher.wake(change.t && laneOf(change.t));
  const onReconnect = () => dispatcher.wake();
  feed.on('change', onChange);
  feed.on('reconnected', onReconnect);
  dispatcher.start();
  const batchWorker = await boss.work<{ batchId: string }>(
    BATCH_QUEUE,
    { batchSize: 10, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5 },
    async (jobs) => {
      for (const job of jobs) await closeBatch(job.data.batchId);
    },
  );
  // Webhooks paused, resumed or turned off, or whose circuit closed: the rest of their deliveries follow,
  // step by step. An open circuit's probe is woken when its wait is over.
  const stateWorker = await boss.work<{ webhookId: string; probe?: boolean }>(
    WEBHOOK_STATE_QUEUE,
    { batchSize: 5, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5 },
    async (jobs) => {
      for (const job of jobs) await (job.data.probe ? wakeProbe(job.data.webhookId) : convergeAll(job.data.webhookId));
    },
  );
  // Herald's own happenings, published as events of its built-in topic once what they tell has committed.
  const alertWorker = await boss.work<Alert>(ALERT_QUEUE, { batchSize: 10, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5 }, async (jobs) => {
    for (const job of jobs) {
      const input = await alertEvent(job.data, job.id);
      if (input) await publishEvents(job.data.tenantId, [input], config, 'inputs', { internal: true });
    }
  });
  return {
    async stop() {
      await boss.offWork(ALERT_QUEUE, { id: alertWorker, wait: true });
      feed.off('change', onChange);
      feed.off('reconnected', onReconnect);
      await boss.offWork(BATCH_QUEUE, { id: batchWorker, wait: true });
      await boss.offWork(WEBHOOK_STATE_QUEUE, { id: stateWorker, wait: true });
      await dispatcher.stop();
    },
  };
}

