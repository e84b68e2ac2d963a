-- The venue hub's own layer, applied after migrations/supabase on the hub's PostgreSQL (every
-- start; idempotent). The server's SQL runs unchanged for the push/pull contract; this file
-- only changes who the caller is and remembers what to relay.
--
-- Identity. On the server a caller is its JWT (request.jwt.claims, set by PostgREST). On the
-- hub kiosks connect to PostgreSQL directly, where any session can set any custom setting, so
-- neither the claims nor whoami's transaction cache (showdesk.whoami) may be trusted. Here
-- a kiosk is its login role: each kiosk has its own (kiosk_<hex>, password kept in the
-- kiosk's secret store) and showdesk_hub.kiosks says which device, organization and role that
-- login is. whoami and claims are replaced by versions that read only that table, with no
-- cache. A revoked kiosk is refused by the next call (and its login disabled).
--
-- Joining. A join code is the password of a one-time login role (join_<hex>, VALID UNTIL
-- 15 minutes) that may only call showdesk_hub.redeem_join, which creates the kiosk's login
-- and disables the join role: single use, expiry enforced by PostgreSQL's authentication.
--
-- Relay. public.showdesk_sync_push records each mutation the hub applied, with the pushing
-- device, in showdesk_hub.upstream; the relay (app/sync/hub/relay.py) forwards it upstream
-- with showdesk_relay_push (0024) under its own mutation id.

CREATE SCHEMA IF NOT EXISTS showdesk_hub;
REVOKE ALL ON SCHEMA showdesk_hub FROM PUBLIC;

CREATE TABLE IF NOT EXISTS showdesk_hub.settings (
  key   text PRIMARY KEY,
  value jsonb NOT NULL
);

CREATE TABLE IF NOT EXISTS showdesk_hub.kiosks (
  login            text PRIMARY KEY,
  device_id        uuid NOT NULL,
  organization_id  uuid NOT NULL,
  staff_role       text NOT NULL CHECK (staff_role IN ('door', 'producer', 'organizer', 'admin')),
  name             text NOT NULL,
  joined_at        timestamptz NOT NULL DEFAULT now(),
  revoked_at       timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS kiosks_live_device_idx ON showdesk_hub.kiosks (device_id)
  WHERE revoked_at IS NULL;

CREATE TABLE IF NOT EXISTS showdesk_hub.join_codes (
  login       text PRIMARY KEY,
  staff_role  text NOT NULL CHECK (staff_role IN ('door', 'producer', 'organizer', 'admin')),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  used_by     text
);

CREATE TABLE IF NOT EXISTS showdesk_hub.upstream (
  seq           bigserial PRIMARY KEY,
  mutation_id   uuid NOT NULL UNIQUE,
  device_id     uuid NOT NULL,
  staff_role    text NOT NULL,
  mutation      jsonb NOT NULL,
  hub_version   bigint,
  received_at   timestamptz NOT NULL DEFAULT now(),
  relayed_at    timestamptz,
  relay_status  text,
  relay_result  jsonb
);
ALTER TABLE showdesk_hub.upstream ADD COLUMN IF NOT EXISTS staff_role text NOT NULL DEFAULT 'door';
CREATE INDEX IF NOT EXISTS upstream_waiting_idx ON showdesk_hub.upstream (seq) WHERE relayed_at IS NULL;

-- For each row the hub got from (or relayed to) the server: its version here and there, so a
-- relayed edit's base_version is translated into the server's numbering.
CREATE TABLE IF NOT EXISTS showdesk_hub.row_origin (
  table_name      text NOT NULL,
  row_id          uuid NOT NULL,
  hub_version     bigint NOT NULL,
  server_version  bigint NOT NULL,
  PRIMARY KEY (table_name, row_id)
);

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'showdesk_hub_joiner') THEN
    CREATE ROLE showdesk_hub_joiner NOLOGIN;
  END IF;
END
$$;

-- --- identity ---------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION showdesk_hub.refuse_revoked() RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '42501',
    MESSAGE = 'The venue hub no longer accepts this kiosk: ask the organizer to join it again.',
    HINT = 'showdesk:hub-revoked';
END
$$;

CREATE OR REPLACE FUNCTION showdesk_private.whoami(
  OUT organization_id uuid, OUT staff_role text, OUT device_id uuid)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  k showdesk_hub.kiosks;
  v_device showdesk.devices;
BEGIN
  SELECT * INTO k FROM showdesk_hub.kiosks WHERE login = session_user;
  IF NOT FOUND THEN
    RETURN;  -- not a kiosk: no organization, so Row Level Security shows nothing
  END IF;
  IF k.revoked_at IS NOT NULL THEN
    PERFORM showdesk_hub.refuse_revoked();
  END IF;
  SELECT d.* INTO v_device FROM showdesk.devices d WHERE d.id = k.device_id;
  IF v_device.revoked_at IS NOT NULL THEN
    PERFORM showdesk_private.refuse_revoked(v_device);
  END IF;
  IF v_device.id IS NULL OR v_device.organization_id IS DISTINCT FROM k.organization_id THEN
    RETURN;
  END IF;
  organization_id := k.organization_id;
  staff_role := k.staff_role;
  device_id := k.device_id;
END
$$;

CREATE OR REPLACE FUNCTION showdesk_private.claims() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
  SELECT coalesce(
    (SELECT jsonb_build_object(
              'sub', k.device_id, 'role', 'authenticated',
              'app_metadata', jsonb_build_object('organization_id', k.organization_id,
                                                 'staff_role', k.staff_role,
                                                 'device_id', k.device_id))
       FROM showdesk_hub.kiosks k WHERE k.login = session_user AND k.revoked_at IS NULL),
    '{}'::jsonb)
$$;

-- --- joining ----------------------------------------------------------------------------------

-- Called by a join login (its password is the join code): makes the kiosk's own login for
-- p_device_id, a device of the hub's organization the hub already knows from the server.
CREATE OR REPLACE FUNCTION showdesk_hub.redeem_join(p_device_id uuid, p_name text, p_password text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  j showdesk_hub.join_codes;
  v_org uuid := (SELECT (value #>> '{}')::uuid FROM showdesk_hub.settings WHERE key = 'organization_id');
  v_event uuid := (SELECT (value #>> '{}')::uuid FROM showdesk_hub.settings WHERE key = 'event_id');
  v_device showdesk.devices;
  v_login text := 'kiosk_' || replace(gen_random_uuid()::text, '-', '');
  v_name text := left(btrim(coalesce(p_name, '')), 100);
BEGIN
  SELECT * INTO j FROM showdesk_hub.join_codes WHERE login = session_user FOR UPDATE;
  IF NOT FOUND OR j.used_at IS NOT NULL OR j.expires_at < now() THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = 'This join code was already used or has expired: ask for a new one at the hub.';
  END IF;
  IF length(coalesce(p_password, '')) < 24 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'A kiosk password has at least 24 characters.';
  END IF;
  SELECT d.* INTO v_device FROM showdesk.devices d WHERE d.id = p_device_id;
  IF NOT FOUND OR v_device.organization_id IS DISTINCT FROM v_org THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = 'The hub does not know this kiosk yet: enrol it with the organization, then let the hub reach the internet once.',
      HINT = 'showdesk:hub-unknown-device';
  END IF;
  IF v_device.revoked_at IS NOT NULL THEN
    PERFORM showdesk_private.refuse_revoked(v_device);
  END IF;
  UPDATE showdesk_hub.join_codes SET used_at = now(), used_by = v_login WHERE login = j.login;
  EXECUTE format('ALTER ROLE %I NOLOGIN', j.login);
  -- a kiosk that joins again replaces its earlier login
  PERFORM showdesk_hub.revoke_device(p_device_id);
  -- a few connections and bounded statements each: one kiosk cannot exhaust the hub
  EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L CONNECTION LIMIT 6 IN ROLE authenticated',
                 v_login, p_password);
  EXECUTE format('ALTER ROLE %I SET statement_timeout = %L', v_login, '30s');
  INSERT INTO showdesk_hub.kiosks (login, device_id, organization_id, staff_role, name)
  VALUES (v_login, p_device_id, v_org, j.staff_role, coalesce(nullif(v_name, ''), v_device.name));
  RETURN jsonb_build_object('login', v_login, 'organization_id', v_org, 'event_id', v_event,
                            'staff_role', j.staff_role, 'device_id', p_device_id);
END
$$;

CREATE OR REPLACE FUNCTION showdesk_hub.revoke_device(p_device_id uuid) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog
AS $$
DECLARE
  k record;
  n integer := 0;
BEGIN
  FOR k IN SELECT login FROM showdesk_hub.kiosks WHERE device_id = p_device_id AND revoked_at IS NULL LOOP
    UPDATE showdesk_hub.kiosks SET revoked_at = now() WHERE login = k.login;
    EXECUTE format('ALTER ROLE %I NOLOGIN', k.login);
    PERFORM pg_terminate_backend(a.pid) FROM pg_stat_activity a WHERE a.usename = k.login;
    n := n + 1;
  END LOOP;
  RETURN n;
END
$$;

-- --- relay: what the kiosks pushed --------------------------------------------------------------

CREATE OR REPLACE FUNCTION showdesk_hub.record_upstream(p_mutations jsonb, p_results jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_me record := showdesk_private.whoami();
BEGIN
  IF v_me.device_id IS NULL OR jsonb_typeof(p_mutations) <> 'array'
     OR jsonb_typeof(p_results) IS DISTINCT FROM 'array' THEN
    RETURN;
  END IF;
  -- only what this kiosk really had applied here (the idempotency record says so)
  INSERT INTO showdesk_hub.upstream (mutation_id, device_id, staff_role, mutation, hub_version)
  SELECT s.mutation_id, v_me.device_id, v_me.staff_role, m.m, (r.r ->> 'version')::bigint
    FROM jsonb_array_elements(p_mutations) AS m(m)
    JOIN jsonb_array_elements(p_results) AS r(r) ON r.r ->> 'mutation_id' = m.m ->> 'mutation_id'
    JOIN showdesk.sync_mutations s
      ON s.mutation_id = showdesk_private.try_uuid(m.m ->> 'mutation_id')
     AND s.device_id = v_me.device_id AND s.status = 'applied'
     AND s.table_name = m.m ->> 'table' AND s.op = m.m ->> 'op'
   WHERE r.r ->> 'status' = 'applied'
  ON CONFLICT (mutation_id) DO NOTHING;
END
$$;

CREATE OR REPLACE FUNCTION public.showdesk_sync_push(p_device_id uuid, p_mutations jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = pg_catalog
AS $$
DECLARE
  r jsonb := showdesk.sync_push(p_device_id, p_mutations);
BEGIN
  PERFORM showdesk_hub.record_upstream(p_mutations, r -> 'results');
  -- wakes the other kiosks' pulls (app/sync/hub/routing.py listens)
  PERFORM pg_notify('showdesk_hub', p_device_id::text);
  RETURN r;
END
$$;

-- What a kiosk's status line shows: how many kiosks are connected, when the relay last
-- reached the server.
CREATE OR REPLACE FUNCTION public.showdesk_hub_status() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog
AS $$
  SELECT jsonb_build_object(
    'kiosks', (SELECT count(DISTINCT a.usename) FROM pg_stat_activity a
                 JOIN showdesk_hub.kiosks k ON k.login = a.usename AND k.revoked_at IS NULL),
    'waiting', (SELECT count(*) FROM showdesk_hub.upstream WHERE relayed_at IS NULL),
    'upstream_at', (SELECT value FROM showdesk_hub.settings WHERE key = 'upstream_at'),
    'hub_time', now())
$$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA showdesk_hub FROM PUBLIC;
REVOKE ALL ON FUNCTION public.showdesk_hub_status() FROM PUBLIC;
GRANT USAGE ON SCHEMA showdesk_hub TO authenticated, showdesk_hub_joiner;
GRANT EXECUTE ON FUNCTION showdesk_hub.redeem_join(uuid, text, text) TO showdesk_hub_joiner;
GRANT EXECUTE ON FUNCTION showdesk_hub.record_upstream(jsonb, jsonb) TO authenticated;
GRANT EXECUTE ON FUNCTION showdesk_hub.refuse_revoked() TO authenticated;
GRANT EXECUTE ON FUNCTION public.showdesk_hub_status() TO authenticated;
GRANT EXECUTE ON FUNCTION public.showdesk_sync_push(uuid, jsonb) TO authenticated;
