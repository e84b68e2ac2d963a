-- Showdesk 0001: what a Supabase project already provides, created ONLY where missing,
-- so the same migration files run on Supabase and on a bare PostgreSQL (tests, self-hosted).
--
-- Roles: anon (the public API key), authenticated (any signed-in user or device),
-- service_role (server-side key; bypasses Row Level Security).
-- Schema auth with auth.uid(), auth.role(), auth.jwt(): they read the JWT claims that
-- PostgREST puts in the transaction-local setting request.jwt.claims (and the older
-- per-claim settings request.jwt.claim.*), exactly like Supabase's own definitions.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
    CREATE ROLE anon NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
    CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
  END IF;
END
$$;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'auth') THEN
    CREATE SCHEMA auth;
    GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;
  END IF;
END
$$;

DO $$
BEGIN
  IF to_regprocedure('auth.uid()') IS NULL THEN
    CREATE FUNCTION auth.uid() RETURNS uuid
    LANGUAGE sql STABLE
    AS $f$
      SELECT nullif(
        coalesce(
          current_setting('request.jwt.claim.sub', true),
          (current_setting('request.jwt.claims', true)::jsonb ->> 'sub')
        ),
        ''
      )::uuid
    $f$;
  END IF;
  IF to_regprocedure('auth.role()') IS NULL THEN
    CREATE FUNCTION auth.role() RETURNS text
    LANGUAGE sql STABLE
    AS $f$
      SELECT nullif(
        coalesce(
          current_setting('request.jwt.claim.role', true),
          (current_setting('request.jwt.claims', true)::jsonb ->> 'role')
        ),
        ''
      )::text
    $f$;
  END IF;
  IF to_regprocedure('auth.jwt()') IS NULL THEN
    CREATE FUNCTION auth.jwt() RETURNS jsonb
    LANGUAGE sql STABLE
    AS $f$
      SELECT coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
      )::jsonb
    $f$;
  END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;

-- Showdesk's own objects live in two schemas of their own, never in public (where the
-- FashionOS platform keeps tables of the same names): showdesk holds the tables, the change
-- log and the RPC functions; showdesk_private the helpers. PostgREST exposes neither; the API
-- reaches Showdesk through the public.showdesk_* wrappers of 0009.
CREATE SCHEMA IF NOT EXISTS showdesk;
REVOKE ALL ON SCHEMA showdesk FROM PUBLIC;
GRANT USAGE ON SCHEMA showdesk TO authenticated, service_role;
CREATE SCHEMA IF NOT EXISTS showdesk_private;
REVOKE ALL ON SCHEMA showdesk_private FROM PUBLIC;
GRANT USAGE ON SCHEMA showdesk_private TO authenticated, service_role;

-- Upgrade of a project that ran the first version of these files, which created everything in
-- public. Before 0002 creates anything, move those objects into showdesk, data, triggers,
-- policies, grants and the change log with them, so queued mutations' idempotency records and
-- every kiosk's cursor (transaction ids and change numbers) stay valid. A public table is moved
-- only if it is Showdesk's by shape (it carries Showdesk's sync_stamp trigger, or it is one of
-- the bookkeeping tables with its distinctive columns); a platform table is never touched.
DO $$
DECLARE
  t text;
  f text;
  moved int := 0;
BEGIN
  IF to_regclass('showdesk.sync_changes') IS NOT NULL
     OR to_regclass('public.sync_changes') IS NULL
     OR NOT EXISTS (SELECT 1 FROM information_schema.columns
                     WHERE table_schema = 'public' AND table_name = 'sync_changes'
                       AND column_name = 'change_xid') THEN
    RETURN;
  END IF;
  FOREACH t IN ARRAY ARRAY['organizations', 'venues', 'events', 'ticket_types', 'orders',
      'attendees', 'tickets', 'revoked_tokens', 'checkins', 'runway_shows', 'runway_segments',
      'designers', 'models', 'looks', 'runway_appearances', 'people', 'call_times', 'devices',
      'staff'] LOOP
    IF EXISTS (SELECT 1 FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relname = t AND g.tgname = 'sync_stamp'
                  AND NOT g.tgisinternal) THEN
      EXECUTE format('ALTER TABLE public.%I SET SCHEMA showdesk', t);
      moved := moved + 1;
    END IF;
  END LOOP;
  FOREACH t IN ARRAY ARRAY['sync_changes', 'sync_mutations', 'sync_settings', 'sync_moved_out'] LOOP
    IF to_regclass(format('public.%I', t)) IS NOT NULL THEN
      EXECUTE format('ALTER TABLE public.%I SET SCHEMA showdesk', t);
    END IF;
  END LOOP;
  IF to_regclass('public.sync_version_seq') IS NOT NULL THEN
    ALTER SEQUENCE public.sync_version_seq SET SCHEMA showdesk;
  END IF;
  -- The old RPC functions: moved (keeping their grants), then redefined by 0003-0008.
  FOREACH f IN ARRAY ARRAY['sync_pull(uuid, text, integer)', 'sync_push(uuid, jsonb)',
      'register_device(text, text)', 'sync_purge(timestamptz)'] LOOP
    IF to_regprocedure('public.' || f) IS NOT NULL THEN
      EXECUTE format('ALTER FUNCTION public.%s SET SCHEMA showdesk', f);
    END IF;
  END LOOP;
  RAISE NOTICE 'Showdesk: moved % tables of an earlier install from public to schema showdesk.', moved;
END
$$;
