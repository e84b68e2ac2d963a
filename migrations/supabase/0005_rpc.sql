-- Showdesk 0005: the RPC functions the kiosk calls (PostgREST: POST /rest/v1/rpc/<name>).
--
--   sync_pull(p_event_id uuid, p_cursor text, p_limit int) returns jsonb
--   sync_push(p_device_id uuid, p_mutations jsonb) returns jsonb
--   register_device(p_name text, p_gate text) returns jsonb
--
-- sync_pull and sync_push are SECURITY INVOKER: they run as the caller (authenticated, with
-- the caller's JWT claims), so every row they read or write goes through the same Row Level
-- Security policies as a direct table request — one place decides what a device may see and
-- change, and a rejected write is the policy speaking. Only the bookkeeping triggers
-- (change log, revocations, double-entry flags) are SECURITY DEFINER.
-- register_device is SECURITY DEFINER with explicit checks: door devices may not insert
-- into devices under RLS, yet a kiosk must be able to enrol itself in its own organization.

SET search_path = showdesk, pg_catalog;

-- Row as sent on the wire: models.py column names; times ISO-8601 UTC with 'Z'; money (numeric)
-- as exact text; sync-only columns (version) left out (the change carries the version).
CREATE OR REPLACE FUNCTION showdesk_private.wire_sql(p_table text, p_alias text) RETURNS text
LANGUAGE sql STABLE
AS $$
  SELECT 'jsonb_build_object(' || string_agg(
           format('%L, ', a.attname) ||
           CASE a.atttypid
             WHEN 'timestamptz'::regtype THEN
               format('to_char(%I.%I AT TIME ZONE ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS.US"Z"'')', p_alias, a.attname)
             WHEN 'numeric'::regtype THEN format('%I.%I::text', p_alias, a.attname)
             ELSE format('%I.%I', p_alias, a.attname)
           END, ', ' ORDER BY a.attnum) || ')'
    FROM pg_attribute a
   WHERE a.attrelid = format('showdesk.%I', p_table)::regclass
     AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> 'version'
$$;

-- Columns a client may write in a table (everything but the sync columns).
CREATE OR REPLACE FUNCTION showdesk_private.writable_columns(p_table text) RETURNS text[]
LANGUAGE sql STABLE
AS $$
  SELECT array_agg(a.attname::text ORDER BY a.attnum)
    FROM pg_attribute a
   WHERE a.attrelid = format('showdesk.%I', p_table)::regclass
     AND a.attnum > 0 AND NOT a.attisdropped AND a.attname NOT IN ('version', 'updated_at')
$$;

-- The server's clock (ISO-8601 UTC), so clients can measure their skew.
CREATE OR REPLACE FUNCTION showdesk_private.iso_now() RETURNS text
LANGUAGE sql STABLE
AS $$ SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;

CREATE OR REPLACE FUNCTION showdesk_private.reset_page() RETURNS jsonb
LANGUAGE sql STABLE
AS $$
  SELECT jsonb_build_object('changes', '[]'::jsonb, 'cursor', NULL, 'has_more', false, 'reset', true,
                            'server_time', showdesk_private.iso_now())
$$;

-- THE PULL. Cursor text: '1:<xid>:<version>' — every change with (change_xid, version) up to
-- that pair, and every change of a transaction with a smaller id, has been delivered.
-- STABLE: the whole call reads one snapshot, and its xmin is the watermark.
-- (0007 replaces it with a json result; dropped first so this file can be re-applied before it)
DROP FUNCTION IF EXISTS showdesk.sync_pull(uuid, text, integer);
CREATE OR REPLACE FUNCTION showdesk.sync_pull(p_event_id uuid, p_cursor text DEFAULT NULL,
                                            p_limit integer DEFAULT 500)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_snapshot pg_snapshot := pg_current_snapshot();
  v_watermark xid8 := pg_snapshot_xmin(v_snapshot);
  v_limit integer := least(greatest(coalesce(p_limit, 500), 1), 5000);
  v_xid xid8 := '0'::xid8;
  v_version bigint := 0;
  v_org uuid;
  v_match text[];
  v_horizon jsonb;
  v_page jsonb;
  v_count integer;
  v_has_more boolean;
  v_rows jsonb := '[]'::jsonb;
  v_table text;
  v_found jsonb;
  v_changes jsonb;
  v_last jsonb;
  v_cursor text;
BEGIN
  SELECT e.organization_id INTO v_org FROM showdesk.events e WHERE e.id = p_event_id;
  IF v_org IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = 'This account may not sync that event: it does not exist or belongs to another organization.';
  END IF;

  IF coalesce(p_cursor, '') <> '' THEN
    v_match := regexp_match(p_cursor, '^1:([0-9]{1,20}):([0-9]{1,19})$');
    IF v_match IS NULL THEN
      RETURN showdesk_private.reset_page();
    END IF;
    v_xid := v_match[1]::xid8;
    v_version := v_match[2]::bigint;
    -- a cursor from the future (another database, a restore) cannot be trusted
    IF v_xid > pg_snapshot_xmax(v_snapshot) THEN
      RETURN showdesk_private.reset_page();
    END IF;
    SELECT value INTO v_horizon FROM showdesk.sync_settings WHERE key = 'purge_horizon';
    IF v_horizon IS NOT NULL
       AND (v_xid, v_version) < ((v_horizon ->> 'xid')::xid8, (v_horizon ->> 'version')::bigint) THEN
      RETURN showdesk_private.reset_page();
    END IF;
  END IF;

  SELECT coalesce(jsonb_agg(jsonb_build_object(
           'table', p.table_name, 'id', p.row_id, 'version', p.version, 'deleted', p.deleted,
           'xid', p.change_xid::text) ORDER BY p.change_xid, p.version), '[]'::jsonb),
         count(*)
    INTO v_page, v_count
    FROM (
      -- two index range scans merged (an OR of the two scopes made it a full scan + sort
      -- per page: quadratic over an initial sync)
      SELECT * FROM (
        (SELECT c.table_name, c.row_id, c.version, c.deleted, c.change_xid
           FROM showdesk.sync_changes c
          WHERE c.event_id = p_event_id
            AND (c.change_xid, c.version) > (v_xid, v_version)
            AND c.change_xid < v_watermark
          ORDER BY c.change_xid, c.version
          LIMIT v_limit + 1)
        UNION ALL
        (SELECT c.table_name, c.row_id, c.version, c.deleted, c.change_xid
           FROM showdesk.sync_changes c
          WHERE c.event_id IS NULL AND c.organization_id = v_org
            AND (c.change_xid, c.version) > (v_xid, v_version)
            AND c.change_xid < v_watermark
          ORDER BY c.change_xid, c.version
          LIMIT v_limit + 1)
      ) u
      ORDER BY u.change_xid, u.version
      LIMIT v_limit + 1
    ) p;

  v_has_more := v_count > v_limit;
  IF v_has_more THEN
    v_page := v_page - v_limit;  -- drop the look-ahead element
  END IF;

  -- Fetch the live rows, one query per table on the page (RLS applies to each), as one list
  -- joined to the page below (looking rows up in a big jsonb object per element is O(n^2)).
  FOR v_table IN
    SELECT DISTINCT e ->> 'table' FROM jsonb_array_elements(v_page) e WHERE NOT (e ->> 'deleted')::boolean
  LOOP
    EXECUTE format('SELECT coalesce(jsonb_agg(jsonb_build_object(''t'', %L, ''id'', t.id::text, ''v'', t.version, ''r'', %s)), ''[]''::jsonb)
                      FROM showdesk.%I t WHERE t.id = ANY ($1)',
                   v_table, showdesk_private.wire_sql(v_table, 't'), v_table)
      INTO v_found
      USING ARRAY(SELECT (e ->> 'id')::uuid FROM jsonb_array_elements(v_page) e
                   WHERE e ->> 'table' = v_table AND NOT (e ->> 'deleted')::boolean);
    v_rows := v_rows || v_found;
  END LOOP;

  -- Assemble. A live row that is no longer readable (deleted or hidden since the log entry
  -- was written) is left out: its newer entry will come in a later pull.
  SELECT coalesce(jsonb_agg(
           CASE WHEN (x.e ->> 'deleted')::boolean THEN
             jsonb_build_object('table', x.e ->> 'table', 'id', x.e ->> 'id',
                                'version', (x.e ->> 'version')::bigint, 'deleted', true, 'row', NULL)
           ELSE
             jsonb_build_object('table', x.e ->> 'table', 'id', x.e ->> 'id',
                                'version', (f.v)::bigint, 'deleted', false, 'row', f.r)
           END ORDER BY x.n), '[]'::jsonb)
    INTO v_changes
    FROM jsonb_array_elements(v_page) WITH ORDINALITY AS x(e, n)
    LEFT JOIN (SELECT r ->> 't' AS t, r ->> 'id' AS id, r ->> 'v' AS v, r -> 'r' AS r
                 FROM jsonb_array_elements(v_rows) r) f
      ON f.t = x.e ->> 'table' AND f.id = x.e ->> 'id'
   WHERE (x.e ->> 'deleted')::boolean OR f.id IS NOT NULL;

  IF v_has_more THEN
    v_last := v_page -> (jsonb_array_length(v_page) - 1);
    v_cursor := format('1:%s:%s', v_last ->> 'xid', v_last ->> 'version');
  ELSE
    -- everything below the watermark has been delivered
    IF v_watermark > v_xid THEN
      v_cursor := format('1:%s:0', v_watermark::text);
    ELSE
      v_cursor := format('1:%s:%s', v_xid::text, v_version);
    END IF;
  END IF;

  RETURN jsonb_build_object('changes', v_changes, 'cursor', v_cursor, 'has_more', v_has_more,
                            'reset', false, 'server_time', showdesk_private.iso_now());
END
$$;

-- Plain words for why a mutation was refused.
DROP FUNCTION IF EXISTS showdesk_private.explain_error(text, text, text, text, text);
CREATE OR REPLACE FUNCTION showdesk_private.explain_error(p_state text, p_message text, p_table text,
                                                         p_constraint text, p_column text, p_op text)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
  SELECT CASE
    WHEN p_state = '23503' AND p_op = 'delete' THEN
      format('Other rows still refer to this row of %s (%s); change or delete them first.',
             replace(p_table, '_', ' '), coalesce(p_constraint, p_message))
    WHEN p_state = '42501' THEN
      format('Not permitted: this account may not make this change to %s.', replace(p_table, '_', ' '))
    WHEN p_state = '23505' THEN
      format('Another %s row already uses this value (%s).', replace(p_table, '_', ' '), coalesce(p_constraint, p_message))
    WHEN p_state = '23503' THEN
      format('It refers to something the server does not have (%s).', coalesce(p_constraint, p_message))
    WHEN p_state = '23502' THEN
      format('A required value is missing: %s.', coalesce(p_column, p_message))
    WHEN p_state = '23514' THEN
      format('A value is not allowed (%s).', coalesce(p_constraint, p_message))
    WHEN p_state LIKE '22%' THEN
      format('A value has the wrong format: %s.', p_message)
    ELSE format('The server could not apply this change: %s.', p_message)
  END
$$;

CREATE OR REPLACE FUNCTION showdesk_private.result(p_mutation_id text, p_status text, p_version bigint,
                                                   p_reason text, p_server_row jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE
AS $$
  SELECT jsonb_build_object('mutation_id', p_mutation_id, 'status', p_status, 'version', p_version,
                            'reason', p_reason, 'server_row', p_server_row)
$$;

-- The current row (as on the wire), its version and per-column change numbers; NULL row when
-- the caller cannot see it. Runs as the caller.
CREATE OR REPLACE FUNCTION showdesk_private.current_row(p_table text, p_id uuid, p_lock boolean,
  OUT row_json jsonb, OUT version bigint, OUT column_versions jsonb, OUT tombstone_version bigint)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, showdesk
AS $$
BEGIN
  EXECUTE format('SELECT %s, t.version FROM showdesk.%I t WHERE t.id = $1 %s',
                 showdesk_private.wire_sql(p_table, 't'), p_table,
                 CASE WHEN p_lock THEN 'FOR UPDATE' ELSE '' END)
    INTO row_json, version USING p_id;
  SELECT c.column_versions, CASE WHEN c.deleted THEN c.version END
    INTO column_versions, tombstone_version
    FROM showdesk.sync_changes c WHERE c.table_name = p_table AND c.row_id = p_id;
  column_versions := coalesce(column_versions, '{}'::jsonb);
END
$$;

-- Apply one mutation (already validated) as the caller. Raises on database errors; the caller
-- turns them into "rejected" inside a savepoint.
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

-- Validate, de-duplicate and apply one mutation inside its own savepoint.
CREATE OR REPLACE FUNCTION showdesk_private.push_one(p_device_id uuid, p_org uuid, m jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_mid_text text := m ->> 'mutation_id';
  v_mid uuid;
  v_table text := m ->> 'table';
  v_op text := m ->> 'op';
  v_row_id uuid;
  v_payload jsonb := m -> 'payload';
  v_base bigint;
  v_unknown text[];
  v_writable text[];
  v_prev record;
  v_cur record;
  v_result jsonb;
  v_state text;
  v_message text;
  v_constraint text;
  v_column text;
BEGIN
  IF jsonb_typeof(m) IS DISTINCT FROM 'object' THEN
    RETURN showdesk_private.result(NULL, 'rejected', NULL, 'A mutation must be a JSON object.', NULL);
  END IF;
  v_mid := showdesk_private.try_uuid(v_mid_text);
  IF v_mid IS NULL THEN
    RETURN showdesk_private.result(v_mid_text, 'rejected', NULL, 'The mutation has no valid mutation_id (a UUID).', NULL);
  END IF;
  v_mid_text := v_mid::text;

  SELECT status, result INTO v_prev FROM showdesk.sync_mutations WHERE mutation_id = v_mid;
  IF FOUND THEN
    RETURN v_prev.result || jsonb_build_object('status', 'duplicate', 'original_status', v_prev.status);
  END IF;

  IF v_table IS NULL OR NOT v_table = ANY (showdesk_private.sync_tables()) THEN
    RETURN showdesk_private.result(v_mid_text, 'rejected', NULL,
      format('Unknown table %s.', coalesce(quote_literal(v_table), '(none)')), NULL);
  END IF;
  IF v_op IS NULL OR v_op NOT IN ('insert', 'update', 'delete') THEN
    RETURN showdesk_private.result(v_mid_text, 'rejected', NULL,
      format('Unknown operation %s: expected insert, update or delete.', coalesce(quote_literal(v_op), '(none)')), NULL);
  END IF;
  v_row_id := showdesk_private.try_uuid(coalesce(m ->> 'row_id', v_payload ->> 'id'));
  IF v_row_id IS NULL THEN
    RETURN showdesk_private.result(v_mid_text, 'rejected', NULL, 'The mutation has no valid row_id (a UUID).', NULL);
  END IF;
  IF v_payload IS NULL OR jsonb_typeof(v_payload) = 'null' THEN
    v_payload := '{}'::jsonb;
  END IF;
  IF jsonb_typeof(v_payload) <> 'object' THEN
    RETURN showdesk_private.result(v_mid_text, 'rejected', NULL, 'The payload must be a JSON object.', NULL);
  END IF;
  IF v_payload ? 'id' AND showdesk_private.try_uuid(v_payload ->> 'id') IS DISTINCT FROM v_row_id THEN
    RETURN showdesk_private.result(v_mid_text, 'rejected', NULL, 'The payload id does not match row_id.', NULL);
  END IF;
  IF m ? 'base_version' AND jsonb_typeof(m -> 'base_version') NOT IN ('null', 'number') THEN
    RETURN showdesk_private.result(v_mid_text, 'rejected', NULL, 'base_version must be a number or null.', NULL);
  END IF;
  v_base := (m ->> 'base_version')::bigint;
  -- sync bookkeeping the client may echo back is not data
  v_payload := v_payload - 'version' - 'server_version' - 'updated_at' - 'id';
  -- (the column list once, not once per payload key: it reads pg_attribute)
  v_writable := showdesk_private.writable_columns(v_table);
  v_unknown := ARRAY(SELECT k FROM jsonb_object_keys(v_payload) k
                      WHERE NOT k = ANY (v_writable) ORDER BY k);
  IF cardinality(v_unknown) > 0 THEN
    RETURN showdesk_private.result(v_mid_text, 'rejected', NULL,
      format('Unknown column(s) for %s: %s.', v_table, array_to_string(v_unknown, ', ')), NULL);
  END IF;
  IF v_table = 'checkins' AND v_op <> 'insert' THEN
    RETURN showdesk_private.result(v_mid_text, 'rejected', NULL,
      'Check-ins are append-only: record a new scan or an annulment instead of changing or deleting one.', NULL);
  END IF;

  BEGIN
    v_result := showdesk_private.apply_mutation(p_device_id, v_mid_text, v_table, v_op, v_row_id, v_payload, v_base);
    IF v_result ->> 'status' IN ('applied', 'conflict') THEN
      INSERT INTO showdesk.sync_mutations (mutation_id, device_id, organization_id, table_name, row_id, op, status, result)
      VALUES (v_mid, p_device_id, p_org, v_table, v_row_id, v_op, v_result ->> 'status', v_result);
    END IF;
    RETURN v_result;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                            v_constraint = CONSTRAINT_NAME, v_column = COLUMN_NAME;
    -- transient trouble (or a read-only transaction) fails the whole push so the client
    -- retries it later
    IF v_state IN ('40001', '40P01', '55P03', '57014')
       OR left(v_state, 2) IN ('08', '25', '53', '57', '58', 'XX') THEN
      RAISE;
    END IF;
    IF v_state = '23505' THEN
      -- the same mutation (or the same new row) was applied by a concurrent push that has
      -- committed meanwhile: that is a replay, not a failure
      SELECT status, result INTO v_prev FROM showdesk.sync_mutations WHERE mutation_id = v_mid;
      IF FOUND THEN
        RETURN v_prev.result || jsonb_build_object('status', 'duplicate', 'original_status', v_prev.status);
      END IF;
      IF v_op = 'insert' THEN
        v_cur := showdesk_private.current_row(v_table, v_row_id, false);
        IF v_cur.row_json IS NOT NULL THEN
          RETURN showdesk_private.result(v_mid_text, 'duplicate', v_cur.version, NULL, NULL);
        END IF;
      END IF;
    END IF;
    RETURN showdesk_private.result(v_mid_text, 'rejected', NULL,
      showdesk_private.explain_error(v_state, v_message, v_table, v_constraint, v_column, v_op), NULL);
  END;
END
$$;

CREATE OR REPLACE FUNCTION showdesk.sync_push(p_device_id uuid, p_mutations jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_me record := showdesk_private.whoami();
  v_results jsonb := '[]'::jsonb;
  m jsonb;
BEGIN
  IF v_me.organization_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = 'This account is not linked to an organization (or its device was revoked).';
  END IF;
  IF jsonb_typeof(p_mutations) IS DISTINCT FROM 'array' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'p_mutations must be a JSON array of mutations.';
  END IF;
  IF jsonb_array_length(p_mutations) > 1000 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'Too many mutations in one push (at most 1000).';
  END IF;
  IF p_device_id IS NULL
     OR (v_me.device_id IS NOT NULL AND v_me.device_id <> p_device_id)
     OR NOT EXISTS (SELECT 1 FROM showdesk.devices d
                     WHERE d.id = p_device_id AND d.organization_id = v_me.organization_id
                       AND d.revoked_at IS NULL) THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = 'This device is not registered with the organization, or it was revoked.';
  END IF;
  FOR m IN SELECT value FROM jsonb_array_elements(p_mutations) LOOP
    v_results := v_results || jsonb_build_array(showdesk_private.push_one(p_device_id, v_me.organization_id, m));
  END LOOP;
  RETURN jsonb_build_object('results', v_results, 'server_time', showdesk_private.iso_now());
END
$$;

-- Enrol a kiosk in the caller's organization. The device id is the one in the caller's
-- app_metadata.device_id when present (re-registering updates name and gate), else new.
CREATE OR REPLACE FUNCTION showdesk.register_device(p_name text, p_gate text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_me record := showdesk_private.whoami();
  v_name text := btrim(coalesce(p_name, ''));
  v_gate text := nullif(btrim(coalesce(p_gate, '')), '');
  v_device showdesk.devices;
BEGIN
  IF v_me.organization_id IS NULL THEN
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
    INSERT INTO showdesk.devices AS d (id, organization_id, name, gate)
    VALUES (v_me.device_id, v_me.organization_id, v_name, v_gate)
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, gate = excluded.gate, last_seen_at = now()
      WHERE d.organization_id = excluded.organization_id AND d.revoked_at IS NULL
    RETURNING * INTO v_device;
    IF v_device.id IS NULL THEN
      RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'This device was revoked; ask an organizer to provision it again.';
    END IF;
  ELSE
    INSERT INTO showdesk.devices (organization_id, name, gate)
    VALUES (v_me.organization_id, v_name, v_gate)
    RETURNING * INTO v_device;
  END IF;
  RETURN jsonb_build_object('device_id', v_device.id, 'organization_id', v_device.organization_id,
                            'name', v_device.name, 'gate', v_device.gate,
                            'registered_at', to_char(v_device.registered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'));
END
$$;

REVOKE EXECUTE ON FUNCTION showdesk.sync_pull(uuid, text, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION showdesk.sync_push(uuid, jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION showdesk.register_device(text, text) FROM PUBLIC;
DO $$
BEGIN
  EXECUTE 'REVOKE EXECUTE ON FUNCTION showdesk.sync_pull(uuid, text, integer) FROM anon';
  EXECUTE 'REVOKE EXECUTE ON FUNCTION showdesk.sync_push(uuid, jsonb) FROM anon';
  EXECUTE 'REVOKE EXECUTE ON FUNCTION showdesk.register_device(text, text) FROM anon';
END
$$;
GRANT EXECUTE ON FUNCTION showdesk.sync_pull(uuid, text, integer) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION showdesk.sync_push(uuid, jsonb) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION showdesk.register_device(text, text) TO authenticated, service_role;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA showdesk_private FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA showdesk_private TO authenticated, service_role;
-- bookkeeping that only the SECURITY DEFINER triggers call
REVOKE EXECUTE ON FUNCTION showdesk_private.recompute_double_entries(uuid) FROM authenticated;
REVOKE EXECUTE ON FUNCTION showdesk_private.row_scope(text, jsonb) FROM authenticated;

RESET search_path;
