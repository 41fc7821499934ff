-- When several webhooks of an event send the same body (the default envelope, say), it is
-- stored once, with the event, and their instances' payloads leave it out.
ALTER TABLE "event" ADD COLUMN "shared_body" TEXT;
