-- Showdesk 0016: every reference a caller writes is checked, not only the row's own scope.
--
-- 0004's policies decide whether a row belongs to the caller (its organization, its event);
-- they did not look at the other rows it names. A foreign key is no such check: it accepts
-- another organization's row (so A could pin B's rows, hang its check-ins on B's tickets, annul
-- B's admissions) and its error tells a random id from an existing one. Here the INSERT and
-- UPDATE policies of 0004 are rebuilt with one more condition per table: every column that
-- names another row names a row the caller may see, of the same organization, and where the
-- data model says so of the same event:
--
--   events.venue_id                      a venue of the event's organization
--   staff.event_id                       an event of the staff row's organization
--   tickets.ticket_type_id, attendee_id, order_id
--                                        rows of the ticket's event
--   revoked_tokens.ticket_id             a ticket of the revocation's event (no foreign key;
--                                        it must exist)
--   checkins.ticket_id                   no foreign key (scans are never dropped): an id no
--                                        ticket has is accepted; an existing ticket must be one
--                                        of the check-in's event
--   checkins.annuls_checkin_id           likewise: an existing check-in must be one of the same
--                                        event and, when the annulment names a ticket, of that
--                                        ticket
--   checkins.device_id                   likewise: an existing device must be the caller's
--                                        organization's
--   looks.designer_id, people.model_id, call_times.person_id
--                                        rows of the row's own event
--   runway_appearances.look_id, model_id rows of the event of the appearance's segment's show
--   runway_segments.show_id              a show of the caller's (0004's scope already)
--
-- Direct table writes and every branch of sync_push (apply_mutation's INSERT and UPDATE, the
-- set-based check-in insert of 0006) run as the caller, so these policies judge all of them;
-- a set insert with one refused row fails and is halved down to that row (0006), which alone
-- is rejected. The role and scope parts of a policy come first: a row the caller may not write
-- at all is refused as before (42501, "new row violates row-level security policy"; sync_push:
-- "Not permitted: ..."). A bad reference in a row it may write is answered with the error the
-- column's foreign key gives for an id no row has (23503, same message, detail and constraint;
-- sync_push: "It refers to something the server does not have (<constraint>)."), raised by the
-- policy before the foreign key runs: another organization's row, a row of another event and a
-- random id get the same words, so the answer reveals nothing about other organizations' ids.
-- The columns without a foreign key get the plain RLS refusal. (For the three check-in columns
-- an unknown id is accepted by design, so only there can a caller who already holds another
-- organization's id learn that it exists somewhere.)
--
-- How: a reference is looked up with a subquery under the caller's own RLS (it can only find
-- rows the caller may read, and every role that may write a table may read what it names), so
-- most checks need no SECURITY DEFINER helper. Only the foreign-key-less columns of check-ins
-- must know that an id is used by no row at all, which RLS cannot say; three SECURITY DEFINER
-- helpers answer that, and only for the caller's own events or organization. The common case
-- (a ticket of the event, the caller's device) is answered by the subquery first, so a pushed
-- scan costs two index probes, not a helper call. (A policy may not read its own table in a
-- subquery, so the annulment check is a helper in every case; annulments are rare.)

SET search_path = showdesk, pg_catalog;

-- A check-in's ticket_id fits its event: no ticket has that id, or the ticket is of that
-- event; and the event is the caller's (so the answer says nothing about other events).
CREATE OR REPLACE FUNCTION showdesk_private.checkin_ticket_ok(p_ticket uuid, p_event uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
  SELECT p_event = ANY (showdesk_private.my_event_ids())
     AND NOT EXISTS (SELECT 1 FROM showdesk.tickets t
                      WHERE t.id = p_ticket AND t.event_id IS DISTINCT FROM p_event)
$$;

-- An annulment's target fits: no check-in has that id, or it is one of the same event and,
-- when the annulment names a ticket, of that ticket; and the event is the caller's.
CREATE OR REPLACE FUNCTION showdesk_private.checkin_annuls_ok(p_target uuid, p_event uuid, p_ticket uuid)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
  SELECT p_event = ANY (showdesk_private.my_event_ids())
     AND NOT EXISTS (SELECT 1 FROM showdesk.checkins c
                      WHERE c.id = p_target
                        AND (c.event_id IS DISTINCT FROM p_event
                             OR (p_ticket IS NOT NULL AND c.ticket_id IS DISTINCT FROM p_ticket)))
$$;

-- A check-in's device_id fits: no device has that id, or it is the caller's organization's.
CREATE OR REPLACE FUNCTION showdesk_private.checkin_device_ok(p_device uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
  SELECT o.org IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM showdesk.devices d
                      WHERE d.id = p_device AND d.organization_id IS DISTINCT FROM o.org)
    FROM (SELECT showdesk_private.my_org() AS org) o
$$;

-- A reference the policy could not find among the rows the caller may see. Where the column
-- has a foreign key, the answer is the very error that foreign key gives for an id no row has
-- (23503, same message, detail and constraint name): another organization's row, a row of
-- another event and a random id are refused in the same words. Where it has none (the
-- check-in columns), false: an ordinary RLS refusal. Reads only the catalog.
CREATE OR REPLACE FUNCTION showdesk_private.reference_refused(p_table text, p_column text, p_value uuid)
RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog
AS $$
DECLARE
  v_constraint text;
  v_target text;
BEGIN
  SELECT c.conname, t.relname INTO v_constraint, v_target
    FROM pg_constraint c
    JOIN pg_class t ON t.oid = c.confrelid
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attname = p_column
   WHERE c.conrelid = format('showdesk.%I', p_table)::regclass AND c.contype = 'f'
     AND c.conkey = ARRAY[a.attnum]
   ORDER BY c.conname
   LIMIT 1;
  IF v_constraint IS NULL THEN
    RETURN false;
  END IF;
  RAISE EXCEPTION USING ERRCODE = '23503', SCHEMA = 'showdesk', TABLE = p_table, CONSTRAINT = v_constraint,
    MESSAGE = format('insert or update on table "%s" violates foreign key constraint "%s"', p_table, v_constraint),
    DETAIL = format('Key (%s)=(%s) is not present in table "%s".', p_column, p_value, v_target);
END
$$;

-- The reference condition of a table, on the new row: each referring column is NULL, or names
-- a row the caller may read (a subquery under the caller's own RLS) related to this row as the
-- model says; else, with a foreign key, reference_refused raises that key's error; without one
-- (check-ins, revocations) a helper above decides or the row is refused. 'true' for a table
-- that names nothing but its scope (0004 checks event_id, organization_id, a segment's show).
CREATE OR REPLACE FUNCTION showdesk_private.reference_check(p_table text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog
AS $$
  SELECT coalesce(string_agg(c, E'\n       AND ' ORDER BY n), 'true')
    FROM (
      SELECT x.n,
             format('(%1$I IS NULL OR EXISTS (SELECT 1 FROM showdesk.%3$I r WHERE r.id = %2$I.%1$I AND %4$s) OR %5$s)',
                    x.col, x.tbl, x.ref, x.related,
                    coalesce(x.otherwise,
                             format('showdesk_private.reference_refused(%L, %L, %I)', x.tbl, x.col, x.col))) AS c
        FROM (VALUES
          -- (order, table, column, referenced table r, how r relates to the row, else)
          (1, 'events', 'venue_id', 'venues', 'r.organization_id = events.organization_id', NULL),
          (2, 'staff', 'event_id', 'events', 'r.organization_id = staff.organization_id', NULL),
          (3, 'tickets', 'ticket_type_id', 'ticket_types', 'r.event_id = tickets.event_id', NULL),
          (4, 'tickets', 'attendee_id', 'attendees', 'r.event_id = tickets.event_id', NULL),
          (5, 'tickets', 'order_id', 'orders', 'r.event_id = tickets.event_id', NULL),
          (6, 'revoked_tokens', 'ticket_id', 'tickets', 'r.event_id = revoked_tokens.event_id', 'false'),
          (7, 'checkins', 'ticket_id', 'tickets', 'r.event_id = checkins.event_id',
              'showdesk_private.checkin_ticket_ok(ticket_id, event_id)'),
          (8, 'checkins', 'device_id', 'devices', 'true', 'showdesk_private.checkin_device_ok(device_id)'),
          (10, 'looks', 'designer_id', 'designers', 'r.event_id = looks.event_id', NULL),
          (11, 'people', 'model_id', 'models', 'r.event_id = people.event_id', NULL),
          (12, 'call_times', 'person_id', 'people', 'r.event_id = call_times.event_id', NULL),
          (13, 'runway_appearances', 'look_id', 'looks',
               'r.event_id = showdesk_private.segment_event_id(runway_appearances.segment_id)', NULL),
          (14, 'runway_appearances', 'model_id', 'models',
               'r.event_id = showdesk_private.segment_event_id(runway_appearances.segment_id)', NULL)
        ) AS x(n, tbl, col, ref, related, otherwise)
       WHERE x.tbl = p_table
      UNION ALL
      -- a policy may not read its own table in a subquery: the annulment check is all helper
      SELECT 9, '(annuls_checkin_id IS NULL OR showdesk_private.checkin_annuls_ok(annuls_checkin_id, event_id, ticket_id))'
       WHERE p_table = 'checkins'
    ) checks
$$;

-- The INSERT and UPDATE policies of 0004, rebuilt with the reference condition (the scope and
-- role parts are 0004's, unchanged; SELECT and DELETE policies are left as they are).
DO $$
DECLARE
  t text;
  scope text;
  refs text;
  w_insert text;
  w_update text;
BEGIN
  FOREACH t IN ARRAY showdesk_private.sync_tables() LOOP
    scope := CASE t
      WHEN 'organizations' THEN 'id = (SELECT showdesk_private.my_org())'
      WHEN 'venues' THEN 'organization_id = (SELECT showdesk_private.my_org())'
      WHEN 'devices' THEN 'organization_id = (SELECT showdesk_private.my_org())'
      WHEN 'staff' THEN 'organization_id = (SELECT showdesk_private.my_org())'
      WHEN 'events' THEN 'organization_id = (SELECT showdesk_private.my_org())'
      WHEN 'runway_segments' THEN
        'showdesk_private.show_event_id(show_id) = ANY ((SELECT showdesk_private.my_event_ids())::uuid[])'
      WHEN 'runway_appearances' THEN
        'showdesk_private.segment_event_id(segment_id) = ANY ((SELECT showdesk_private.my_event_ids())::uuid[])'
      ELSE 'event_id = ANY ((SELECT showdesk_private.my_event_ids())::uuid[])'
    END;
    refs := showdesk_private.reference_check(t);
    w_insert := format('(SELECT showdesk_private.can(%L, ''insert'') OR showdesk_private.can(%L, ''write''))', t, t);
    w_update := format('(SELECT showdesk_private.can(%L, ''write''))', t);
    EXECUTE format('DROP POLICY IF EXISTS sd_insert ON showdesk.%I', t);
    EXECUTE format('DROP POLICY IF EXISTS sd_update ON showdesk.%I', t);
    EXECUTE format('CREATE POLICY sd_insert ON showdesk.%I FOR INSERT TO authenticated
                    WITH CHECK (%s AND %s AND (%s))', t, w_insert, scope, refs);
    EXECUTE format('CREATE POLICY sd_update ON showdesk.%I FOR UPDATE TO authenticated
                    USING (%s AND %s) WITH CHECK (%s AND %s AND (%s))', t, w_update, scope, w_update, scope, refs);
  END LOOP;
END
$$;

-- Privileges (0015 is the last word on the rest): the policies call the three check-in helpers
-- and reference_refused as the caller (a policy's functions need EXECUTE even when the branch
-- that calls them is not reached); reference_check is only used above, by the migrating role.
-- Re-applying 0015 on its own takes these grants back: re-apply this file after it.
REVOKE ALL ON FUNCTION showdesk_private.checkin_ticket_ok(uuid, uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION showdesk_private.checkin_annuls_ok(uuid, uuid, uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION showdesk_private.checkin_device_ok(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION showdesk_private.reference_check(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION showdesk_private.reference_refused(text, text, uuid) FROM PUBLIC;
DO $$
BEGIN
  EXECUTE 'REVOKE ALL ON FUNCTION showdesk_private.checkin_ticket_ok(uuid, uuid) FROM anon';
  EXECUTE 'REVOKE ALL ON FUNCTION showdesk_private.checkin_annuls_ok(uuid, uuid, uuid) FROM anon';
  EXECUTE 'REVOKE ALL ON FUNCTION showdesk_private.checkin_device_ok(uuid) FROM anon';
  EXECUTE 'REVOKE ALL ON FUNCTION showdesk_private.reference_check(text) FROM anon, authenticated';
  EXECUTE 'REVOKE ALL ON FUNCTION showdesk_private.reference_refused(text, text, uuid) FROM anon';
END
$$;
GRANT EXECUTE ON FUNCTION showdesk_private.checkin_ticket_ok(uuid, uuid) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION showdesk_private.checkin_annuls_ok(uuid, uuid, uuid) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION showdesk_private.checkin_device_ok(uuid) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION showdesk_private.reference_refused(text, text, uuid) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION showdesk_private.reference_check(text) TO service_role;

RESET search_path;
