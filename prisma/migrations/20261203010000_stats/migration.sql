-- A webhook's deliveries counted by status, readable at O(1) per webhook whatever the
-- history (Webhook.stats). Writers never touch a shared counter row: statement triggers
-- on instance append deltas (one row per webhook and status per statement), and a
-- roll-up folds them into webhook_status_count every few seconds (store/stats.ts).
-- A read sums the counters and the deltas not yet folded, in one snapshot: exact.
-- Writers wait while the counters are set up and filled, so none is missed or counted twice.
LOCK TABLE "instance" IN SHARE MODE;

CREATE TABLE "webhook_status_count" (
  "webhook_id" UUID NOT NULL,
  "status" "InstanceStatus" NOT NULL,
  "count" BIGINT NOT NULL,
  "last_at" TIMESTAMPTZ(3),
  PRIMARY KEY ("webhook_id", "status")
);

CREATE TABLE "instance_count_delta" (
  "id" BIGSERIAL PRIMARY KEY,
  "webhook_id" UUID NOT NULL,
  "status" "InstanceStatus" NOT NULL,
  "delta" INTEGER NOT NULL,
  "last_at" TIMESTAMPTZ(3)
);
CREATE INDEX "instance_count_delta_webhook_id_idx" ON "instance_count_delta"("webhook_id");

CREATE FUNCTION "herald_count_instances"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO instance_count_delta (webhook_id, status, delta, last_at)
    SELECT webhook_id, status, count(*), max(updated_at) FROM new_rows GROUP BY webhook_id, status;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO instance_count_delta (webhook_id, status, delta, last_at)
    SELECT webhook_id, status, -count(*), NULL FROM old_rows GROUP BY webhook_id, status;
  ELSE
    INSERT INTO instance_count_delta (webhook_id, status, delta, last_at)
    SELECT webhook_id, status, sum(d), max(at) FROM (
      SELECT n.webhook_id, n.status, 1 AS d, n.updated_at AS at FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE o.status <> n.status
      UNION ALL
      SELECT o.webhook_id, o.status, -1, NULL FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE o.status <> n.status) changed
    GROUP BY webhook_id, status;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "instance_counted_insert" AFTER INSERT ON "instance" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "herald_count_instances"();
CREATE TRIGGER "instance_counted_update" AFTER UPDATE ON "instance" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "herald_count_instances"();
CREATE TRIGGER "instance_counted_delete" AFTER DELETE ON "instance" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "herald_count_instances"();

-- What is stored already.
INSERT INTO "webhook_status_count" ("webhook_id", "status", "count", "last_at")
SELECT "webhook_id", "status", count(*), max("updated_at") FROM "instance" GROUP BY "webhook_id", "status";
