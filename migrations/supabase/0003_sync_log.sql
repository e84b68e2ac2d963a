-- Showdesk 0003: the change log behind sync_pull, tombstones, idempotency records, and the
-- server-side rules that run on every write (revocation list, double-entry flags).
--
-- THE CURSOR (see sync_pull in 0005). Every change of a replicated row records
--   version     a change number from sync_version_seq (also stored in the row), and
--   change_xid  the id of the writing transaction (pg_current_xact_id(), xid8).
-- A pull only returns changes whose change_xid is below the xmin of its snapshot: every
-- transaction with a smaller id has finished, so no transaction can still commit a change
-- that sorts before the returned ones. Pages are ordered by (change_xid, version); the cursor
-- is that pair. A transaction that took its change number early but commits late keeps the
-- watermark below its own xid until it ends, so its rows are never skipped.

SET search_path = showdesk, pg_catalog;

CREATE SEQUENCE IF NOT EXISTS showdesk.sync_version_seq;

-- One entry per replicated row: where it belongs, its latest change, whether it is deleted
-- (a tombstone, kept for sync_settings.tombstone_retention_days), and per-column change
-- numbers used to detect conflicting edits ({column: version of its last change}).
CREATE TABLE IF NOT EXISTS showdesk.sync_changes (
  table_name       text NOT NULL,
  row_id           uuid NOT NULL,
  event_id         uuid,
  organization_id  uuid,
  version          bigint NOT NULL,
  change_xid       xid8 NOT NULL,
  deleted          boolean NOT NULL DEFAULT false,
  changed_at       timestamptz NOT NULL DEFAULT now(),
  column_versions  jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (table_name, row_id)
);
CREATE INDEX IF NOT EXISTS sync_changes_event_idx ON showdesk.sync_changes (event_id, change_xid, version);
CREATE INDEX IF NOT EXISTS sync_changes_org_idx ON showdesk.sync_changes (organization_id, change_xid, version)
  WHERE event_id IS NULL;
CREATE INDEX IF NOT EXISTS sync_changes_tombstone_idx ON showdesk.sync_changes (changed_at) WHERE deleted;

-- Applied client mutations and the result they got (replays answer "duplicate" with it).
CREATE TABLE IF NOT EXISTS showdesk.sync_mutations (
  mutation_id      uuid PRIMARY KEY,
  device_id        uuid NOT NULL,
  organization_id  uuid NOT NULL,
  table_name       text NOT NULL,
  row_id           uuid,
  op               text NOT NULL,
  status           text NOT NULL,
  result           jsonb NOT NULL,
  applied_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS sync_mutations_applied_at_idx ON showdesk.sync_mutations (applied_at);

CREATE TABLE IF NOT EXISTS showdesk.sync_settings (
  key    text PRIMARY KEY,
  value  jsonb NOT NULL
);
INSERT INTO sync_settings (key, value) VALUES
  ('tombstone_retention_days', '30'::jsonb),
  -- highest (change_xid, version) of a purged tombstone: older cursors must resync fully
  ('purge_horizon', '{"xid": "0", "version": 0}'::jsonb)
ON CONFLICT (key) DO NOTHING;

-- The replicated tables, parents before children.
CREATE OR REPLACE FUNCTION showdesk_private.sync_tables() RETURNS text[]
LANGUAGE sql IMMUTABLE
AS $$
  SELECT ARRAY[
    'organizations', 'venues', 'events', 'ticket_types', 'orders', 'attendees', 'tickets',
    'revoked_tokens', 'checkins', 'runway_shows', 'runway_segments', 'designers', 'models',
    'looks', 'runway_appearances', 'people', 'call_times', 'devices', 'staff'
  ]::text[]
$$;

CREATE OR REPLACE FUNCTION showdesk_private.try_uuid(p text) RETURNS uuid
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
  RETURN nullif(p, '')::uuid;
EXCEPTION WHEN invalid_text_representation THEN
  RETURN NULL;
END
$$;

-- Which event and organization a row belongs to (for pull scoping and RLS of the log).
CREATE OR REPLACE FUNCTION showdesk_private.row_scope(p_table text, p_row jsonb,
  OUT event_id uuid, OUT organization_id uuid)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
BEGIN
  CASE p_table
    WHEN 'organizations' THEN
      organization_id := (p_row ->> 'id')::uuid;
    WHEN 'venues', 'devices' THEN
      organization_id := (p_row ->> 'organization_id')::uuid;
    WHEN 'staff' THEN
      organization_id := (p_row ->> 'organization_id')::uuid;
      event_id := (p_row ->> 'event_id')::uuid;
    WHEN 'events' THEN
      event_id := (p_row ->> 'id')::uuid;
      organization_id := (p_row ->> 'organization_id')::uuid;
    WHEN 'runway_segments' THEN
      SELECT s.event_id INTO event_id FROM showdesk.runway_shows s WHERE s.id = (p_row ->> 'show_id')::uuid;
    WHEN 'runway_appearances' THEN
      SELECT s.event_id INTO event_id
        FROM showdesk.runway_segments g JOIN showdesk.runway_shows s ON s.id = g.show_id
       WHERE g.id = (p_row ->> 'segment_id')::uuid;
    ELSE
      event_id := (p_row ->> 'event_id')::uuid;
  END CASE;
  IF organization_id IS NULL AND event_id IS NOT NULL THEN
    SELECT e.organization_id INTO organization_id FROM showdesk.events e WHERE e.id = event_id;
  END IF;
END
$$;

-- BEFORE INSERT/UPDATE: a new change number and updated_at. An UPDATE that changes nothing
-- keeps its version (no pointless re-sync).
CREATE OR REPLACE FUNCTION showdesk_private.sync_stamp() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
BEGIN
  IF TG_OP = 'UPDATE'
     AND (to_jsonb(NEW) - 'version' - 'updated_at') = (to_jsonb(OLD) - 'version' - 'updated_at') THEN
    NEW.version := OLD.version;
    NEW.updated_at := OLD.updated_at;
    RETURN NEW;
  END IF;
  NEW.version := nextval('showdesk.sync_version_seq');
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

-- AFTER INSERT/UPDATE/DELETE: record the change (or tombstone) in sync_changes.
CREATE OR REPLACE FUNCTION showdesk_private.sync_log() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  r jsonb;
  o jsonb;
  v_version bigint;
  v_changed jsonb := '{}'::jsonb;
  v_scope record;
BEGIN
  IF TG_OP = 'DELETE' THEN
    r := to_jsonb(OLD);
    v_version := nextval('showdesk.sync_version_seq');
  ELSE
    IF TG_OP = 'UPDATE' AND NEW.version = OLD.version THEN
      RETURN NULL;
    END IF;
    r := to_jsonb(NEW);
    v_version := NEW.version;
    IF TG_OP = 'UPDATE' THEN
      o := to_jsonb(OLD);
      SELECT coalesce(jsonb_object_agg(k.key, v_version), '{}'::jsonb) INTO v_changed
        FROM jsonb_each(r) k
       WHERE k.key NOT IN ('version', 'updated_at') AND k.value IS DISTINCT FROM o -> k.key;
    END IF;
  END IF;
  v_scope := showdesk_private.row_scope(TG_TABLE_NAME, r);
  INSERT INTO showdesk.sync_changes AS c
    (table_name, row_id, event_id, organization_id, version, change_xid, deleted, changed_at,
     column_versions)
  VALUES
    (TG_TABLE_NAME, (r ->> 'id')::uuid, v_scope.event_id, v_scope.organization_id, v_version,
     pg_current_xact_id(), TG_OP = 'DELETE', now(), v_changed)
  ON CONFLICT (table_name, row_id) DO UPDATE SET
    event_id = excluded.event_id,
    organization_id = excluded.organization_id,
    version = excluded.version,
    change_xid = excluded.change_xid,
    deleted = excluded.deleted,
    changed_at = excluded.changed_at,
    column_versions = CASE
      WHEN TG_OP = 'INSERT' THEN '{}'::jsonb
      ELSE c.column_versions || excluded.column_versions
    END;
  RETURN NULL;
END
$$;

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY showdesk_private.sync_tables() LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS sync_stamp ON showdesk.%I', t);
    EXECUTE format('CREATE TRIGGER sync_stamp BEFORE INSERT OR UPDATE ON showdesk.%I
                    FOR EACH ROW EXECUTE FUNCTION showdesk_private.sync_stamp()', t);
    EXECUTE format('DROP TRIGGER IF EXISTS sync_log ON showdesk.%I', t);
    EXECUTE format('CREATE TRIGGER sync_log AFTER INSERT OR UPDATE OR DELETE ON showdesk.%I
                    FOR EACH ROW EXECUTE FUNCTION showdesk_private.sync_log()', t);
  END LOOP;
END
$$;

-- Revocation list: cancelling, refunding or transferring a ticket revokes its current token;
-- re-issuing (a new token_serial) revokes the old serial.
CREATE OR REPLACE FUNCTION showdesk_private.tickets_revoke() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
BEGIN
  IF OLD.status = 'valid' AND NEW.status IN ('cancelled', 'refunded', 'transferred') THEN
    INSERT INTO showdesk.revoked_tokens (event_id, ticket_id, token_serial, reason)
    VALUES (NEW.event_id, NEW.id, OLD.token_serial, NEW.status)
    ON CONFLICT (ticket_id, token_serial) DO NOTHING;
  END IF;
  IF NEW.token_serial IS DISTINCT FROM OLD.token_serial THEN
    INSERT INTO showdesk.revoked_tokens (event_id, ticket_id, token_serial, reason)
    VALUES (NEW.event_id, NEW.id, OLD.token_serial, 'reissued')
    ON CONFLICT (ticket_id, token_serial) DO NOTHING;
  END IF;
  RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS tickets_revoke ON tickets;
CREATE TRIGGER tickets_revoke AFTER UPDATE OF status, token_serial ON tickets
  FOR EACH ROW EXECUTE FUNCTION showdesk_private.tickets_revoke();

-- Double entry: walking a ticket's scans in device-time order, an admission while the
-- ticket is already inside (or any second admission when the tier has no re-entry) is a
-- double entry. The first admission by device time always stands, whatever order the scans
-- reach the server in. Annulled scans do not count.
CREATE OR REPLACE FUNCTION showdesk_private.recompute_double_entries(p_ticket_id uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_reentry boolean;
  v_inside boolean := false;
  v_admitted boolean := false;
  v_flag boolean;
  r record;
BEGIN
  -- Serialise per ticket so two devices' admissions pushed at once see each other.
  PERFORM pg_advisory_xact_lock(hashtextextended('showdesk.checkins:' || p_ticket_id::text, 0));
  SELECT coalesce(tt.allow_reentry, true) INTO v_reentry
    FROM showdesk.tickets t JOIN showdesk.ticket_types tt ON tt.id = t.ticket_type_id
   WHERE t.id = p_ticket_id;
  v_reentry := coalesce(v_reentry, true);
  FOR r IN
    SELECT c.id, c.direction, c.verdict, c.double_entry,
           EXISTS (SELECT 1 FROM showdesk.checkins a
                    WHERE a.kind = 'annul' AND a.annuls_checkin_id = c.id) AS annulled
      FROM showdesk.checkins c
     WHERE c.ticket_id = p_ticket_id AND c.kind = 'scan'
     ORDER BY c.scanned_at, c.id
  LOOP
    v_flag := false;
    IF NOT r.annulled THEN
      IF r.direction = 'in' AND r.verdict = 'admitted' THEN
        IF v_inside OR (v_admitted AND NOT v_reentry) THEN
          v_flag := true;
        ELSE
          v_inside := true;
          v_admitted := true;
        END IF;
      ELSIF r.direction = 'out' AND r.verdict = 'exit_recorded' THEN
        v_inside := false;
      END IF;
    END IF;
    IF v_flag IS DISTINCT FROM r.double_entry THEN
      UPDATE showdesk.checkins SET double_entry = v_flag WHERE id = r.id;
    END IF;
  END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION showdesk_private.checkins_double_entry() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_ticket uuid;
BEGIN
  IF NEW.ticket_id IS NOT NULL THEN
    PERFORM showdesk_private.recompute_double_entries(NEW.ticket_id);
  END IF;
  IF NEW.annuls_checkin_id IS NOT NULL THEN
    SELECT ticket_id INTO v_ticket FROM showdesk.checkins WHERE id = NEW.annuls_checkin_id;
    IF v_ticket IS NOT NULL AND v_ticket IS DISTINCT FROM NEW.ticket_id THEN
      PERFORM showdesk_private.recompute_double_entries(v_ticket);
    END IF;
  END IF;
  RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS checkins_double_entry ON checkins;
CREATE TRIGGER checkins_double_entry AFTER INSERT ON checkins
  FOR EACH ROW EXECUTE FUNCTION showdesk_private.checkins_double_entry();

-- Drop tombstones (and idempotency records) older than the retention; remember the newest
-- purged tombstone so clients whose cursor is older get reset=true.
CREATE OR REPLACE FUNCTION showdesk.sync_purge(p_now timestamptz DEFAULT now()) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_days numeric;
  v_cut timestamptz;
  v_count bigint;
  v_mutations bigint;
  v_top_xid xid8;
  v_top_version bigint;
  v_old jsonb;
BEGIN
  SELECT value::text::numeric INTO v_days FROM showdesk.sync_settings WHERE key = 'tombstone_retention_days';
  v_cut := p_now - make_interval(secs => coalesce(v_days, 30) * 86400);
  WITH gone AS (
    DELETE FROM showdesk.sync_changes WHERE deleted AND changed_at < v_cut
    RETURNING change_xid, version
  )
  SELECT count(*),
         (array_agg(change_xid ORDER BY change_xid DESC, version DESC))[1],
         (array_agg(version ORDER BY change_xid DESC, version DESC))[1]
    INTO v_count, v_top_xid, v_top_version
    FROM gone;
  IF v_count > 0 THEN
    SELECT value INTO v_old FROM showdesk.sync_settings WHERE key = 'purge_horizon';
    -- the horizon only moves forward
    IF (v_top_xid, v_top_version) > ((v_old ->> 'xid')::xid8, (v_old ->> 'version')::bigint) THEN
      UPDATE showdesk.sync_settings
         SET value = jsonb_build_object('xid', v_top_xid::text, 'version', v_top_version)
       WHERE key = 'purge_horizon';
    END IF;
  END IF;
  DELETE FROM showdesk.sync_mutations WHERE applied_at < v_cut;
  GET DIAGNOSTICS v_mutations = ROW_COUNT;
  RETURN jsonb_build_object('purged_tombstones', v_count, 'purged_mutations', v_mutations);
END
$$;

RESET search_path;
