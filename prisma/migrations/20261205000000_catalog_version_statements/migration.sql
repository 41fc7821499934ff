-- The catalog version is counted up once per tenant per statement (was once per row: a
-- statement writing many conditions or webhooks updated the same version row as many
-- times, each update a new row version to step over). Statement triggers read the rows
-- the statement changed from its transition tables.
-- Two stay row triggers: updates of a webhook and of its gate. Deliveries update those
-- rows all the time (failures in a row, the token bucket), and a row trigger's WHEN
-- skips those updates without running anything; a statement trigger would run for each.
-- What they do bump is one webhook's configuration or circuit at a time.
DROP TRIGGER "webhook_catalog_insert_delete" ON "webhook";
DROP TRIGGER "webhook_catalog_update" ON "webhook";
DROP TRIGGER "condition_catalog" ON "condition";
DROP TRIGGER "topic_catalog" ON "topic";
DROP TRIGGER "topic_field_catalog" ON "topic_field";
DROP TRIGGER "webhook_gate_catalog_insert" ON "webhook_gate";
DROP TRIGGER "webhook_gate_catalog_update" ON "webhook_gate";
DROP TRIGGER "webhook_gate_catalog_delete" ON "webhook_gate";
DROP FUNCTION "herald_catalog_changed"();

-- Counts up each tenant's version once, tenants in one order (two statements bumping the
-- same tenants cannot deadlock).
CREATE FUNCTION "herald_catalog_bump"(tenants UUID[]) RETURNS void LANGUAGE sql AS $$
  INSERT INTO catalog_version AS v (tenant_id, version)
  SELECT DISTINCT t, 1 FROM unnest(tenants) t WHERE t IS NOT NULL ORDER BY 1
  ON CONFLICT (tenant_id) DO UPDATE SET version = v.version + 1;
$$;

-- Which tenants' catalogs the statement changed (a gate counts only with an open circuit).
CREATE FUNCTION "herald_catalog_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  tenants UUID[];
BEGIN
  IF TG_TABLE_NAME = 'webhook' THEN
    IF TG_OP = 'INSERT' THEN tenants := ARRAY(SELECT tenant_id FROM new_rows);
    ELSE tenants := ARRAY(SELECT tenant_id FROM old_rows);
    END IF;
  ELSIF TG_TABLE_NAME = 'topic' THEN
    IF TG_OP = 'DELETE' THEN tenants := ARRAY(SELECT tenant_id FROM old_rows);
    ELSE tenants := ARRAY(SELECT tenant_id FROM new_rows);
    END IF;
  ELSIF TG_TABLE_NAME = 'topic_field' THEN
    IF TG_OP = 'INSERT' THEN tenants := ARRAY(SELECT t.tenant_id FROM topic t WHERE t.id IN (SELECT topic_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN tenants := ARRAY(SELECT t.tenant_id FROM topic t WHERE t.id IN (SELECT topic_id FROM old_rows));
    ELSE tenants := ARRAY(SELECT t.tenant_id FROM topic t WHERE t.id IN (SELECT topic_id FROM new_rows UNION SELECT topic_id FROM old_rows));
    END IF;
  ELSIF TG_TABLE_NAME = 'condition' THEN
    IF TG_OP = 'INSERT' THEN tenants := ARRAY(SELECT w.tenant_id FROM webhook w WHERE w.id IN (SELECT webhook_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN tenants := ARRAY(SELECT w.tenant_id FROM webhook w WHERE w.id IN (SELECT webhook_id FROM old_rows));
    ELSE tenants := ARRAY(SELECT w.tenant_id FROM webhook w WHERE w.id IN (SELECT webhook_id FROM new_rows UNION SELECT webhook_id FROM old_rows));
    END IF;
  ELSE -- webhook_gate
    IF TG_OP = 'INSERT' THEN
      tenants := ARRAY(SELECT w.tenant_id FROM webhook w WHERE w.id IN (SELECT webhook_id FROM new_rows WHERE open_until IS NOT NULL));
    ELSE
      tenants := ARRAY(SELECT w.tenant_id FROM webhook w WHERE w.id IN (SELECT webhook_id FROM old_rows WHERE open_until IS NOT NULL));
    END IF;
  END IF;
  IF cardinality(tenants) > 0 THEN PERFORM herald_catalog_bump(tenants); END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "webhook_catalog_insert" AFTER INSERT ON "webhook" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "herald_catalog_changed"();
CREATE TRIGGER "webhook_catalog_delete" AFTER DELETE ON "webhook" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "herald_catalog_changed"();
CREATE TRIGGER "topic_catalog_insert" AFTER INSERT ON "topic" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "herald_catalog_changed"();
CREATE TRIGGER "topic_catalog_update" AFTER UPDATE ON "topic" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "herald_catalog_changed"();
CREATE TRIGGER "topic_catalog_delete" AFTER DELETE ON "topic" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "herald_catalog_changed"();
CREATE TRIGGER "topic_field_catalog_insert" AFTER INSERT ON "topic_field" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "herald_catalog_changed"();
CREATE TRIGGER "topic_field_catalog_update" AFTER UPDATE ON "topic_field" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "herald_catalog_changed"();
CREATE TRIGGER "topic_field_catalog_delete" AFTER DELETE ON "topic_field" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "herald_catalog_changed"();
CREATE TRIGGER "condition_catalog_insert" AFTER INSERT ON "condition" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "herald_catalog_changed"();
CREATE TRIGGER "condition_catalog_update" AFTER UPDATE ON "condition" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "herald_catalog_changed"();
CREATE TRIGGER "condition_catalog_delete" AFTER DELETE ON "condition" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "herald_catalog_changed"();
CREATE TRIGGER "webhook_gate_catalog_insert" AFTER INSERT ON "webhook_gate" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "herald_catalog_changed"();
CREATE TRIGGER "webhook_gate_catalog_delete" AFTER DELETE ON "webhook_gate" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "herald_catalog_changed"();

-- The two row triggers: a webhook's changes but the failure counters a delivery keeps; a
-- gate's circuit opening or closing.
CREATE FUNCTION "herald_catalog_row_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'webhook' THEN
    PERFORM herald_catalog_bump(ARRAY[NEW.tenant_id]);
  ELSE
    PERFORM herald_catalog_bump(ARRAY(SELECT w.tenant_id FROM webhook w WHERE w.id = NEW.webhook_id));
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "webhook_catalog_update" AFTER UPDATE ON "webhook" FOR EACH ROW
  WHEN ((to_jsonb(OLD) - '{consecutive_failures,failing_since}'::text[]) IS DISTINCT FROM (to_jsonb(NEW) - '{consecutive_failures,failing_since}'::text[]))
  EXECUTE FUNCTION "herald_catalog_row_changed"();
CREATE TRIGGER "webhook_gate_catalog_update" AFTER UPDATE ON "webhook_gate" FOR EACH ROW
  WHEN ((OLD.open_until IS NULL) IS DISTINCT FROM (NEW.open_until IS NULL)) EXECUTE FUNCTION "herald_catalog_row_changed"();
