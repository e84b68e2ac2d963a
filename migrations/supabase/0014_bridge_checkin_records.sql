-- Showdesk 0014: admissions written into the platform's check-in records, where present.
--
-- event_checkins (the EventOS additions): every standing admission of a bridged ticket is one
--   event_checkins row with the same id as Showdesk's check-in: event_id, check_in_time (the
--   scan's time), qr_code_scanned (the code read), check_in_method (qr -> qr_code, manual,
--   nfc), is_present true, attendee_id the platform attendee whose ticket_id (or qr_code) is
--   the ticket's. Annulling the admission deletes its row. Rows the platform writes itself are
--   left alone.
-- attendees.checked_in (the ERD): true while the ticket has a standing admission, false after
--   its last admission is annulled; the attendee is found by ticket_id, else by qr_code.
-- Both only for events the platform itself holds (public.events); Showdesk's own events have no
-- platform rows to write.

SET search_path = showdesk, pg_catalog;

-- The platform attendee of a ticket (ERD attendees: ticket_id, qr_code), if there is one.
CREATE OR REPLACE FUNCTION showdesk_private.bridge_platform_attendee(p_ticket uuid) RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, extensions
AS $$
DECLARE
  v_id uuid;
BEGIN
  IF NOT showdesk_private.platform_has('attendees', ARRAY['ticket_id', 'qr_code']) THEN
    RETURN NULL;
  END IF;
  SELECT a.id INTO v_id FROM public.attendees a WHERE a.ticket_id = p_ticket LIMIT 1;
  IF v_id IS NULL THEN
    SELECT a.id INTO v_id FROM public.attendees a
     WHERE a.qr_code = (SELECT t.qr_code_data FROM showdesk.tickets t WHERE t.id = p_ticket)
     LIMIT 1;
  END IF;
  RETURN v_id;
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
  SELECT c.id, c.event_id, showdesk_private.bridge_platform_attendee(p_ticket), c.scanned_at,
         c.raw_code,
         CASE c.method WHEN 'manual' THEN 'manual' WHEN 'nfc' THEN 'nfc' ELSE 'qr_code' END, true
    FROM showdesk_private.bridge_standing_admissions(p_ticket) c
   WHERE c.event_id = v_event
  ON CONFLICT (id) DO NOTHING;
  DELETE FROM public.event_checkins e
   USING showdesk.checkins c
   WHERE e.id = c.id AND c.ticket_id = p_ticket
     AND EXISTS (SELECT 1 FROM showdesk.checkins a
                  WHERE a.kind = 'annul' AND a.annuls_checkin_id = c.id);
  PERFORM showdesk_private.set_bridge_writeback(false);
EXCEPTION WHEN OTHERS THEN
  PERFORM showdesk_private.set_bridge_writeback(false);
  PERFORM showdesk_private.bridge_failed('event_checkins', 'event_checkins', p_ticket,
                                         'WRITEBACK', SQLERRM);
END
$$;

CREATE OR REPLACE FUNCTION showdesk_private.bridge_attendee_flags_admissions(p_ticket uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, extensions
AS $$
DECLARE
  v_attendee uuid := showdesk_private.bridge_platform_attendee(p_ticket);
  v_in boolean;
BEGIN
  IF v_attendee IS NULL THEN
    RETURN;
  END IF;
  v_in := EXISTS (SELECT 1 FROM showdesk_private.bridge_standing_admissions(p_ticket));
  PERFORM showdesk_private.set_bridge_writeback(true);
  UPDATE public.attendees SET checked_in = v_in
   WHERE id = v_attendee AND checked_in IS DISTINCT FROM v_in;
  PERFORM showdesk_private.set_bridge_writeback(false);
EXCEPTION WHEN OTHERS THEN
  PERFORM showdesk_private.set_bridge_writeback(false);
  PERFORM showdesk_private.bridge_failed('attendee_flags', 'attendees', p_ticket,
                                         'WRITEBACK', SQLERRM);
END
$$;

DO $$
BEGIN
  IF showdesk_private.platform_has('event_checkins', ARRAY['event_id']) THEN
    PERFORM showdesk_private.require_shape('event_checkins', 'event_checkins',
      ARRAY['id uuid', 'event_id uuid', 'attendee_id uuid',
            'check_in_time timestamp with time zone', 'qr_code_scanned text',
            'check_in_method text', 'is_present boolean']);
    PERFORM showdesk_private.bridge_activate('event_checkins');
    RAISE NOTICE 'Showdesk: bridge event_checkins installed.';
  END IF;
  IF showdesk_private.platform_has('attendees', ARRAY['checked_in']) THEN
    PERFORM showdesk_private.require_shape('attendee_flags', 'attendees',
      ARRAY['id uuid', 'ticket_id uuid', 'qr_code text', 'checked_in boolean']);
    PERFORM showdesk_private.bridge_activate('attendee_flags');
    RAISE NOTICE 'Showdesk: bridge attendee_flags installed.';
  END IF;
END
$$;

SELECT showdesk_private.bridge_lock_down();

RESET search_path;
