-- One dead receiver slows no one; rate limits hold across processes.

-- A webhook's own limits (null: none): requests per second, requests in flight at once.
ALTER TABLE "webhook" ADD COLUMN "rate_limit_per_second" DOUBLE PRECISION;
ALTER TABLE "webhook" ADD COLUMN "rate_limit_in_flight" INTEGER;

-- Waiting, without a job, while its webhook's circuit is open (released when a probe succeeds).
ALTER TABLE "instance" ADD COLUMN "parked" BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX "instance_parked_idx" ON "instance"("webhook_id", "id") WHERE "parked";
-- Deliveries on their way, per webhook (in-flight limits count them).
CREATE INDEX "instance_sending_idx" ON "instance"("webhook_id") WHERE "status" = 'SENDING';

-- How a webhook's deliveries may go now, shared by every worker process: the circuit
-- breaker, the adaptive in-flight window, the rate limit's token bucket. A row exists
-- once something about it had to be remembered.
CREATE TABLE "webhook_gate" (
    "webhook_id" UUID NOT NULL,
    "failing_attempts" INTEGER NOT NULL DEFAULT 0,
    "open_until" TIMESTAMPTZ(3),
    "open_reason" TEXT,
    "probe_ms" INTEGER NOT NULL DEFAULT 0,
    "probe_instance_id" UUID,
    "in_flight_window" INTEGER,
    "tokens" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "tokens_at" TIMESTAMPTZ(3),
    CONSTRAINT "webhook_gate_pkey" PRIMARY KEY ("webhook_id"),
    CONSTRAINT "webhook_gate_webhook_id_fkey" FOREIGN KEY ("webhook_id") REFERENCES "webhook"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
