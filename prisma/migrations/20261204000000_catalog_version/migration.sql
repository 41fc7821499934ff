-- What a publish matches against (a tenant's topics, their fields, its webhooks, their
-- conditions, whether a circuit is open) is cached in every process (store/catalog.ts).
-- Each change to it counts up the tenant's catalog version, in the transaction that makes
-- it; a publish reads the version (one primary-key look-up) and reloads only when it moved,
-- so a change is seen by the next publish in any process.
CREATE TABLE "catalog_version" (
  "tenant_id" UUID PRIMARY KEY,
  "version" BIGINT NOT NULL
);

CREATE FUNCTION "herald_catalog_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  tenant UUID;
BEGIN
  IF TG_TABLE_NAME IN ('webhook', 'topic') THEN
    IF TG_OP = 'DELETE' THEN tenant := OLD.tenant_id; ELSE tenant := NEW.tenant_id; END IF;
  ELSIF TG_TABLE_NAME IN ('condition', 'webhook_gate') THEN
    SELECT w.tenant_id INTO tenant FROM webhook w WHERE w.id = CASE WHEN TG_OP = 'DELETE' THEN OLD.webhook_id ELSE NEW.webhook_id END;
  ELSE
    SELECT t.tenant_id INTO tenant FROM topic t WHERE t.id = CASE WHEN TG_OP = 'DELETE' THEN OLD.topic_id ELSE NEW.topic_id END;
  END IF;
  IF tenant IS NOT NULL THEN
    INSERT INTO catalog_version AS v (tenant_id, version) VALUES (tenant, 1)
    ON CONFLICT (tenant_id) DO UPDATE SET version = v.version + 1;
  END IF;
  RETURN NULL;
END $$;

-- A webhook: any change but the failure counters a delivery keeps up to date.
CREATE TRIGGER "webhook_catalog_insert_delete" AFTER INSERT OR DELETE ON "webhook"
  FOR EACH ROW EXECUTE FUNCTION "herald_catalog_changed"();
CREATE TRIGGER "webhook_catalog_update" AFTER UPDATE ON "webhook" FOR EACH ROW
  WHEN ((to_jsonb(OLD) - '{consecutive_failures,failing_since}'::text[]) IS DISTINCT FROM (to_jsonb(NEW) - '{consecutive_failures,failing_since}'::text[]))
  EXECUTE FUNCTION "herald_catalog_changed"();
CREATE TRIGGER "condition_catalog" AFTER INSERT OR UPDATE OR DELETE ON "condition"
  FOR EACH ROW EXECUTE FUNCTION "herald_catalog_changed"();
CREATE TRIGGER "topic_catalog" AFTER INSERT OR UPDATE OR DELETE ON "topic"
  FOR EACH ROW EXECUTE FUNCTION "herald_catalog_changed"();
CREATE TRIGGER "topic_field_catalog" AFTER INSERT OR UPDATE OR DELETE ON "topic_field"
  FOR EACH ROW EXECUTE FUNCTION "herald_catalog_changed"();
-- A gate: only its circuit opening or closing (its tokens and counts change on every attempt).
CREATE TRIGGER "webhook_gate_catalog_insert" AFTER INSERT ON "webhook_gate" FOR EACH ROW
  WHEN (NEW.open_until IS NOT NULL) EXECUTE FUNCTION "herald_catalog_changed"();
CREATE TRIGGER "webhook_gate_catalog_update" AFTER UPDATE ON "webhook_gate" FOR EACH ROW
  WHEN ((OLD.open_until IS NULL) IS DISTINCT FROM (NEW.open_until IS NULL)) EXECUTE FUNCTION "herald_catalog_changed"();
CREATE TRIGGER "webhook_gate_catalog_delete" AFTER DELETE ON "webhook_gate" FOR EACH ROW
  WHEN (OLD.open_until IS NOT NULL) EXECUTE FUNCTION "herald_catalog_changed"();
