-- Showdesk 0012: the bridge to the platform's "Fashionistas" schema.
--
-- Installed where the database holds that document's tables (events with organizer_id and
-- title, runway_segments with runway_show_id, runway_appearances with appearance_order);
-- elsewhere this file defines its functions and installs nothing.
--
-- Tenant: the document has no organizations table; the organizer user is the tenant. A kiosk's
-- JWT app_metadata.organization_id names the organizer's users.id.
-- Designers and models are global in the platform but belong to one event in Showdesk: each is
-- mirrored into every event it walks in, under an id derived per (event, row).
-- Write-back: a producer's walk-order move (runway_appearances.order_key, possibly segment_id)
-- is written into the platform's runway_appearances.appearance_order (and runway_segment_id)
-- in the push's transaction. Everything else a kiosk records stays in Showdesk's tables.
--
-- Mapping, table by table (platform public.X -> showdesk.Y):
-- * users -> organizations, one per organizer user, made or refreshed when one of their events
--   is mirrored: id = users.id, name = full_name (else email), slug = 'organizer-' || id.
--   A Showdesk organization of its own under that id is never renamed or filled.
-- * venues -> venues, only when a mirrored event uses it, once per organizer:
--   id = derived_id('fashionistas_venue:' || organizer, venue id), organization_id = the
--   event's organizer, name, address, city, country, capacity; timezone = the venue's
--   timezone (column or meta_data.timezone) when it is a known zone, else 'UTC'.
-- * events -> events: id, organization_id = organizer_id, venue_id = the venue above,
--   name = title, slug, status as is, timezone = the venue's (else 'UTC'),
--   starts_at = start_date, ends_at = end_date.
-- * ticket_types -> ticket_types: id, event_id, name, tier (premium -> premium, vip and
--   exclusive -> vip, else general), price = base_price, currency 'USD' (the platform's),
--   quantity = total_capacity, sale_starts_at = sale_start_date, sale_ends_at =
--   sale_end_date. Never written to (its BEFORE UPDATE trigger is optimistic locking).
-- * orders, order_items: not mirrored (an order names no event; Showdesk's orders need one).
-- * runway_shows -> runway_shows: id, event_id, name = the collection's name (else
--   'Runway show'), starts_at = show_date, status (scheduled -> planned, in_progress -> live,
--   completed -> finished, else as is; set on insert and when the platform's status changes).
-- * runway_segments -> runway_segments: id, show_id = runway_show_id, name,
--   order_key = order_key_of(segment_order) (on insert and when segment_order changes).
-- * models -> models, per event it walks in: id = derived_id('fashionistas_model:' || event,
--   model id), event_id, first_name = first word of name, last_name = the rest, agency.
-- * designers -> designers, per event one of its looks walks in: id =
--   derived_id('fashionistas_designer:' || event, designer id), name, brand = brand_name,
--   country = location ->> 'country'.
-- * fashion_items (+ collections) -> looks, per event it walks in: id =
--   derived_id('fashionistas_look:' || event, item id), designer_id = the derived designer of
--   the item's collection, collection = the collection's name, title = name, description.
--   A walk without a fashion item gets an 'Untitled look' of its own:
--   derived_id('fashionistas_walk_look:' || event, appearance id).
-- * runway_appearances -> runway_appearances: id, segment_id = runway_segment_id, look_id =
--   the derived look, model_id = the derived model, order_key = order_key_of(appearance_order),
--   notes. Each column is written on insert and then only when the platform changes its own
--   column (a kiosk's move, model or notes stand until then). is_opening/is_closing, status
--   and walked_at have no platform column: they stay in Showdesk.
-- * collections: no row of their own; an edit refreshes the names of its shows and looks
--   (and a new designer for its looks).
-- * Every other platform table (sponsors, marketing, CMS, audit...) is not bridged.
-- * Platform deletes remove the mirror rows (Showdesk's triggers leave the tombstones). A
--   deleted show or segment takes its walks with it (Showdesk-only walks in it too); a
--   deleted event takes the event's ticket types; a derived model, look or designer goes
--   when nothing of Showdesk uses it any more (showdesk.bridge_rows lists what the bridge
--   made; nothing else is ever removed that way).
-- * Platform reorders: an UPDATE that changes appearance_order sets the mirror's
--   order_key = order_key_of(appearance_order); when the segment's mirror order then disagrees
--   with the platform's, the segment's keys are all taken from the platform.
-- * Kiosk reorders: after an UPDATE of showdesk.runway_appearances that moves walks of a
--   bridged segment (order_key, or segment_id to another platform segment of the same event),
--   the platform's appearance_order of the segment's walks becomes their rank in the kiosk's
--   walk order (walk_pin: opening look first, closing look last; then order_key COLLATE "C", id), and runway_segment_id follows a move. Written in two steps
--   (first out of the way, below every number in use: the document has no CHECK on
--   appearance_order; then the final ranks) so UNIQUE (runway_segment_id, appearance_order)
--   holds at every row. Only walks whose mirror belongs to the platform walk's own event are
--   written (a walk with no such mirror keeps its number, the others fill in around it);
--   Showdesk-only walks and segments are not in the platform's count.

-- Isolation: a platform row that maps onto a Showdesk row of another event or organization
-- (the same id) is not mirrored and never takes that row over; it is logged in
-- showdesk.bridge_errors like every other capture or write-back failure.

SET search_path = showdesk, pg_catalog;

-- Showdesk rows a bridge made that it may remove again, and only those: the models, designers
-- and looks made per event under derived ids (removed when no walk uses them), and the walks
-- (a walk a kiosk moved to a segment of its own still goes with its platform row).
CREATE TABLE IF NOT EXISTS showdesk.bridge_rows (
  id            uuid PRIMARY KEY,   -- the Showdesk row
  bridge        text NOT NULL,
  mirror_table  text NOT NULL,      -- its Showdesk table
  event_id      uuid NOT NULL,
  source_table  text NOT NULL,      -- the platform row it is made from
  source_id     uuid NOT NULL
);
CREATE INDEX IF NOT EXISTS bridge_rows_source_idx ON showdesk.bridge_rows (source_id);
CREATE INDEX IF NOT EXISTS bridge_rows_event_idx ON showdesk.bridge_rows (event_id);
ALTER TABLE showdesk.bridge_rows ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON showdesk.bridge_rows FROM PUBLIC, anon, authenticated;
GRANT ALL ON showdesk.bridge_rows TO service_role;

-- --- capture: tenant, venue, event, ticket type ------------------------------------------------

CREATE OR REPLACE FUNCTION showdesk_private.bridge_fashionistas_organizer(p_user uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_name text;
  v_slug text := 'organizer-' || p_user::text;
BEGIN
  SELECT coalesce(nullif(btrim(u.full_name), ''), u.email, p_user::text) INTO v_name
    FROM public.users u WHERE u.id = p_user;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'organizer % is not a platform user', p_user;
  END IF;
  IF EXISTS (SELECT 1 FROM showdesk.organizations o WHERE o.id = p_user AND o.slug <> v_slug) THEN
    RAISE EXCEPTION 'organization % is a Showdesk organization of its own, not an organizer''s', p_user;
  END IF;
  INSERT INTO showdesk.organizations AS t (id, name, slug) VALUES (p_user, v_name, v_slug)
  ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name
  WHERE t.name IS DISTINCT FROM EXCLUDED.name;
END
$$;

-- An event, with its organizer's organization and its venue. p_was_org: the organizer before
-- this write (NULL for a new row): the only other organization the mirror may be in.
CREATE OR REPLACE FUNCTION showdesk_private.bridge_fashionistas_event(p_id uuid, p_was_org uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  e record;
  v jsonb;
  v_venue uuid;
  v_zone text;
  v_tz text;
BEGIN
  SELECT x.id, x.organizer_id, x.title, x.slug, x.status, x.start_date, x.end_date, x.venue_id
    INTO e FROM public.events x WHERE x.id = p_id;
  IF NOT FOUND OR e.organizer_id IS NULL THEN
    RETURN;
  END IF;
  IF EXISTS (SELECT 1 FROM showdesk.events t
              WHERE t.id = p_id AND t.organization_id <> e.organizer_id
                AND t.organization_id IS DISTINCT FROM p_was_org) THEN
    RAISE EXCEPTION 'event % is a Showdesk event of another organization', p_id;
  END IF;
  PERFORM showdesk_private.bridge_fashionistas_organizer(e.organizer_id);
  IF e.venue_id IS NOT NULL THEN
    SELECT to_jsonb(x) INTO v FROM public.venues x WHERE x.id = e.venue_id;
  END IF;
  IF v IS NOT NULL THEN
    v_zone := coalesce(v ->> 'timezone', v -> 'meta_data' ->> 'timezone');
    IF v_zone IS NOT NULL THEN
      SELECT z.name INTO v_tz FROM pg_catalog.pg_timezone_names z WHERE z.name = v_zone;
    END IF;
    v_venue := showdesk_private.derived_id('fashionistas_venue:' || e.organizer_id::text, e.venue_id);
    INSERT INTO showdesk.venues AS t (id, organization_id, name, address, city, country, timezone,
                                      capacity)
    VALUES (v_venue, e.organizer_id, coalesce(v ->> 'name', ''), v ->> 'address', v ->> 'city',
            v ->> 'country', coalesce(v_tz, 'UTC'), (v ->> 'capacity')::int)
    ON CONFLICT (id) DO UPDATE
       SET name = EXCLUDED.name, address = EXCLUDED.address, city = EXCLUDED.city,
           country = EXCLUDED.country, timezone = EXCLUDED.timezone, capacity = EXCLUDED.capacity
    WHERE (t.name, t.address, t.city, t.country, t.timezone, t.capacity)
          IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.address, EXCLUDED.city, EXCLUDED.country,
                            EXCLUDED.timezone, EXCLUDED.capacity);
  END IF;
  INSERT INTO showdesk.events AS t (id, organization_id, venue_id, name, slug, status, timezone,
                                    starts_at, ends_at)
  VALUES (e.id, e.organizer_id, v_venue, coalesce(e.title, ''), coalesce(e.slug, e.id::text),
          coalesce(e.status, 'draft'), coalesce(v_tz, 'UTC'), e.start_date, e.end_date)
  ON CONFLICT (id) DO UPDATE
     SET organization_id = EXCLUDED.organization_id, venue_id = EXCLUDED.venue_id,
         name = EXCLUDED.name, slug = EXCLUDED.slug, status = EXCLUDED.status,
         timezone = EXCLUDED.timezone, starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at
  WHERE (t.organization_id, t.venue_id, t.name, t.slug, t.status, t.timezone, t.starts_at, t.ends_at)
        IS DISTINCT FROM (EXCLUDED.organization_id, EXCLUDED.venue_id, EXCLUDED.name,
                          EXCLUDED.slug, EXCLUDED.status, EXCLUDED.timezone, EXCLUDED.starts_at,
                          EXCLUDED.ends_at);
END
$$;

-- An organizer's copy of a venue that no mirrored event uses any more.
CREATE OR REPLACE FUNCTION showdesk_private.bridge_fashionistas_venue_unused(p_org uuid, p_venue uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
  DELETE FROM showdesk.venues v
   WHERE v.id = showdesk_private.derived_id('fashionistas_venue:' || p_org::text, p_venue)
     AND NOT EXISTS (SELECT 1 FROM showdesk.events e WHERE e.venue_id = v.id)
$$;

CREATE OR REPLACE FUNCTION showdesk_private.bridge_fashionistas_ticket_type(p jsonb, p_was_event uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_id uuid := (p ->> 'id')::uuid;
  v_event uuid := (p ->> 'event_id')::uuid;
BEGIN
  IF EXISTS (SELECT 1 FROM showdesk.ticket_types t
              WHERE t.id = v_id AND t.event_id <> v_event AND t.event_id IS DISTINCT FROM p_was_event) THEN
    RAISE EXCEPTION 'ticket type % is a Showdesk ticket type of another event', v_id;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM showdesk.events e WHERE e.id = v_event) THEN
    DELETE FROM showdesk.ticket_types WHERE id = v_id;  -- its event is not mirrored
    RETURN;
  END IF;
  INSERT INTO showdesk.ticket_types AS t (id, event_id, name, tier, price, currency, quantity,
                                          sale_starts_at, sale_ends_at)
  VALUES (v_id, v_event, coalesce(p ->> 'name', ''),
          CASE p ->> 'tier' WHEN 'premium' THEN 'premium' WHEN 'vip' THEN 'vip'
                            WHEN 'exclusive' THEN 'vip' ELSE 'general' END,
          coalesce((p ->> 'base_price')::numeric, 0), 'USD', (p ->> 'total_capacity')::int,
          (p ->> 'sale_start_date')::timestamptz, (p ->> 'sale_end_date')::timestamptz)
  ON CONFLICT (id) DO UPDATE
     SET event_id = EXCLUDED.event_id, name = EXCLUDED.name, tier = EXCLUDED.tier,
         price = EXCLUDED.price, quantity = EXCLUDED.quantity,
         sale_starts_at = EXCLUDED.sale_starts_at, sale_ends_at = EXCLUDED.sale_ends_at
  WHERE (t.event_id, t.name, t.tier, t.price, t.quantity, t.sale_starts_at, t.sale_ends_at)
        IS DISTINCT FROM (EXCLUDED.event_id, EXCLUDED.name, EXCLUDED.tier, EXCLUDED.price,
                          EXCLUDED.quantity, EXCLUDED.sale_starts_at, EXCLUDED.sale_ends_at);
END
$$;

-- --- capture: the people and looks of an event's walks (ids derived per event) ---------------

CREATE OR REPLACE FUNCTION showdesk_private.bridge_fashionistas_made(p_id uuid, p_table text, p_event uuid,
                                                                       p_source_table text, p_source uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
  INSERT INTO showdesk.bridge_rows (id, bridge, mirror_table, event_id, source_table, source_id)
  VALUES (p_id, 'fashionistas', p_table, p_event, p_source_table, p_source)
  ON CONFLICT (id) DO NOTHING
$$;

CREATE OR REPLACE FUNCTION showdesk_private.bridge_fashionistas_model_in(p_event uuid, p_model uuid) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  m record;
  v_id uuid := showdesk_private.derived_id('fashionistas_model:' || p_event::text, p_model);
  v_name text;
  v_first text;
BEGIN
  SELECT x.name, x.agency INTO m FROM public.models x WHERE x.id = p_model;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'model % is not a platform model', p_model;
  END IF;
  v_name := btrim(coalesce(m.name, ''));
  v_first := split_part(v_name, ' ', 1);
  INSERT INTO showdesk.models AS t (id, event_id, first_name, last_name, agency)
  VALUES (v_id, p_event, v_first, btrim(substr(v_name, length(v_first) + 1)), m.agency)
  ON CONFLICT (id) DO UPDATE
     SET first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name, agency = EXCLUDED.agency
  WHERE (t.first_name, t.last_name, t.agency)
        IS DISTINCT FROM (EXCLUDED.first_name, EXCLUDED.last_name, EXCLUDED.agency);
  PERFORM showdesk_private.bridge_fashionistas_made(v_id, 'models', p_event, 'models', p_model);
  RETURN v_id;
END
$$;

CREATE OR REPLACE FUNCTION showdesk_private.bridge_fashionistas_designer_in(p_event uuid, p_designer uuid) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  d record;
  v_id uuid := showdesk_private.derived_id('fashionistas_designer:' || p_event::text, p_designer);
BEGIN
  SELECT x.name, x.brand_name, x.location ->> 'country' AS country INTO d
    FROM public.designers x WHERE x.id = p_designer;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'designer % is not a platform designer', p_designer;
  END IF;
  INSERT INTO showdesk.designers AS t (id, event_id, name, brand, country)
  VALUES (v_id, p_event, coalesce(d.name, ''), d.brand_name, d.country)
  ON CONFLICT (id) DO UPDATE
     SET name = EXCLUDED.name, brand = EXCLUDED.brand, country = EXCLUDED.country
  WHERE (t.name, t.brand, t.country) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.brand, EXCLUDED.country);
  PERFORM showdesk_private.bridge_fashionistas_made(v_id, 'designers', p_event, 'designers', p_designer);
  RETURN v_id;
END
$$;

CREATE OR REPLACE FUNCTION showdesk_private.bridge_fashionistas_look_in(p_event uuid, p_item uuid) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  f record;
  v_id uuid := showdesk_private.derived_id('fashionistas_look:' || p_event::text, p_item);
  v_designer uuid;
BEGIN
  SELECT fi.name, fi.description, c.name AS collection, c.designer_id INTO f
    FROM public.fashion_items fi JOIN public.collections c ON c.id = fi.collection_id
   WHERE fi.id = p_item;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'fashion item % is not a platform fashion item', p_item;
  END IF;
  v_designer := showdesk_private.bridge_fashionistas_designer_in(p_event, f.designer_id);
  INSERT INTO showdesk.looks AS t (id, event_id, designer_id, collection, title, description)
  VALUES (v_id, p_event, v_designer, f.collection, coalesce(f.name, ''), f.description)
  ON CONFLICT (id) DO UPDATE
     SET designer_id = EXCLUDED.designer_id, collection = EXCLUDED.collection,
         title = EXCLUDED.title, description = EXCLUDED.description
  WHERE (t.designer_id, t.collection, t.title, t.description)
        IS DISTINCT FROM (EXCLUDED.designer_id, EXCLUDED.collection, EXCLUDED.title,
                          EXCLUDED.description);
  PERFORM showdesk_private.bridge_fashionistas_made(v_id, 'looks', p_event, 'fashion_items', p_item);
  RETURN v_id;
END
$$;

-- The look of a walk that names no fashion item.
CREATE OR REPLACE FUNCTION showdesk_private.bridge_fashionistas_untitled_look_in(p_event uuid, p_walk uuid) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_id uuid := showdesk_private.derived_id('fashionistas_walk_look:' || p_event::text, p_walk);
BEGIN
  INSERT INTO showdesk.looks (id, event_id, title) VALUES (v_id, p_event, 'Untitled look')
  ON CONFLICT (id) DO NOTHING;
  PERFORM showdesk_private.bridge_fashionistas_made(v_id, 'looks', p_event, 'runway_appearances', p_walk);
  RETURN v_id;
END
$$;

-- Derived looks, models and designers (candidates) that no walk or look uses any more go;
-- rows Showdesk made itself are never candidates (they are not in bridge_rows).
CREATE OR REPLACE FUNCTION showdesk_private.bridge_fashionistas_prune(p_looks uuid[], p_models uuid[],
                                                                     p_designers uuid[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_designers uuid[];
BEGIN
  p_looks := ARRAY(SELECT DISTINCT x FROM unnest(p_looks) x WHERE x IS NOT NULL);
  p_models := ARRAY(SELECT DISTINCT x FROM unnest(p_models) x WHERE x IS NOT NULL);
  WITH gone AS (
    DELETE FROM showdesk.looks l USING showdesk.bridge_rows d
     WHERE d.id = l.id AND d.bridge = 'fashionistas' AND l.id = ANY (p_looks)
       AND NOT EXISTS (SELECT 1 FROM showdesk.runway_appearances a WHERE a.look_id = l.id)
    RETURNING l.id, l.designer_id)
  SELECT array_agg(g.designer_id) INTO v_designers FROM gone g;
  DELETE FROM showdesk.bridge_rows d
   WHERE d.id = ANY (p_looks) AND NOT EXISTS (SELECT 1 FROM showdesk.looks l WHERE l.id = d.id);
  v_designers := ARRAY(SELECT DISTINCT x FROM unnest(coalesce(v_designers, '{}') || coalesce(p_designers, '{}')) x
                        WHERE x IS NOT NULL);
  DELETE FROM showdesk.designers x USING showdesk.bridge_rows d
   WHERE d.id = x.id AND d.bridge = 'fashionistas' AND x.id = ANY (v_designers)
     AND NOT EXISTS (SELECT 1 FROM showdesk.looks l WHERE l.designer_id = x.id);
  DELETE FROM showdesk.bridge_rows d
   WHERE d.id = ANY (v_designers) AND NOT EXISTS (SELECT 1 FROM showdesk.designers x WHERE x.id = d.id);
  DELETE FROM showdesk.models m USING showdesk.bridge_rows d
   WHERE d.id = m.id AND d.bridge = 'fashionistas' AND m.id = ANY (p_models)
     AND NOT EXISTS (SELECT 1 FROM showdesk.runway_appearances a WHERE a.model_id = m.id)
     AND NOT EXISTS (SELECT 1 FROM showdesk.people p WHERE p.model_id = m.id);
  DELETE FROM showdesk.bridge_rows d
   WHERE d.id = ANY (p_models) AND NOT EXISTS (SELECT 1 FROM showdesk.models m WHERE m.id = d.id);
END
$$;

-- Remove mirrored walks (and what only they used).
CREATE OR REPLACE FUNCTION showdesk_private.bridge_fashionistas_drop_walks(p_walks uuid[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_looks uuid[];
  v_models uuid[];
BEGIN
  WITH gone AS (DELETE FROM showdesk.runway_appearances a WHERE a.id = ANY (p_walks)
                RETURNING a.look_id, a.model_id)
  SELECT array_agg(g.look_id), array_agg(g.model_id) INTO v_looks, v_models FROM gone g;
  DELETE FROM showdesk.bridge_rows d WHERE d.id = ANY (p_walks);
  PERFORM showdesk_private.bridge_fashionistas_prune(v_looks, v_models, NULL);
END
$$;

-- --- capture: show, segment, walk ---------------------------------------------------------------

CREATE OR REPLACE FUNCTION showdesk_private.bridge_fashionistas_show(p_id uuid, p_was_event uuid,
                                                                    p_set_status boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  s record;
  v_status text;
BEGIN
  SELECT x.id, x.event_id, x.show_date, x.status, c.name AS collection_name INTO s
    FROM public.runway_shows x LEFT JOIN public.collections c ON c.id = x.collection_id
   WHERE x.id = p_id;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF EXISTS (SELECT 1 FROM showdesk.runway_shows t
              WHERE t.id = p_id AND t.event_id <> s.event_id AND t.event_id IS DISTINCT FROM p_was_event) THEN
    RAISE EXCEPTION 'runway show % is a Showdesk show of another event', p_id;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM showdesk.events e WHERE e.id = s.event_id) THEN
    RETURN;  -- its event is not mirrored
  END IF;
  v_status := CASE s.status WHEN 'scheduled' THEN 'planned' WHEN 'in_progress' THEN 'live'
                            WHEN 'completed' THEN 'finished' ELSE coalesce(s.status, 'planned') END;
  INSERT INTO showdesk.runway_shows AS t (id, event_id, name, starts_at, status)
  VALUES (s.id, s.event_id, coalesce(nullif(btrim(s.collection_name), ''), 'Runway show'),
          s.show_date, v_status)
  ON CONFLICT (id) DO UPDATE
     SET event_id = EXCLUDED.event_id, name = EXCLUDED.name, starts_at = EXCLUDED.starts_at,
         status = CASE WHEN p_set_status THEN EXCLUDED.status ELSE t.status END
  WHERE (t.event_id, t.name, t.starts_at, t.status)
        IS DISTINCT FROM (EXCLUDED.event_id, EXCLUDED.name, EXCLUDED.starts_at,
                          CASE WHEN p_set_status THEN EXCLUDED.status ELSE t.status END);
  -- a show moved to another event: its walks take that event's looks and models
  IF p_was_event IS NOT NULL AND p_was_event <> s.event_id THEN
    PERFORM showdesk_private.bridge_fashionistas_appearance(a.id, p_was_event, ARRAY['event'])
       FROM public.runway_appearances a JOIN public.runway_segments g ON g.id = a.runway_segment_id
      WHERE g.runway_show_id = p_id;
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION showdesk_private.bridge_fashionistas_segment(p_id uuid, p_was_event uuid,
                                                                       p_set_order boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  r record;
BEGIN
  SELECT g.id, g.runway_show_id, g.name, g.segment_order, s.event_id INTO r
    FROM public.runway_segments g JOIN public.runway_shows s ON s.id = g.runway_show_id
   WHERE g.id = p_id;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF EXISTS (SELECT 1 FROM showdesk.runway_segments t
              WHERE t.id = p_id
                AND showdesk_private.show_event_id(t.show_id) IS DISTINCT FROM r.event_id
                AND showdesk_private.show_event_id(t.show_id) IS DISTINCT FROM p_was_event) THEN
    RAISE EXCEPTION 'runway segment % is a Showdesk segment of another event', p_id;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM showdesk.runway_shows t WHERE t.id = r.runway_show_id) THEN
    RETURN;  -- its show is not mirrored
  END IF;
  INSERT INTO showdesk.runway_segments AS t (id, show_id, name, order_key)
  VALUES (r.id, r.runway_show_id, coalesce(r.name, ''), showdesk_private.order_key_of(r.segment_order))
  ON CONFLICT (id) DO UPDATE
     SET show_id = EXCLUDED.show_id, name = EXCLUDED.name,
         order_key = CASE WHEN p_set_order THEN EXCLUDED.order_key ELSE t.order_key END
  WHERE (t.show_id, t.name, t.order_key)
        IS DISTINCT FROM (EXCLUDED.show_id, EXCLUDED.name,
                          CASE WHEN p_set_order THEN EXCLUDED.order_key ELSE t.order_key END);
  IF p_was_event IS NOT NULL AND p_was_event <> r.event_id THEN
    PERFORM showdesk_private.bridge_fashionistas_appearance(a.id, p_was_event, ARRAY['event'])
       FROM public.runway_appearances a WHERE a.runway_segment_id = p_id;
  END IF;
END
$$;

-- A segment whose mirror order disagrees with the platform's (after a platform reorder) takes
-- every key from the platform.
CREATE OR REPLACE FUNCTION showdesk_private.bridge_fashionistas_follow_platform(p_segment uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
BEGIN
  IF EXISTS (
       SELECT 1 FROM (
         SELECT row_number() OVER (ORDER BY showdesk_private.walk_pin(m.is_opening, m.is_closing),
                                           m.order_key COLLATE "C", m.id) AS by_key,
                row_number() OVER (ORDER BY p.appearance_order, m.id) AS by_platform
           FROM showdesk.runway_appearances m JOIN public.runway_appearances p ON p.id = m.id
          WHERE p.runway_segment_id = p_segment AND m.segment_id = p_segment) x
        WHERE x.by_key <> x.by_platform) THEN
    UPDATE showdesk.runway_appearances m
       SET order_key = showdesk_private.order_key_of(p.appearance_order)
      FROM public.runway_appearances p
     WHERE p.id = m.id AND p.runway_segment_id = p_segment AND m.segment_id = p_segment
       AND m.order_key IS DISTINCT FROM showdesk_private.order_key_of(p.appearance_order);
  END IF;
END
$$;

-- A walk. p_was_event: the event of its platform segment before this write (NULL: new row).
-- p_changed: the platform columns this write changed; NULL for a new platform row (everything
-- is written), '{}' for the install-time backfill (an existing mirror keeps what a kiosk set),
-- 'event' when its show or segment moved to another event.
CREATE OR REPLACE FUNCTION showdesk_private.bridge_fashionistas_appearance(p_id uuid, p_was_event uuid,
                                                                          p_changed text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  r record;
  cur record;
  v_found boolean;
  v_cur_event uuid;
  v_prev_event uuid;
  v_all boolean;
  v_set_segment boolean;
  v_set_order boolean;
  v_set_notes boolean;
  v_set_model boolean;
  v_set_look boolean;
  v_model uuid;
  v_look uuid;
BEGIN
  SELECT a.id, a.runway_segment_id, a.model_id, a.fashion_item_id, a.appearance_order, a.notes,
         s.event_id INTO r
    FROM public.runway_appearances a
    JOIN public.runway_segments g ON g.id = a.runway_segment_id
    JOIN public.runway_shows s ON s.id = g.runway_show_id
   WHERE a.id = p_id;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  SELECT t.segment_id, t.look_id, t.model_id, l.event_id AS look_event INTO cur
    FROM showdesk.runway_appearances t LEFT JOIN showdesk.looks l ON l.id = t.look_id
   WHERE t.id = p_id;
  v_found := FOUND;
  IF v_found THEN
    v_cur_event := showdesk_private.segment_event_id(cur.segment_id);
    IF v_cur_event IS DISTINCT FROM r.event_id AND v_cur_event IS DISTINCT FROM p_was_event THEN
      RAISE EXCEPTION 'runway appearance % is a Showdesk walk of another event', p_id;
    END IF;
    v_prev_event := coalesce(cur.look_event, v_cur_event);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM showdesk.runway_segments g WHERE g.id = r.runway_segment_id) THEN
    RETURN;  -- its segment is not mirrored
  END IF;
  v_all := NOT v_found OR p_changed IS NULL;
  v_set_segment := v_all OR 'runway_segment_id' = ANY (p_changed);
  v_set_order := v_all OR 'appearance_order' = ANY (p_changed);
  v_set_notes := v_all OR 'notes' = ANY (p_changed);
  v_set_model := v_all OR 'model_id' = ANY (p_changed) OR v_prev_event IS DISTINCT FROM r.event_id;
  v_set_look := v_all OR 'fashion_item_id' = ANY (p_changed) OR v_prev_event IS DISTINCT FROM r.event_id;
  IF v_set_model THEN
    v_model := showdesk_private.bridge_fashionistas_model_in(r.event_id, r.model_id);
  END IF;
  IF v_set_look THEN
    IF r.fashion_item_id IS NOT NULL THEN
      v_look := showdesk_private.bridge_fashionistas_look_in(r.event_id, r.fashion_item_id);
    ELSE
      v_look := showdesk_private.bridge_fashionistas_untitled_look_in(r.event_id, r.id);
    END IF;
  END IF;
  IF NOT v_found THEN
    INSERT INTO showdesk.runway_appearances (id, segment_id, look_id, model_id, order_key, notes)
    VALUES (r.id, r.runway_segment_id, v_look, v_model,
            showdesk_private.order_key_of(r.appearance_order), r.notes);
    PERFORM showdesk_private.bridge_fashionistas_made(r.id, 'runway_appearances', r.event_id,
                                                        'runway_appearances', r.id);
  ELSE
    UPDATE showdesk.bridge_rows d SET event_id = r.event_id
     WHERE d.id = p_id AND d.event_id <> r.event_id;
    UPDATE showdesk.runway_appearances t
       SET segment_id = CASE WHEN v_set_segment THEN r.runway_segment_id ELSE t.segment_id END,
           order_key = CASE WHEN v_set_order THEN showdesk_private.order_key_of(r.appearance_order)
                            ELSE t.order_key END,
           notes = CASE WHEN v_set_notes THEN r.notes ELSE t.notes END,
           model_id = CASE WHEN v_set_model THEN v_model ELSE t.model_id END,
           look_id = CASE WHEN v_set_look THEN v_look ELSE t.look_id END
     WHERE t.id = p_id
       AND (t.segment_id, t.order_key, t.notes, t.model_id, t.look_id) IS DISTINCT FROM
           (CASE WHEN v_set_segment THEN r.runway_segment_id ELSE t.segment_id END,
            CASE WHEN v_set_order THEN showdesk_private.order_key_of(r.appearance_order) ELSE t.order_key END,
            CASE WHEN v_set_notes THEN r.notes ELSE t.notes END,
            CASE WHEN v_set_model THEN v_model ELSE t.model_id END,
            CASE WHEN v_set_look THEN v_look ELSE t.look_id END);
    -- what the walk used before, where nothing uses it any more
    IF (v_set_look AND cur.look_id IS DISTINCT FROM v_look)
       OR (v_set_model AND cur.model_id IS DISTINCT FROM v_model) THEN
      PERFORM showdesk_private.bridge_fashionistas_prune(
        ARRAY[CASE WHEN v_set_look AND cur.look_id IS DISTINCT FROM v_look THEN cur.look_id END],
        ARRAY[CASE WHEN v_set_model AND cur.model_id IS DISTINCT FROM v_model THEN cur.model_id END],
        NULL);
    END IF;
  END IF;
  IF v_set_order OR v_set_segment THEN
    PERFORM showdesk_private.bridge_fashionistas_follow_platform(r.runway_segment_id);
  END IF;
END
$$;

-- --- capture: rows that several mirrors are made of ------------------------------------------

-- The derived mirrors of a platform row that was edited, in every event they are in.
-- p_old_designer: the designer of an edited collection or fashion item before the edit.
CREATE OR REPLACE FUNCTION showdesk_private.bridge_fashionistas_refresh(p_table text, p_id uuid,
                                                                       p_old_designer uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
BEGIN
  CASE p_table
    WHEN 'models' THEN
      PERFORM showdesk_private.bridge_fashionistas_model_in(d.event_id, p_id)
         FROM showdesk.bridge_rows d
        WHERE d.source_id = p_id AND d.source_table = 'models' AND d.bridge = 'fashionistas'
          AND EXISTS (SELECT 1 FROM showdesk.models m WHERE m.id = d.id);
    WHEN 'designers' THEN
      PERFORM showdesk_private.bridge_fashionistas_designer_in(d.event_id, p_id)
         FROM showdesk.bridge_rows d
        WHERE d.source_id = p_id AND d.source_table = 'designers' AND d.bridge = 'fashionistas'
          AND EXISTS (SELECT 1 FROM showdesk.designers x WHERE x.id = d.id);
    WHEN 'fashion_items' THEN
      PERFORM showdesk_private.bridge_fashionistas_look_in(d.event_id, p_id)
         FROM showdesk.bridge_rows d
        WHERE d.source_id = p_id AND d.source_table = 'fashion_items' AND d.bridge = 'fashionistas'
          AND EXISTS (SELECT 1 FROM showdesk.looks l WHERE l.id = d.id);
      IF p_old_designer IS NOT NULL THEN
        -- the designer its looks had before, where no look has it any more
        PERFORM showdesk_private.bridge_fashionistas_prune(NULL, NULL, ARRAY(
          SELECT d.id FROM showdesk.bridge_rows d
           WHERE d.source_id = p_old_designer AND d.source_table = 'designers'
             AND d.bridge = 'fashionistas'));
      END IF;
    WHEN 'collections' THEN
      PERFORM showdesk_private.bridge_fashionistas_show(s.id, s.event_id, false)
         FROM public.runway_shows s WHERE s.collection_id = p_id;
      PERFORM showdesk_private.bridge_fashionistas_refresh('fashion_items', fi.id, p_old_designer)
         FROM public.fashion_items fi WHERE fi.collection_id = p_id;
    ELSE NULL;
  END CASE;
END
$$;

-- A platform INSERT (p_old NULL) or UPDATE. p_changed: the columns the UPDATE changed.
CREATE OR REPLACE FUNCTION showdesk_private.bridge_fashionistas_upsert(p_table text, p jsonb, p_old jsonb,
                                                                      p_changed text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_id uuid := (p ->> 'id')::uuid;
BEGIN
  CASE p_table
    WHEN 'users' THEN
      IF p_old IS NOT NULL AND p_changed && ARRAY['full_name', 'email']
         AND EXISTS (SELECT 1 FROM showdesk.organizations o
                      WHERE o.id = v_id AND o.slug = 'organizer-' || v_id::text) THEN
        PERFORM showdesk_private.bridge_fashionistas_organizer(v_id);
      END IF;
    WHEN 'venues' THEN
      IF p_old IS NOT NULL THEN
        PERFORM showdesk_private.bridge_fashionistas_event(e.id, e.organizer_id)
           FROM public.events e WHERE e.venue_id = v_id;
      END IF;
    WHEN 'events' THEN
      PERFORM showdesk_private.bridge_fashionistas_event(v_id, (p_old ->> 'organizer_id')::uuid);
      IF p_old ->> 'venue_id' IS NOT NULL
         AND (p_old ->> 'venue_id', p_old ->> 'organizer_id') IS DISTINCT FROM (p ->> 'venue_id', p ->> 'organizer_id') THEN
        PERFORM showdesk_private.bridge_fashionistas_venue_unused((p_old ->> 'organizer_id')::uuid,
                                                                  (p_old ->> 'venue_id')::uuid);
      END IF;
    WHEN 'ticket_types' THEN
      PERFORM showdesk_private.bridge_fashionistas_ticket_type(p, (p_old ->> 'event_id')::uuid);
    WHEN 'runway_shows' THEN
      PERFORM showdesk_private.bridge_fashionistas_show(v_id, (p_old ->> 'event_id')::uuid,
                                                        p_old IS NULL OR 'status' = ANY (p_changed));
    WHEN 'runway_segments' THEN
      PERFORM showdesk_private.bridge_fashionistas_segment(
        v_id, showdesk_private.show_event_id((p_old ->> 'runway_show_id')::uuid),
        p_old IS NULL OR 'segment_order' = ANY (p_changed));
    WHEN 'runway_appearances' THEN
      PERFORM showdesk_private.bridge_fashionistas_appearance(
        v_id, showdesk_private.segment_event_id((p_old ->> 'runway_segment_id')::uuid), p_changed);
    WHEN 'models', 'designers' THEN
      IF p_old IS NOT NULL THEN
        PERFORM showdesk_private.bridge_fashionistas_refresh(p_table, v_id, NULL);
      END IF;
    WHEN 'collections' THEN
      IF p_old IS NOT NULL THEN
        PERFORM showdesk_private.bridge_fashionistas_refresh(p_table, v_id, (p_old ->> 'designer_id')::uuid);
      END IF;
    WHEN 'fashion_items' THEN
      IF p_old IS NOT NULL THEN
        PERFORM showdesk_private.bridge_fashionistas_refresh(
          p_table, v_id,
          (SELECT c.designer_id FROM public.collections c WHERE c.id = (p_old ->> 'collection_id')::uuid));
      END IF;
    ELSE NULL;
  END CASE;
END
$$;

-- A platform DELETE. PostgreSQL fires the capture of a deleted row before those of the rows
-- its foreign keys cascade to, so a parent takes its mirrored children with it. A mirror is
-- only removed where it is the platform row's (same event, organization, or registered in
-- bridge_rows): a platform row never removes a Showdesk row of someone else under its id.
CREATE OR REPLACE FUNCTION showdesk_private.bridge_fashionistas_delete(p_table text, p_old jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_id uuid := (p_old ->> 'id')::uuid;
  v_looks uuid[];
  v_models uuid[];
BEGIN
  CASE p_table
    WHEN 'runway_appearances' THEN
      PERFORM showdesk_private.bridge_fashionistas_drop_walks(ARRAY(
        SELECT a.id FROM showdesk.runway_appearances a JOIN showdesk.bridge_rows d ON d.id = a.id
         WHERE a.id = v_id AND d.bridge = 'fashionistas'
           AND d.event_id = showdesk_private.segment_event_id(a.segment_id)));
    WHEN 'runway_segments' THEN
      IF EXISTS (SELECT 1 FROM showdesk.runway_segments g
                  WHERE g.id = v_id
                    AND showdesk_private.show_event_id(g.show_id)
                        = showdesk_private.show_event_id((p_old ->> 'runway_show_id')::uuid)) THEN
        PERFORM showdesk_private.bridge_fashionistas_drop_walks(ARRAY(
          SELECT a.id FROM showdesk.runway_appearances a WHERE a.segment_id = v_id));
        DELETE FROM showdesk.runway_segments WHERE id = v_id;
      END IF;
    WHEN 'runway_shows' THEN
      IF EXISTS (SELECT 1 FROM showdesk.runway_shows s
                  WHERE s.id = v_id AND s.event_id = (p_old ->> 'event_id')::uuid) THEN
        PERFORM showdesk_private.bridge_fashionistas_drop_walks(ARRAY(
          SELECT a.id FROM showdesk.runway_appearances a
            JOIN showdesk.runway_segments g ON g.id = a.segment_id WHERE g.show_id = v_id));
        DELETE FROM showdesk.runway_segments WHERE show_id = v_id;
        DELETE FROM showdesk.runway_shows WHERE id = v_id;
      END IF;
    WHEN 'ticket_types' THEN
      DELETE FROM showdesk.ticket_types WHERE id = v_id AND event_id = (p_old ->> 'event_id')::uuid;
    WHEN 'events' THEN
      IF EXISTS (SELECT 1 FROM showdesk.events e
                  WHERE e.id = v_id AND e.organization_id = (p_old ->> 'organizer_id')::uuid) THEN
        -- (its ticket types are gone from the platform already: their captures come later)
        DELETE FROM showdesk.ticket_types t WHERE t.event_id = v_id;
        SELECT array_agg(d.id) FILTER (WHERE d.mirror_table = 'looks'),
               array_agg(d.id) FILTER (WHERE d.mirror_table = 'models')
          INTO v_looks, v_models
          FROM showdesk.bridge_rows d WHERE d.event_id = v_id AND d.bridge = 'fashionistas';
        PERFORM showdesk_private.bridge_fashionistas_prune(v_looks, v_models, NULL);
        DELETE FROM showdesk.events WHERE id = v_id;
      END IF;
      IF p_old ->> 'venue_id' IS NOT NULL THEN
        PERFORM showdesk_private.bridge_fashionistas_venue_unused((p_old ->> 'organizer_id')::uuid,
                                                                  (p_old ->> 'venue_id')::uuid);
      END IF;
    WHEN 'venues' THEN
      UPDATE showdesk.events e SET venue_id = NULL
        FROM showdesk.venues v
       WHERE e.venue_id = v.id
         AND v.id = showdesk_private.derived_id('fashionistas_venue:' || v.organization_id::text, v_id);
      DELETE FROM showdesk.venues v
       WHERE v.id = showdesk_private.derived_id('fashionistas_venue:' || v.organization_id::text, v_id);
    WHEN 'users' THEN
      DELETE FROM showdesk.organizations o
       WHERE o.id = v_id AND o.slug = 'organizer-' || v_id::text
         AND NOT EXISTS (SELECT 1 FROM showdesk.events e WHERE e.organization_id = o.id)
         AND NOT EXISTS (SELECT 1 FROM showdesk.venues x WHERE x.organization_id = o.id)
         AND NOT EXISTS (SELECT 1 FROM showdesk.devices x WHERE x.organization_id = o.id)
         AND NOT EXISTS (SELECT 1 FROM showdesk.staff x WHERE x.organization_id = o.id);
    WHEN 'models' THEN
      -- (no platform walk has it: a kiosk's own walk or person that does loses the model)
      v_models := ARRAY(SELECT d.id FROM showdesk.bridge_rows d
                         WHERE d.source_id = v_id AND d.source_table = 'models' AND d.bridge = 'fashionistas');
      UPDATE showdesk.runway_appearances a SET model_id = NULL WHERE a.model_id = ANY (v_models);
      UPDATE showdesk.people p SET model_id = NULL WHERE p.model_id = ANY (v_models);
      PERFORM showdesk_private.bridge_fashionistas_prune(NULL, v_models, NULL);
    WHEN 'designers' THEN
      UPDATE showdesk.looks l SET designer_id = NULL
       WHERE l.designer_id IN (SELECT d.id FROM showdesk.bridge_rows d
                                WHERE d.source_id = v_id AND d.source_table = 'designers'
                                  AND d.bridge = 'fashionistas');
      PERFORM showdesk_private.bridge_fashionistas_prune(NULL, NULL, ARRAY(
        SELECT d.id FROM showdesk.bridge_rows d
         WHERE d.source_id = v_id AND d.source_table = 'designers' AND d.bridge = 'fashionistas'));
    WHEN 'fashion_items' THEN
      -- (its walks lose their fashion item next, and with it this look; a look a kiosk's own
      -- walk uses stays)
      PERFORM showdesk_private.bridge_fashionistas_prune(ARRAY(
        SELECT d.id FROM showdesk.bridge_rows d
         WHERE d.source_id = v_id AND d.source_table = 'fashion_items' AND d.bridge = 'fashionistas'), NULL, NULL);
    ELSE NULL;  -- collections: their shows and items go by their own deletes
  END CASE;
END
$$;

-- The one trigger function on every bridged platform table.
CREATE OR REPLACE FUNCTION showdesk_private.bridge_fashionistas_capture() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  n jsonb;
  o jsonb;
  v_changed text[];
  v_was text := coalesce(current_setting('showdesk.bridge_capturing', true), '');
BEGIN
  IF showdesk_private.bridge_writing_back() THEN
    RETURN NULL;  -- Showdesk's own write-back: the mirror already holds it
  END IF;
  BEGIN
    -- (mirror writes made here are not kiosk moves: no write-back of them)
    PERFORM set_config('showdesk.bridge_capturing', 'on', true);
    IF TG_OP = 'DELETE' THEN
      PERFORM showdesk_private.bridge_fashionistas_delete(TG_TABLE_NAME, to_jsonb(OLD));
    ELSE
      n := to_jsonb(NEW);
      IF TG_OP = 'UPDATE' THEN
        o := to_jsonb(OLD);
        SELECT coalesce(array_agg(k.key), '{}') INTO v_changed
          FROM jsonb_each(n) k WHERE k.value IS DISTINCT FROM o -> k.key;
      END IF;
      PERFORM showdesk_private.bridge_fashionistas_upsert(TG_TABLE_NAME, n, o, v_changed);
    END IF;
    PERFORM set_config('showdesk.bridge_capturing', v_was, true);
  EXCEPTION WHEN OTHERS THEN
    PERFORM showdesk_private.bridge_failed('fashionistas', TG_TABLE_NAME, coalesce(NEW.id, OLD.id),
                                           TG_OP, SQLERRM);
  END;
  RETURN NULL;
END
$$;

-- --- write-back: a kiosk's walk order -> runway_appearances.appearance_order --------------------

-- After an UPDATE of Showdesk's runway_appearances (a push: one statement per mutation): the
-- platform segments that moved walks leave or enter get their appearance_order recomputed.
-- Runs as the platform's own writes do (search_path public, extensions: its triggers resolve
-- their names there); Showdesk's names are qualified.
CREATE OR REPLACE FUNCTION showdesk_private.bridge_fashionistas_walk_order() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, extensions
AS $$
DECLARE
  v_segments uuid[];
  v_segment uuid;
  v_ids uuid[];
  v_segs uuid[];
  v_orders int[];
  v_floor bigint;
BEGIN
  IF showdesk_private.bridge_writing_back()
     OR coalesce(current_setting('showdesk.bridge_capturing', true), '') = 'on'
     OR to_regclass('public.runway_appearances') IS NULL
     OR NOT EXISTS (SELECT 1 FROM showdesk.sync_settings s, jsonb_array_elements_text(s.value) AS b(name)
                     WHERE s.key = 'bridges' AND b.name = 'fashionistas') THEN
    RETURN NULL;
  END IF;
  BEGIN
    -- the platform segments the moved walks leave and enter; a walk whose mirror is not in its
    -- platform row's own event is not moved
    SELECT array_agg(DISTINCT x.seg ORDER BY x.seg) INTO v_segments
      FROM (SELECT p.runway_segment_id AS seg_from,
                   (SELECT g2.id FROM public.runway_segments g2
                      JOIN public.runway_shows s2 ON s2.id = g2.runway_show_id
                     WHERE g2.id = n.segment_id AND s2.event_id = s.event_id) AS seg_to
              FROM new_rows n
              JOIN old_rows o ON o.id = n.id
              JOIN public.runway_appearances p ON p.id = n.id
              JOIN public.runway_segments g ON g.id = p.runway_segment_id
              JOIN public.runway_shows s ON s.id = g.runway_show_id
             WHERE (n.order_key, n.segment_id) IS DISTINCT FROM (o.order_key, o.segment_id)
               AND showdesk_private.segment_event_id(n.segment_id) = s.event_id) m
      CROSS JOIN LATERAL (VALUES (m.seg_from), (m.seg_to)) AS x(seg)
     WHERE x.seg IS NOT NULL;
    IF v_segments IS NULL THEN
      RETURN NULL;
    END IF;
    -- one write-back per segment at a time (two producers' pushes): the one that waited reads
    -- the other's committed order below
    FOREACH v_segment IN ARRAY v_segments LOOP
      PERFORM pg_advisory_xact_lock(hashtextextended('showdesk.walk_order:' || v_segment::text, 0));
    END LOOP;

    WITH cand AS (
      SELECT p.id, p.runway_segment_id AS cur_seg, p.appearance_order AS cur_order,
             m.order_key AS key, m.segment_id AS m_seg,
             showdesk_private.walk_pin(m.is_opening, m.is_closing) AS pin,
             m.id IS NOT NULL AND showdesk_private.segment_event_id(m.segment_id) = s.event_id AS writable
        FROM public.runway_appearances p
        JOIN public.runway_segments g ON g.id = p.runway_segment_id
        JOIN public.runway_shows s ON s.id = g.runway_show_id
        LEFT JOIN showdesk.runway_appearances m ON m.id = p.id
       WHERE p.runway_segment_id = ANY (v_segments) OR m.segment_id = ANY (v_segments)
    ), placed AS (
      SELECT c.*, CASE WHEN c.writable AND c.m_seg = ANY (v_segments) THEN c.m_seg
                       ELSE c.cur_seg END AS tgt_seg
        FROM cand c
    ), ranked AS (
      SELECT pl.*, row_number() OVER (PARTITION BY pl.tgt_seg ORDER BY pl.pin, pl.key COLLATE "C", pl.id) AS k
        FROM placed pl
       WHERE pl.writable AND pl.tgt_seg = ANY (v_segments)
    ), fixed AS (
      -- walks of these segments that are not written keep their number
      SELECT pl.cur_seg AS seg, pl.cur_order
        FROM placed pl
       WHERE NOT pl.writable AND pl.cur_seg = ANY (v_segments)
    ), free AS (
      -- 1, 2, 3... per segment, skipping the numbers kept
      SELECT c.seg, v.val, row_number() OVER (PARTITION BY c.seg ORDER BY v.val) AS k
        FROM (SELECT r.tgt_seg AS seg, count(*) AS n FROM ranked r GROUP BY r.tgt_seg) c
        CROSS JOIN LATERAL generate_series(1::bigint,
                                           c.n + (SELECT count(*) FROM fixed f WHERE f.seg = c.seg)) AS v(val)
       WHERE NOT EXISTS (SELECT 1 FROM fixed f WHERE f.seg = c.seg AND f.cur_order = v.val)
    )
    SELECT array_agg(r.id ORDER BY r.id), array_agg(r.tgt_seg ORDER BY r.id),
           array_agg(f.val::int ORDER BY r.id)
      INTO v_ids, v_segs, v_orders
      FROM ranked r JOIN free f ON f.seg = r.tgt_seg AND f.k = r.k
     WHERE (r.tgt_seg, f.val) IS DISTINCT FROM (r.cur_seg, r.cur_order::bigint);
    IF v_ids IS NULL THEN
      RETURN NULL;
    END IF;

    -- below every number in use in the segments involved: step 1 never meets another walk
    SELECT least(0, min(p.appearance_order)) - 1 INTO v_floor
      FROM public.runway_appearances p
     WHERE p.runway_segment_id = ANY (v_segments)
        OR p.runway_segment_id IN (SELECT q.runway_segment_id FROM public.runway_appearances q
                                    WHERE q.id = ANY (v_ids));
    PERFORM showdesk_private.set_bridge_writeback(true);
    UPDATE public.runway_appearances p SET appearance_order = (v_floor - x.i)::int
      FROM unnest(v_ids) WITH ORDINALITY AS x(id, i)
     WHERE p.id = x.id;
    UPDATE public.runway_appearances p SET runway_segment_id = x.seg, appearance_order = x.ord
      FROM unnest(v_ids, v_segs, v_orders) AS x(id, seg, ord)
     WHERE p.id = x.id;
    PERFORM showdesk_private.set_bridge_writeback(false);
  EXCEPTION WHEN OTHERS THEN
    PERFORM showdesk_private.set_bridge_writeback(false);
    PERFORM showdesk_private.bridge_failed('fashionistas', 'runway_appearances', NULL, 'WRITEBACK', SQLERRM);
  END;
  RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS bridge_fashionistas_walk_order ON showdesk.runway_appearances;
CREATE TRIGGER bridge_fashionistas_walk_order AFTER UPDATE ON showdesk.runway_appearances
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION showdesk_private.bridge_fashionistas_walk_order();

-- --- installation: where the document's tables are there ------------------------------------

DO $$
DECLARE
  b constant text := 'fashionistas';
  r record;
  v_was text := coalesce(current_setting('showdesk.bridge_capturing', true), '');
BEGIN
  IF NOT (showdesk_private.platform_has('events', ARRAY['organizer_id', 'title'])
          AND showdesk_private.platform_has('runway_appearances', ARRAY['appearance_order'])
          AND showdesk_private.platform_has('runway_segments', ARRAY['runway_show_id'])) THEN
    RAISE NOTICE 'Showdesk: no Fashionistas tables here; that bridge is not installed.';
    RETURN;
  END IF;
  PERFORM showdesk_private.require_shape(b, 'users',
    ARRAY['id uuid', 'email text', 'full_name text']);
  PERFORM showdesk_private.require_shape(b, 'venues',
    ARRAY['id uuid', 'name text', 'address text', 'city text', 'country text', 'capacity integer']);
  PERFORM showdesk_private.require_shape(b, 'events',
    ARRAY['id uuid', 'organizer_id uuid', 'venue_id uuid', 'title text', 'slug text',
          'status text', 'start_date timestamp with time zone',
          'end_date timestamp with time zone']);
  PERFORM showdesk_private.require_shape(b, 'ticket_types',
    ARRAY['id uuid', 'event_id uuid', 'name text', 'tier text', 'base_price numeric',
          'total_capacity integer', 'sale_start_date timestamp with time zone',
          'sale_end_date timestamp with time zone']);
  PERFORM showdesk_private.require_shape(b, 'designers',
    ARRAY['id uuid', 'name text', 'brand_name text', 'location jsonb']);
  PERFORM showdesk_private.require_shape(b, 'collections',
    ARRAY['id uuid', 'designer_id uuid', 'name text']);
  PERFORM showdesk_private.require_shape(b, 'fashion_items',
    ARRAY['id uuid', 'collection_id uuid', 'name text', 'description text']);
  PERFORM showdesk_private.require_shape(b, 'models',
    ARRAY['id uuid', 'name text', 'agency text']);
  PERFORM showdesk_private.require_shape(b, 'runway_shows',
    ARRAY['id uuid', 'collection_id uuid', 'event_id uuid',
          'show_date timestamp with time zone', 'status text']);
  PERFORM showdesk_private.require_shape(b, 'runway_segments',
    ARRAY['id uuid', 'runway_show_id uuid', 'name text', 'segment_order integer']);
  PERFORM showdesk_private.require_shape(b, 'runway_appearances',
    ARRAY['id uuid', 'runway_segment_id uuid', 'model_id uuid', 'fashion_item_id uuid',
          'appearance_order integer', 'notes text']);

  -- what is there already, parents first (a mirror that exists keeps what kiosks set)
  PERFORM set_config('showdesk.bridge_capturing', 'on', true);
  FOR r IN SELECT x.id FROM public.events x ORDER BY x.id LOOP
    BEGIN
      PERFORM showdesk_private.bridge_fashionistas_event(r.id, NULL);
    EXCEPTION WHEN OTHERS THEN
      PERFORM showdesk_private.bridge_failed(b, 'events', r.id, 'BACKFILL', SQLERRM);
    END;
  END LOOP;
  FOR r IN SELECT x.id, to_jsonb(x) AS p FROM public.ticket_types x ORDER BY x.id LOOP
    BEGIN
      PERFORM showdesk_private.bridge_fashionistas_ticket_type(r.p, NULL);
    EXCEPTION WHEN OTHERS THEN
      PERFORM showdesk_private.bridge_failed(b, 'ticket_types', r.id, 'BACKFILL', SQLERRM);
    END;
  END LOOP;
  FOR r IN SELECT x.id FROM public.runway_shows x ORDER BY x.id LOOP
    BEGIN
      PERFORM showdesk_private.bridge_fashionistas_show(r.id, NULL, false);
    EXCEPTION WHEN OTHERS THEN
      PERFORM showdesk_private.bridge_failed(b, 'runway_shows', r.id, 'BACKFILL', SQLERRM);
    END;
  END LOOP;
  FOR r IN SELECT x.id FROM public.runway_segments x ORDER BY x.id LOOP
    BEGIN
      PERFORM showdesk_private.bridge_fashionistas_segment(r.id, NULL, false);
    EXCEPTION WHEN OTHERS THEN
      PERFORM showdesk_private.bridge_failed(b, 'runway_segments', r.id, 'BACKFILL', SQLERRM);
    END;
  END LOOP;
  FOR r IN SELECT x.id FROM public.runway_appearances x ORDER BY x.id LOOP
    BEGIN
      PERFORM showdesk_private.bridge_fashionistas_appearance(r.id, NULL, '{}'::text[]);
    EXCEPTION WHEN OTHERS THEN
      PERFORM showdesk_private.bridge_failed(b, 'runway_appearances', r.id, 'BACKFILL', SQLERRM);
    END;
  END LOOP;
  PERFORM set_config('showdesk.bridge_capturing', v_was, true);

  -- and from now on, every change
  PERFORM showdesk_private.bridge_trigger(t, 'bridge_fashionistas_capture')
     FROM unnest(ARRAY['users', 'venues', 'events', 'ticket_types', 'runway_shows',
                       'runway_segments', 'models', 'designers', 'collections', 'fashion_items',
                       'runway_appearances']) AS t;
  PERFORM showdesk_private.bridge_activate(b);
  RAISE NOTICE 'Showdesk: bridge % installed.', b;
END
$$;

SELECT showdesk_private.bridge_lock_down();

RESET search_path;
