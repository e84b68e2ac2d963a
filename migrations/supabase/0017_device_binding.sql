-- Showdesk 0017: the server decides which device a request comes from, a revoked device is
-- refused everything, and idempotency records are read only by whoever sent them.
--
-- Device binding. Until now the device of a request was app_metadata.device_id (a claim a
-- README set-up omits: then sync_push took any p_device_id of the organization, and revoking
-- that device changed nothing for the account) or devices.id = auth.uid(). Now the device is
-- the one bound to the authenticated user (device_bindings, written only by register_device):
--   - register_device binds the caller's auth user to the device it registers; a user has at
--     most one device. Installs that named the device in app_metadata.device_id (or used the
--     device id as the auth user id) are bound by this file or at their next register_device.
--   - whoami takes the device from the binding only; the claim is never trusted for identity.
--   - sync_push refuses any p_device_id but the caller's bound device.
--   - a revoked device (revoked_at set) is refused everything: every read (RLS asks whoami),
--     sync_pull, sync_push and register_device raise 42501 with HINT 'showdesk:device-revoked'
--     and DETAIL a JSON object {organization, revoked_at, recovery_key} the client shows and
--     uses to encrypt what it could not upload (devices.recovery_key: the X25519 public key the
--     organizer's `showdesk devices revoke` stores; the private key stays with the organizer).
--   - a user whose device was revoked stays refused, also for register_device: an organizer
--     removes the binding (DELETE FROM showdesk.device_bindings ...) to let the account in again.
--
-- Idempotency records per caller. sync_mutations rows (their stored results carry the rows a
-- push answered with) are read by the device that sent them; organizers and admins of the same
-- organization read all of their organization's. A push reusing another device's mutation id
-- finds no record it may read, and its insert of the record fails: the mutation is rejected
-- and nothing of the other device's result comes back.
--
-- Helpers. show_event_id and segment_event_id run as the caller (SECURITY INVOKER): they
-- answer only about shows and segments the caller may read (the policies that call them only
-- need that), NULL otherwise. The bridge triggers (SECURITY DEFINER) still see every row.

SET search_path = showdesk, pg_catalog;

CREATE TABLE IF NOT EXISTS showdesk.device_bindings (
  auth_user_id  uuid PRIMARY KEY,
  device_id     uuid NOT NULL UNIQUE REFERENCES showdesk.devices (id) ON DELETE CASCADE,
  bound_at      timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE showdesk.device_bindings ENABLE ROW LEVEL SECURITY;  -- no policy: definer code only
REVOKE ALL ON showdesk.device_bindings FROM PUBLIC;
DO $$
BEGIN
  EXECUTE 'REVOKE ALL ON showdesk.device_bindings FROM anon, authenticated';
END
$$;
GRANT ALL ON showdesk.device_bindings TO service_role;

ALTER TABLE showdesk.devices ADD COLUMN IF NOT EXISTS recovery_key text;
DO $$
BEGIN
  ALTER TABLE showdesk.devices ADD CONSTRAINT devices_recovery_key_shape
    CHECK (recovery_key IS NULL OR recovery_key ~ '^[A-Za-z0-9_-]{43}=?$');
EXCEPTION WHEN duplicate_object THEN NULL;
END
$$;

-- Existing installs: a device whose id is an auth user's id, and (on Supabase) a device named
-- in a user's app_metadata.device_id, is bound to that user.
DO $$
BEGIN
  IF to_regclass('auth.users') IS NOT NULL THEN
    EXECUTE $q$
      INSERT INTO showdesk.device_bindings (auth_user_id, device_id)
      SELECT DISTINCT ON (d.id) u.id, d.id
        FROM auth.users u
        JOIN showdesk.devices d
          ON d.id = u.id
          OR d.id::text = u.raw_app_meta_data ->> 'device_id'
       ORDER BY d.id, (d.id = u.id) DESC
      ON CONFLICT DO NOTHING
    $q$;
  END IF;
EXCEPTION WHEN undefined_column THEN NULL;  -- an auth.users without raw_app_meta_data
END
$$;

-- The device bound to an auth user: its binding, or (an install older than this file) the
-- device whose id is the user's id and that no other user is bound to.
CREATE OR REPLACE FUNCTION showdesk_private.bound_device(p_user uuid) RETURNS showdesk.devices
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
  SELECT d.*
    FROM showdesk.devices d
   WHERE d.id = (SELECT b.device_id FROM showdesk.device_bindings b WHERE b.auth_user_id = p_user)
      OR (d.id = p_user AND NOT EXISTS (SELECT 1 FROM showdesk.device_bindings b WHERE b.device_id = d.id))
   ORDER BY d.id = p_user
   LIMIT 1
$$;

-- Raise the refusal a revoked device gets, in words, with what the client needs to act on it.
CREATE OR REPLACE FUNCTION showdesk_private.refuse_revoked(p_device showdesk.devices) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_org text;
BEGIN
  SELECT o.name INTO v_org FROM showdesk.organizations o WHERE o.id = p_device.organization_id;
  RAISE EXCEPTION USING ERRCODE = '42501',
    MESSAGE = format('This kiosk was removed from %s on %s.', coalesce(v_org, 'its organization'),
                     to_char(p_device.revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"')),
    DETAIL = jsonb_build_object(
      'organization', v_org,
      'revoked_at', to_char(p_device.revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
      'recovery_key', p_device.recovery_key)::text,
    HINT = 'showdesk:device-revoked';
END
$$;

-- The caller: (organization_id, staff_role, device_id). Organization and role come from the
-- token's app_metadata or the staff row of auth.uid(); the device only from the binding.
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

  organization_id := showdesk_private.try_uuid(c -> 'app_metadata' ->> 'organization_id');
  staff_role := nullif(c -> 'app_metadata' ->> 'staff_role', '');
  IF organization_id IS NULL AND v_sub IS NOT NULL THEN
    SELECT s.organization_id, coalesce(staff_role, s.role) INTO organization_id, staff_role
      FROM showdesk.staff s WHERE s.id = v_sub;
  END IF;
  IF organization_id IS NULL THEN
    organization_id := v_device.organization_id;
  END IF;
  device_id := v_device.id;
  IF staff_role IS NULL AND device_id IS NOT NULL THEN
    staff_role := 'door';
  END IF;
  -- a device bound to this user belongs to another organization than the token says
  IF device_id IS NOT NULL AND v_device.organization_id IS DISTINCT FROM organization_id THEN
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

CREATE OR REPLACE FUNCTION showdesk_private.my_device() RETURNS uuid
LANGUAGE sql STABLE SET search_path = pg_catalog, showdesk
AS $$ SELECT (showdesk_private.whoami()).device_id $$;

-- Answer only about rows the caller may read (see the header).
CREATE OR REPLACE FUNCTION showdesk_private.show_event_id(p_show_id uuid) RETURNS uuid
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, showdesk
AS $$ SELECT event_id FROM showdesk.runway_shows WHERE id = p_show_id $$;

CREATE OR REPLACE FUNCTION showdesk_private.segment_event_id(p_segment_id uuid) RETURNS uuid
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, showdesk
AS $$
  SELECT s.event_id FROM showdesk.runway_segments g JOIN showdesk.runway_shows s ON s.id = g.show_id
   WHERE g.id = p_segment_id
$$;

-- Idempotency records: the sender reads its own; organizers and admins their organization's.
DROP POLICY IF EXISTS sd_select ON showdesk.sync_mutations;
DROP POLICY IF EXISTS sd_insert ON showdesk.sync_mutations;
CREATE POLICY sd_select ON showdesk.sync_mutations FOR SELECT TO authenticated
  USING (organization_id = (SELECT showdesk_private.my_org())
         AND (device_id = (SELECT showdesk_private.my_device())
              OR (SELECT showdesk_private.my_role()) IN ('organizer', 'admin')));
CREATE POLICY sd_insert ON showdesk.sync_mutations FOR INSERT TO authenticated
  WITH CHECK (organization_id = (SELECT showdesk_private.my_org())
              AND device_id = (SELECT showdesk_private.my_device()));

-- sync_push: the caller's checks, then the batch (0006's runs: consecutive check-in inserts
-- take the set-based path, everything else one mutation at a time).
CREATE OR REPLACE FUNCTION showdesk_private.push_batch(p_device_id uuid, p_org uuid, p_mutations jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_fast boolean := coalesce(current_setting('showdesk.push_fast_path', true), '') <> 'off';
  v_results jsonb[] := '{}';
  v_run record;
  i int;
BEGIN
  FOR v_run IN
    WITH e AS (
      SELECT x.n::int AS n,
             v_fast AND jsonb_typeof(x.m) = 'object' AND x.m ->> 'table' = 'checkins'
               AND x.m ->> 'op' = 'insert' AS fast
        FROM jsonb_array_elements(p_mutations) WITH ORDINALITY AS x(m, n)
    ), g AS (
      SELECT e.*, e.n - row_number() OVER (PARTITION BY e.fast ORDER BY e.n) AS grp FROM e
    )
    SELECT g.fast, min(g.n) AS first, max(g.n) AS last
      FROM g GROUP BY g.fast, g.grp ORDER BY min(g.n)
  LOOP
    IF v_run.fast AND v_run.last > v_run.first THEN
      v_results := v_results || showdesk_private.push_checkin_run(p_device_id, p_org, p_mutations,
                                                                  v_run.first, v_run.last);
    ELSE
      FOR i IN v_run.first .. v_run.last LOOP
        v_results := array_append(v_results,
                                  showdesk_private.push_one(p_device_id, p_org, p_mutations -> (i - 1)));
      END LOOP;
    END IF;
  END LOOP;
  RETURN to_jsonb(v_results);
END
$$;

CREATE OR REPLACE FUNCTION showdesk.sync_push(p_device_id uuid, p_mutations jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_me record := showdesk_private.whoami();  -- raises for a revoked device
BEGIN
  IF v_me.organization_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = 'This account is not linked to an organization.';
  END IF;
  IF jsonb_typeof(p_mutations) IS DISTINCT FROM 'array' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'p_mutations must be a JSON array of mutations.';
  END IF;
  IF jsonb_array_length(p_mutations) > 1000 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'Too many mutations in one push (at most 1000).';
  END IF;
  IF v_me.device_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = 'This account has no registered device: register this kiosk first.',
      HINT = 'showdesk:device-unregistered';
  END IF;
  IF p_device_id IS DISTINCT FROM v_me.device_id THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = 'This account may only push as its own registered device.';
  END IF;
  RETURN jsonb_build_object('results', showdesk_private.push_batch(p_device_id, v_me.organization_id, p_mutations),
                            'server_time', showdesk_private.iso_now());
END
$$;

-- Register (or rename) the caller's device and bind it to the caller's auth user.
CREATE OR REPLACE FUNCTION showdesk.register_device(p_name text, p_gate text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_me record := showdesk_private.whoami();  -- raises for a revoked device
  c jsonb := showdesk_private.claims();
  v_sub uuid := showdesk_private.try_uuid(c ->> 'sub');
  v_claimed uuid := showdesk_private.try_uuid(c -> 'app_metadata' ->> 'device_id');
  v_name text := btrim(coalesce(p_name, ''));
  v_gate text := nullif(btrim(coalesce(p_gate, '')), '');
  v_device showdesk.devices;
BEGIN
  IF v_me.organization_id IS NULL OR v_sub IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = 'This account is not linked to an organization, so it cannot register a device.';
  END IF;
  IF v_name = '' OR length(v_name) > 100 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'A device needs a name of 1 to 100 characters.';
  END IF;
  IF length(coalesce(v_gate, '')) > 60 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'A gate name has at most 60 characters.';
  END IF;
  IF v_me.device_id IS NOT NULL THEN
    UPDATE showdesk.devices d SET name = v_name, gate = v_gate, last_seen_at = now()
     WHERE d.id = v_me.device_id
    RETURNING * INTO v_device;
  ELSIF v_claimed IS NOT NULL
        AND EXISTS (SELECT 1 FROM showdesk.devices d WHERE d.id = v_claimed)
        AND NOT EXISTS (SELECT 1 FROM showdesk.devices d
                         WHERE d.id = v_claimed AND d.organization_id = v_me.organization_id
                           AND d.revoked_at IS NULL
                           AND NOT EXISTS (SELECT 1 FROM showdesk.device_bindings b WHERE b.device_id = d.id)) THEN
    -- (the same words whether the id is another organization's, bound, or revoked)
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = 'That device id cannot be registered by this account; register without one.';
  ELSE
    INSERT INTO showdesk.devices AS d (id, organization_id, name, gate)
    VALUES (coalesce(v_claimed, gen_random_uuid()), v_me.organization_id, v_name, v_gate)
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, gate = excluded.gate, last_seen_at = now()
    RETURNING * INTO v_device;
  END IF;
  INSERT INTO showdesk.device_bindings (auth_user_id, device_id) VALUES (v_sub, v_device.id)
  ON CONFLICT (auth_user_id) DO NOTHING;
  PERFORM set_config('showdesk.whoami', '', true);  -- the caller now has a device
  RETURN jsonb_build_object('device_id', v_device.id, 'organization_id', v_device.organization_id,
                            'name', v_device.name, 'gate', v_device.gate,
                            'registered_at', to_char(v_device.registered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'));
END
$$;

-- Privileges: my_device is called by the sync_mutations policies as the caller, push_batch by
-- sync_push as the caller; bound_device
-- and refuse_revoked only by whoami and register_device (definer code).
REVOKE ALL ON FUNCTION showdesk_private.bound_device(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION showdesk_private.refuse_revoked(showdesk.devices) FROM PUBLIC;
REVOKE ALL ON FUNCTION showdesk_private.my_device() FROM PUBLIC;
REVOKE ALL ON FUNCTION showdesk_private.push_batch(uuid, uuid, jsonb) FROM PUBLIC;
DO $$
BEGIN
  EXECUTE 'REVOKE ALL ON FUNCTION showdesk_private.bound_device(uuid) FROM anon, authenticated';
  EXECUTE 'REVOKE ALL ON FUNCTION showdesk_private.refuse_revoked(showdesk.devices) FROM anon, authenticated';
  EXECUTE 'REVOKE ALL ON FUNCTION showdesk_private.my_device() FROM anon';
  EXECUTE 'REVOKE ALL ON FUNCTION showdesk_private.push_batch(uuid, uuid, jsonb) FROM anon';
END
$$;
GRANT EXECUTE ON FUNCTION showdesk_private.my_device() TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION showdesk_private.push_batch(uuid, uuid, jsonb) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION showdesk_private.bound_device(uuid) TO service_role;
GRANT EXECUTE ON FUNCTION showdesk_private.refuse_revoked(showdesk.devices) TO service_role;

RESET search_path;
