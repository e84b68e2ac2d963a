-- Showdesk 0007: sync_pull builds a page in one statement, as json.
--
-- 0005 built each page in three passes (the page as jsonb, then one dynamic query per table
-- on the page, then a join of the two jsonb lists) and built every row twice, as jsonb. Here
-- one query selects the page, joins each table's rows to it (a UNION ALL with one branch per
-- synced table, RLS applying in each), and writes the answer as json, which is text built in
-- order rather than a binary tree to be serialised again. Same contract, same cursor.
--
-- The per-table branches are generated from the tables' columns when this file runs:
-- after adding a column to a synced table, run SELECT showdesk_private.build_pull_page();
-- (a later migration that changes a synced table ends with that call).

SET search_path = showdesk, pg_catalog;

-- A table's row as json text: wire_sql (0005) with json_build_object.
CREATE OR REPLACE FUNCTION showdesk_private.wire_json_sql(p_table text, p_alias text) RETURNS text
LANGUAGE sql STABLE
AS $$
  SELECT 'json_build_object(' || substr(showdesk_private.wire_sql(p_table, p_alias),
                                        length('jsonb_build_object(') + 1)
$$;

-- (Re)creates showdesk_private.pull_page: the page after (p_xid, p_version) below the
-- watermark, at most p_limit changes (plus one looked ahead), live rows joined in.
CREATE OR REPLACE FUNCTION showdesk_private.build_pull_page() RETURNS void
LANGUAGE plpgsql
AS $build$
DECLARE
  t text;
  branches text := '';
BEGIN
  FOREACH t IN ARRAY showdesk_private.sync_tables() LOOP
    branches := branches || CASE WHEN branches = '' THEN '' ELSE E'\n      UNION ALL\n      ' END ||
      format('SELECT p.n, x.version AS v, %s AS r FROM page p JOIN showdesk.%I x ON x.id = p.row_id '
             'WHERE p.table_name = %L AND NOT p.deleted AND p.n <= $3',
             showdesk_private.wire_json_sql(t, 'x'), t, t);
  END LOOP;
  EXECUTE format($fn$
CREATE OR REPLACE FUNCTION showdesk_private.pull_page(
    p_event_id uuid, p_org uuid, p_limit integer, p_xid xid8, p_version bigint, p_watermark xid8,
    OUT total integer, OUT changes json, OUT last_xid xid8, OUT last_version bigint)
LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = pg_catalog, showdesk
AS $body$
BEGIN
  -- EXECUTE: planned for these arguments each call (a generic plan cannot know the page).
  -- Both CTEs are MATERIALIZED: the join below must not run the table branches per page row.
  EXECUTE $q$
    WITH page AS MATERIALIZED (
      SELECT u.*, row_number() OVER (ORDER BY u.change_xid, u.version) AS n FROM (
        (SELECT c.table_name, c.row_id, c.version, c.deleted, c.change_xid
           FROM showdesk.sync_changes c
          WHERE c.event_id = $1 AND (c.change_xid, c.version) > ($4, $5) AND c.change_xid < $6
          ORDER BY c.change_xid, c.version LIMIT $3 + 1)
        UNION ALL
        (SELECT c.table_name, c.row_id, c.version, c.deleted, c.change_xid
           FROM showdesk.sync_changes c
          WHERE c.event_id IS NULL AND c.organization_id = $2
            AND (c.change_xid, c.version) > ($4, $5) AND c.change_xid < $6
          ORDER BY c.change_xid, c.version LIMIT $3 + 1)
      ) u
      ORDER BY u.change_xid, u.version
      LIMIT $3 + 1
    ),
    live AS MATERIALIZED (
      %s
    )
    SELECT (SELECT count(*)::integer FROM page),
           -- a live row no longer readable (deleted or hidden since its log entry) is left
           -- out: its newer entry comes in a later pull
           (SELECT coalesce(json_agg(CASE WHEN p.deleted THEN
                      json_build_object('table', p.table_name, 'id', p.row_id,
                                        'version', p.version, 'deleted', true, 'row', NULL)
                    ELSE
                      json_build_object('table', p.table_name, 'id', p.row_id,
                                        'version', l.v, 'deleted', false, 'row', l.r)
                    END ORDER BY p.n), '[]'::json)
              FROM page p LEFT JOIN live l ON l.n = p.n
             WHERE p.n <= $3 AND (p.deleted OR l.n IS NOT NULL)),
           (SELECT p.change_xid FROM page p WHERE p.n = $3),
           (SELECT p.version FROM page p WHERE p.n = $3)
  $q$ INTO total, changes, last_xid, last_version
  USING p_event_id, p_org, p_limit, p_xid, p_version, p_watermark;
END
$body$
$fn$, branches);
  REVOKE EXECUTE ON FUNCTION showdesk_private.pull_page(uuid, uuid, integer, xid8, bigint, xid8)
    FROM PUBLIC;
  GRANT EXECUTE ON FUNCTION showdesk_private.pull_page(uuid, uuid, integer, xid8, bigint, xid8)
    TO authenticated, service_role;
END
$build$;

SELECT showdesk_private.build_pull_page();

-- THE PULL (contract in README.md; cursor as in 0005). json rather than jsonb: dropped first,
-- since a function's result type cannot be replaced in place.
DROP FUNCTION IF EXISTS showdesk.sync_pull(uuid, text, integer);
CREATE FUNCTION showdesk.sync_pull(p_event_id uuid, p_cursor text DEFAULT NULL,
                                 p_limit integer DEFAULT 500)
RETURNS json
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
  v_page record;
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
      RETURN showdesk_private.reset_page()::json;
    END IF;
    v_xid := v_match[1]::xid8;
    v_version := v_match[2]::bigint;
    -- a cursor from the future (another database, a restore) cannot be trusted
    IF v_xid > pg_snapshot_xmax(v_snapshot) THEN
      RETURN showdesk_private.reset_page()::json;
    END IF;
    SELECT value INTO v_horizon FROM showdesk.sync_settings WHERE key = 'purge_horizon';
    IF v_horizon IS NOT NULL
       AND (v_xid, v_version) < ((v_horizon ->> 'xid')::xid8, (v_horizon ->> 'version')::bigint) THEN
      RETURN showdesk_private.reset_page()::json;
    END IF;
  END IF;

  SELECT * INTO v_page
    FROM showdesk_private.pull_page(p_event_id, v_org, v_limit, v_xid, v_version, v_watermark);

  IF v_page.total > v_limit THEN
    v_cursor := format('1:%s:%s', v_page.last_xid, v_page.last_version);
  ELSIF v_watermark > v_xid THEN
    -- everything below the watermark has been delivered
    v_cursor := format('1:%s:0', v_watermark::text);
  ELSE
    v_cursor := format('1:%s:%s', v_xid::text, v_version);
  END IF;

  RETURN json_build_object('changes', v_page.changes, 'cursor', v_cursor,
                           'has_more', v_page.total > v_limit, 'reset', false,
                           'server_time', showdesk_private.iso_now());
END
$$;

REVOKE EXECUTE ON FUNCTION showdesk.sync_pull(uuid, text, integer) FROM PUBLIC;
DO $$
BEGIN
  EXECUTE 'REVOKE EXECUTE ON FUNCTION showdesk.sync_pull(uuid, text, integer) FROM anon';
END
$$;
GRANT EXECUTE ON FUNCTION showdesk.sync_pull(uuid, text, integer) TO authenticated, service_role;
REVOKE EXECUTE ON FUNCTION showdesk_private.build_pull_page() FROM PUBLIC;

RESET search_path;
