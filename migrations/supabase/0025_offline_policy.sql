-- Showdesk 0025: what a door does when it is cut off from both the venue hub and the server.
--
-- events.offline_policy, set by the organizer per event (`showdesk event offline-policy`):
--   'lenient' (or NULL, the default): the door admits on its own verdict; the screen and the
--             check-in say "offline — duplicates possible", and the double-entry report finds
--             any duplicate once the doors are back in touch;
--   'strict': the door holds every guest it would admit ("HOLD — NO CONNECTION") until a
--             signed-in staff member admits them on their word; that admission is logged with
--             the staff member (method 'override').
-- Writable like any other column of events (0004: organizers and admins); every role reads
-- it, so it reaches every kiosk of the event with its next pull.

SET search_path = showdesk, pg_catalog;

ALTER TABLE showdesk.events ADD COLUMN IF NOT EXISTS offline_policy text;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'events_offline_policy_values'
                    AND conrelid = 'showdesk.events'::regclass) THEN
    ALTER TABLE showdesk.events ADD CONSTRAINT events_offline_policy_values
      CHECK (offline_policy IS NULL OR offline_policy IN ('lenient', 'strict'));
  END IF;
END
$$;

COMMENT ON COLUMN showdesk.events.offline_policy IS
  'Doors cut off from hub and server: lenient (NULL) admits, flagged; strict holds for a staff override.';

-- a synced table gained a column: the pull's generated statement must carry it
SELECT showdesk_private.build_pull_page();

RESET search_path;
