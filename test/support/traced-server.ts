// A Herald process (as buildApp makes it) whose spans also go to the OpenTelemetry SDK's
// in-memory exporter; test/tracing.test.ts forks two (api, worker) and asks each for its
// finished spans over IPC. Settings come from the environment, as for the real server.
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startTracing } from '../../src/telemetry/tracing.ts';

const config = loadConfig(process.env);
const exporter = new InMemorySpanExporter();
startTracing(config.tracing, config.role, [new SimpleSpanProcessor(exporter)]);
const app = await buildApp(config, createLogger(process.env.TEST_LOG_LEVEL === 'debug' ? 'debug' : 'silent'));
const { url } = await app.start(0, '127.0.0.1');
process.send!({ url });
process.on('message', async (message: string) => {
  if (message === 'spans') {
    const spans = exporter.getFinishedSpans().map((s) => ({
      name: s.name,
      kind: s.kind,
      traceId: s.spanContext().traceId,
      spanId: s.spanContext().spanId,
      parentSpanId: s.parentSpanContext?.spanId,
      attributes: s.attributes,
      status: s.status,
      role: s.resource.attributes['herald.role'],
    }));
    process.send!({ spans });
  }
  if (message === 'stop') {
    await app.stop();
    process.exit(0);
  }
});
