-- Webhooks (subscriptions to event types) and their condition trees.

CREATE TYPE "HttpMethod" AS ENUM ('GET', 'POST', 'PUT', 'PATCH', 'DELETE');
CREATE TYPE "PayloadMode" AS ENUM ('ID_ONLY', 'ID_AND_MODIFIED_FIELDS', 'SELECTED_FIELDS', 'FULL', 'CUSTOM');
CREATE TYPE "TemplateFormat" AS ENUM ('JSON', 'XML', 'FORM', 'TEXT');
CREATE TYPE "ConditionKind" AS ENUM ('GROUP', 'RULE');
CREATE TYPE "Combinator" AS ENUM ('ALL', 'ANY');

CREATE TABLE "webhook" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "label" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "active" BOOLEAN NOT NULL DEFAULT false,
    "event_types" TEXT[],
    "topics" TEXT[],
    "url" TEXT NOT NULL,
    "method" "HttpMethod" NOT NULL DEFAULT 'POST',
    "headers" JSONB NOT NULL DEFAULT '[]',
    "payload_mode" "PayloadMode" NOT NULL DEFAULT 'FULL',
    "selected_fields" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "template" TEXT,
    "template_format" "TemplateFormat",
    "condition_match" "Combinator" NOT NULL DEFAULT 'ALL',
    "secret" TEXT NOT NULL,
    "previous_secret" TEXT,
    "previous_secret_until" TIMESTAMPTZ(3),
    "timeout_ms" INTEGER NOT NULL DEFAULT 10000,
    "max_attempts" INTEGER NOT NULL DEFAULT 5,
    "backoff_base_ms" INTEGER NOT NULL DEFAULT 30000,
    "backoff_cap_ms" INTEGER NOT NULL DEFAULT 3600000,
    "deactivated_reason" TEXT,
    "deactivated_at" TIMESTAMPTZ(3),
    "deleted_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "webhook_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "webhook_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "webhook_tenant_id_active_idx" ON "webhook"("tenant_id", "active");

CREATE TABLE "condition" (
    "id" UUID NOT NULL,
    "webhook_id" UUID NOT NULL,
    "parent_id" UUID,
    "position" INTEGER NOT NULL,
    "kind" "ConditionKind" NOT NULL,
    "combinator" "Combinator",
    "path" TEXT,
    "operator" TEXT,
    "values" JSONB NOT NULL DEFAULT '[]',
    CONSTRAINT "condition_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "condition_webhook_id_fkey" FOREIGN KEY ("webhook_id") REFERENCES "webhook"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "condition_parent_id_fkey" FOREIGN KEY ("parent_id") REFERENCES "condition"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "condition_webhook_id_idx" ON "condition"("webhook_id");
