-- Events, deliveries (instances) and every attempt of each.

CREATE TYPE "InstanceStatus" AS ENUM ('PENDING', 'SENDING', 'COMPLETED', 'RETRYING', 'FAILED', 'CANCELLED');
CREATE TYPE "AttemptTrigger" AS ENUM ('AUTO', 'MANUAL', 'TEST');

ALTER TABLE "webhook" ADD COLUMN "consecutive_failures" INTEGER NOT NULL DEFAULT 0;

CREATE TABLE "event" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "topic" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "entity_id" TEXT NOT NULL,
    "data" JSONB,
    "previous" JSONB,
    "changed_fields" TEXT[],
    "actor" JSONB,
    "client_id" TEXT,
    "correlation_id" TEXT,
    "idempotency_key" TEXT,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "event_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "event_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "event_tenant_id_idempotency_key_key" ON "event"("tenant_id", "idempotency_key");
CREATE INDEX "event_tenant_id_created_at_idx" ON "event"("tenant_id", "created_at");

CREATE TABLE "instance" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "webhook_id" UUID NOT NULL,
    "event_id" UUID NOT NULL,
    "entity_id" TEXT NOT NULL,
    "status" "InstanceStatus" NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3),
    "payload" JSONB NOT NULL,
    "request" JSONB,
    "last_status_code" INTEGER,
    "last_message" TEXT,
    "last_duration_ms" INTEGER,
    "last_error_kind" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "instance_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "instance_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "instance_webhook_id_fkey" FOREIGN KEY ("webhook_id") REFERENCES "webhook"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "instance_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "event"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "instance_tenant_id_webhook_id_id_idx" ON "instance"("tenant_id", "webhook_id", "id");
CREATE INDEX "instance_tenant_id_status_idx" ON "instance"("tenant_id", "status");
CREATE INDEX "instance_event_id_idx" ON "instance"("event_id");
CREATE INDEX "instance_tenant_id_updated_at_idx" ON "instance"("tenant_id", "updated_at");

CREATE TABLE "attempt" (
    "id" UUID NOT NULL,
    "instance_id" UUID NOT NULL,
    "number" INTEGER NOT NULL,
    "trigger" "AttemptTrigger" NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "duration_ms" INTEGER NOT NULL,
    "status_code" INTEGER,
    "error_kind" TEXT,
    "message" TEXT,
    "response_body" TEXT,
    "location" TEXT,
    CONSTRAINT "attempt_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "attempt_instance_id_fkey" FOREIGN KEY ("instance_id") REFERENCES "instance"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "attempt_instance_id_idx" ON "attempt"("instance_id");
