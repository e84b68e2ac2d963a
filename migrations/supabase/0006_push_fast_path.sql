-- Showdesk 0006: a set-based fast path in sync_push for runs of check-in inserts.
--
-- A door kiosk that was offline pushes hundreds of queued scans at once. One mutation at a
-- time (a savepoint, dynamic SQL and a double-entry recompute each) costs milliseconds per
-- scan; here a run of consecutive `checkins` inserts is validated in one query, its
-- already-applied mutation ids are found in one query, its new rows go in with one
-- INSERT ... SELECT (per distinct set of payload columns, usually one), its idempotency
-- records with one INSERT, and double-entry flags are recomputed once per affected ticket
-- (statement-level trigger with a transition table).
--
-- The guarantees of 0005 are unchanged:
-- * The writes run as the caller (SECURITY INVOKER): RLS checks every inserted row. If the
--   set insert fails for any reason (a row RLS refuses, a constraint, a bad value), nothing
--   of it stays (one savepoint for the run) and the run goes through push_one one mutation at
--   a time, so each bad mutation gets its own rejection and the rest are applied.
-- * Any mutation that is not a plain new insert (no valid ids, unknown columns, a payload id
--   that differs from row_id, a base_version, an already-applied id, a row that exists) is
--   handed to push_one as it is, which answers exactly as before.
-- * Results: one per mutation, in order. Mutations of a run are independent of each other
--   (append-only rows, no foreign keys between check-ins, flags recomputed from all rows),
--   except when two of them share a mutation id or a row id: such a run takes the
--   one-at-a-time path so "the first one wins" keeps its meaning.
-- * Transient errors (serialization, deadlock, lock timeout, shutdown) still fail the call.
--
-- `SET showdesk.push_fast_path = off` turns the fast path off (tests compare both paths).

-- Double entry: once per statement and per affected ticket instead of once per row. An
-- AFTER ROW trigger also fired only at the end of the statement, so the flags come out the
-- same; tickets are locked in id order, so two concurrent pushes cannot deadlock on them.
CREATE OR REPLACE FUNCTION showdesk_private.checkins_double_entry_stmt() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
DECLARE
  v_ticket uuid;
BEGIN
  FOR v_ticket IN
    SELECT s.ticket_id FROM (
      SELECT n.ticket_id FROM new_rows n WHERE n.ticket_id IS NOT NULL
      UNION
      SELECT c.ticket_id FROM new_rows n JOIN public.checkins c ON c.id = n.annuls_checkin_id
       WHERE n.annuls_checkin_id IS NOT NULL AND c.ticket_id IS NOT NULL
    ) s ORDER BY s.ticket_id
  LOOP
    PERFORM showdesk_private.recompute_double_entries(v_ticket);
  END LOOP;
  RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS checkins_double_entry ON checkins;
CREATE TRIGGER checkins_double_entry AFTER INSERT ON checkins
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION showdesk_private.checkins_double_entry_stmt();

-- A canonical UUID text (what clients send) cast without a subtransaction; anything else
-- is left to push_one, which parses it the lenient way.
CREATE OR REPLACE FUNCTION showdesk_private.plain_uuid(p text) RETURNS uuid
LANGUAGE sql IMMUTABLE
AS $$
  SELECT CASE WHEN p ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
              THEN p::uuid END
$$;

-- Insert plain new check-ins (positions p_n of p_run, already validated) as the caller, in
-- one savepoint; returns their results in the order of p_n. When the set insert fails (a row
-- the policies refuse, a constraint, a bad value, a concurrent replay), each half is tried
-- on its own, down to single mutations, which push_one judges: a bad scan costs a few
-- failed set inserts, not the whole run going one at a time.
CREATE OR REPLACE FUNCTION showdesk_private.push_checkin_set(p_device_id uuid, p_org uuid, p_run jsonb,
  p_n int[], p_mid uuid[], p_row uuid[], p_payload jsonb[], p_keys text[])
RETURNS jsonb[]
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, public
AS $$
DECLARE
  v_count int := cardinality(p_n);
  v_half int;
  v_out jsonb[];
  v_ids uuid[] := '{}';
  v_versions bigint[] := '{}';
  v_group record;
  v_got_ids uuid[];
  v_got_versions bigint[];
  v_state text;
BEGIN
  IF v_count = 0 THEN
    RETURN '{}'::jsonb[];
  END IF;
  BEGIN
    -- one INSERT per distinct column set (columns left out get their defaults, as in
    -- apply_mutation); it runs as the caller, so RLS checks each row
    FOR v_group IN
      SELECT g.keys, array_agg(g.row_id ORDER BY g.i) AS rows, array_agg(g.payload ORDER BY g.i) AS payloads
        FROM unnest(p_row, p_payload, p_keys) WITH ORDINALITY AS g(row_id, payload, keys, i)
       GROUP BY g.keys ORDER BY min(g.i)
    LOOP
      EXECUTE format(
        'WITH ins AS (
           INSERT INTO public.checkins (id%s)
           SELECT c.id%s
             FROM unnest($1::uuid[], $2::jsonb[]) WITH ORDINALITY AS c(id, p, n)
             CROSS JOIN LATERAL jsonb_populate_record(NULL::public.checkins, c.p) r
            ORDER BY c.n
           RETURNING id, version)
         SELECT array_agg(id), array_agg(version) FROM ins',
        (SELECT coalesce(string_agg(', ' || quote_ident(k), ''), '') FROM unnest(string_to_array(v_group.keys, ',')) k),
        (SELECT coalesce(string_agg(', r.' || quote_ident(k), ''), '') FROM unnest(string_to_array(v_group.keys, ',')) k))
        INTO v_got_ids, v_got_versions USING v_group.rows, v_group.payloads;
      v_ids := v_ids || v_got_ids;
      v_versions := v_versions || v_got_versions;
    END LOOP;

    SELECT array_agg(showdesk_private.result(c.mid::text, 'applied', g.version, NULL, NULL) ORDER BY c.i)
      INTO v_out
      FROM unnest(p_mid, p_row) WITH ORDINALITY AS c(mid, row_id, i)
      JOIN unnest(v_ids, v_versions) AS g(id, version) ON g.id = c.row_id;
    IF cardinality(v_out) IS DISTINCT FROM v_count THEN
      RAISE EXCEPTION 'check-in set insert lost rows';  -- cannot happen; judged one by one
    END IF;

    INSERT INTO public.sync_mutations (mutation_id, device_id, organization_id, table_name, row_id, op, status, result)
    SELECT c.mid, p_device_id, p_org, 'checkins', c.row_id, 'insert', 'applied', v_out[c.i]
      FROM unnest(p_mid, p_row) WITH ORDINALITY AS c(mid, row_id, i);
    RETURN v_out;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE;
    IF v_state IN ('40001', '40P01', '55P03', '57014')
       OR left(v_state, 2) IN ('08', '25', '53', '57', '58', 'XX') THEN
      RAISE;
    END IF;
  END;
  IF v_count = 1 THEN
    RETURN ARRAY[showdesk_private.push_one(p_device_id, p_org, p_run -> (p_n[1] - 1))];
  END IF;
  v_half := v_count / 2;
  RETURN showdesk_private.push_checkin_set(p_device_id, p_org, p_run, p_n[1:v_half], p_mid[1:v_half],
           p_row[1:v_half], p_payload[1:v_half], p_keys[1:v_half])
      || showdesk_private.push_checkin_set(p_device_id, p_org, p_run, p_n[v_half + 1:], p_mid[v_half + 1:],
           p_row[v_half + 1:], p_payload[v_half + 1:], p_keys[v_half + 1:]);
END
$$;

-- Push a run of consecutive check-in inserts (all JSON objects with table 'checkins' and op
-- 'insert'); returns one result per element, in order.
CREATE OR REPLACE FUNCTION showdesk_private.push_checkin_run(p_device_id uuid, p_org uuid, p_run jsonb)
RETURNS jsonb[]
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, public
AS $$
DECLARE
  v_writable text[] := showdesk_private.writable_columns('checkins');
  v_out jsonb[] := array_fill(NULL::jsonb, ARRAY[jsonb_array_length(p_run)]);
  v_slow int[];          -- positions handed to push_one
  v_n int[];             -- the fast candidates: position, ids, payload, column set
  v_mid uuid[];
  v_row uuid[];
  v_payload jsonb[];
  v_keys text[];
  v_done jsonb[];
  v_clash boolean;
  r record;
  i int;
BEGIN
  -- Mutation ids or row ids repeated inside the run: the order between them matters.
  SELECT EXISTS (SELECT 1 FROM jsonb_array_elements(p_run) e
                  WHERE showdesk_private.plain_uuid(e ->> 'mutation_id') IS NOT NULL
                  GROUP BY lower(e ->> 'mutation_id') HAVING count(*) > 1)
      OR EXISTS (SELECT 1 FROM jsonb_array_elements(p_run) e
                  WHERE coalesce(e ->> 'row_id', e -> 'payload' ->> 'id') IS NOT NULL
                  GROUP BY lower(coalesce(e ->> 'row_id', e -> 'payload' ->> 'id')) HAVING count(*) > 1)
      -- an id in a form push_one accepts but plain_uuid does not could collide unseen
      OR EXISTS (SELECT 1 FROM jsonb_array_elements(p_run) e
                  WHERE (showdesk_private.plain_uuid(e ->> 'mutation_id') IS NULL
                         OR showdesk_private.plain_uuid(coalesce(e ->> 'row_id', e -> 'payload' ->> 'id')) IS NULL)
                    AND showdesk_private.try_uuid(e ->> 'mutation_id') IS NOT NULL
                    AND showdesk_private.try_uuid(coalesce(e ->> 'row_id', e -> 'payload' ->> 'id')) IS NOT NULL)
    INTO v_clash;
  IF v_clash THEN
    i := 0;
    FOR r IN SELECT value FROM jsonb_array_elements(p_run) LOOP
      i := i + 1;
      v_out[i] := showdesk_private.push_one(p_device_id, p_org, r.value);
    END LOOP;
    RETURN v_out;
  END IF;

  -- Classify every element in one pass: replays answered from the stored result, plain new
  -- inserts collected for the set insert, everything else to push_one.
  FOR r IN
    WITH e AS (
      SELECT x.n::int AS n, x.m,
             showdesk_private.plain_uuid(x.m ->> 'mutation_id') AS mid,
             showdesk_private.plain_uuid(coalesce(x.m ->> 'row_id', x.m -> 'payload' ->> 'id')) AS row_id,
             x.m -> 'payload' AS payload
        FROM jsonb_array_elements(p_run) WITH ORDINALITY AS x(m, n)
    ), v AS (
      SELECT e.*,
             e.mid IS NOT NULL AND e.row_id IS NOT NULL
             AND jsonb_typeof(e.payload) = 'object'
             AND (NOT e.payload ? 'id' OR showdesk_private.plain_uuid(e.payload ->> 'id') = e.row_id)
             AND (NOT e.m ? 'base_version' OR jsonb_typeof(e.m -> 'base_version') = 'null')
             AND NOT EXISTS (SELECT 1 FROM jsonb_object_keys(e.payload) k
                              WHERE k NOT IN ('version', 'server_version', 'updated_at', 'id')
                                AND NOT k = ANY (v_writable)) AS plain
        FROM e
    )
    SELECT v.n, v.mid, v.row_id, v.plain,
           p.status AS prev_status, p.result AS prev_result,
           EXISTS (SELECT 1 FROM public.checkins c WHERE c.id = v.row_id) AS row_exists,
           CASE WHEN v.plain THEN
             CASE WHEN v.payload ? 'device_id' THEN stripped.p
                  ELSE stripped.p || jsonb_build_object('device_id', p_device_id) END
           END AS payload
      FROM v
      LEFT JOIN public.sync_mutations p ON p.mutation_id = v.mid
      CROSS JOIN LATERAL (SELECT v.payload - 'version' - 'server_version' - 'updated_at' - 'id' AS p) stripped
     ORDER BY v.n
  LOOP
    IF r.prev_status IS NOT NULL THEN
      v_out[r.n] := r.prev_result || jsonb_build_object('status', 'duplicate', 'original_status', r.prev_status);
    ELSIF r.plain AND NOT r.row_exists THEN
      v_n := v_n || r.n;
      v_mid := v_mid || r.mid;
      v_row := v_row || r.row_id;
      v_payload := v_payload || r.payload;
      v_keys := v_keys || (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(r.payload) k);
    ELSE
      v_slow := v_slow || r.n;
    END IF;
  END LOOP;

  IF cardinality(v_n) > 0 THEN
    v_done := showdesk_private.push_checkin_set(p_device_id, p_org, p_run, v_n, v_mid, v_row, v_payload, v_keys);
    FOR i IN 1 .. cardinality(v_n) LOOP
      v_out[v_n[i]] := v_done[i];
    END LOOP;
  END IF;

  IF cardinality(v_slow) > 0 THEN
    FOR r IN SELECT s.n FROM unnest(v_slow) AS s(n) ORDER BY s.n LOOP
      v_out[r.n] := showdesk_private.push_one(p_device_id, p_org, p_run -> (r.n - 1));
    END LOOP;
  END IF;
  RETURN v_out;
END
$$;

CREATE OR REPLACE FUNCTION public.sync_push(p_device_id uuid, p_mutations jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = pg_catalog, public
AS $$
DECLARE
  v_me record := showdesk_private.whoami();
  v_fast boolean := coalesce(current_setting('showdesk.push_fast_path', true), '') <> 'off';
  v_results jsonb[] := '{}';
  v_run record;
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
     OR NOT EXISTS (SELECT 1 FROM public.devices d
                     WHERE d.id = p_device_id AND d.organization_id = v_me.organization_id
                       AND d.revoked_at IS NULL) THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = 'This device is not registered with the organization, or it was revoked.';
  END IF;
  -- runs of consecutive check-in inserts take the fast path; everything else one at a time
  FOR v_run IN
    WITH e AS (
      SELECT x.m, x.n,
             v_fast AND jsonb_typeof(x.m) = 'object' AND x.m ->> 'table' = 'checkins'
               AND x.m ->> 'op' = 'insert' AS fast
        FROM jsonb_array_elements(p_mutations) WITH ORDINALITY AS x(m, n)
    ), g AS (
      SELECT e.*, e.n - row_number() OVER (PARTITION BY e.fast ORDER BY e.n) AS grp FROM e
    )
    SELECT g.fast, count(*) AS size, jsonb_agg(g.m ORDER BY g.n) AS items
      FROM g GROUP BY g.fast, g.grp ORDER BY min(g.n)
  LOOP
    IF v_run.fast AND v_run.size > 1 THEN
      v_results := v_results || showdesk_private.push_checkin_run(p_device_id, v_me.organization_id, v_run.items);
    ELSE
      FOR m IN SELECT value FROM jsonb_array_elements(v_run.items) LOOP
        v_results := array_append(v_results, showdesk_private.push_one(p_device_id, v_me.organization_id, m));
      END LOOP;
    END IF;
  END LOOP;
  RETURN jsonb_build_object('results', to_jsonb(v_results), 'server_time', showdesk_private.iso_now());
END
$$;

REVOKE EXECUTE ON FUNCTION public.sync_push(uuid, jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION showdesk_private.checkins_double_entry_stmt() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION showdesk_private.plain_uuid(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION showdesk_private.push_checkin_run(uuid, uuid, jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION showdesk_private.push_checkin_set(uuid, uuid, jsonb, int[], uuid[], uuid[], jsonb[], text[]) FROM PUBLIC;
DO $$
BEGIN
  EXECUTE 'REVOKE EXECUTE ON FUNCTION public.sync_push(uuid, jsonb) FROM anon';
END
$$;
GRANT EXECUTE ON FUNCTION public.sync_push(uuid, jsonb) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION showdesk_private.plain_uuid(text) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION showdesk_private.push_checkin_run(uuid, uuid, jsonb) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION showdesk_private.push_checkin_set(uuid, uuid, jsonb, int[], uuid[], uuid[], jsonb[], text[])
  TO authenticated, service_role;
-- (the double-entry trigger function runs as its owner; nobody calls it directly)
