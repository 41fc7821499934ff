-- Topics Herald itself makes and keeps (the `herald` topic of its own happenings): read-only.
ALTER TABLE "topic" ADD COLUMN "built_in" BOOLEAN NOT NULL DEFAULT false;
