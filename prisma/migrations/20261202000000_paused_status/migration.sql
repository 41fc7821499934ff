-- A delivery held for a paused webhook (sent when it resumes). Its own migration:
-- a new enum value cannot be used in the transaction that adds it.
ALTER TYPE "InstanceStatus" ADD VALUE 'PAUSED' AFTER 'RETRYING';
