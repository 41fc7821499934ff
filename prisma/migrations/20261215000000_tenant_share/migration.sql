-- Every tenant gets its share. A tenant's weight is its part of the delivery workers'
-- places and hands (2: twice a tenant of weight 1, while both have deliveries waiting);
-- its publish limit (events a second, with a burst) is its own or, when NULL, the server's
-- HERALD_PUBLISH_RATE and HERALD_PUBLISH_BURST.
ALTER TABLE "tenant" ADD COLUMN "delivery_weight" INTEGER NOT NULL DEFAULT 1;
ALTER TABLE "tenant" ADD COLUMN "publish_rate" INTEGER;
ALTER TABLE "tenant" ADD COLUMN "publish_burst" INTEGER;

-- What each tenant may still publish now (a token bucket every api process shares):
-- refilled at its rate up to its burst as time passes, taken from by each publish call.
-- Unlogged: after a crash it starts full, which loses nothing.
CREATE UNLOGGED TABLE "publish_bucket" (
  "tenant_id" UUID NOT NULL PRIMARY KEY REFERENCES "tenant"("id") ON DELETE CASCADE,
  "tokens" DOUBLE PRECISION NOT NULL,
  "at" TIMESTAMPTZ(3) NOT NULL
);
