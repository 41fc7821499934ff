-- Every delivery counted by status across all webhooks, for the metrics (herald_deliveries):
-- a scrape reads seven rows and the deltas not folded yet, however many webhooks there are.
-- The roll-up that folds deltas into webhook_status_count folds them here in the same
-- statement (store/sql/instances.ts); the roll-up waits while this is filled.
LOCK TABLE "webhook_status_count" IN EXCLUSIVE MODE;

CREATE TABLE "delivery_status_total" (
  "status" "InstanceStatus" PRIMARY KEY,
  "count" BIGINT NOT NULL
);

INSERT INTO "delivery_status_total" ("status", "count")
SELECT "status", sum("count") FROM "webhook_status_count" GROUP BY "status";
