-- Showdesk 0023: how long kiosks keep an event's attendee personal data, set by the organizer.
--
-- events.retention_days: a kiosk forgets the names, emails, phones, companies and notes of an
-- event's attendees, and its orders' buyers, this many days after the event ends
-- (app/store/retention.py). NULL (every existing row, and the default): each kiosk uses its own
-- setting (`retention_days`, 7 unless changed). 0..365 (CHECK events_retention_days_range; not
-- named `_max_<n>` like 0020's length limits, whose sentence speaks of characters, so sync_push
-- answers a breach "A value is not allowed (events_retention_days_range).").
--
-- Who sets it: whoever may write events, unchanged (0004's role_tables): organizers and admins of
-- the event's organization, through sync_push like any other edit (`showdesk event retention`
-- queues the update); a door or producer kiosk may not write events and is refused. Every role
-- reads events, so the value reaches every kiosk of the event with its next pull (the pull's
-- generated statement is rebuilt below; writable_columns and wire_sql read the catalog).
--
-- The bridges (0011, 0012) upsert events with their own column lists: they neither set nor
-- overwrite retention_days, so the organizer's value survives the platform's edits.

SET search_path = showdesk, pg_catalog;

ALTER TABLE showdesk.events ADD COLUMN IF NOT EXISTS retention_days integer;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'events_retention_days_range'
                    AND conrelid = 'showdesk.events'::regclass) THEN
    ALTER TABLE showdesk.events ADD CONSTRAINT events_retention_days_range
      CHECK (retention_days IS NULL OR retention_days BETWEEN 0 AND 365);
  END IF;
END
$$;

COMMENT ON COLUMN showdesk.events.retention_days IS
  'Days after ends_at at which kiosks forget attendee personal data; NULL: each kiosk''s own setting (default 7).';

-- a synced table gained a column: the pull's generated statement must carry it
SELECT showdesk_private.build_pull_page();

RESET search_path;
