-- A webhook may send W3C trace context (traceparent, tracestate) with its requests.
ALTER TABLE "webhook" ADD COLUMN "trace_context" BOOLEAN NOT NULL DEFAULT false;
