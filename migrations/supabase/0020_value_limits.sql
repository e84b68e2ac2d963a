-- Showdesk 0020: no text value of a replicated table is larger than a person could mean.
--
-- Every text column of the replicated tables gets a length limit: 20,000 characters for the
-- free-text columns (notes, descriptions, reasons, addresses), 2,000 for the rest (names,
-- codes, emails — a ticket's QR payload is under 200). A 1 MB name would otherwise be
-- accepted, stored, and sent to every kiosk of the event. The limit is a CHECK constraint, so
-- direct table writes, every sync_push path and the bridges all meet it; sync_push answers a
-- breach with a sentence naming the column (explain_error below). Constraints are added NOT
-- VALID: rows already stored are left as they are; only new writes are checked.

SET search_path = showdesk, pg_catalog;

DO $$
DECLARE
  r record;
  v_limit int;
  v_name text;
BEGIN
  FOR r IN
    SELECT c.table_name, c.column_name
      FROM information_schema.columns c
     WHERE c.table_schema = 'showdesk' AND c.data_type = 'text'
       AND c.table_name = ANY (showdesk_private.sync_tables())
  LOOP
    v_limit := CASE WHEN r.column_name IN ('notes', 'description', 'reason', 'address') THEN 20000
                    ELSE 2000 END;
    -- the constraint's name carries the limit, so explain_error can say it
    v_name := left(format('%s_%s_max_%s', r.table_name, r.column_name, v_limit), 63);
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = v_name
                      AND conrelid = format('showdesk.%I', r.table_name)::regclass) THEN
      EXECUTE format('ALTER TABLE showdesk.%I ADD CONSTRAINT %I CHECK (char_length(%I) <= %s) NOT VALID',
                     r.table_name, v_name, r.column_name, v_limit);
    END IF;
  END LOOP;
END
$$;

-- Values of the wrong shape: an array or an object where the column holds one value (every
-- column but the jsonb list columns). Without this a text column silently stores the JSON text
-- of an array. sync_push answers such a mutation "rejected" before it is tried; the rest of the
-- batch goes on. (Direct PostgREST writes are typed by PostgREST itself.)
CREATE OR REPLACE FUNCTION showdesk_private.shape_problem(p_table text, p_payload jsonb) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog
AS $$
  SELECT format('Wrong shape: %s must be a single value, not %s.', replace(kv.key, '_', ' '),
                CASE jsonb_typeof(kv.value) WHEN 'array' THEN 'a list' ELSE 'an object' END)
    FROM jsonb_each(CASE WHEN jsonb_typeof(p_payload) = 'object' THEN p_payload ELSE '{}' END) kv
   WHERE jsonb_typeof(kv.value) IN ('array', 'object')
     AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                      WHERE a.attrelid = to_regclass(format('showdesk.%I', p_table))
                        AND a.attname = kv.key AND a.atttypid IN ('jsonb'::regtype, 'json'::regtype))
   ORDER BY kv.key
   LIMIT 1
$$;

-- push_batch (0017) with the shape check: a mutation with a misshapen value is answered
-- "rejected" at once and never reaches the set-based path or push_one.
CREATE OR REPLACE FUNCTION showdesk_private.push_batch(p_device_id uuid, p_org uuid, p_mutations jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_fast boolean := coalesce(current_setting('showdesk.push_fast_path', true), '') <> 'off';
  v_results jsonb[] := '{}';
  v_problems text[];
  v_run record;
  i int;
BEGIN
  SELECT array_agg(CASE WHEN jsonb_typeof(x.m) = 'object' AND jsonb_typeof(x.m -> 'payload') = 'object'
                        THEN showdesk_private.shape_problem(x.m ->> 'table', x.m -> 'payload') END
                   ORDER BY x.n)
    INTO v_problems
    FROM jsonb_array_elements(p_mutations) WITH ORDINALITY AS x(m, n);
  FOR v_run IN
    WITH e AS (
      SELECT x.n::int AS n,
             v_fast AND jsonb_typeof(x.m) = 'object' AND x.m ->> 'table' = 'checkins'
               AND x.m ->> 'op' = 'insert' AND v_problems[x.n] IS NULL AS fast
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
        IF v_problems[i] IS NOT NULL THEN
          v_results := array_append(v_results, showdesk_private.result(
            p_mutations -> (i - 1) ->> 'mutation_id', 'rejected', NULL, v_problems[i], NULL));
        ELSE
          v_results := array_append(v_results,
                                    showdesk_private.push_one(p_device_id, p_org, p_mutations -> (i - 1)));
        END IF;
      END LOOP;
    END IF;
  END LOOP;
  RETURN to_jsonb(v_results);
END
$$;

REVOKE ALL ON FUNCTION showdesk_private.shape_problem(text, jsonb) FROM PUBLIC;
DO $$
BEGIN
  EXECUTE 'REVOKE ALL ON FUNCTION showdesk_private.shape_problem(text, jsonb) FROM anon';
END
$$;
GRANT EXECUTE ON FUNCTION showdesk_private.shape_problem(text, jsonb) TO authenticated, service_role;

-- sync_push's words for a refused change: a length limit names its column and limit.
CREATE OR REPLACE FUNCTION showdesk_private.explain_error(p_state text, p_message text, p_table text,
                                                         p_constraint text, p_column text, p_op text)
RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog
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
    WHEN p_state = '23514' AND p_constraint ~ ('^' || p_table || '_.+_max_[0-9]+$') THEN
      format('Too long: %s takes at most %s characters.',
             replace(substring(p_constraint FROM length(p_table) + 2 FOR
                               length(p_constraint) - length(p_table) - 1
                               - length(substring(p_constraint FROM '_max_[0-9]+$'))), '_', ' '),
             to_char(substring(p_constraint FROM '_max_([0-9]+)$')::int, 'FM999,999'))
    WHEN p_state = '23514' THEN
      format('A value is not allowed (%s).', coalesce(p_constraint, p_message))
    WHEN p_state = '22P05' OR p_message ILIKE '%\u0000%' THEN
      'A text value contains a NUL character, which the server cannot store.'
    WHEN p_state LIKE '22%' THEN
      format('A value has the wrong format: %s.', left(p_message, 200))
    ELSE format('The server could not apply this change: %s.', left(p_message, 200))
  END
$$;

RESET search_path;
