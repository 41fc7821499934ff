-- Outages lose nothing: paused webhooks keep their deliveries (PAUSED), retry
-- schedules, status codes that fail at once.

-- Set while a webhook is paused (by a person, or by Herald for failing): matching
-- events keep being recorded for it as PAUSED instances.
ALTER TABLE "webhook" ADD COLUMN "paused_at" TIMESTAMPTZ(3);
-- When its current run of failures began (null: its last delivery succeeded).
ALTER TABLE "webhook" ADD COLUMN "failing_since" TIMESTAMPTZ(3);
-- Delays before attempts 2, 3, ... (the last repeats); empty: exponential backoff.
ALTER TABLE "webhook" ADD COLUMN "retry_schedule_ms" INTEGER[] NOT NULL DEFAULT ARRAY[]::INTEGER[];
-- Answers that fail the delivery at once instead of retrying.
ALTER TABLE "webhook" ADD COLUMN "final_status_codes" INTEGER[] NOT NULL DEFAULT ARRAY[]::INTEGER[];

-- What a paused webhook holds, counted and released without reading the rest of its history.
CREATE INDEX "instance_paused_idx" ON "instance"("webhook_id", "id") WHERE "status" = 'PAUSED';
