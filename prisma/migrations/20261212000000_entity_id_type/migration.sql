-- A topic says what its entity ids look like (STRING, INTEGER or UUID): publishes are
-- checked against it, and the Test button's sample has an id of that kind.
CREATE TYPE "EntityIdType" AS ENUM ('STRING', 'INTEGER', 'UUID');
ALTER TABLE "topic" ADD COLUMN "entity_id_type" "EntityIdType" NOT NULL DEFAULT 'STRING';

-- A tenant's events of one topic, newest first (the Events screen by type, the Test
-- button's latest real event), read through an index rather than past every other topic's.
CREATE INDEX "event_tenant_id_topic_id_idx" ON "event"("tenant_id", "topic", "id");
