-- What the API filters and pages on, so that a look-up costs what it answers, not the
-- table: events newest first per tenant (keyset on id), events and deliveries by entity.
CREATE INDEX "event_tenant_id_id_idx" ON "event"("tenant_id", "id");
CREATE INDEX "event_tenant_id_entity_id_id_idx" ON "event"("tenant_id", "entity_id", "id");
CREATE INDEX "instance_tenant_id_entity_id_id_idx" ON "instance"("tenant_id", "entity_id", "id");
