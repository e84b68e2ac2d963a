-- Showdesk 0010: what every bridge to the FashionOS platform's own tables shares.
--
-- A bridge (0011 on, one per platform schema document) keeps a mirror of the platform's rows in
-- Showdesk's own tables, under the same ids (or ids derived from them, see derived_id), so the
-- change log, the late-commit-safe cursor, Row Level Security and sync_pull/sync_push work on
-- platform data exactly as on Showdesk's own. It adds no column, constraint or policy to any
-- platform table: only AFTER triggers named showdesk_bridge_* whose functions live here.
--
-- * Capture: a platform INSERT/UPDATE/DELETE updates the mirror in the same transaction, so the
--   change carries the platform transaction's id and a late commit is never skipped.
-- * Write-back: an admission or a walk-order move pushed by a kiosk is written into the
--   platform's own columns in the push's transaction (bridge_writeback marks those writes, so
--   their capture does not echo them back).
-- * Isolation: a capture or write-back that fails (a platform row Showdesk cannot map) never
--   fails the platform's write or the kiosk's push; it is recorded in showdesk.bridge_errors
--   and raised as a WARNING.

SET search_path = showdesk, pg_catalog;

CREATE TABLE IF NOT EXISTS showdesk.bridge_errors (
  id           bigserial PRIMARY KEY,
  bridge       text NOT NULL,
  table_name   text NOT NULL,
  row_id       uuid,
  operation    text NOT NULL,
  message      text NOT NULL,
  occurred_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE showdesk.bridge_errors ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON showdesk.bridge_errors FROM PUBLIC, anon, authenticated;
GRANT ALL ON showdesk.bridge_errors TO service_role;

-- Active bridges, by name: sync_settings 'bridges' = ["ai_event_management", ...].
INSERT INTO showdesk.sync_settings (key, value) VALUES ('bridges', '[]'::jsonb)
ON CONFLICT (key) DO NOTHING;

CREATE OR REPLACE FUNCTION showdesk_private.bridge_activate(p_bridge text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
  UPDATE showdesk.sync_settings
     SET value = (SELECT coalesce(jsonb_agg(DISTINCT b ORDER BY b), '[]'::jsonb)
                    FROM jsonb_array_elements_text(value || to_jsonb(p_bridge)) AS b)
   WHERE key = 'bridges'
$$;

CREATE OR REPLACE FUNCTION showdesk_private.bridge_failed(p_bridge text, p_table text, p_row uuid,
                                                          p_op text, p_message text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
BEGIN
  INSERT INTO showdesk.bridge_errors (bridge, table_name, row_id, operation, message)
  VALUES (p_bridge, p_table, p_row, p_op, p_message);
  RAISE WARNING 'Showdesk bridge %: % of %.% was not mirrored: %', p_bridge, p_op, p_table, p_row, p_message;
END
$$;

-- A stable id for a Showdesk row made from a platform row that has no row of its own in the
-- contract (an attendee made from a ticket's name and email, a look made from an appearance).
CREATE OR REPLACE FUNCTION showdesk_private.derived_id(p_kind text, p_id uuid) RETURNS uuid
LANGUAGE sql IMMUTABLE
AS $$ SELECT CASE WHEN p_id IS NULL THEN NULL ELSE md5(p_kind || ':' || p_id::text)::uuid END $$;

-- Is this write one of Showdesk's own write-backs into a platform table?
CREATE OR REPLACE FUNCTION showdesk_private.bridge_writing_back() RETURNS boolean
LANGUAGE sql STABLE
AS $$ SELECT coalesce(current_setting('showdesk.bridge_writeback', true), '') = 'on' $$;

CREATE OR REPLACE FUNCTION showdesk_private.set_bridge_writeback(p_on boolean) RETURNS void
LANGUAGE sql
AS $$ SELECT set_config('showdesk.bridge_writeback', CASE WHEN p_on THEN 'on' ELSE '' END, true) $$;

-- The order key (app/domain/order_keys.py) of an integer position: the integer part of the
-- fractional-indexing scheme, 'a' + one base-62 digit for 0..61, 'b' + two digits after that...
CREATE OR REPLACE FUNCTION showdesk_private.order_key_of(p_position bigint) RETURNS text
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
  digits constant text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  n bigint := greatest(coalesce(p_position, 0), 0);
  body text := '';
BEGIN
  LOOP
    body := substr(digits, (n % 62)::int + 1, 1) || body;
    n := n / 62;
    EXIT WHEN n = 0;
  END LOOP;
  RETURN chr(ascii('a') + length(body) - 1) || body;
END
$$;

-- The pin rank of a look in walk order, as app/domain/lineup.py sorts: opening first, closing
-- last, every other look by its order key in between.
CREATE OR REPLACE FUNCTION showdesk_private.walk_pin(p_opening boolean, p_closing boolean) RETURNS int
LANGUAGE sql IMMUTABLE
AS $$ SELECT CASE WHEN p_opening THEN 0 WHEN p_closing THEN 2 ELSE 1 END $$;

-- Where a platform table has the shape a bridge needs. p_columns: 'name type' pairs, type as
-- format_type() prints it. A missing table or column stops the migration with a sentence.
CREATE OR REPLACE FUNCTION showdesk_private.require_shape(p_bridge text, p_table text,
                                                          p_columns text[]) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog
AS $$
DECLARE
  c text;
  want_name text;
  want_type text;
  have_type text;
BEGIN
  IF to_regclass(format('public.%I', p_table)) IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '42P01', MESSAGE = format(
      'Showdesk bridge %s needs the platform table public.%s, which this database does not have.',
      p_bridge, p_table);
  END IF;
  FOREACH c IN ARRAY p_columns LOOP
    want_name := split_part(c, ' ', 1);
    want_type := substr(c, length(want_name) + 2);
    SELECT format_type(a.atttypid, a.atttypmod) INTO have_type
      FROM pg_attribute a
     WHERE a.attrelid = format('public.%I', p_table)::regclass AND a.attname = want_name
       AND a.attnum > 0 AND NOT a.attisdropped;
    IF have_type IS NULL THEN
      RAISE EXCEPTION USING ERRCODE = '42703', MESSAGE = format(
        'Showdesk bridge %s needs column %s (%s) of the platform table public.%s, which has no such column.',
        p_bridge, want_name, want_type, p_table);
    END IF;
    IF want_type <> '' AND split_part(have_type, '(', 1) <> want_type THEN
      RAISE EXCEPTION USING ERRCODE = '42804', MESSAGE = format(
        'Showdesk bridge %s needs column %s of the platform table public.%s to be %s; it is %s.',
        p_bridge, want_name, p_table, want_type, have_type);
    END IF;
  END LOOP;
END
$$;

-- Does the database hold this platform table, with these columns? (Detection only: a bridge
-- is installed where its signature tables are present, then require_shape checks the rest.)
CREATE OR REPLACE FUNCTION showdesk_private.platform_has(p_table text, p_columns text[]) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog
AS $$
  SELECT to_regclass(format('public.%I', p_table)) IS NOT NULL
     AND NOT EXISTS (
       SELECT 1 FROM unnest(p_columns) AS c(name)
        WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a
                           WHERE a.attrelid = format('public.%I', p_table)::regclass
                             AND a.attname = c.name AND a.attnum > 0 AND NOT a.attisdropped))
$$;

-- Install (or re-install) an AFTER row trigger named showdesk_bridge on a platform table.
CREATE OR REPLACE FUNCTION showdesk_private.bridge_trigger(p_table text, p_function text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog
AS $$
BEGIN
  EXECUTE format('DROP TRIGGER IF EXISTS showdesk_bridge ON public.%I', p_table);
  EXECUTE format('CREATE TRIGGER showdesk_bridge AFTER INSERT OR UPDATE OR DELETE ON public.%I
                  FOR EACH ROW EXECUTE FUNCTION showdesk_private.%I()', p_table, p_function);
END
$$;

-- Write-back dispatch: after check-ins are inserted (one statement: a push's set insert or a
-- single mutation), each active bridge's bridge_<name>_admissions(ticket) brings the
-- platform's admission columns in line with Showdesk's log, for every ticket an admission or
-- an annulment touched. Only tickets of the check-in's own event are touched: a check-in that
-- names another event's (or organization's) ticket writes nothing back.
CREATE OR REPLACE FUNCTION showdesk_private.bridge_checkins_writeback() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_bridges text[];
  v_bridge text;
  v_ticket uuid;
BEGIN
  SELECT array_agg(x) INTO v_bridges
    FROM showdesk.sync_settings s, jsonb_array_elements_text(s.value) AS x
   WHERE s.key = 'bridges';
  IF v_bridges IS NULL THEN
    RETURN NULL;
  END IF;
  FOR v_ticket IN
    SELECT DISTINCT t.id
      FROM new_rows n
      LEFT JOIN showdesk.checkins a ON n.kind = 'annul' AND a.id = n.annuls_checkin_id
      JOIN showdesk.tickets t ON t.id = coalesce(a.ticket_id, n.ticket_id)
                             AND t.event_id = n.event_id
     WHERE (n.kind = 'scan' AND n.verdict = 'admitted' AND n.direction = 'in')
        OR (n.kind = 'annul' AND a.event_id = n.event_id)
  LOOP
    FOREACH v_bridge IN ARRAY v_bridges LOOP
      IF to_regprocedure(format('showdesk_private.bridge_%s_admissions(uuid)', v_bridge)) IS NOT NULL THEN
        EXECUTE format('SELECT showdesk_private.bridge_%s_admissions($1)', v_bridge) USING v_ticket;
      END IF;
    END LOOP;
  END LOOP;
  RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS bridge_writeback ON showdesk.checkins;
CREATE TRIGGER bridge_writeback AFTER INSERT ON showdesk.checkins
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION showdesk_private.bridge_checkins_writeback();

-- Showdesk's standing admissions of a ticket: admitted entry scans not annulled since (exits
-- and refused scans do not count). The write-backs and the platform's own admissions use it.
CREATE OR REPLACE FUNCTION showdesk_private.bridge_standing_admissions(p_ticket uuid)
RETURNS SETOF showdesk.checkins
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
  SELECT c.* FROM showdesk.checkins c
   WHERE c.ticket_id = p_ticket AND c.kind = 'scan' AND c.verdict = 'admitted'
     AND c.direction = 'in'
     AND NOT EXISTS (SELECT 1 FROM showdesk.checkins a
                      WHERE a.kind = 'annul' AND a.annuls_checkin_id = c.id)
$$;

-- A platform ticket-like row (public.<p_table>, keyed by the ticket's id) brought in line with
-- Showdesk's log: while the ticket has a standing admission, status p_used and <p_time_column> =
-- the earliest one (only from a status in p_from); after the last is annulled, p_unused and NULL.
-- Marked as a write-back, so the capture does not echo it; a failure is logged, never raised.
CREATE OR REPLACE FUNCTION showdesk_private.bridge_write_admission(
  p_bridge text, p_table text, p_ticket uuid, p_time_column text, p_used text, p_unused text,
  p_from text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, extensions
AS $$
DECLARE
  v_first timestamptz;
BEGIN
  IF to_regclass(format('public.%I', p_table)) IS NULL THEN
    RETURN;
  END IF;
  SELECT min(c.scanned_at) INTO v_first FROM showdesk_private.bridge_standing_admissions(p_ticket) c;
  PERFORM showdesk_private.set_bridge_writeback(true);
  IF v_first IS NOT NULL THEN
    EXECUTE format('UPDATE public.%I SET status = $1, %I = $2
                     WHERE id = $3 AND status = ANY ($4) AND (status, %I) IS DISTINCT FROM ($1, $2)',
                   p_table, p_time_column, p_time_column)
      USING p_used, v_first, p_ticket, p_from;
  ELSE
    EXECUTE format('UPDATE public.%I SET status = $1, %I = NULL WHERE id = $2 AND status = $3',
                   p_table, p_time_column)
      USING p_unused, p_ticket, p_used;
  END IF;
  PERFORM showdesk_private.set_bridge_writeback(false);
EXCEPTION WHEN OTHERS THEN
  PERFORM showdesk_private.set_bridge_writeback(false);
  PERFORM showdesk_private.bridge_failed(p_bridge, p_table, p_ticket, 'WRITEBACK', SQLERRM);
END
$$;

-- An admission the platform recorded itself (its own door app marked a ticket used): logged as
-- a check-in from the platform, so every kiosk answers ALREADY ADMITTED for that ticket. One
-- per ticket (a derived id), only while Showdesk's log has no standing admission of it.
CREATE OR REPLACE FUNCTION showdesk_private.bridge_platform_admission(p_bridge text, p_ticket uuid,
                                                                      p_at timestamptz) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_ticket showdesk.tickets;
BEGIN
  SELECT * INTO v_ticket FROM showdesk.tickets WHERE id = p_ticket;
  IF v_ticket.id IS NULL OR p_at IS NULL
     OR EXISTS (SELECT 1 FROM showdesk_private.bridge_standing_admissions(p_ticket)) THEN
    RETURN;
  END IF;
  INSERT INTO showdesk.checkins (id, event_id, ticket_id, device_id, gate, direction, method,
                                 kind, scanned_at, verdict, offline, raw_code)
  VALUES (showdesk_private.derived_id(p_bridge || ':platform_admission', p_ticket),
          v_ticket.event_id, p_ticket, showdesk_private.derived_id('platform_device', v_ticket.event_id),
          'Platform', 'in', 'manual', 'scan', p_at, 'admitted', false, v_ticket.qr_code_data)
  ON CONFLICT (id) DO NOTHING;
END
$$;

-- What a client shows about the server: which bridges are active.
CREATE OR REPLACE FUNCTION showdesk.server_info() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
  SELECT jsonb_build_object(
    'bridges', coalesce((SELECT value FROM showdesk.sync_settings WHERE key = 'bridges'), '[]'::jsonb),
    'server_time', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
$$;
CREATE OR REPLACE FUNCTION public.showdesk_server_info() RETURNS jsonb
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog
AS $$ SELECT showdesk.server_info() $$;
REVOKE EXECUTE ON FUNCTION showdesk.server_info() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION public.showdesk_server_info() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION showdesk.server_info() TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.showdesk_server_info() TO authenticated, service_role;

-- The bridge functions are for triggers and migrations only (0004/0005 grant the policy
-- helpers of this schema to authenticated; a re-apply must not hand these over with them).
CREATE OR REPLACE FUNCTION showdesk_private.bridge_lock_down() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog
AS $$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
             JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'showdesk_private'
              AND (p.proname LIKE 'bridge%' OR p.proname IN ('require_shape', 'platform_has'))
  LOOP
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC, anon, authenticated', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO service_role', f);
  END LOOP;
END
$$;
SELECT showdesk_private.bridge_lock_down();

RESET search_path;
