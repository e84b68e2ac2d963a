-- Showdesk 0006: a set-based fast path in sync_push for runs of check-in inserts.
--
-- A door kiosk that was offline pushes hundreds of queued scans at once. One mutation at a
-- time (a savepoint, dynamic SQL and a double-entry walk each) costs milliseconds per scan;
-- here a run of consecutive `checkins` inserts is validated in one query, which also finds
-- the already-applied mutation ids; the new rows go in with one INSERT ... SELECT (per
-- distinct set of payload columns, usually one), their idempotency records with one INSERT,
-- and the double-entry flags of the affected tickets are recomputed once per statement, set-
-- based (statement-level trigger with a transition table, for every insert into checkins).
--
-- The guarantees of 0005 are unchanged:
-- * The writes run as the caller (SECURITY INVOKER): RLS checks every inserted row. If the
--   set insert fails for any reason (a row RLS refuses, a constraint, a bad value, a
--   concurrent replay), nothing of it stays (its own savepoint) and each half is tried again
--   on its own, down to single mutations, which push_one judges: each bad mutation gets its
--   own rejection and the rest are applied.
-- * A replay of an applied mutation id is answered from the stored result ("duplicate",
--   original_status). Any other mutation that is not a plain new insert (no valid ids,
--   unknown columns, a payload id that differs from row_id, a base_version, a row that
--   exists) is handed to push_one as it is, which answers exactly as before.
-- * Results: one per mutation, in order. Mutations of a run are independent of each other
--   (append-only rows, no foreign keys between check-ins, flags recomputed from all rows),
--   except when two of them share a mutation id or a row id: such a run goes one mutation at
--   a time so "the first one wins" keeps its meaning.
-- * Transient errors (serialization, deadlock, lock timeout, shutdown) still fail the call.
--
-- `SET showdesk.push_fast_path = off` turns the fast path off (tests compare both paths).

SET search_path = showdesk, pg_catalog;

-- Double entry for a set of tickets at once, the same rule as recompute_double_entries (0003)
-- without walking each ticket in a loop. Among a ticket's scans in device-time order, not
-- counting annulled ones: with re-entry, an admission is a double entry when another
-- admission came after the last exit before it (the ticket is inside); without re-entry,
-- when any admission came before it. Tickets are locked in id order, so two concurrent
-- pushes cannot deadlock on them.
CREATE OR REPLACE FUNCTION showdesk_private.recompute_double_entries_set(p_tickets uuid[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_ticket uuid;
BEGIN
  FOR v_ticket IN SELECT DISTINCT t FROM unnest(p_tickets) t WHERE t IS NOT NULL ORDER BY t LOOP
    -- serialise per ticket (the same lock as recompute_double_entries)
    PERFORM pg_advisory_xact_lock(hashtextextended('showdesk.checkins:' || v_ticket::text, 0));
  END LOOP;
  WITH scans AS (
    SELECT c.id, c.ticket_id, c.scanned_at, c.double_entry,
           coalesce(tt.allow_reentry, true) AS reentry,
           NOT a.annulled AND c.direction = 'in' AND c.verdict = 'admitted' AS admission,
           NOT a.annulled AND c.direction = 'out' AND c.verdict = 'exit_recorded' AS exit
      FROM showdesk.checkins c
      LEFT JOIN showdesk.tickets t ON t.id = c.ticket_id
      LEFT JOIN showdesk.ticket_types tt ON tt.id = t.ticket_type_id
      CROSS JOIN LATERAL (SELECT EXISTS (SELECT 1 FROM showdesk.checkins x
                                          WHERE x.kind = 'annul' AND x.annuls_checkin_id = c.id) AS annulled) a
     WHERE c.ticket_id = ANY (p_tickets) AND c.kind = 'scan'
  ), counted AS (
    SELECT s.*,
           count(*) FILTER (WHERE s.admission) OVER w AS admissions_before,
           count(*) FILTER (WHERE s.exit) OVER w AS exits_before
      FROM scans s
    WINDOW w AS (PARTITION BY s.ticket_id ORDER BY s.scanned_at, s.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
  ), flagged AS (
    SELECT c.id, c.double_entry,
           c.admission AND CASE WHEN c.reentry THEN
             count(*) FILTER (WHERE c.admission) OVER (
               PARTITION BY c.ticket_id, c.exits_before ORDER BY c.scanned_at, c.id
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) > 0
           ELSE c.admissions_before > 0 END AS flag
      FROM counted c
  )
  UPDATE showdesk.checkins u SET double_entry = f.flag
    FROM flagged f
   WHERE u.id = f.id AND f.flag IS DISTINCT FROM f.double_entry;
END
$$;

-- Double entry: once per statement for the affected tickets instead of once per row (an
-- AFTER ROW trigger also fired only at the end of the statement, so the flags come out the
-- same).
CREATE OR REPLACE FUNCTION showdesk_private.checkins_double_entry_stmt() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
BEGIN
  PERFORM showdesk_private.recompute_double_entries_set(ARRAY(
    SELECT n.ticket_id FROM new_rows n WHERE n.ticket_id IS NOT NULL
    UNION
    SELECT c.ticket_id FROM new_rows n JOIN showdesk.checkins c ON c.id = n.annuls_checkin_id
     WHERE n.annuls_checkin_id IS NOT NULL AND c.ticket_id IS NOT NULL));
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
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, showdesk
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
           INSERT INTO showdesk.checkins (id%s)
           SELECT c.id%s
             FROM unnest($1::uuid[], $2::jsonb[]) WITH ORDINALITY AS c(id, p, n)
             CROSS JOIN LATERAL jsonb_populate_record(NULL::showdesk.checkins, c.p) r
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

    INSERT INTO showdesk.sync_mutations (mutation_id, device_id, organization_id, table_name, row_id, op, status, result)
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

DROP FUNCTION IF EXISTS showdesk_private.push_checkin_run(uuid, uuid, jsonb);  -- an early draft
-- Push a run of consecutive check-in inserts: elements p_first..p_last (1-based) of the
-- batch, all JSON objects with table 'checkins' and op 'insert'. Returns one result per
-- element, in order.
CREATE OR REPLACE FUNCTION showdesk_private.push_checkin_run(p_device_id uuid, p_org uuid, p_batch jsonb,
  p_first int, p_last int)
RETURNS jsonb[]
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_writable text[] := showdesk_private.writable_columns('checkins');
  v_out jsonb[] := array_fill(NULL::jsonb, ARRAY[p_last - p_first + 1]);
  v_slow int[];          -- positions (in the batch) handed to push_one
  v_n int[];             -- the plain new inserts: position, ids, payload, column set
  v_mid uuid[];
  v_row uuid[];
  v_payload jsonb[];
  v_keys text[];
  v_done jsonb[];
  v_dup_n int[];         -- replays of applied mutations, and their answers
  v_dup jsonb[];
  v_clash boolean;
  i int;
BEGIN
  -- Classify every element in one query: replays answered from the stored result, plain new
  -- inserts collected for the set insert, everything else to push_one. (MATERIALIZED: each
  -- expression once per element, not once per reference.)
  WITH e AS MATERIALIZED (
    SELECT x.n::int AS n, x.m, x.m -> 'payload' AS payload,
           x.m ->> 'mutation_id' AS mid_text,
           coalesce(x.m ->> 'row_id', x.m -> 'payload' ->> 'id') AS row_text
      FROM jsonb_array_elements(p_batch) WITH ORDINALITY AS x(m, n)
     WHERE x.n BETWEEN p_first AND p_last
  ), u AS MATERIALIZED (
    SELECT e.*, showdesk_private.plain_uuid(e.mid_text) AS mid, showdesk_private.plain_uuid(e.row_text) AS row_id
      FROM e
  ), v AS MATERIALIZED (
    SELECT u.n, u.mid, u.row_id,
           p.status AS prev_status, p.result AS prev_result,
           u.mid IS NOT NULL AND u.row_id IS NOT NULL
           AND jsonb_typeof(u.payload) = 'object'
           AND (NOT u.payload ? 'id' OR showdesk_private.plain_uuid(u.payload ->> 'id') = u.row_id)
           AND (NOT u.m ? 'base_version' OR jsonb_typeof(u.m -> 'base_version') = 'null')
           AND NOT EXISTS (SELECT 1 FROM jsonb_object_keys(u.payload) k
                            WHERE k NOT IN ('version', 'server_version', 'updated_at', 'id')
                              AND NOT k = ANY (v_writable))
           AND NOT EXISTS (SELECT 1 FROM showdesk.checkins c WHERE c.id = u.row_id) AS plain,
           u.payload - 'version' - 'server_version' - 'updated_at' - 'id' AS stripped
      FROM u LEFT JOIN showdesk.sync_mutations p ON p.mutation_id = u.mid
  ), w AS MATERIALIZED (
    SELECT v.n, v.mid, v.row_id, v.prev_status, v.prev_result, c.payload,
           (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(c.payload) k) AS keys
      FROM v CROSS JOIN LATERAL (
        -- (plain is NULL for some odd input: then it is not a plain insert)
        SELECT CASE WHEN v.prev_status IS NULL AND coalesce(v.plain, false) THEN
                 CASE WHEN v.stripped ? 'device_id' THEN v.stripped
                      ELSE v.stripped || jsonb_build_object('device_id', p_device_id) END
               END AS payload) c
  )
  SELECT array_agg(w.n ORDER BY w.n) FILTER (WHERE w.prev_status IS NOT NULL),
         array_agg(w.prev_result || jsonb_build_object('status', 'duplicate', 'original_status', w.prev_status)
                   ORDER BY w.n) FILTER (WHERE w.prev_status IS NOT NULL),
         array_agg(w.n ORDER BY w.n) FILTER (WHERE w.prev_status IS NULL AND w.payload IS NULL),
         array_agg(w.n ORDER BY w.n) FILTER (WHERE w.payload IS NOT NULL),
         array_agg(w.mid ORDER BY w.n) FILTER (WHERE w.payload IS NOT NULL),
         array_agg(w.row_id ORDER BY w.n) FILTER (WHERE w.payload IS NOT NULL),
         array_agg(w.payload ORDER BY w.n) FILTER (WHERE w.payload IS NOT NULL),
         array_agg(w.keys ORDER BY w.n) FILTER (WHERE w.payload IS NOT NULL),
         -- Mutation ids or row ids repeated inside the run: the order between them matters.
         -- An id in a form push_one accepts but plain_uuid does not could collide unseen.
         (SELECT count(DISTINCT lower(u.mid_text)) FILTER (WHERE u.mid IS NOT NULL)
                   <> count(u.mid_text) FILTER (WHERE u.mid IS NOT NULL)
              OR count(DISTINCT lower(u.row_text)) <> count(u.row_text)
              OR bool_or((u.mid IS NULL OR u.row_id IS NULL)
                         AND showdesk_private.try_uuid(u.mid_text) IS NOT NULL
                         AND showdesk_private.try_uuid(u.row_text) IS NOT NULL)
            FROM u)
    INTO v_dup_n, v_dup, v_slow, v_n, v_mid, v_row, v_payload, v_keys, v_clash
    FROM w;

  IF v_clash THEN
    FOR i IN p_first .. p_last LOOP
      v_out[i - p_first + 1] := showdesk_private.push_one(p_device_id, p_org, p_batch -> (i - 1));
    END LOOP;
    RETURN v_out;
  END IF;

  FOR i IN 1 .. coalesce(cardinality(v_dup_n), 0) LOOP
    v_out[v_dup_n[i] - p_first + 1] := v_dup[i];
  END LOOP;
  IF cardinality(v_n) > 0 THEN
    v_done := showdesk_private.push_checkin_set(p_device_id, p_org, p_batch, v_n, v_mid, v_row, v_payload, v_keys);
    FOR i IN 1 .. cardinality(v_n) LOOP
      v_out[v_n[i] - p_first + 1] := v_done[i];
    END LOOP;
  END IF;
  FOR i IN 1 .. coalesce(cardinality(v_slow), 0) LOOP
    v_out[v_slow[i] - p_first + 1] := showdesk_private.push_one(p_device_id, p_org, p_batch -> (v_slow[i] - 1));
  END LOOP;
  RETURN v_out;
END
$$;

CREATE OR REPLACE FUNCTION showdesk.sync_push(p_device_id uuid, p_mutations jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_me record := showdesk_private.whoami();
  v_fast boolean := coalesce(current_setting('showdesk.push_fast_path', true), '') <> 'off';
  v_results jsonb[] := '{}';
  v_run record;
  i int;
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
  -- runs of consecutive check-in inserts take the fast path; everything else one at a time
  FOR v_run IN
    WITH e AS (
      SELECT x.n::int AS n,
             v_fast AND jsonb_typeof(x.m) = 'object' AND x.m ->> 'table' = 'checkins'
               AND x.m ->> 'op' = 'insert' AS fast
        FROM jsonb_array_elements(p_mutations) WITH ORDINALITY AS x(m, n)
    ), g AS (
      SELECT e.*, e.n - row_number() OVER (PARTITION BY e.fast ORDER BY e.n) AS grp FROM e
    )
    SELECT g.fast, min(g.n) AS first, max(g.n) AS last
      FROM g GROUP BY g.fast, g.grp ORDER BY min(g.n)
  LOOP
    IF v_run.fast AND v_run.last > v_run.first THEN
      v_results := v_results || showdesk_private.push_checkin_run(p_device_id, v_me.organization_id, p_mutations,
                                                                  v_run.first, v_run.last);
    ELSE
      FOR i IN v_run.first .. v_run.last LOOP
        v_results := array_append(v_results,
                                  showdesk_private.push_one(p_device_id, v_me.organization_id, p_mutations -> (i - 1)));
      END LOOP;
    END IF;
  END LOOP;
  RETURN jsonb_build_object('results', to_jsonb(v_results), 'server_time', showdesk_private.iso_now());
END
$$;

REVOKE EXECUTE ON FUNCTION showdesk.sync_push(uuid, jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION showdesk_private.checkins_double_entry_stmt() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION showdesk_private.recompute_double_entries_set(uuid[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION showdesk_private.plain_uuid(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION showdesk_private.push_checkin_run(uuid, uuid, jsonb, int, int) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION showdesk_private.push_checkin_set(uuid, uuid, jsonb, int[], uuid[], uuid[], jsonb[], text[]) FROM PUBLIC;
DO $$
BEGIN
  EXECUTE 'REVOKE EXECUTE ON FUNCTION showdesk.sync_push(uuid, jsonb) FROM anon';
END
$$;
GRANT EXECUTE ON FUNCTION showdesk.sync_push(uuid, jsonb) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION showdesk_private.plain_uuid(text) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION showdesk_private.push_checkin_run(uuid, uuid, jsonb, int, int) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION showdesk_private.push_checkin_set(uuid, uuid, jsonb, int[], uuid[], uuid[], jsonb[], text[])
  TO authenticated, service_role;
-- (the double-entry functions run as their owner, from the trigger; nobody calls them directly)

RESET search_path;
