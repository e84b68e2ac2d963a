-- Showdesk 0021: enrol a kiosk with a single-use code instead of an e-mail and a password.
--
-- An organizer or admin creates an enrolment (create_enrolment): a single-use secret bound to
-- the organization, one event, a role, a gate and a device name, valid for 15 minutes. The app
-- shows it as a QR (SDE1:<code>:<server address>, see app/sync/enrolment.py) and as a typed
-- code of 7 groups of 4 Crockford base32 characters: 26 characters of secret (130 bits from
-- gen_random_uuid(), which draws on pg_strong_random(), the server's CSPRNG) and 2 of checksum.
-- Only the SHA-256 of the secret is stored; the secret itself is returned once. Neither the QR
-- nor the code carries a password or any long-lived secret.
--
-- The device credential. The new kiosk signs in anonymously (Supabase Auth: POST
-- /auth/v1/signup with no e-mail gives it an auth user of its own, is_anonymous, and a refresh
-- token), then calls enrol(code) with that session. enrol binds the caller's auth user to the
-- device in device_bindings (0017), with the enrolment's role and event: the binding, not the
-- token's app_metadata (which an anonymous user does not have), gives an enrolled device its
-- organization, role and event (whoami and my_event_ids below). The credential the kiosk keeps
-- is its Supabase refresh token; no password exists anywhere. See migrations/supabase/README.md
-- ("Enrolment") for why, and for rotation.
--
-- Re-enrolment. An enrolment whose device name is the name of an unrevoked device of the
-- organization re-enrols that device: its old bindings are deleted (the old credential is
-- refused from then on: its auth user has no device, no organization, no role) and the caller
-- is bound to it. Otherwise a new device is made. A caller already bound to a device of the
-- same organization moves to the enrolled one; one bound to another organization's device, a
-- staff account, or a token with an organization in its app_metadata is refused (enrolment is
-- for a fresh kiosk sign-in), and a caller whose device was revoked gets 0017's refusal.
--
-- Refusals: 42501 with a sentence and HINT showdesk:enrolment-unknown (tampered, never
-- issued, malformed: one answer that reveals nothing), -used, -expired, -revoked, -forbidden
-- (not an organizer or admin, or another organization's event or enrolment), -staff-account,
-- -other-organization; 22023 for bad arguments.

SET search_path = showdesk, pg_catalog;

CREATE TABLE IF NOT EXISTS showdesk.enrolments (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  token_hash       bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
  organization_id  uuid NOT NULL REFERENCES showdesk.organizations (id) ON DELETE CASCADE,
  event_id         uuid NOT NULL REFERENCES showdesk.events (id) ON DELETE CASCADE,
  staff_role       text NOT NULL CHECK (staff_role IN ('door', 'producer', 'organizer', 'admin')),
  gate             text CHECK (gate IS NULL OR length(gate) <= 60),
  device_name      text NOT NULL CHECK (length(device_name) BETWEEN 1 AND 100),
  created_by       uuid,
  created_at       timestamptz NOT NULL DEFAULT now(),
  expires_at       timestamptz NOT NULL DEFAULT now() + interval '15 minutes',
  used_at          timestamptz,
  used_by          uuid,
  device_id        uuid REFERENCES showdesk.devices (id) ON DELETE SET NULL,
  revoked_at       timestamptz
);
CREATE INDEX IF NOT EXISTS enrolments_organization_id_idx ON showdesk.enrolments (organization_id);
CREATE INDEX IF NOT EXISTS enrolments_event_id_idx ON showdesk.enrolments (event_id);
CREATE INDEX IF NOT EXISTS enrolments_device_id_idx ON showdesk.enrolments (device_id);
ALTER TABLE showdesk.enrolments ENABLE ROW LEVEL SECURITY;  -- no policy: definer code only

-- What an enrolment gave the binding: the role and the one event of an enrolled device (NULL
-- for bindings made by register_device: their role and organization come from the token or
-- the staff row, as before).
ALTER TABLE showdesk.device_bindings ADD COLUMN IF NOT EXISTS staff_role text;
ALTER TABLE showdesk.device_bindings ADD COLUMN IF NOT EXISTS event_id uuid
  REFERENCES showdesk.events (id) ON DELETE CASCADE;
ALTER TABLE showdesk.device_bindings ADD COLUMN IF NOT EXISTS enrolment_id uuid;
CREATE INDEX IF NOT EXISTS device_bindings_event_id_idx ON showdesk.device_bindings (event_id);
DO $$
BEGIN
  ALTER TABLE showdesk.device_bindings ADD CONSTRAINT device_bindings_staff_role_check
    CHECK (staff_role IS NULL OR staff_role IN ('door', 'producer', 'organizer', 'admin'));
EXCEPTION WHEN duplicate_object THEN NULL;
END
$$;

-- The secret: 26 Crockford base32 symbols, one per random byte (byte % 32: unbiased), taken
-- from the 14 fully random bytes of each of two version 4 uuids (the version and variant bytes
-- are skipped). 26 x 5 = 130 bits.
CREATE OR REPLACE FUNCTION showdesk_private.enrolment_secret() RETURNS text
LANGUAGE sql VOLATILE SET search_path = pg_catalog
AS $$
  SELECT string_agg(substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', get_byte(r.raw, x.i) % 32 + 1, 1),
                    '' ORDER BY x.o)
    FROM (SELECT decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex')
                   AS raw) AS r,
         unnest(ARRAY[0, 1, 2, 3, 4, 5, 7, 9, 10, 11, 12, 13, 14, 15,
                      16, 17, 18, 19, 20, 21, 23, 25, 26, 27, 28, 29]) WITH ORDINALITY AS x(i, o)
$$;

-- Two check symbols: the first two bytes of SHA-256('SDE1:' || secret), each % 32.
CREATE OR REPLACE FUNCTION showdesk_private.enrolment_check(p_secret text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog
AS $$
  SELECT substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', get_byte(h, 0) % 32 + 1, 1)
      || substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', get_byte(h, 1) % 32 + 1, 1)
    FROM (SELECT sha256(convert_to('SDE1:' || p_secret, 'UTF8')) AS h) AS x
$$;

-- The secret in a typed or scanned code, or NULL when the code is not one: case, dashes and
-- spaces do not matter, I and L read as 1, O as 0; 28 symbols whose last two are the checksum,
-- or the bare 26-symbol secret.
CREATE OR REPLACE FUNCTION showdesk_private.enrolment_token(p_code text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog
AS $$
DECLARE
  v text;
BEGIN
  IF p_code IS NULL OR length(p_code) > 64 THEN
    RETURN NULL;
  END IF;
  v := translate(upper(p_code), 'ILO- ', '110');
  IF v ~ '^[0-9A-HJKMNP-TV-Z]{28}$' THEN
    IF right(v, 2) <> showdesk_private.enrolment_check(left(v, 26)) THEN
      RETURN NULL;
    END IF;
    RETURN left(v, 26);
  ELSIF v ~ '^[0-9A-HJKMNP-TV-Z]{26}$' THEN
    RETURN v;
  END IF;
  RETURN NULL;
END
$$;

-- Raise one of enrol's refusals.
CREATE OR REPLACE FUNCTION showdesk_private.refuse_enrolment(p_kind text, p_at timestamptz DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog
AS $$
DECLARE
  v_at text := to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"');
BEGIN
  RAISE EXCEPTION USING ERRCODE = '42501', HINT = 'showdesk:enrolment-' || p_kind,
    MESSAGE = CASE p_kind
      WHEN 'unknown' THEN
        'This enrolment code is not valid: check it, or ask the organizer for a new one.'
      WHEN 'used' THEN
        format('This enrolment code was already used (%s): ask the organizer for a new one.', v_at)
      WHEN 'expired' THEN
        format('This enrolment code expired at %s (a code lasts 15 minutes): ask the organizer for a new one.', v_at)
      WHEN 'revoked' THEN
        format('This enrolment code was withdrawn by the organizer (%s): ask for a new one.', v_at)
      WHEN 'staff-account' THEN
        'A staff account cannot be enrolled as a kiosk: enrol from a fresh kiosk sign-in.'
      WHEN 'other-organization' THEN
        'This kiosk sign-in belongs to another organization: sign in afresh to enrol it here.'
      ELSE 'This kiosk cannot be enrolled.'
    END;
END
$$;

CREATE OR REPLACE FUNCTION showdesk.create_enrolment(
  p_event_id uuid, p_role text, p_gate text DEFAULT NULL, p_device_name text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_me record := showdesk_private.whoami();  -- raises for a revoked device
  v_role text := lower(btrim(coalesce(p_role, '')));
  v_gate text := nullif(btrim(coalesce(p_gate, '')), '');
  v_name text := btrim(coalesce(p_device_name, ''));
  v_secret text := showdesk_private.enrolment_secret();
  v_code text;
  v_row showdesk.enrolments;
BEGIN
  IF v_me.organization_id IS NULL OR v_me.staff_role IS NULL
     OR v_me.staff_role NOT IN ('organizer', 'admin') THEN
    RAISE EXCEPTION USING ERRCODE = '42501', HINT = 'showdesk:enrolment-forbidden',
      MESSAGE = 'Only an organizer or admin of the organization can enrol kiosks.';
  END IF;
  -- another organization's event, an event outside the caller's scope and a random id: one answer
  IF p_event_id IS NULL OR NOT EXISTS (
       SELECT 1 FROM showdesk.events e
        WHERE e.id = p_event_id AND e.organization_id = v_me.organization_id
          AND e.id = ANY (showdesk_private.my_event_ids())) THEN
    RAISE EXCEPTION USING ERRCODE = '42501', HINT = 'showdesk:enrolment-forbidden',
      MESSAGE = 'That event is not one of your organization''s events.';
  END IF;
  IF v_role NOT IN ('door', 'producer', 'organizer', 'admin') THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = 'A kiosk''s role is door, producer, organizer or admin.';
  END IF;
  IF v_role = 'admin' AND v_me.staff_role <> 'admin' THEN
    RAISE EXCEPTION USING ERRCODE = '42501', HINT = 'showdesk:enrolment-forbidden',
      MESSAGE = 'Only an admin can enrol an admin kiosk.';
  END IF;
  IF v_name = '' OR length(v_name) > 100 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'A device needs a name of 1 to 100 characters.';
  END IF;
  IF length(coalesce(v_gate, '')) > 60 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'A gate name has at most 60 characters.';
  END IF;
  INSERT INTO showdesk.enrolments (token_hash, organization_id, event_id, staff_role, gate,
                                   device_name, created_by)
  VALUES (sha256(convert_to(v_secret, 'UTF8')), v_me.organization_id, p_event_id, v_role, v_gate,
          v_name, showdesk_private.try_uuid(showdesk_private.claims() ->> 'sub'))
  RETURNING * INTO v_row;
  v_code := v_secret || showdesk_private.enrolment_check(v_secret);
  RETURN jsonb_build_object(
    'enrolment_id', v_row.id,
    'token', v_secret,
    'code', concat_ws('-', substr(v_code, 1, 4), substr(v_code, 5, 4), substr(v_code, 9, 4),
                      substr(v_code, 13, 4), substr(v_code, 17, 4), substr(v_code, 21, 4),
                      substr(v_code, 25, 4)),
    'organization_id', v_row.organization_id,
    'event_id', v_row.event_id,
    'role', v_row.staff_role,
    'gate', v_row.gate,
    'device_name', v_row.device_name,
    'expires_at', to_char(v_row.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));
END
$$;

CREATE OR REPLACE FUNCTION showdesk.revoke_enrolment(p_enrolment_id uuid)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_me record := showdesk_private.whoami();  -- raises for a revoked device
  v_row showdesk.enrolments;
BEGIN
  IF v_me.organization_id IS NULL OR v_me.staff_role IS NULL
     OR v_me.staff_role NOT IN ('organizer', 'admin') THEN
    RAISE EXCEPTION USING ERRCODE = '42501', HINT = 'showdesk:enrolment-forbidden',
      MESSAGE = 'Only an organizer or admin of the organization can withdraw an enrolment.';
  END IF;
  SELECT * INTO v_row FROM showdesk.enrolments n
   WHERE n.id = p_enrolment_id AND n.organization_id = v_me.organization_id
   FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = '42501', HINT = 'showdesk:enrolment-forbidden',
      MESSAGE = 'There is no such enrolment in your organization.';
  END IF;
  IF v_row.used_at IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '42501', HINT = 'showdesk:enrolment-used',
      MESSAGE = 'This enrolment was already used: remove the device instead (showdesk devices revoke).';
  END IF;
  UPDATE showdesk.enrolments n SET revoked_at = coalesce(n.revoked_at, now())
   WHERE n.id = v_row.id RETURNING * INTO v_row;
  RETURN jsonb_build_object(
    'enrolment_id', v_row.id,
    'revoked_at', to_char(v_row.revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));
END
$$;

-- The exchange: the caller's auth user becomes the enrolled device's credential.
CREATE OR REPLACE FUNCTION showdesk.enrol(p_code text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  c jsonb := showdesk_private.claims();
  v_sub uuid := showdesk_private.try_uuid(c ->> 'sub');
  v_secret text := showdesk_private.enrolment_token(p_code);
  v_row showdesk.enrolments;
  v_bound showdesk.devices;
  v_device showdesk.devices;
  v_replaced boolean := false;
  v_org_name text;
  v_event_name text;
BEGIN
  IF v_sub IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '42501', HINT = 'showdesk:enrolment-unauthenticated',
      MESSAGE = 'Sign in to the server (anonymously) before enrolling this kiosk.';
  END IF;
  IF v_secret IS NULL THEN
    PERFORM showdesk_private.refuse_enrolment('unknown');
  END IF;
  SELECT * INTO v_row FROM showdesk.enrolments n
   WHERE n.token_hash = sha256(convert_to(v_secret, 'UTF8'))
   FOR UPDATE;
  IF NOT FOUND THEN
    PERFORM showdesk_private.refuse_enrolment('unknown');
  ELSIF v_row.revoked_at IS NOT NULL THEN
    PERFORM showdesk_private.refuse_enrolment('revoked', v_row.revoked_at);
  ELSIF v_row.used_at IS NOT NULL THEN
    PERFORM showdesk_private.refuse_enrolment('used', v_row.used_at);
  ELSIF v_row.expires_at <= now() THEN
    PERFORM showdesk_private.refuse_enrolment('expired', v_row.expires_at);
  END IF;

  -- who is asking: a fresh kiosk sign-in (or this organization's kiosk being re-enrolled)
  IF showdesk_private.try_uuid(c -> 'app_metadata' ->> 'organization_id') IS NOT NULL
     OR EXISTS (SELECT 1 FROM showdesk.staff s WHERE s.id = v_sub) THEN
    PERFORM showdesk_private.refuse_enrolment('staff-account');
  END IF;
  v_bound := showdesk_private.bound_device(v_sub);
  IF v_bound.revoked_at IS NOT NULL THEN
    PERFORM showdesk_private.refuse_revoked(v_bound);
  END IF;
  IF v_bound.id IS NOT NULL AND v_bound.organization_id IS DISTINCT FROM v_row.organization_id THEN
    PERFORM showdesk_private.refuse_enrolment('other-organization');
  END IF;

  -- the device: the organization's unrevoked device of that name (re-enrolment), else a new one
  SELECT * INTO v_device FROM showdesk.devices d
   WHERE d.organization_id = v_row.organization_id AND d.revoked_at IS NULL
     AND lower(btrim(d.name)) = lower(v_row.device_name)
   ORDER BY d.registered_at DESC
   LIMIT 1
   FOR UPDATE;
  IF FOUND THEN
    v_replaced := true;
    UPDATE showdesk.devices d SET gate = v_row.gate, last_seen_at = now()
     WHERE d.id = v_device.id RETURNING * INTO v_device;
  ELSE
    INSERT INTO showdesk.devices (organization_id, name, gate)
    VALUES (v_row.organization_id, v_row.device_name, v_row.gate)
    RETURNING * INTO v_device;
  END IF;
  -- the device's previous credential, and the caller's previous device, are let go
  DELETE FROM showdesk.device_bindings b WHERE b.device_id = v_device.id OR b.auth_user_id = v_sub;
  INSERT INTO showdesk.device_bindings (auth_user_id, device_id, staff_role, event_id, enrolment_id)
  VALUES (v_sub, v_device.id, v_row.staff_role, v_row.event_id, v_row.id);
  UPDATE showdesk.enrolments n SET used_at = now(), used_by = v_sub, device_id = v_device.id
   WHERE n.id = v_row.id;
  PERFORM set_config('showdesk.whoami', '', true);  -- the caller now has a device

  SELECT o.name INTO v_org_name FROM showdesk.organizations o WHERE o.id = v_row.organization_id;
  SELECT e.name INTO v_event_name FROM showdesk.events e WHERE e.id = v_row.event_id;
  RETURN jsonb_build_object(
    'device_id', v_device.id,
    'organization_id', v_row.organization_id,
    'organization_name', v_org_name,
    'event_id', v_row.event_id,
    'event_name', v_event_name,
    'role', v_row.staff_role,
    'gate', v_device.gate,
    'device_name', v_device.name,
    'replaced', v_replaced,
    'enrolled_at', showdesk_private.iso_now());
END
$$;

-- whoami (0017) again: an enrolled binding gives the device's organization and the binding's
-- role, whatever the token's app_metadata says about the role.
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

-- The caller's events: its organization's, or for an enrolled device the one event it was
-- enrolled for.
CREATE OR REPLACE FUNCTION showdesk_private.my_event_ids() RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
  WITH me AS (SELECT * FROM showdesk_private.whoami()),
  bound AS (
    SELECT b.event_id
      FROM showdesk.device_bindings b, me
     WHERE b.auth_user_id = showdesk_private.try_uuid(showdesk_private.claims() ->> 'sub')
       AND b.device_id = me.device_id AND b.staff_role IS NOT NULL
  )
  SELECT coalesce(array_agg(e.id), '{}'::uuid[])
    FROM showdesk.events e, me
   WHERE e.organization_id = me.organization_id
     AND (NOT EXISTS (SELECT 1 FROM bound) OR e.id IN (SELECT bound.event_id FROM bound))
$$;

-- The API wrappers (0009's conventions): SECURITY INVOKER, the caller's claims reach the
-- functions above unchanged.
CREATE OR REPLACE FUNCTION public.showdesk_create_enrolment(
  p_event_id uuid, p_role text, p_gate text DEFAULT NULL, p_device_name text DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql VOLATILE SECURITY INVOKER SET search_path = pg_catalog
AS $$ SELECT showdesk.create_enrolment(p_event_id, p_role, p_gate, p_device_name) $$;

CREATE OR REPLACE FUNCTION public.showdesk_revoke_enrolment(p_enrolment_id uuid)
RETURNS jsonb
LANGUAGE sql VOLATILE SECURITY INVOKER SET search_path = pg_catalog
AS $$ SELECT showdesk.revoke_enrolment(p_enrolment_id) $$;

CREATE OR REPLACE FUNCTION public.showdesk_enrol(p_code text)
RETURNS jsonb
LANGUAGE sql VOLATILE SECURITY INVOKER SET search_path = pg_catalog
AS $$ SELECT showdesk.enrol(p_code) $$;

-- Privileges (0015's rules). The three RPCs are SECURITY DEFINER with explicit checks, each
-- needed as the caller: enrol writes device_bindings and devices, which no caller may write;
-- create_enrolment and revoke_enrolment write enrolments, which no caller may read (the token
-- hashes). my_event_ids (0015's list) keeps its grant. The helpers are definer-internal.
REVOKE ALL ON showdesk.enrolments FROM PUBLIC;
DO $$
BEGIN
  EXECUTE 'REVOKE ALL ON showdesk.enrolments FROM anon, authenticated';
  EXECUTE 'REVOKE ALL ON showdesk.device_bindings FROM anon, authenticated';
END
$$;
GRANT ALL ON showdesk.enrolments TO service_role;
GRANT ALL ON showdesk.device_bindings TO service_role;

DO $$
DECLARE
  f text;
BEGIN
  FOREACH f IN ARRAY ARRAY[
    'showdesk_private.enrolment_secret()', 'showdesk_private.enrolment_check(text)',
    'showdesk_private.enrolment_token(text)', 'showdesk_private.refuse_enrolment(text,timestamptz)',
    'showdesk.create_enrolment(uuid,text,text,text)', 'showdesk.revoke_enrolment(uuid)',
    'showdesk.enrol(text)',
    'public.showdesk_create_enrolment(uuid,text,text,text)',
    'public.showdesk_revoke_enrolment(uuid)', 'public.showdesk_enrol(text)'
  ] LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC, anon, authenticated', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO service_role', f);
  END LOOP;
  FOREACH f IN ARRAY ARRAY[
    'showdesk.create_enrolment(uuid,text,text,text)', 'showdesk.revoke_enrolment(uuid)',
    'showdesk.enrol(text)',
    'public.showdesk_create_enrolment(uuid,text,text,text)',
    'public.showdesk_revoke_enrolment(uuid)', 'public.showdesk_enrol(text)'
  ] LOOP
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO authenticated', f);
  END LOOP;
  EXECUTE 'REVOKE ALL ON FUNCTION showdesk_private.my_event_ids() FROM PUBLIC, anon';
  EXECUTE 'GRANT EXECUTE ON FUNCTION showdesk_private.my_event_ids() TO authenticated, service_role';
  EXECUTE 'REVOKE ALL ON FUNCTION showdesk_private.whoami() FROM PUBLIC, anon';
  EXECUTE 'GRANT EXECUTE ON FUNCTION showdesk_private.whoami() TO authenticated, service_role';
END
$$;

RESET search_path;
