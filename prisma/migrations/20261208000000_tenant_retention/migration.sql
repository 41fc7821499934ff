-- A tenant's own retention: the days its finished deliveries and their events are kept
-- (NULL: the server's HERALD_RETENTION_DAYS). The nightly purge walks each tenant with its own cutoff.
ALTER TABLE "tenant" ADD COLUMN "retention_days" INTEGER;
ALTER TABLE "tenant" ADD CONSTRAINT "tenant_retention_days_range" CHECK ("retention_days" BETWEEN 1 AND 3650);
