-- Showdesk 0008: what a caller may see can change; its replica follows.
--
-- 1. A row that moves to another event (a ticket transferred, a look moved to another
--    event's show) leaves a tombstone for the event it left, in sync_moved_out, which pulls
--    of that event deliver in cursor order like any other change.
-- 2. The cursor carries the caller's scope: its organization and the tables its role may
--    read. A cursor taken under another scope (a new role, a kiosk signed in as someone
--    else) is answered with a reset, and the client's full resync brings what is now visible
--    and removes what no longer is.

SET search_path = showdesk, pg_catalog;

CREATE TABLE IF NOT EXISTS showdesk.sync_moved_out (
  event_id    uuid NOT NULL,  -- the event the row left
  table_name  text NOT NULL,
  row_id      uuid NOT NULL,
  version     bigint NOT NULL,
  change_xid  xid8 NOT NULL,
  changed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, table_name, row_id)
);
CREATE INDEX IF NOT EXISTS sync_moved_out_pull_idx ON showdesk.sync_moved_out (event_id, change_xid, version);
CREATE INDEX IF NOT EXISTS sync_moved_out_age_idx ON showdesk.sync_moved_out (changed_at);

ALTER TABLE sync_moved_out ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS sd_select ON sync_moved_out;
CREATE POLICY sd_select ON sync_moved_out FOR SELECT TO authenticated
  USING (
    table_name = ANY ((SELECT showdesk_private.readable_tables())::text[])
    AND event_id = ANY ((SELECT showdesk_private.my_event_ids())::uuid[])
  );
REVOKE ALL ON sync_moved_out FROM PUBLIC, anon;
GRANT SELECT ON sync_moved_out TO authenticated;
GRANT ALL ON sync_moved_out TO service_role;

-- sync_log (0003) plus: an UPDATE that changes the row's event records a move-out.
CREATE OR REPLACE FUNCTION showdesk_private.sync_log() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  r jsonb;
  o jsonb;
  v_version bigint;
  v_changed jsonb := '{}'::jsonb;
  v_scope record;
  v_old_scope record;
BEGIN
  IF TG_OP = 'DELETE' THEN
    r := to_jsonb(OLD);
    v_version := nextval('showdesk.sync_version_seq');
  ELSE
    IF TG_OP = 'UPDATE' AND NEW.version = OLD.version THEN
      RETURN NULL;
    END IF;
    r := to_jsonb(NEW);
    v_version := NEW.version;
    IF TG_OP = 'UPDATE' THEN
      o := to_jsonb(OLD);
      SELECT coalesce(jsonb_object_agg(k.key, v_version), '{}'::jsonb) INTO v_changed
        FROM jsonb_each(r) k
       WHERE k.key NOT IN ('version', 'updated_at') AND k.value IS DISTINCT FROM o -> k.key;
    END IF;
  END IF;
  v_scope := showdesk_private.row_scope(TG_TABLE_NAME, r);
  -- only the columns row_scope reads can move a row
  IF TG_OP = 'UPDATE' AND v_changed ?| ARRAY['event_id', 'show_id', 'segment_id'] THEN
    v_old_scope := showdesk_private.row_scope(TG_TABLE_NAME, o);
    IF v_old_scope.event_id IS NOT NULL
       AND v_old_scope.event_id IS DISTINCT FROM v_scope.event_id THEN
      INSERT INTO showdesk.sync_moved_out AS m (event_id, table_name, row_id, version, change_xid)
      VALUES (v_old_scope.event_id, TG_TABLE_NAME, (r ->> 'id')::uuid, v_version,
              pg_current_xact_id())
      ON CONFLICT (event_id, table_name, row_id) DO UPDATE SET
        version = excluded.version, change_xid = excluded.change_xid, changed_at = now();
    END IF;
  END IF;
  INSERT INTO showdesk.sync_changes AS c
    (table_name, row_id, event_id, organization_id, version, change_xid, deleted, changed_at,
     column_versions)
  VALUES
    (TG_TABLE_NAME, (r ->> 'id')::uuid, v_scope.event_id, v_scope.organization_id, v_version,
     pg_current_xact_id(), TG_OP = 'DELETE', now(), v_changed)
  ON CONFLICT (table_name, row_id) DO UPDATE SET
    event_id = excluded.event_id,
    organization_id = excluded.organization_id,
    version = excluded.version,
    change_xid = excluded.change_xid,
    deleted = excluded.deleted,
    changed_at = excluded.changed_at,
    column_versions = CASE
      WHEN TG_OP = 'INSERT' THEN '{}'::jsonb
      ELSE c.column_versions || excluded.column_versions
    END;
  RETURN NULL;
END
$$;

-- build_pull_page (0007) plus a third source of changes: the event's move-outs, as tombstones.
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
        UNION ALL
        (SELECT m.table_name, m.row_id, m.version, true, m.change_xid
           FROM showdesk.sync_moved_out m
          WHERE m.event_id = $1 AND (m.change_xid, m.version) > ($4, $5) AND m.change_xid < $6
          ORDER BY m.change_xid, m.version LIMIT $3 + 1)
      ) u
      ORDER BY u.change_xid, u.version
      LIMIT $3 + 1
    ),
    live AS MATERIALIZED (
      %s
    )
    SELECT (SELECT count(*)::integer FROM page),
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

-- The caller's scope, short: changes when its organization or its readable tables change.
CREATE OR REPLACE FUNCTION showdesk_private.scope_tag() RETURNS text
LANGUAGE sql STABLE
AS $$
  SELECT left(md5(coalesce(showdesk_private.my_org()::text, '') || '|'
                  || array_to_string(showdesk_private.readable_tables(), ',')), 10)
$$;

-- THE PULL (contract in README.md). Cursor '2:<scope>:<xid>:<version>'; a '1:<xid>:<version>'
-- cursor (0005-0007) is still read, and answered with a '2:' cursor.
CREATE OR REPLACE FUNCTION showdesk.sync_pull(p_event_id uuid, p_cursor text DEFAULT NULL,
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
  v_scope text := showdesk_private.scope_tag();
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
    v_match := regexp_match(p_cursor, '^(?:1|2:([0-9a-f]{10})):([0-9]{1,20}):([0-9]{1,19})$');
    IF v_match IS NULL THEN
      RETURN showdesk_private.reset_page()::json;
    END IF;
    -- taken while the caller could see other things: start again under the new scope
    IF v_match[1] IS NOT NULL AND v_match[1] <> v_scope THEN
      RETURN showdesk_private.reset_page()::json;
    END IF;
    v_xid := v_match[2]::xid8;
    v_version := v_match[3]::bigint;
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
    v_cursor := format('2:%s:%s:%s', v_scope, v_page.last_xid, v_page.last_version);
  ELSIF v_watermark > v_xid THEN
    -- everything below the watermark has been delivered
    v_cursor := format('2:%s:%s:0', v_scope, v_watermark::text);
  ELSE
    v_cursor := format('2:%s:%s:%s', v_scope, v_xid::text, v_version);
  END IF;

  RETURN json_build_object('changes', v_page.changes, 'cursor', v_cursor,
                           'has_more', v_page.total > v_limit, 'reset', false,
                           'server_time', showdesk_private.iso_now());
END
$$;

-- sync_purge (0003) plus: move-outs expire with the tombstones, and move the horizon too.
CREATE OR REPLACE FUNCTION showdesk.sync_purge(p_now timestamptz DEFAULT now()) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_days numeric;
  v_cut timestamptz;
  v_count bigint;
  v_mutations bigint;
  v_top_xid xid8;
  v_top_version bigint;
  v_old jsonb;
BEGIN
  SELECT value::text::numeric INTO v_days FROM showdesk.sync_settings WHERE key = 'tombstone_retention_days';
  v_cut := p_now - make_interval(secs => coalesce(v_days, 30) * 86400);
  WITH gone AS (
    DELETE FROM showdesk.sync_changes WHERE deleted AND changed_at < v_cut
    RETURNING change_xid, version
  ), moved AS (
    DELETE FROM showdesk.sync_moved_out WHERE changed_at < v_cut
    RETURNING change_xid, version
  ), both_kinds AS (
    SELECT * FROM gone UNION ALL SELECT * FROM moved
  )
  SELECT count(*),
         (array_agg(change_xid ORDER BY change_xid DESC, version DESC))[1],
         (array_agg(version ORDER BY change_xid DESC, version DESC))[1]
    INTO v_count, v_top_xid, v_top_version
    FROM both_kinds;
  IF v_count > 0 THEN
    SELECT value INTO v_old FROM showdesk.sync_settings WHERE key = 'purge_horizon';
    -- the horizon only moves forward
    IF (v_top_xid, v_top_version) > ((v_old ->> 'xid')::xid8, (v_old ->> 'version')::bigint) THEN
      UPDATE showdesk.sync_settings
         SET value = jsonb_build_object('xid', v_top_xid::text, 'version', v_top_version)
       WHERE key = 'purge_horizon';
    END IF;
  END IF;
  DELETE FROM showdesk.sync_mutations WHERE applied_at < v_cut;
  GET DIAGNOSTICS v_mutations = ROW_COUNT;
  RETURN jsonb_build_object('purged_tombstones', v_count, 'purged_mutations', v_mutations);
END
$$;

REVOKE EXECUTE ON FUNCTION showdesk.sync_pull(uuid, text, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION showdesk.sync_purge(timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION showdesk_private.build_pull_page() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION showdesk_private.scope_tag() FROM PUBLIC;
DO $$
BEGIN
  EXECUTE 'REVOKE EXECUTE ON FUNCTION showdesk.sync_pull(uuid, text, integer) FROM anon';
  EXECUTE 'REVOKE EXECUTE ON FUNCTION showdesk.sync_purge(timestamptz) FROM anon, authenticated';
END
$$;
GRANT EXECUTE ON FUNCTION showdesk.sync_pull(uuid, text, integer) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION showdesk.sync_purge(timestamptz) TO service_role;
GRANT EXECUTE ON FUNCTION showdesk_private.scope_tag() TO authenticated, service_role;

RESET search_path;
