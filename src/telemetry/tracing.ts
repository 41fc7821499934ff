import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, ParentBasedSampler, TraceIdRatioBasedSampler, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import herald from '../../package.json' with { type: 'json' };
import type { TracingConfig } from '../config.ts';

/**
 * OpenTelemetry traces (docs/observing.md, "Traces"), off unless an OTLP endpoint is set: from a publish, through its job's data, to
 * each delivery's attempt and record. Off, nothing starts a span or reads a header.
 */

let provider: NodeTracerProvider | undefined;

/** Starts exporting spans to the OTLP endpoint (and to `extra` processors: the tests' in-memory exporter). */
export function startTracing(config: TracingConfig, role: string, extra: SpanProcessor[] = []): void {
  if (provider || (!config.endpoint && extra.length === 0)) return;
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName, 'service.version': herald.version, 'herald.role': role }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
    spanProcessors: [...(config.endpoint ? [new BatchSpanProcessor(new OTLPTraceExporter({ url: config.endpoint }))] : []), ...extra],
  });
  provider.register();
}

/** Sends what is buffered and stops. */
export async function stopTracing(): Promise<void> {
  const stopping = provider;
  provider = undefined;
  if (!stopping) return;
  await stopping.shutdown();
  trace.disable();
  propagation.disable();
  context.disable();
}

const tracer = () => trace.getTracer('herald', herald.version);

/** Runs `handle` in the context a request's `traceparent` (and `tracestate`) header names, when tracing is on. */
export function withIncomingContext<T>(headers: Record<string, string | string[] | undefined>, handle: () => T): T {
  if (!provider || !headers.traceparent) return handle();
  return context.with(propagation.extract(ROOT_CONTEXT, headers), handle);
}

/** Runs `work` in a span (its error recorded), or plainly when tracing is off. */
export async function inSpan<T>(name: string, kind: SpanKind, attributes: Attributes, work: (span: Span | undefined) => Promise<T>): Promise<T> {
  if (!provider) return work(undefined);
  return tracer().startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      failed(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The active span's context as a `traceparent` header (what a delivery job carries), if tracing is on and it is sampled. */
export function currentTraceparent(): string | undefined {
  if (!provider) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/**
 * One delivery, in the trace of the publish whose job carried `traceparent`: a span
 * for the delivery, one for its HTTP request (whose context the receiver may be sent),
 * and one for its recording. Undefined when tracing is off.
 */
export class DeliveryTrace {
  private constructor(
    private readonly delivery: Span,
    private request: Span | undefined,
    private recording: Span | undefined,
  ) {}

  static start(traceparent: string | undefined, attributes: Attributes): DeliveryTrace | undefined {
    if (!provider) return undefined;
    const parent = traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;
    return new DeliveryTrace(tracer().startSpan('herald.deliver', { kind: SpanKind.CONSUMER, attributes }, parent), undefined, undefined);
  }

  /** Starts the attempt's span (its destination names it); answers its context as headers (`traceparent`, `tracestate`) for the receiver. */
  requesting(span: { name: string; attributes: Attributes }): Record<string, string> {
    this.request = tracer().startSpan(span.name, { kind: SpanKind.CLIENT, attributes: span.attributes }, trace.setSpan(ROOT_CONTEXT, this.delivery));
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(ROOT_CONTEXT, this.request), carrier);
    return carrier;
  }

  /** The answer (or the error) came back: the request's span ends, the recording's starts. */
  answered(outcome: { ok: boolean; statusCode: number | null; errorKind: string | null; message: string }): void {
    if (this.request) {
      if (outcome.statusCode !== null) this.request.setAttribute('http.response.status_code', outcome.statusCode);
      if (!outcome.ok) {
        this.request.setAttribute('error.type', outcome.errorKind ?? 'unknown');
        this.request.setStatus({ code: SpanStatusCode.ERROR, message: outcome.message.slice(0, 200) });
      }
      this.request.end();
    }
    this.recording = tracer().startSpan('herald.record', { kind: SpanKind.INTERNAL }, trace.setSpan(ROOT_CONTEXT, this.delivery));
  }

  /** Recorded as `status` (COMPLETED, RETRYING, FAILED), or not (`error`): every span of the delivery ends. */
  recorded(status: string | undefined, error?: unknown): void {
    if (status) this.delivery.setAttribute('herald.delivery.status', status);
    if (error !== undefined) {
      failed(this.recording ?? this.delivery, error);
      if (this.recording !== undefined) this.delivery.setStatus({ code: SpanStatusCode.ERROR, message: 'not recorded' });
    } else if (status === 'FAILED' || status === 'RETRYING') {
      this.delivery.setStatus({ code: SpanStatusCode.ERROR, message: status });
    }
    this.request?.end();
    this.recording?.end();
    this.delivery.end();
  }
}

function failed(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

export { SpanKind };
