-- Per-entity ordered delivery: later instances wait ("held") for earlier ones.

ALTER TABLE "webhook" ADD COLUMN "ordered_delivery" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "instance" ADD COLUMN "held" BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX "instance_webhook_id_entity_id_status_idx" ON "instance"("webhook_id", "entity_id", "status");
