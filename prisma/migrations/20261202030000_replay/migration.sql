-- Which batches hold an event (a replay skips events a batching webhook already has;
-- deleting an event finds its batch rows without reading them all).
CREATE INDEX "batch_event_event_id_idx" ON "batch_event"("event_id");
