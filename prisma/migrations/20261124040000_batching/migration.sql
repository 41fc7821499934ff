-- Batching: events collected per webhook and sent as one instance.

ALTER TYPE "PayloadMode" ADD VALUE 'CHANGES' BEFORE 'ID_ONLY';
ALTER TABLE "webhook" ADD COLUMN "batch_window_ms" INTEGER;
ALTER TABLE "webhook" ADD COLUMN "batch_max_size" INTEGER NOT NULL DEFAULT 100;

CREATE TABLE "batch" (
    "id" UUID NOT NULL,
    "webhook_id" UUID NOT NULL,
    "opened_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "closes_at" TIMESTAMPTZ(3) NOT NULL,
    "size" INTEGER NOT NULL DEFAULT 0,
    "closed_at" TIMESTAMPTZ(3),
    "instance_id" UUID,
    CONSTRAINT "batch_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "batch_webhook_id_fkey" FOREIGN KEY ("webhook_id") REFERENCES "webhook"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "batch_instance_id_fkey" FOREIGN KEY ("instance_id") REFERENCES "instance"("id") ON DELETE SET NULL ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "batch_instance_id_key" ON "batch"("instance_id");
CREATE INDEX "batch_webhook_id_closed_at_idx" ON "batch"("webhook_id", "closed_at");

CREATE TABLE "batch_event" (
    "batch_id" UUID NOT NULL,
    "event_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    CONSTRAINT "batch_event_pkey" PRIMARY KEY ("batch_id", "event_id"),
    CONSTRAINT "batch_event_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "batch"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "batch_event_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "event"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
