-- Showdesk 0004: who may see and change what (Row Level Security on every table) and grants.
--
-- Identity comes from the JWT claims PostgREST sets (auth.jwt()):
--   app_metadata.organization_id  the caller's organization
--   app_metadata.staff_role       door | producer | organizer | admin
--   app_metadata.device_id        the kiosk, when the caller is a device
-- When app_metadata has no organization, the caller is looked up by auth.uid() in staff
-- (staff.id = auth user id) and then in devices (devices.id = auth user id; role door).
-- A revoked device (devices.revoked_at set) or a device of another organization sees nothing.
--
-- Roles see: door      — the door tables (events, tiers, orders, attendees, tickets,
--                         revocations, check-ins) and may add check-ins;
--            producer  — the backstage tables (lineup, models, looks, people, call times)
--                         and may change them;
--            organizer, admin — everything of their organization.
-- All roles read their organization, venues, devices and staff. anon gets no grants at all.
-- service_role has BYPASSRLS (Supabase's service key).

SET search_path = showdesk, pg_catalog;

CREATE OR REPLACE FUNCTION showdesk_private.claims() RETURNS jsonb
LANGUAGE sql STABLE
AS $$
  SELECT coalesce(nullif(current_setting('request.jwt.claims', true), '')::jsonb, '{}'::jsonb)
$$;

-- The caller's organization and role, resolved once: (organization_id, staff_role, device_id).
CREATE OR REPLACE FUNCTION showdesk_private.whoami(
  OUT organization_id uuid, OUT staff_role text, OUT device_id uuid)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  c jsonb := showdesk_private.claims();
  v_sub uuid := showdesk_private.try_uuid(c ->> 'sub');
  -- Policies ask this several times per statement: the answer is kept for the transaction,
  -- keyed by the claims it was computed from.
  v_key text := md5(coalesce(current_setting('request.jwt.claims', true), ''));
  v_cached text := current_setting('showdesk.whoami', true);
BEGIN
  IF v_cached IS NOT NULL AND split_part(v_cached, '|', 1) = v_key THEN
    organization_id := nullif(split_part(v_cached, '|', 2), '')::uuid;
    staff_role := nullif(split_part(v_cached, '|', 3), '');
    device_id := nullif(split_part(v_cached, '|', 4), '')::uuid;
    RETURN;
  END IF;
  organization_id := showdesk_private.try_uuid(c -> 'app_metadata' ->> 'organization_id');
  staff_role := nullif(c -> 'app_metadata' ->> 'staff_role', '');
  device_id := showdesk_private.try_uuid(c -> 'app_metadata' ->> 'device_id');
  IF organization_id IS NULL AND v_sub IS NOT NULL THEN
    SELECT s.organization_id, coalesce(staff_role, s.role) INTO organization_id, staff_role
      FROM showdesk.staff s WHERE s.id = v_sub;
    IF organization_id IS NULL THEN
      SELECT d.organization_id, d.id INTO organization_id, device_id
        FROM showdesk.devices d WHERE d.id = v_sub;
    END IF;
  END IF;
  IF staff_role IS NULL AND device_id IS NOT NULL THEN
    staff_role := 'door';
  END IF;
  IF device_id IS NOT NULL AND EXISTS (
       SELECT 1 FROM showdesk.devices d
        WHERE d.id = whoami.device_id
          AND (d.revoked_at IS NOT NULL OR d.organization_id IS DISTINCT FROM whoami.organization_id)) THEN
    organization_id := NULL;
    staff_role := NULL;
  END IF;
  IF staff_role NOT IN ('door', 'producer', 'organizer', 'admin') THEN
    staff_role := NULL;
  END IF;
  IF organization_id IS NULL THEN
    staff_role := NULL;
  END IF;
  PERFORM set_config('showdesk.whoami',
                     concat_ws('|', v_key, coalesce(organization_id::text, ''), coalesce(staff_role, ''),
                               coalesce(device_id::text, '')),
                     true);
END
$$;

CREATE OR REPLACE FUNCTION showdesk_private.my_org() RETURNS uuid
LANGUAGE sql STABLE
AS $$ SELECT (showdesk_private.whoami()).organization_id $$;

CREATE OR REPLACE FUNCTION showdesk_private.my_role() RETURNS text
LANGUAGE sql STABLE
AS $$ SELECT (showdesk_private.whoami()).staff_role $$;

CREATE OR REPLACE FUNCTION showdesk_private.my_event_ids() RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
  SELECT coalesce(array_agg(e.id), '{}'::uuid[])
    FROM showdesk.events e
   WHERE e.organization_id = showdesk_private.my_org()
$$;

CREATE OR REPLACE FUNCTION showdesk_private.show_event_id(p_show_id uuid) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$ SELECT event_id FROM showdesk.runway_shows WHERE id = p_show_id $$;

CREATE OR REPLACE FUNCTION showdesk_private.segment_event_id(p_segment_id uuid) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
  SELECT s.event_id FROM showdesk.runway_segments g JOIN showdesk.runway_shows s ON s.id = g.show_id
   WHERE g.id = p_segment_id
$$;

-- Tables a role may read / change. ("write" covers insert, update and delete; check-ins
-- are append-only: door staff insert them, only organizers and admins may correct them.)
CREATE OR REPLACE FUNCTION showdesk_private.role_tables(p_role text, p_action text) RETURNS text[]
LANGUAGE sql IMMUTABLE
AS $$
  SELECT CASE
    WHEN p_role IN ('organizer', 'admin') THEN
      CASE WHEN p_action = 'read' OR p_role = 'admin' THEN showdesk_private.sync_tables()
           ELSE array_remove(showdesk_private.sync_tables(), 'organizations') END
    WHEN p_role = 'door' THEN
      CASE p_action
        WHEN 'read' THEN ARRAY['organizations', 'venues', 'events', 'ticket_types', 'orders',
                               'attendees', 'tickets', 'revoked_tokens', 'checkins', 'devices', 'staff']
        WHEN 'insert' THEN ARRAY['checkins']
        ELSE '{}'::text[] END
    WHEN p_role = 'producer' THEN
      CASE p_action
        WHEN 'read' THEN ARRAY['organizations', 'venues', 'events', 'runway_shows', 'runway_segments',
                               'designers', 'models', 'looks', 'runway_appearances', 'people',
                               'call_times', 'devices', 'staff']
        ELSE ARRAY['runway_shows', 'runway_segments', 'designers', 'models', 'looks',
                   'runway_appearances', 'people', 'call_times'] END
    ELSE '{}'::text[]
  END
$$;

CREATE OR REPLACE FUNCTION showdesk_private.can(p_table text, p_action text) RETURNS boolean
LANGUAGE sql STABLE
AS $$ SELECT p_table = ANY (showdesk_private.role_tables(showdesk_private.my_role(), p_action)) $$;

CREATE OR REPLACE FUNCTION showdesk_private.readable_tables() RETURNS text[]
LANGUAGE sql STABLE
AS $$ SELECT showdesk_private.role_tables(showdesk_private.my_role(), 'read') $$;

-- Policies: one per action, generated from (table, scope). The scope expression decides
-- "belongs to my organization"; can(table, action) decides "my role may do this here".
DO $$
DECLARE
  t text;
  scope text;
  w_insert text;
  w_update text;
  w_delete text;
BEGIN
  FOREACH t IN ARRAY showdesk_private.sync_tables() LOOP
    scope := CASE t
      WHEN 'organizations' THEN 'id = (SELECT showdesk_private.my_org())'
      WHEN 'venues' THEN 'organization_id = (SELECT showdesk_private.my_org())'
      WHEN 'devices' THEN 'organization_id = (SELECT showdesk_private.my_org())'
      WHEN 'staff' THEN 'organization_id = (SELECT showdesk_private.my_org())'
      WHEN 'events' THEN 'organization_id = (SELECT showdesk_private.my_org())'
      WHEN 'runway_segments' THEN
        'showdesk_private.show_event_id(show_id) = ANY ((SELECT showdesk_private.my_event_ids())::uuid[])'
      WHEN 'runway_appearances' THEN
        'showdesk_private.segment_event_id(segment_id) = ANY ((SELECT showdesk_private.my_event_ids())::uuid[])'
      ELSE 'event_id = ANY ((SELECT showdesk_private.my_event_ids())::uuid[])'
    END;
    w_insert := format('(SELECT showdesk_private.can(%L, ''insert'') OR showdesk_private.can(%L, ''write''))', t, t);
    w_update := format('(SELECT showdesk_private.can(%L, ''write''))', t);
    w_delete := w_update;
    EXECUTE format('ALTER TABLE showdesk.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('DROP POLICY IF EXISTS sd_select ON showdesk.%I', t);
    EXECUTE format('DROP POLICY IF EXISTS sd_insert ON showdesk.%I', t);
    EXECUTE format('DROP POLICY IF EXISTS sd_update ON showdesk.%I', t);
    EXECUTE format('DROP POLICY IF EXISTS sd_delete ON showdesk.%I', t);
    EXECUTE format('CREATE POLICY sd_select ON showdesk.%I FOR SELECT TO authenticated
                    USING ((SELECT showdesk_private.can(%L, ''read'')) AND %s)', t, t, scope);
    EXECUTE format('CREATE POLICY sd_insert ON showdesk.%I FOR INSERT TO authenticated
                    WITH CHECK (%s AND %s)', t, w_insert, scope);
    EXECUTE format('CREATE POLICY sd_update ON showdesk.%I FOR UPDATE TO authenticated
                    USING (%s AND %s) WITH CHECK (%s AND %s)', t, w_update, scope, w_update, scope);
    EXECUTE format('CREATE POLICY sd_delete ON showdesk.%I FOR DELETE TO authenticated
                    USING (%s AND %s)', t, w_delete, scope);
    EXECUTE format('REVOKE ALL ON showdesk.%I FROM PUBLIC, anon', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON showdesk.%I TO authenticated', t);
    EXECUTE format('GRANT ALL ON showdesk.%I TO service_role', t);
  END LOOP;
END
$$;

-- The change log: readable where the row itself would be (same organization, same role
-- tables); written only by the SECURITY DEFINER triggers.
ALTER TABLE sync_changes ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS sd_select ON sync_changes;
CREATE POLICY sd_select ON sync_changes FOR SELECT TO authenticated
  USING (
    table_name = ANY ((SELECT showdesk_private.readable_tables())::text[])
    AND (event_id = ANY ((SELECT showdesk_private.my_event_ids())::uuid[])
         OR (event_id IS NULL AND organization_id = (SELECT showdesk_private.my_org())))
  );
REVOKE ALL ON sync_changes FROM PUBLIC, anon;
GRANT SELECT ON sync_changes TO authenticated;
GRANT ALL ON sync_changes TO service_role;

-- Idempotency records: a caller sees and adds only its organization's.
ALTER TABLE sync_mutations ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS sd_select ON sync_mutations;
DROP POLICY IF EXISTS sd_insert ON sync_mutations;
CREATE POLICY sd_select ON sync_mutations FOR SELECT TO authenticated
  USING (organization_id = (SELECT showdesk_private.my_org()));
CREATE POLICY sd_insert ON sync_mutations FOR INSERT TO authenticated
  WITH CHECK (organization_id = (SELECT showdesk_private.my_org()));
REVOKE ALL ON sync_mutations FROM PUBLIC, anon;
GRANT SELECT, INSERT ON sync_mutations TO authenticated;
GRANT ALL ON sync_mutations TO service_role;

ALTER TABLE sync_settings ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS sd_select ON sync_settings;
CREATE POLICY sd_select ON sync_settings FOR SELECT TO authenticated USING (true);
REVOKE ALL ON sync_settings FROM PUBLIC, anon;
GRANT SELECT ON sync_settings TO authenticated;
GRANT ALL ON sync_settings TO service_role;

REVOKE ALL ON SEQUENCE sync_version_seq FROM PUBLIC, anon;
GRANT USAGE, SELECT ON SEQUENCE sync_version_seq TO service_role;

-- Helpers used by policies run with the caller's rights: authenticated may execute them,
-- anon may not (anon has no table access anyway).
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA showdesk_private FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA showdesk_private TO authenticated, service_role;
REVOKE EXECUTE ON FUNCTION showdesk.sync_purge(timestamptz) FROM PUBLIC;
DO $$
BEGIN
  EXECUTE 'REVOKE EXECUTE ON FUNCTION showdesk.sync_purge(timestamptz) FROM anon, authenticated';
  EXECUTE 'GRANT EXECUTE ON FUNCTION showdesk.sync_purge(timestamptz) TO service_role';
END
$$;

RESET search_path;
