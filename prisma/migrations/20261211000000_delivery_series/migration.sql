-- Charts (Webhook.series, Tenant.series): each recorded attempt adds to its webhook's
-- minute, as a delta row the settle statement appends; the roll-up folds deltas into
-- per-minute and per-hour rows, for the webhook and for its tenant's totals (webhook_id
-- the nil UUID). Attempt durations are kept as a histogram (13 fixed buckets, see
-- src/rules/series.ts), so rows add up and percentiles come from the sums. Minute rows
-- live six hours, hour rows as long as the tenant's deliveries.
CREATE FUNCTION "herald_histogram_merge"(a INTEGER[], b INTEGER[]) RETURNS INTEGER[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT array_agg(COALESCE(x, 0) + COALESCE(y, 0) ORDER BY n) FROM unnest(a, b) WITH ORDINALITY AS t(x, y, n)
$$;
CREATE AGGREGATE "herald_histogram_sum"(INTEGER[]) (SFUNC = "herald_histogram_merge", STYPE = INTEGER[], INITCOND = '{0,0,0,0,0,0,0,0,0,0,0,0,0}');

CREATE TABLE "delivery_series_delta" (
  "id" BIGSERIAL PRIMARY KEY,
  "tenant_id" UUID NOT NULL,
  "webhook_id" UUID NOT NULL,
  "minute" TIMESTAMPTZ(3) NOT NULL,
  "succeeded" INTEGER NOT NULL,
  "failed" INTEGER NOT NULL,
  "completed" INTEGER NOT NULL,
  "retrying" INTEGER NOT NULL,
  "given_up" INTEGER NOT NULL,
  "duration_ms_sum" BIGINT NOT NULL,
  "durations" INTEGER[] NOT NULL
);

CREATE TABLE "delivery_minute" (
  "tenant_id" UUID NOT NULL,
  "webhook_id" UUID NOT NULL,
  "at" TIMESTAMPTZ(3) NOT NULL,
  "succeeded" INTEGER NOT NULL,
  "failed" INTEGER NOT NULL,
  "completed" INTEGER NOT NULL,
  "retrying" INTEGER NOT NULL,
  "given_up" INTEGER NOT NULL,
  "duration_ms_sum" BIGINT NOT NULL,
  "durations" INTEGER[] NOT NULL,
  PRIMARY KEY ("tenant_id", "webhook_id", "at")
);
CREATE INDEX "delivery_minute_at_idx" ON "delivery_minute"("at");

CREATE TABLE "delivery_hour" (
  "tenant_id" UUID NOT NULL,
  "webhook_id" UUID NOT NULL,
  "at" TIMESTAMPTZ(3) NOT NULL,
  "succeeded" INTEGER NOT NULL,
  "failed" INTEGER NOT NULL,
  "completed" INTEGER NOT NULL,
  "retrying" INTEGER NOT NULL,
  "given_up" INTEGER NOT NULL,
  "duration_ms_sum" BIGINT NOT NULL,
  "durations" INTEGER[] NOT NULL,
  PRIMARY KEY ("tenant_id", "webhook_id", "at")
);
CREATE INDEX "delivery_hour_tenant_id_at_idx" ON "delivery_hour"("tenant_id", "at");
