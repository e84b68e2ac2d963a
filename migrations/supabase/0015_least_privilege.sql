-- Showdesk 0015: least privilege, as a real Supabase project needs it.
--
-- A Supabase project hands out privileges by default: ALTER DEFAULT PRIVILEGES in schema public
-- grants ALL on every new table, sequence and function to anon, authenticated and service_role,
-- and PostgreSQL itself gives EXECUTE on every new function to PUBLIC. Showdesk's objects live in
-- showdesk and showdesk_private, but they can be over-granted too: 0001-0014 created a few helper
-- functions after their schema-wide REVOKEs (PUBLIC could execute them), the wrapper
-- public.showdesk_server_info() got the public schema's default grant to anon, and a project
-- whose owner followed Supabase's "Using custom schemas" guide (GRANT ... ON ALL TABLES IN
-- SCHEMA, ALTER DEFAULT PRIVILEGES IN SCHEMA ... TO anon, authenticated, service_role) has anon
-- and authenticated holding everything, TRUNCATE and TRIGGER included.
--
-- This file brings every Showdesk object back to what the design needs, whatever was granted
-- before. It can be re-applied, and it must stay the last word on privileges: a later migration
-- that adds a table or a helper grants its own privileges (tests/server/test_least_privilege.py
-- checks the result).
--
--   schemas    USAGE for authenticated and service_role; nothing for PUBLIC and anon.
--   tables     authenticated: SELECT, INSERT, UPDATE, DELETE on the replicated tables
--              (showdesk_private.sync_tables(); RLS decides which rows); SELECT on sync_changes,
--              sync_moved_out, sync_settings; SELECT, INSERT on sync_mutations (sync_push is
--              SECURITY INVOKER and records idempotency as the caller); nothing on the others
--              (bridge_errors, the bridges' bookkeeping).
--              Never TRUNCATE, TRIGGER or REFERENCES. anon and PUBLIC: nothing. service_role: ALL.
--   sequences  authenticated: nothing. No insert it makes draws from a sequence: every id is a
--              uuid, versions come from sync_version_seq inside the SECURITY DEFINER triggers
--              sync_stamp/sync_log, and bridge_errors rows are written by the SECURITY DEFINER
--              bridge_failed(). service_role: ALL.
--   functions  every function of both schemas has a fixed search_path; EXECUTE for PUBLIC and anon
--              on none of them; authenticated only on the list below; service_role on all.
--   defaults   ALTER DEFAULT PRIVILEGES IN SCHEMA showdesk, showdesk_private revokes what a
--              per-schema default grant would give PUBLIC, anon and authenticated on objects the
--              migrating role creates later.
--   indexes    every foreign key of Showdesk's tables has an index led by its columns.

-- Functions: a fixed search_path ------------------------------------------------------------------
-- The functions created without SET search_path (at this writing: claims, my_org, my_role, can,
-- role_tables, readable_tables, sync_tables, try_uuid, plain_uuid, iso_now, reset_page, result,
-- explain_error, writable_columns, wire_sql, wire_json_sql, scope_tag, build_pull_page,
-- derived_id, walk_pin, order_key_of, bridge_writing_back, set_bridge_writeback) get the one the
-- others have. Their bodies name Showdesk's tables and helpers schema-qualified and otherwise use
-- only pg_catalog, so everything they refer to still resolves. (A SET clause keeps a LANGUAGE sql
-- function from being inlined; none of these is on a per-row path where that shows: the policy
-- helpers run once per statement, as initplans.)
-- CREATE OR REPLACE resets a function's settings: re-applying 0001-0014 undoes this, re-applying
-- this file redoes it.
DO $$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN
    SELECT p.oid::regprocedure
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname IN ('showdesk', 'showdesk_private')
       AND p.prokind IN ('f', 'p')
       AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) AS c(setting)
                        WHERE c.setting LIKE 'search\_path=%')
  LOOP
    EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, showdesk', f);
  END LOOP;
END
$$;

-- Privileges --------------------------------------------------------------------------------------
-- One statement, so no caller ever sees a table between its REVOKE and its GRANT (even when the
-- file is run without psql -1). It reports what it took back, by kind, as a NOTICE.
--
-- authenticated executes what runs with the caller's rights: the RPCs (reached through the
-- public.showdesk_* wrappers), everything sync_pull and sync_push call (both SECURITY INVOKER,
-- so RLS judges their reads and writes), and the helpers the policies call (a policy's function
-- calls are checked against the querying role). Trigger functions are not on the list: a trigger
-- fires without its function's EXECUTE privilege being checked.
--
-- SECURITY DEFINER among them, each needed as the caller:
--   showdesk.register_device       the RPC: a door device registers itself, which its RLS
--                                  rights on devices do not allow; it checks the caller itself.
--   showdesk.server_info           the RPC behind showdesk_server_info(): the active bridges.
--   showdesk_private.whoami        resolves the caller's organization and role, reading staff
--                                  and devices, which the caller may not read before it is known
--                                  (and reading them under RLS would recurse into whoami).
--   showdesk_private.my_event_ids  the caller's organization's events, for every event-scoped
--                                  policy; under RLS it would recurse into the events policy.
--   showdesk_private.show_event_id, segment_event_id
--                                  the event of a segment's show or an appearance's segment, for
--                                  those tables' policies, looked up without running the shows'
--                                  and segments' own policies again for every row.
-- Each answers only about the caller's own scope or a row the policy already holds. Every
-- other SECURITY DEFINER function (the bookkeeping and bridge triggers and what they call,
-- sync_purge) is not executable by authenticated.
DO $$
DECLARE
  -- every privilege PUBLIC, anon or authenticated holds on Showdesk's objects, one text each
  held constant text := $q$
    WITH who(oid) AS (VALUES (0::oid), ('anon'::regrole::oid), ('authenticated'::regrole::oid)),
    objects(kind, name, acl) AS (
      SELECT 'schema', n.nspname::text, coalesce(n.nspacl, acldefault('n', n.nspowner))
        FROM pg_namespace n WHERE n.nspname IN ('showdesk', 'showdesk_private')
      UNION ALL
      SELECT CASE c.relkind WHEN 'S' THEN 'sequence' ELSE 'table' END, c.oid::regclass::text,
             coalesce(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char",
                                           c.relowner))
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname IN ('showdesk', 'showdesk_private') AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      UNION ALL
      SELECT 'column', c.oid::regclass::text || '.' || quote_ident(a.attname), a.attacl
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname IN ('showdesk', 'showdesk_private') AND a.attacl IS NOT NULL
      UNION ALL
      SELECT 'function', p.oid::regprocedure::text, coalesce(p.proacl, acldefault('f', p.proowner))
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname IN ('showdesk', 'showdesk_private')
          OR (n.nspname = 'public' AND p.proname LIKE 'showdesk\_%')
    )
    SELECT o.kind || ' ' || o.name || ' ' || x.grantee || ' ' || x.privilege_type
      FROM objects o, aclexplode(o.acl) x JOIN who ON who.oid = x.grantee
  $q$;
  v_before text[];
  v_after text[];
  v_report text;
  t text;
  f regprocedure;
BEGIN
  EXECUTE format('SELECT array(%s)', held) INTO v_before;

  -- schemas: USAGE for authenticated and service_role, nothing else
  REVOKE ALL ON SCHEMA showdesk, showdesk_private FROM PUBLIC, anon, authenticated;
  GRANT USAGE ON SCHEMA showdesk, showdesk_private TO authenticated, service_role;

  -- tables and sequences (REVOKE ALL on a table drops its column-level grants as well)
  REVOKE ALL ON ALL TABLES IN SCHEMA showdesk, showdesk_private FROM PUBLIC, anon, authenticated;
  REVOKE ALL ON ALL SEQUENCES IN SCHEMA showdesk, showdesk_private FROM PUBLIC, anon, authenticated;
  GRANT ALL ON ALL TABLES IN SCHEMA showdesk, showdesk_private TO service_role;
  GRANT ALL ON ALL SEQUENCES IN SCHEMA showdesk, showdesk_private TO service_role;
  FOREACH t IN ARRAY showdesk_private.sync_tables() LOOP
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON showdesk.%I TO authenticated', t);
  END LOOP;
  GRANT SELECT ON showdesk.sync_changes, showdesk.sync_moved_out, showdesk.sync_settings TO authenticated;
  GRANT SELECT, INSERT ON showdesk.sync_mutations TO authenticated;

  -- functions
  REVOKE ALL ON ALL ROUTINES IN SCHEMA showdesk, showdesk_private FROM PUBLIC, anon, authenticated;
  GRANT EXECUTE ON ALL ROUTINES IN SCHEMA showdesk, showdesk_private TO service_role;
  FOR f IN
    SELECT p.oid::regprocedure
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE (n.nspname = 'showdesk' AND p.proname IN ('sync_pull', 'sync_push', 'register_device',
                                                     'server_info'))
        OR (n.nspname = 'showdesk_private' AND p.proname IN (
              -- policies
              'whoami', 'my_org', 'my_role', 'my_event_ids', 'show_event_id', 'segment_event_id',
              'can', 'readable_tables', 'role_tables', 'sync_tables',
              -- the reference checks of the write policies (0016), when 0015 is re-applied alone
              'reference_refused', 'checkin_ticket_ok', 'checkin_annuls_ok', 'checkin_device_ok',
              -- sync_pull
              'pull_page', 'scope_tag', 'reset_page', 'iso_now',
              -- sync_push
              'push_one', 'push_checkin_run', 'push_checkin_set', 'apply_mutation', 'current_row',
              'result', 'explain_error', 'writable_columns', 'wire_sql', 'plain_uuid', 'try_uuid'))
  LOOP
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO authenticated', f);
  END LOOP;

  -- the API wrappers in public (SECURITY INVOKER): authenticated and service_role only. On
  -- Supabase the public schema's default privileges give anon EXECUTE on each when created.
  FOR f IN
    SELECT p.oid::regprocedure
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'public'
       AND p.proname IN ('showdesk_sync_pull', 'showdesk_sync_push', 'showdesk_register_device',
                         'showdesk_server_info')
  LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC, anon', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO authenticated, service_role', f);
  END LOOP;

  EXECUTE format('SELECT array(%s)', held) INTO v_after;
  SELECT string_agg(format('%s %s', n, k), ', ' ORDER BY k) INTO v_report
    FROM (SELECT split_part(e, ' ', 1) AS k, count(*) AS n
            FROM (SELECT unnest(v_before) EXCEPT SELECT unnest(v_after)) AS gone(e)
           GROUP BY 1) AS per_kind;
  RAISE NOTICE 'Showdesk 0015: privileges revoked from PUBLIC, anon and authenticated: %.',
    coalesce(v_report, 'none');
END
$$;

-- Objects created later ---------------------------------------------------------------------------
-- For objects the role running this file creates in Showdesk's schemas from now on. A per-schema
-- REVOKE only undoes a per-schema GRANT (Supabase's custom-schema recipe); it cannot take back a
-- database-wide default (PostgreSQL's own EXECUTE for PUBLIC on new functions, or an ALTER DEFAULT
-- PRIVILEGES without IN SCHEMA), so every migration still REVOKEs on what it creates.

ALTER DEFAULT PRIVILEGES IN SCHEMA showdesk, showdesk_private
  REVOKE ALL ON TABLES FROM PUBLIC, anon, authenticated;
ALTER DEFAULT PRIVILEGES IN SCHEMA showdesk, showdesk_private
  REVOKE ALL ON SEQUENCES FROM PUBLIC, anon, authenticated;
ALTER DEFAULT PRIVILEGES IN SCHEMA showdesk, showdesk_private
  REVOKE ALL ON FUNCTIONS FROM PUBLIC, anon, authenticated;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_default_acl d, aclexplode(d.defaclacl) a
              WHERE d.defaclrole = current_user::regrole AND d.defaclnamespace = 0
                AND a.grantee IN ('anon'::regrole, 'authenticated'::regrole)) THEN
    RAISE WARNING 'Showdesk: role % has database-wide default privileges for anon or authenticated '
                  '(ALTER DEFAULT PRIVILEGES without IN SCHEMA); objects later migrations create in '
                  'schema showdesk receive them until 0015 is applied again.', current_user;
  END IF;
END
$$;

-- Foreign keys ----------------------------------------------------------------------------------
-- An index led by each foreign key's columns (0002 indexed most of them), so deleting or re-keying
-- a parent row does not scan the child table, and joins from parent to children can use it.

CREATE INDEX IF NOT EXISTS events_venue_id_idx ON showdesk.events (venue_id);
CREATE INDEX IF NOT EXISTS tickets_ticket_type_id_idx ON showdesk.tickets (ticket_type_id);
CREATE INDEX IF NOT EXISTS looks_designer_id_idx ON showdesk.looks (designer_id);
CREATE INDEX IF NOT EXISTS runway_appearances_look_id_idx ON showdesk.runway_appearances (look_id);
CREATE INDEX IF NOT EXISTS runway_appearances_model_id_idx ON showdesk.runway_appearances (model_id);
CREATE INDEX IF NOT EXISTS people_model_id_idx ON showdesk.people (model_id);
CREATE INDEX IF NOT EXISTS staff_event_id_idx ON showdesk.staff (event_id);

-- pg_graphql ------------------------------------------------------------------------------------
-- Nothing to do. pg_graphql reflects only the schemas on the request's search_path (on Supabase:
-- the API's exposed schemas, public by default) and, in them, only what the role may use. showdesk
-- and showdesk_private are not exposed, so no Showdesk table or helper is in the GraphQL schema,
-- and no @graphql comment directive on them would matter. The four public.showdesk_* wrappers
-- are in it (pg_graphql 1.4+ reflects the functions a role may execute): authenticated sees them
-- as query/mutation fields, anon does not (no EXECUTE); a GraphQL call runs the same SECURITY
-- INVOKER function, under the same RLS, as POST /rest/v1/rpc. Supabase's advisor lint
-- pg_graphql_authenticated_table_exposed still lists the tables authenticated may SELECT in any
-- schema; that SELECT is what the SECURITY INVOKER sync_pull runs on, and those tables would
-- reach GraphQL only if someone added showdesk to the exposed schemas (RLS would still decide
-- every row).
