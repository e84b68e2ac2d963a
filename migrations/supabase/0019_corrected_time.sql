-- Showdesk 0019: check-ins carry the time on the server's clock; derived state stays in its event.
--
-- CORRECTED TIME. A kiosk measures its clock's offset to the server at every pull (the pull's
-- server_time against the middle of the round trip) and keeps the latest measurement (or a
-- tighter one from moments before) in its replica, so it is known offline and after a restart. Every check-in it logs then carries, beside scanned_at (the
-- kiosk's own clock, as before):
--   corrected_at             scanned_at minus the offset: the scan on the server's clock;
--   corrected_uncertainty_s  how far corrected_at can be off, in seconds: half the round trip
--                            of the measurement plus the drift a PC clock can gather since then
--                            (app/store/clock.py says how much);
-- both NULL when the kiosk had no offset (never synced, measurement too old, clock set back).
-- Both push paths take them with no change of their own: push_one and the set-based insert of
-- 0006 write every writable column of the payload (writable_columns reads the catalog) and
-- pull pages are regenerated from the catalog below (build_pull_page).
--
-- A BEFORE trigger refuses values no honest kiosk sends, with a sentence (SQLSTATE SDC01, of no
-- class PostgreSQL uses; sync_push: "The server could not apply this change: <the sentence>.";
-- the set insert splits the refused scan out and push_one rejects it alone):
-- one of the two without the other, NaN or infinity, an uncertainty below 0 or above 3600 s, a
-- corrected time more than its uncertainty plus 60 s ahead of the server's clock (the scan
-- cannot have happened after its push), or more than 400 days behind it. The offset itself
-- (scanned_at - corrected_at) is not bounded: a kiosk whose date is a year off is exactly the
-- one the correction is for.
--
-- THE FIRST ADMISSION is decided on corrected time: every derivation orders a ticket's scans by
-- (coalesce(corrected_at, scanned_at), scanned_at, id), i.e. on the server's clock, falling
-- back to the kiosk's clock for a scan whose offset was unknown. That is the double-entry walk
-- (0003/0006) and the bridges' "first admission" written back into the platform (0010:
-- check_in_time / checked_in_at; 0014: event_checkins.check_in_time, one row per admission)
-- which now take the corrected time when there is one.
--
-- DERIVED STATE STAYS IN ITS EVENT. The double-entry flags were computed from every check-in
-- naming a ticket id, and an annulment counted whichever check-in it named. A check-in's
-- ticket_id and annuls_checkin_id have no foreign key (scans are never dropped; 0016 only
-- refuses ids that exist elsewhere at insert time), so organization A could push scans and exits
-- naming a ticket id of B's that the server does not have yet (a ticket sold after B's kiosks
-- synced, admitted on its signature), or annul a check-in id of B's before it arrives, and so
-- flip B's flags and B's platform write-backs. Now every value computed from several check-ins
-- reads only rows of one event (an event belongs to one organization):
--   double entry        per (event, ticket): scans of the event, annulments of the same event
--                       (and of the same ticket when they name one), the ticket type only when
--                       the ticket is of that event;
--   bridge write-backs  standing admissions of a ticket are the check-ins of the ticket's own
--                       event, annulled only by annulments of that event.
-- tests/server/test_derived_in_tenant.py forges every field of a push as A against B's data.

SET search_path = showdesk, pg_catalog;

ALTER TABLE showdesk.checkins ADD COLUMN IF NOT EXISTS corrected_at timestamptz;
ALTER TABLE showdesk.checkins ADD COLUMN IF NOT EXISTS corrected_uncertainty_s double precision;

-- The new fields, judged on every insert (and on an update that sets them).
CREATE OR REPLACE FUNCTION showdesk_private.checkins_corrected_time_check() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog
AS $$
DECLARE
  v_now timestamptz := clock_timestamp();
  v_ahead double precision;
BEGIN
  IF (NEW.corrected_at IS NULL) <> (NEW.corrected_uncertainty_s IS NULL) THEN
    RAISE EXCEPTION USING ERRCODE = 'SDC01', MESSAGE =
      'a corrected time comes with its uncertainty: this check-in has one without the other';
  END IF;
  IF NEW.corrected_uncertainty_s IN ('NaN', 'Infinity', '-Infinity') OR NOT isfinite(NEW.corrected_at) THEN
    RAISE EXCEPTION USING ERRCODE = 'SDC01', MESSAGE =
      'a corrected time and its uncertainty must be real times and seconds (not NaN or infinity)';
  END IF;
  IF NEW.corrected_uncertainty_s < 0 THEN
    RAISE EXCEPTION USING ERRCODE = 'SDC01', MESSAGE = format(
      'the uncertainty of a corrected time cannot be negative (this check-in says %s s)',
      NEW.corrected_uncertainty_s);
  END IF;
  IF NEW.corrected_uncertainty_s > 3600 THEN
    RAISE EXCEPTION USING ERRCODE = 'SDC01', MESSAGE = format(
      'an uncertainty of %s s is more than a measured clock offset can have (at most 3600 s)',
      NEW.corrected_uncertainty_s);
  END IF;
  v_ahead := extract(epoch FROM NEW.corrected_at - v_now);
  IF v_ahead > NEW.corrected_uncertainty_s + 60 THEN
    RAISE EXCEPTION USING ERRCODE = 'SDC01', MESSAGE = format(
      'the corrected time of this check-in is %s ahead of the server''s clock, so the kiosk''s '
      'clock offset is wrong; sync the kiosk again to measure it',
      CASE WHEN v_ahead >= 5400 THEN round(v_ahead / 3600) || ' h'
           WHEN v_ahead >= 90 THEN round(v_ahead / 60) || ' min'
           ELSE round(v_ahead) || ' s' END);
  END IF;
  IF NEW.corrected_at < v_now - interval '400 days' THEN
    RAISE EXCEPTION USING ERRCODE = 'SDC01', MESSAGE =
      'the corrected time of this check-in is more than 400 days before the server''s clock';
  END IF;
  RETURN NEW;
END
$$;
DROP TRIGGER IF EXISTS checkins_corrected_time ON showdesk.checkins;
-- (WHEN: a scan without the fields, every scan of an older kiosk, costs no function call)
CREATE TRIGGER checkins_corrected_time
  BEFORE INSERT OR UPDATE OF corrected_at, corrected_uncertainty_s ON showdesk.checkins
  FOR EACH ROW WHEN (NEW.corrected_at IS NOT NULL OR NEW.corrected_uncertainty_s IS NOT NULL)
  EXECUTE FUNCTION showdesk_private.checkins_corrected_time_check();

-- Double entry for the tickets p_tickets in the events p_events, the rule of 0003/0006, each
-- (event, ticket) on its own rows: among its scans in time order, not counting annulled ones,
-- with re-entry an admission is a double entry when another admission came after the last exit
-- before it (the ticket is inside); without re-entry, when any admission came before it. Time
-- order is the server's clock where known (corrected_at), else the kiosk's. Annulments count
-- only from the same event (and the same ticket, when they name one); the ticket's type only
-- when the ticket is of that event. The per-ticket lock of 0003, taken in ticket order (no
-- deadlock between pushes).
--
-- Planning: the scans are found by ticket alone (its index finds the few rows) and only then
-- kept to the events; each annulment lookup uses its own index alone (OFFSET 0). Given an
-- event test where it could use the event's index, the planner, which knows nothing of a
-- freshly pushed run, reads every check-in of the event once per row (quadratic).
CREATE OR REPLACE FUNCTION showdesk_private.recompute_double_entries_in(p_events uuid[], p_tickets uuid[])
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_ticket uuid;
  v_events uuid[] := ARRAY(SELECT DISTINCT e FROM unnest(p_events) e WHERE e IS NOT NULL);
BEGIN
  FOR v_ticket IN SELECT DISTINCT t FROM unnest(p_tickets) t WHERE t IS NOT NULL ORDER BY t LOOP
    PERFORM pg_advisory_xact_lock(hashtextextended('showdesk.checkins:' || v_ticket::text, 0));
  END LOOP;
  WITH by_ticket AS MATERIALIZED (
    SELECT c.id, c.event_id, c.ticket_id, c.double_entry, c.scanned_at, c.corrected_at,
           c.direction, c.verdict
      FROM showdesk.checkins c
     WHERE c.ticket_id = ANY (p_tickets) AND c.kind = 'scan'
  ), scans AS (
    SELECT c.id, c.event_id, c.ticket_id, c.double_entry, c.scanned_at,
           coalesce(c.corrected_at, c.scanned_at) AS at,
           coalesce(CASE WHEN t.event_id = c.event_id THEN tt.allow_reentry END, true) AS reentry,
           NOT a.annulled AND c.direction = 'in' AND c.verdict = 'admitted' AS admission,
           NOT a.annulled AND c.direction = 'out' AND c.verdict = 'exit_recorded' AS exit
      FROM by_ticket c
      LEFT JOIN showdesk.tickets t ON t.id = c.ticket_id
      LEFT JOIN showdesk.ticket_types tt ON tt.id = t.ticket_type_id
      CROSS JOIN LATERAL (SELECT EXISTS (
        SELECT 1 FROM (SELECT x.event_id, x.ticket_id FROM showdesk.checkins x
                        WHERE x.annuls_checkin_id = c.id AND x.kind = 'annul' OFFSET 0) x
         WHERE x.event_id = c.event_id AND (x.ticket_id IS NULL OR x.ticket_id = c.ticket_id)
      ) AS annulled) a
     WHERE c.event_id = ANY (v_events)
  ), counted AS (
    SELECT s.*,
           count(*) FILTER (WHERE s.admission) OVER w AS admissions_before,
           count(*) FILTER (WHERE s.exit) OVER w AS exits_before
      FROM scans s
    WINDOW w AS (PARTITION BY s.event_id, s.ticket_id ORDER BY s.at, s.scanned_at, s.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
  ), flagged AS (
    SELECT c.id, c.double_entry,
           c.admission AND CASE WHEN c.reentry THEN
             count(*) FILTER (WHERE c.admission) OVER (
               PARTITION BY c.event_id, c.ticket_id, c.exits_before ORDER BY c.at, c.scanned_at, c.id
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) > 0
           ELSE c.admissions_before > 0 END AS flag
      FROM counted c
  )
  UPDATE showdesk.checkins u SET double_entry = f.flag
    FROM flagged f
   WHERE u.id = f.id AND f.flag IS DISTINCT FROM f.double_entry;
END
$$;

-- The older entry points keep their signatures, each over every event that has scans of the
-- tickets (each event still judged on its own rows).
CREATE OR REPLACE FUNCTION showdesk_private.recompute_double_entries_set(p_tickets uuid[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_events uuid[];
  v_tickets uuid[];
BEGIN
  SELECT array_agg(k.event_id), array_agg(k.ticket_id) INTO v_events, v_tickets
    FROM (SELECT DISTINCT c.event_id, c.ticket_id FROM showdesk.checkins c
           WHERE c.ticket_id = ANY (p_tickets)) k;
  PERFORM showdesk_private.recompute_double_entries_in(v_events, v_tickets);
END
$$;

CREATE OR REPLACE FUNCTION showdesk_private.recompute_double_entries(p_ticket_id uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
BEGIN
  PERFORM showdesk_private.recompute_double_entries_set(ARRAY[p_ticket_id]);
END
$$;

-- Once per statement, for the events and tickets the new rows touch: a scan's own, and an
-- annulment's target's when the target is of the annulment's event.
CREATE OR REPLACE FUNCTION showdesk_private.checkins_double_entry_stmt() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_events uuid[];
  v_tickets uuid[];
BEGIN
  SELECT array_agg(k.event_id), array_agg(k.ticket_id) INTO v_events, v_tickets
    FROM (SELECT n.event_id, n.ticket_id FROM new_rows n WHERE n.ticket_id IS NOT NULL
          UNION
          -- (IS NOT DISTINCT FROM: no index condition, the target is found by its id alone)
          SELECT c.event_id, c.ticket_id FROM new_rows n
            JOIN showdesk.checkins c ON c.id = n.annuls_checkin_id
           WHERE n.annuls_checkin_id IS NOT NULL AND c.ticket_id IS NOT NULL
             AND c.event_id IS NOT DISTINCT FROM n.event_id) k;
  IF v_tickets IS NOT NULL THEN
    PERFORM showdesk_private.recompute_double_entries_in(v_events, v_tickets);
  END IF;
  RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS checkins_double_entry ON showdesk.checkins;
CREATE TRIGGER checkins_double_entry AFTER INSERT ON showdesk.checkins
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION showdesk_private.checkins_double_entry_stmt();

-- Bridges (0010, 0014): a ticket's standing admissions are those of the ticket's own event,
-- annulled only from that event; the first of them is the first on the server's clock.
CREATE OR REPLACE FUNCTION showdesk_private.bridge_standing_admissions(p_ticket uuid)
RETURNS SETOF showdesk.checkins
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
  -- (by ticket alone, OFFSET 0: kept to the ticket's event afterwards, not through its index)
  SELECT c.* FROM (SELECT c.* FROM showdesk.checkins c
                    WHERE c.ticket_id = p_ticket AND c.kind = 'scan' AND c.verdict = 'admitted'
                      AND c.direction = 'in' OFFSET 0) c
   WHERE c.event_id = (SELECT t.event_id FROM showdesk.tickets t WHERE t.id = p_ticket)
     AND NOT EXISTS (SELECT 1 FROM (SELECT a.event_id, a.ticket_id FROM showdesk.checkins a
                                     WHERE a.annuls_checkin_id = c.id AND a.kind = 'annul'
                                    OFFSET 0) a  -- (its own index only, as above)
                      WHERE a.event_id = c.event_id
                        AND (a.ticket_id IS NULL OR a.ticket_id = c.ticket_id))
$$;

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
  SELECT min(coalesce(c.corrected_at, c.scanned_at)) INTO v_first
    FROM showdesk_private.bridge_standing_admissions(p_ticket) c;
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

CREATE OR REPLACE FUNCTION showdesk_private.bridge_event_checkins_admissions(p_ticket uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, extensions
AS $$
DECLARE
  v_event uuid;
BEGIN
  SELECT t.event_id INTO v_event FROM showdesk.tickets t WHERE t.id = p_ticket;
  IF to_regclass('public.event_checkins') IS NULL
     OR NOT EXISTS (SELECT 1 FROM public.events e WHERE e.id = v_event) THEN
    RETURN;
  END IF;
  PERFORM showdesk_private.set_bridge_writeback(true);
  INSERT INTO public.event_checkins (id, event_id, attendee_id, check_in_time, qr_code_scanned,
                                     check_in_method, is_present)
  SELECT c.id, c.event_id, showdesk_private.bridge_platform_attendee(p_ticket),
         coalesce(c.corrected_at, c.scanned_at), c.raw_code,
         CASE c.method WHEN 'manual' THEN 'manual' WHEN 'nfc' THEN 'nfc' ELSE 'qr_code' END, true
    FROM showdesk_private.bridge_standing_admissions(p_ticket) c
   WHERE c.event_id = v_event
  ON CONFLICT (id) DO NOTHING;
  DELETE FROM public.event_checkins e
   USING showdesk.checkins c
   WHERE e.id = c.id AND c.ticket_id = p_ticket AND c.event_id IS NOT DISTINCT FROM v_event
     AND EXISTS (SELECT 1 FROM (SELECT a.event_id, a.ticket_id FROM showdesk.checkins a
                                 WHERE a.annuls_checkin_id = c.id AND a.kind = 'annul'
                                OFFSET 0) a
                  WHERE a.event_id = c.event_id
                    AND (a.ticket_id IS NULL OR a.ticket_id = c.ticket_id));
  PERFORM showdesk_private.set_bridge_writeback(false);
EXCEPTION WHEN OTHERS THEN
  PERFORM showdesk_private.set_bridge_writeback(false);
  PERFORM showdesk_private.bridge_failed('event_checkins', 'event_checkins', p_ticket,
                                         'WRITEBACK', SQLERRM);
END
$$;

-- Pull pages carry the new columns.
SELECT showdesk_private.build_pull_page();

-- Privileges (0015's rules): the trigger functions and the bookkeeping run as their owner from
-- triggers and nobody calls them directly; the bridge functions go back to service_role only.
REVOKE ALL ON FUNCTION showdesk_private.checkins_corrected_time_check() FROM PUBLIC;
REVOKE ALL ON FUNCTION showdesk_private.recompute_double_entries_in(uuid[], uuid[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION showdesk_private.recompute_double_entries_set(uuid[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION showdesk_private.recompute_double_entries(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION showdesk_private.checkins_double_entry_stmt() FROM PUBLIC;
DO $$
BEGIN
  EXECUTE 'REVOKE ALL ON FUNCTION showdesk_private.checkins_corrected_time_check() FROM anon, authenticated';
  EXECUTE 'REVOKE ALL ON FUNCTION showdesk_private.recompute_double_entries_in(uuid[], uuid[]) FROM anon, authenticated';
  EXECUTE 'REVOKE ALL ON FUNCTION showdesk_private.recompute_double_entries_set(uuid[]) FROM anon, authenticated';
  EXECUTE 'REVOKE ALL ON FUNCTION showdesk_private.recompute_double_entries(uuid) FROM anon, authenticated';
  EXECUTE 'REVOKE ALL ON FUNCTION showdesk_private.checkins_double_entry_stmt() FROM anon, authenticated';
END
$$;
GRANT EXECUTE ON FUNCTION showdesk_private.checkins_corrected_time_check() TO service_role;
GRANT EXECUTE ON FUNCTION showdesk_private.recompute_double_entries_in(uuid[], uuid[]) TO service_role;
GRANT EXECUTE ON FUNCTION showdesk_private.recompute_double_entries_set(uuid[]) TO service_role;
GRANT EXECUTE ON FUNCTION showdesk_private.recompute_double_entries(uuid) TO service_role;
GRANT EXECUTE ON FUNCTION showdesk_private.checkins_double_entry_stmt() TO service_role;
SELECT showdesk_private.bridge_lock_down();

RESET search_path;
