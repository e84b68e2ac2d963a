-- Showdesk 0022: staff who sign in at a shared kiosk, and who did each check-in.
--
-- A staff row (0002: organization, event, name, email, role door | producer | organizer |
-- admin, pin_hash) gains what a kiosk needs to sign someone in offline:
--
--   badge_code    what the staff badge's QR carries (`SDS1:<badge_code>`, app/store/staff.py):
--                 32 lowercase hex digits, unique in the organization. The server's default is
--                 a fresh gen_random_uuid() without its dashes (122 random bits from
--                 pg_strong_random()); the app makes its own with secrets.token_hex(16) (128
--                 bits). Anything else is refused by a CHECK, so a short or typed-in code cannot
--                 be stored. Existing rows get one here.
--   disabled_at   set by an organizer: the staff member can no longer sign in anywhere. It
--                 reaches kiosks with their next pull like any staff change; a kiosk checks it
--                 offline. Their own account, if they have one (staff.id = auth user), is
--                 cut off on the server at once (whoami).
--   pin_hash      (0002) now only an Argon2id PHC string (`$argon2id$v=19$m=..,t=..,p=..$salt$hash`):
--                 a CHECK refuses anything else, so a plain PIN can never be stored. Values
--                 already stored that are not such a string are cleared here (that staff
--                 member needs a new PIN), and the count is reported in a NOTICE.
--
-- Only an admin may write a staff row whose role is (or was) admin: an organizer cannot make
-- an admin, or change or remove one (a trigger; 42501 "Only an admin can ...").
--
-- Who read and write staff rows is 0004's and 0016's, unchanged: every role reads the staff
-- of its organization (a door kiosk needs the hashes to check a PIN offline), only organizers
-- and admins write them; staff is already a replicated table, so a change (a new PIN, a
-- disabled member) reaches every kiosk of the organization with its next pull.
--
-- checkins.staff_id: the staff member signed in at the kiosk when it scanned or annulled (NULL
-- when no one was, as on every older row). Like the other check-in references (ticket_id,
-- device_id, annuls_checkin_id) it has no foreign key: a scan is never refused because its
-- staff row was deleted meanwhile. The INSERT/UPDATE policies check it like 0016 checks
-- device_id: an id of another organization's staff, or of staff who work another event only
-- (staff.event_id set), is refused (the same RLS refusal any foreign row gets; sync_push:
-- "Not permitted: ..."); an id no staff row has is accepted.
-- SECURITY DEFINER helper `staff_ref_ok`, answering only about the caller's organization.
-- The same for runway_appearances.edited_by_staff_id (the staff member of the row's last
-- applied edit: a move, a status, a model, a look, notes) and call_times.arrived_by_staff_id
-- (who recorded the arrival that stands). apply_mutation (0005) is replaced so that these two
-- never conflict on their own (two producers editing different columns of one look still
-- merge; the last applied edit's staff stands) and an arrival's staff follows the earliest
-- arrival, as arrived_at does.
--
-- Grants: the helper is executable by authenticated (a policy calls it as the caller), as
-- 0016's are; re-applying 0015 on its own takes that back: re-apply 0016 and this file after it.

SET search_path = showdesk, pg_catalog;

-- --- staff: badge code, disabled_at, PIN hash format ---------------------------------------

ALTER TABLE showdesk.staff ADD COLUMN IF NOT EXISTS badge_code text;
ALTER TABLE showdesk.staff ADD COLUMN IF NOT EXISTS disabled_at timestamptz;

UPDATE showdesk.staff SET badge_code = replace(gen_random_uuid()::text, '-', '')
 WHERE badge_code IS NULL OR badge_code !~ '^[0-9a-f]{32}$';
ALTER TABLE showdesk.staff ALTER COLUMN badge_code SET DEFAULT replace(gen_random_uuid()::text, '-', '');
ALTER TABLE showdesk.staff ALTER COLUMN badge_code SET NOT NULL;

DO $$
DECLARE
  v_cleared int;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'staff_badge_code_format'
                    AND conrelid = 'showdesk.staff'::regclass) THEN
    ALTER TABLE showdesk.staff ADD CONSTRAINT staff_badge_code_format
      CHECK (badge_code ~ '^[0-9a-f]{32}$');
  END IF;

  UPDATE showdesk.staff SET pin_hash = NULL
   WHERE pin_hash IS NOT NULL
     AND pin_hash !~ '^\$argon2id\$v=19\$m=[0-9]+,t=[0-9]+,p=[0-9]+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$';
  GET DIAGNOSTICS v_cleared = ROW_COUNT;
  IF v_cleared > 0 THEN
    RAISE NOTICE 'showdesk 0022: cleared % staff PIN(s) that were not Argon2id hashes; set new PINs', v_cleared;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'staff_pin_hash_argon2id'
                    AND conrelid = 'showdesk.staff'::regclass) THEN
    ALTER TABLE showdesk.staff ADD CONSTRAINT staff_pin_hash_argon2id
      CHECK (pin_hash IS NULL
             OR pin_hash ~ '^\$argon2id\$v=19\$m=[0-9]+,t=[0-9]+,p=[0-9]+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$');
  END IF;
  -- 0020's length limit for the new text column (its name carries the limit)
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'staff_badge_code_max_2000'
                    AND conrelid = 'showdesk.staff'::regclass) THEN
    ALTER TABLE showdesk.staff ADD CONSTRAINT staff_badge_code_max_2000
      CHECK (char_length(badge_code) <= 2000) NOT VALID;
  END IF;
END
$$;

CREATE UNIQUE INDEX IF NOT EXISTS staff_organization_badge_code_key
  ON showdesk.staff (organization_id, badge_code);

-- Only an admin writes an admin's staff row. my_role() is NULL for service_role and the
-- bridges (they are not limited here); an organizer is refused.
CREATE OR REPLACE FUNCTION showdesk_private.staff_admin_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_role text := showdesk_private.my_role();
BEGIN
  IF v_role IS DISTINCT FROM 'organizer' THEN
    RETURN coalesce(NEW, OLD);
  END IF;
  IF (TG_OP <> 'DELETE' AND NEW.role = 'admin') OR (TG_OP <> 'INSERT' AND OLD.role = 'admin') THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = 'Only an admin can add, change or remove an admin''s staff row.';
  END IF;
  RETURN coalesce(NEW, OLD);
END
$$;

DROP TRIGGER IF EXISTS staff_admin_guard ON showdesk.staff;
CREATE TRIGGER staff_admin_guard BEFORE INSERT OR UPDATE OR DELETE ON showdesk.staff
  FOR EACH ROW EXECUTE FUNCTION showdesk_private.staff_admin_guard();

-- --- check-ins, arrivals, lineup edits: who did them ---------------------------------

ALTER TABLE showdesk.checkins ADD COLUMN IF NOT EXISTS staff_id uuid;
ALTER TABLE showdesk.runway_appearances ADD COLUMN IF NOT EXISTS edited_by_staff_id uuid;
ALTER TABLE showdesk.call_times ADD COLUMN IF NOT EXISTS arrived_by_staff_id uuid;
CREATE INDEX IF NOT EXISTS checkins_staff_id_idx ON showdesk.checkins (staff_id) WHERE staff_id IS NOT NULL;

-- A staff reference (checkins.staff_id, call_times.arrived_by_staff_id,
-- runway_appearances.edited_by_staff_id) fits its row's event p_event: no staff row has that id, or it is one of the caller's
-- organization that works this event or the whole organization (event_id NULL); and the event
-- is the caller's (so the answer says nothing about other organizations' staff).
CREATE OR REPLACE FUNCTION showdesk_private.staff_ref_ok(p_staff uuid, p_event uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
  SELECT p_event = ANY (showdesk_private.my_event_ids())
     AND NOT EXISTS (SELECT 1 FROM showdesk.staff s
                      WHERE s.id = p_staff
                        AND (s.organization_id IS DISTINCT FROM (SELECT e.organization_id
                                                                   FROM showdesk.events e
                                                                  WHERE e.id = p_event)
                             OR (s.event_id IS NOT NULL AND s.event_id IS DISTINCT FROM p_event)))
$$;

-- 0016's reference conditions with checkins.staff_id added (the rest unchanged).
CREATE OR REPLACE FUNCTION showdesk_private.reference_check(p_table text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog
AS $$
  SELECT coalesce(string_agg(c, E'\n       AND ' ORDER BY n), 'true')
    FROM (
      SELECT x.n,
             format('(%1$I IS NULL OR EXISTS (SELECT 1 FROM showdesk.%3$I r WHERE r.id = %2$I.%1$I AND %4$s) OR %5$s)',
                    x.col, x.tbl, x.ref, x.related,
                    coalesce(x.otherwise,
                             format('showdesk_private.reference_refused(%L, %L, %I)', x.tbl, x.col, x.col))) AS c
        FROM (VALUES
          -- (order, table, column, referenced table r, how r relates to the row, else)
          (1, 'events', 'venue_id', 'venues', 'r.organization_id = events.organization_id', NULL),
          (2, 'staff', 'event_id', 'events', 'r.organization_id = staff.organization_id', NULL),
          (3, 'tickets', 'ticket_type_id', 'ticket_types', 'r.event_id = tickets.event_id', NULL),
          (4, 'tickets', 'attendee_id', 'attendees', 'r.event_id = tickets.event_id', NULL),
          (5, 'tickets', 'order_id', 'orders', 'r.event_id = tickets.event_id', NULL),
          (6, 'revoked_tokens', 'ticket_id', 'tickets', 'r.event_id = revoked_tokens.event_id', 'false'),
          (7, 'checkins', 'ticket_id', 'tickets', 'r.event_id = checkins.event_id',
              'showdesk_private.checkin_ticket_ok(ticket_id, event_id)'),
          (8, 'checkins', 'device_id', 'devices', 'true', 'showdesk_private.checkin_device_ok(device_id)'),
          (15, 'checkins', 'staff_id', 'staff', '(r.event_id IS NULL OR r.event_id = checkins.event_id)',
              'showdesk_private.staff_ref_ok(staff_id, event_id)'),
          (16, 'call_times', 'arrived_by_staff_id', 'staff', '(r.event_id IS NULL OR r.event_id = call_times.event_id)',
               'showdesk_private.staff_ref_ok(arrived_by_staff_id, event_id)'),
          (17, 'runway_appearances', 'edited_by_staff_id', 'staff',
               '(r.event_id IS NULL OR r.event_id = showdesk_private.segment_event_id(runway_appearances.segment_id))',
               'showdesk_private.staff_ref_ok(edited_by_staff_id, showdesk_private.segment_event_id(segment_id))'),
          (10, 'looks', 'designer_id', 'designers', 'r.event_id = looks.event_id', NULL),
          (11, 'people', 'model_id', 'models', 'r.event_id = people.event_id', NULL),
          (12, 'call_times', 'person_id', 'people', 'r.event_id = call_times.event_id', NULL),
          (13, 'runway_appearances', 'look_id', 'looks',
               'r.event_id = showdesk_private.segment_event_id(runway_appearances.segment_id)', NULL),
          (14, 'runway_appearances', 'model_id', 'models',
               'r.event_id = showdesk_private.segment_event_id(runway_appearances.segment_id)', NULL)
        ) AS x(n, tbl, col, ref, related, otherwise)
       WHERE x.tbl = p_table
      UNION ALL
      -- a policy may not read its own table in a subquery: the annulment check is all helper
      SELECT 9, '(annuls_checkin_id IS NULL OR showdesk_private.checkin_annuls_ok(annuls_checkin_id, event_id, ticket_id))'
       WHERE p_table = 'checkins'
    ) checks
$$;

-- The INSERT and UPDATE policies of the three tables that name staff rebuilt with it (as
-- 0016 builds them).
DO $$
DECLARE
  t text;
  scope text;
  refs text;
  w_insert text;
  w_update text;
BEGIN
  FOREACH t IN ARRAY ARRAY['checkins', 'call_times', 'runway_appearances'] LOOP
    scope := CASE t
      WHEN 'runway_appearances' THEN
        'showdesk_private.segment_event_id(segment_id) = ANY ((SELECT showdesk_private.my_event_ids())::uuid[])'
      ELSE 'event_id = ANY ((SELECT showdesk_private.my_event_ids())::uuid[])'
    END;
    refs := showdesk_private.reference_check(t);
    w_insert := format('(SELECT showdesk_private.can(%L, ''insert'') OR showdesk_private.can(%L, ''write''))', t, t);
    w_update := format('(SELECT showdesk_private.can(%L, ''write''))', t);
    EXECUTE format('DROP POLICY IF EXISTS sd_insert ON showdesk.%I', t);
    EXECUTE format('DROP POLICY IF EXISTS sd_update ON showdesk.%I', t);
    EXECUTE format('CREATE POLICY sd_insert ON showdesk.%I FOR INSERT TO authenticated
                    WITH CHECK (%s AND %s AND (%s))', t, w_insert, scope, refs);
    EXECUTE format('CREATE POLICY sd_update ON showdesk.%I FOR UPDATE TO authenticated
                    USING (%s AND %s) WITH CHECK (%s AND %s AND (%s))', t, w_update, scope, w_update, scope, refs);
  END LOOP;
END
$$;

-- --- the push path: who did it never conflicts -------------------------------------------

-- apply_mutation (0005) again, two changes: the audit columns never conflict on their own
-- (else two producers editing different columns of one look would now conflict on "who"),
-- and an arrival's staff follows the arrival that stands (the earliest one, as arrived_at).
CREATE OR REPLACE FUNCTION showdesk_private.apply_mutation(p_device_id uuid, p_mid text, p_table text,
  p_op text, p_row_id uuid, p_payload jsonb, p_base bigint)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_cur record;
  v_cols text[];
  v_conflicts text[];
  v_set text;
  v_version bigint;
  v_count integer;
  v_payload_norm jsonb;
BEGIN
  v_cols := ARRAY(SELECT k FROM jsonb_object_keys(p_payload) k WHERE k <> 'id' ORDER BY k);
  IF p_op = 'insert' THEN
    -- an insert of a row that already exists (applied under another mutation id) fails on
    -- the primary key; push_one turns that into "duplicate"
    IF p_table = 'checkins' AND NOT p_payload ? 'device_id' THEN
      p_payload := p_payload || jsonb_build_object('device_id', p_device_id);
      v_cols := array_append(v_cols, 'device_id');
    END IF;
    EXECUTE format('INSERT INTO showdesk.%I (id%s) SELECT $2%s FROM jsonb_populate_record(NULL::showdesk.%I, $1) r
                    RETURNING version',
                   p_table,
                   (SELECT coalesce(string_agg(', ' || quote_ident(c), ''), '') FROM unnest(v_cols) c),
                   (SELECT coalesce(string_agg(', r.' || quote_ident(c), ''), '') FROM unnest(v_cols) c),
                   p_table)
      INTO v_version USING p_payload, p_row_id;
    RETURN showdesk_private.result(p_mid, 'applied', v_version, NULL, NULL);
  END IF;

  v_cur := showdesk_private.current_row(p_table, p_row_id, false);
  IF v_cur.row_json IS NOT NULL THEN
    -- FOR UPDATE also needs the UPDATE policy: a row we may read but not change stays hidden
    EXECUTE format('SELECT t.version FROM showdesk.%I t WHERE t.id = $1 FOR UPDATE', p_table)
      INTO v_version USING p_row_id;
    IF v_version IS NULL THEN
      RETURN showdesk_private.result(p_mid, 'rejected', NULL,
        format('Not permitted: this account may not change %s.', replace(p_table, '_', ' ')), NULL);
    END IF;
    -- re-read under the lock (a concurrent writer may have committed meanwhile)
    v_cur := showdesk_private.current_row(p_table, p_row_id, false);
  END IF;

  IF v_cur.row_json IS NULL THEN
    IF v_cur.tombstone_version IS NOT NULL THEN
      IF p_op = 'delete' THEN
        RETURN showdesk_private.result(p_mid, 'duplicate', v_cur.tombstone_version, NULL, NULL);
      END IF;
      RETURN showdesk_private.result(p_mid, 'conflict', v_cur.tombstone_version,
        format('This %s was deleted on the server; the edit was not applied.', replace(p_table, '_', ' ')), NULL);
    END IF;
    IF p_op = 'delete' THEN
      RETURN showdesk_private.result(p_mid, 'applied', NULL, NULL, NULL);
    END IF;
    RETURN showdesk_private.result(p_mid, 'rejected', NULL,
      format('No such row in %s on the server, or this account may not see it.', replace(p_table, '_', ' ')), NULL);
  END IF;

  IF p_op = 'delete' THEN
    IF p_base IS NOT NULL AND p_base <> v_cur.version THEN
      RETURN showdesk_private.result(p_mid, 'conflict', v_cur.version,
        format('This %s changed on the server since it was deleted here; the server''s version stands.',
               replace(p_table, '_', ' ')), v_cur.row_json);
    END IF;
    EXECUTE format('DELETE FROM showdesk.%I WHERE id = $1', p_table) USING p_row_id;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    IF v_count = 0 THEN
      RETURN showdesk_private.result(p_mid, 'rejected', NULL,
        format('Not permitted: this account may not delete %s.', replace(p_table, '_', ' ')), NULL);
    END IF;
    SELECT c.version INTO v_version FROM showdesk.sync_changes c WHERE c.table_name = p_table AND c.row_id = p_row_id;
    RETURN showdesk_private.result(p_mid, 'applied', v_version, NULL, NULL);
  END IF;

  -- update: only the columns in the payload. A column conflicts when it changed on the
  -- server after base_version and the client's value differs from the server's.
  IF p_base IS NOT NULL AND p_base <> v_cur.version THEN
    EXECUTE format('SELECT %s FROM jsonb_populate_record(NULL::showdesk.%I, $1) r',
                   showdesk_private.wire_sql(p_table, 'r'), p_table)
      INTO v_payload_norm USING p_payload;
    v_conflicts := ARRAY(
      SELECT c FROM unnest(v_cols) c
       WHERE coalesce((v_cur.column_versions ->> c)::bigint, 0) > p_base
         AND (v_payload_norm -> c) IS DISTINCT FROM (v_cur.row_json -> c)
         -- who did it (0022) never conflicts on its own: it follows the edit it comes with
         AND c NOT IN ('edited_by_staff_id', 'arrived_by_staff_id')
         -- arrivals merge: the earliest arrival stands, never a conflict
         AND NOT (p_table = 'call_times' AND c = 'arrived_at'
                  AND v_cur.row_json ->> 'arrived_at' IS NOT NULL AND v_payload_norm ->> 'arrived_at' IS NOT NULL)
       ORDER BY c);
    IF cardinality(v_conflicts) > 0 THEN
      RETURN showdesk_private.result(p_mid, 'conflict', v_cur.version,
        format('Changed on the server meanwhile (%s); the server''s version stands.', array_to_string(v_conflicts, ', ')),
        v_cur.row_json);
    END IF;
  END IF;

  IF cardinality(v_cols) = 0 THEN
    RETURN showdesk_private.result(p_mid, 'applied', v_cur.version, NULL, NULL);
  END IF;
  SELECT string_agg(
           CASE WHEN p_table = 'call_times' AND c = 'arrived_at' THEN
             'arrived_at = CASE WHEN t.arrived_at IS NOT NULL AND r.arrived_at IS NOT NULL
                               THEN least(t.arrived_at, r.arrived_at) ELSE r.arrived_at END'
           -- 0022: the staff member of the arrival that stands (the earliest)
           WHEN p_table = 'call_times' AND c = 'arrived_by_staff_id' AND 'arrived_at' = ANY (v_cols) THEN
             'arrived_by_staff_id = CASE WHEN t.arrived_at IS NOT NULL AND r.arrived_at IS NOT NULL
                                          AND t.arrived_at <= r.arrived_at
                                         THEN t.arrived_by_staff_id ELSE r.arrived_by_staff_id END'
           ELSE format('%I = r.%I', c, c) END, ', ')
    INTO v_set FROM unnest(v_cols) c;
  EXECUTE format('UPDATE showdesk.%I t SET %s FROM jsonb_populate_record(NULL::showdesk.%I, $1) r
                   WHERE t.id = $2 RETURNING t.version', p_table, v_set, p_table)
    INTO v_version USING p_payload, p_row_id;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  IF v_count = 0 THEN
    RETURN showdesk_private.result(p_mid, 'rejected', NULL,
      format('Not permitted: this account may not change %s.', replace(p_table, '_', ' ')), NULL);
  END IF;
  RETURN showdesk_private.result(p_mid, 'applied', v_version, NULL, NULL);
END
$$;


-- --- a disabled staff member's own account --------------------------------------------------

-- whoami (0021) again, one change: when the caller's auth user is a staff row (staff.id =
-- auth.uid(), 0004) that is disabled, it has no organization, so RLS shows and lets it write
-- nothing, whatever its token's app_metadata says.
CREATE OR REPLACE FUNCTION showdesk_private.whoami(
  OUT organization_id uuid, OUT staff_role text, OUT device_id uuid)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  c jsonb := showdesk_private.claims();
  v_sub uuid := showdesk_private.try_uuid(c ->> 'sub');
  v_claimed uuid := showdesk_private.try_uuid(c -> 'app_metadata' ->> 'device_id');
  -- Policies ask this several times per statement: the answer is kept for the transaction,
  -- keyed by the claims it was computed from.
  v_key text := md5(coalesce(current_setting('request.jwt.claims', true), ''));
  v_cached text := current_setting('showdesk.whoami', true);
  v_device showdesk.devices;
  v_enrolled_role text;
BEGIN
  IF v_cached IS NOT NULL AND split_part(v_cached, '|', 1) = v_key THEN
    organization_id := nullif(split_part(v_cached, '|', 2), '')::uuid;
    staff_role := nullif(split_part(v_cached, '|', 3), '');
    device_id := nullif(split_part(v_cached, '|', 4), '')::uuid;
    RETURN;
  END IF;
  IF v_sub IS NOT NULL THEN
    v_device := showdesk_private.bound_device(v_sub);
  END IF;
  IF v_device.revoked_at IS NOT NULL THEN
    PERFORM showdesk_private.refuse_revoked(v_device);
  END IF;
  -- a token that still names a revoked device is refused as well
  IF v_claimed IS NOT NULL AND v_claimed IS DISTINCT FROM v_device.id THEN
    SELECT d.* INTO v_device FROM showdesk.devices d WHERE d.id = v_claimed AND d.revoked_at IS NOT NULL;
    IF FOUND THEN
      PERFORM showdesk_private.refuse_revoked(v_device);
    END IF;
    v_device := showdesk_private.bound_device(v_sub);
  END IF;
  IF v_device.id IS NOT NULL THEN
    SELECT b.staff_role INTO v_enrolled_role
      FROM showdesk.device_bindings b WHERE b.auth_user_id = v_sub AND b.device_id = v_device.id;
  END IF;

  organization_id := showdesk_private.try_uuid(c -> 'app_metadata' ->> 'organization_id');
  staff_role := nullif(c -> 'app_metadata' ->> 'staff_role', '');
  IF organization_id IS NULL AND v_sub IS NOT NULL AND v_enrolled_role IS NULL THEN
    SELECT s.organization_id, coalesce(staff_role, s.role) INTO organization_id, staff_role
      FROM showdesk.staff s WHERE s.id = v_sub;
  END IF;
  IF organization_id IS NULL THEN
    organization_id := v_device.organization_id;
  END IF;
  device_id := v_device.id;
  IF v_enrolled_role IS NOT NULL THEN
    staff_role := v_enrolled_role;
  END IF;
  IF staff_role IS NULL AND device_id IS NOT NULL THEN
    staff_role := 'door';
  END IF;
  -- a device bound to this user belongs to another organization than the token says
  IF device_id IS NOT NULL AND v_device.organization_id IS DISTINCT FROM organization_id THEN
    organization_id := NULL;
    device_id := NULL;
  END IF;
  -- 0022: a disabled staff member's own account (auth user = staff row) reaches nothing
  IF v_sub IS NOT NULL AND EXISTS (SELECT 1 FROM showdesk.staff s
                                    WHERE s.id = v_sub AND s.disabled_at IS NOT NULL
                                      AND s.disabled_at <= now()) THEN
    organization_id := NULL;
    device_id := NULL;
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

-- --- privileges ------------------------------------------------------------------------------

REVOKE ALL ON FUNCTION showdesk_private.staff_ref_ok(uuid, uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION showdesk_private.staff_admin_guard() FROM PUBLIC;
REVOKE ALL ON FUNCTION showdesk_private.reference_check(text) FROM PUBLIC;
DO $$
BEGIN
  EXECUTE 'REVOKE ALL ON FUNCTION showdesk_private.staff_ref_ok(uuid, uuid) FROM anon';
  EXECUTE 'REVOKE ALL ON FUNCTION showdesk_private.staff_admin_guard() FROM anon, authenticated';
  EXECUTE 'REVOKE ALL ON FUNCTION showdesk_private.reference_check(text) FROM anon, authenticated';
END
$$;
GRANT EXECUTE ON FUNCTION showdesk_private.staff_ref_ok(uuid, uuid) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION showdesk_private.staff_admin_guard() TO service_role;
GRANT EXECUTE ON FUNCTION showdesk_private.reference_check(text) TO service_role;

-- new columns on synced tables: regenerate the pull statement
SELECT showdesk_private.build_pull_page();

RESET search_path;
