-- Deliveries filtered by event type (`topic.action`), newest first, through an index of
-- their own: the type is copied from the delivery's event (whose topic and action never
-- change), so a rare type reads a few pages, not the tenant's whole history.
-- The copy into existing deliveries changes no status: the counting trigger is held off
-- for it (it would carry every row along and count nothing). The column may stay empty
-- (NULL) so that a process of the version before, still running while this one starts,
-- can go on publishing; its few deliveries are then in no type's list.
ALTER TABLE "instance" ADD COLUMN "event_type" TEXT;
ALTER TABLE "instance" DISABLE TRIGGER "instance_counted_update";
UPDATE "instance" i SET "event_type" = e."topic" || '.' || e."action" FROM "event" e WHERE e."id" = i."event_id";
ALTER TABLE "instance" ENABLE TRIGGER "instance_counted_update";
CREATE INDEX "instance_tenant_id_event_type_id_idx" ON "instance"("tenant_id", "event_type", "id");
