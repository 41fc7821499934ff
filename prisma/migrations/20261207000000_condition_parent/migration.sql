-- Deleting a condition (or a webhook, whose conditions go with it) looks for the rows whose
-- parent it was, once per row deleted: without an index that read the whole table each
-- time (501 conditions of one webhook among 5,500: 237 ms). Now it grows with webhooks no more.
CREATE INDEX "condition_parent_id_idx" ON "condition"("parent_id");
