-- Showdesk 0013: the bridge to the platform's "FashionOS expansion" tables, on top of either
-- base bridge (0011 AI event management, 0012 Fashionistas), which mirrors the events.
--
-- Installed where the database holds ticket_tiers, registrations (qr_code_data,
-- checked_in_at), model_profiles, event_models (walk_order, is_opening, is_closing,
-- fitting_status), stakeholders and call_times; a part whose events are not mirrored by a base
-- bridge is skipped row by row. The mapping is in README.md ("Bridges"). In short:
--
--   ticket_tiers   -> ticket_types   same id; tier from type (paid->general, comp, press, vip)
--   registrations  -> tickets        same id; qr_code_data as the code; ticket_number 'R-' + the
--                                    first 8 hex digits of the id; status cancelled->cancelled,
--                                    confirmed/attended->valid; pending ones are not mirrored
--                                    (the door answers UNKNOWN until payment confirms them)
--                  -> attendees      id derived from the registration; name split at the first
--                                    space; email
--   event_models   -> runway_appearances on one show "Runway" with one segment "Walk order"
--                                    per event (ids derived from the event); order_key from
--                                    walk_order (no walk order: last); is_opening, is_closing;
--                                    status fitted when fitting_status = 'completed'
--                  -> looks          one per event model (derived id), title "Look <walk order>"
--   model_profiles -> models         per event (derived id); name from users.full_name;
--                                    agency from model_agencies.name
--   call_times     -> call_times     same id; call_at = date + time in the event's time zone
--                  -> people         per event and model profile or stakeholder (derived id);
--                                    models: role Model, department models; stakeholders: their
--                                    role, department crew, company as agency
--
-- A registration the platform itself marks attended (with checked_in_at) is logged as an
-- admission from the platform, so kiosks answer ALREADY ADMITTED.
-- Write-back, in the push's transaction: an admission sets registrations.checked_in_at (the
-- earliest standing admission) and status 'attended'; annulling the last one sets them back
-- (NULL, 'confirmed'). A walk-order move rewrites event_models.walk_order (1..n, by order key)
-- and is_opening / is_closing of the event's models; a look marked fitted (or later) sets
-- fitting_status 'completed'. Arrivals and everything else stay in Showdesk's tables.

SET search_path = showdesk, pg_catalog;

CREATE OR REPLACE FUNCTION showdesk_private.bridge_fos_ticket_tier(p jsonb) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
  INSERT INTO showdesk.ticket_types AS t (id, event_id, name, tier, price, quantity)
  SELECT (p ->> 'id')::uuid, e.id, coalesce(p ->> 'name', ''),
         CASE p ->> 'type' WHEN 'paid' THEN 'general' ELSE coalesce(p ->> 'type', 'general') END,
         coalesce((p ->> 'price')::numeric, 0), (p ->> 'quantity_total')::int
    FROM showdesk.events e WHERE e.id = (p ->> 'event_id')::uuid
  ON CONFLICT (id) DO UPDATE
     SET event_id = EXCLUDED.event_id, name = EXCLUDED.name, tier = EXCLUDED.tier,
         price = EXCLUDED.price, quantity = EXCLUDED.quantity
  WHERE (t.event_id, t.name, t.tier, t.price, t.quantity)
        IS DISTINCT FROM (EXCLUDED.event_id, EXCLUDED.name, EXCLUDED.tier, EXCLUDED.price,
                          EXCLUDED.quantity)
$$;

CREATE OR REPLACE FUNCTION showdesk_private.bridge_fos_registration(p jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_id uuid := (p ->> 'id')::uuid;
  v_type showdesk.ticket_types;
  v_name text := btrim(coalesce(p ->> 'attendee_name', ''));
  v_first text := split_part(btrim(coalesce(p ->> 'attendee_name', '')), ' ', 1);
  v_attendee uuid := showdesk_private.derived_id('fos_registration_attendee', (p ->> 'id')::uuid);
BEGIN
  IF p ->> 'status' = 'pending' THEN
    PERFORM showdesk_private.bridge_fos_delete('registrations', v_id);
    RETURN;
  END IF;
  SELECT * INTO v_type FROM showdesk.ticket_types
   WHERE id = (p ->> 'ticket_tier_id')::uuid AND event_id = (p ->> 'event_id')::uuid;
  IF v_type.id IS NULL THEN
    RETURN;  -- its tier or event is not mirrored
  END IF;
  INSERT INTO showdesk.attendees AS t (id, event_id, first_name, last_name, email)
  VALUES (v_attendee, v_type.event_id, v_first, btrim(substr(v_name, length(v_first) + 1)),
          p ->> 'attendee_email')
  ON CONFLICT (id) DO UPDATE
     SET event_id = EXCLUDED.event_id, first_name = EXCLUDED.first_name,
         last_name = EXCLUDED.last_name, email = EXCLUDED.email
  WHERE (t.event_id, t.first_name, t.last_name, t.email)
        IS DISTINCT FROM (EXCLUDED.event_id, EXCLUDED.first_name, EXCLUDED.last_name,
                          EXCLUDED.email);
  INSERT INTO showdesk.tickets AS t (id, event_id, ticket_type_id, attendee_id, ticket_number,
                                     qr_code_data, status)
  VALUES (v_id, v_type.event_id, v_type.id, v_attendee,
          'R-' || upper(substr(replace(v_id::text, '-', ''), 1, 8)), p ->> 'qr_code_data',
          CASE p ->> 'status' WHEN 'cancelled' THEN 'cancelled' ELSE 'valid' END)
  ON CONFLICT (id) DO UPDATE
     SET event_id = EXCLUDED.event_id, ticket_type_id = EXCLUDED.ticket_type_id,
         attendee_id = EXCLUDED.attendee_id, qr_code_data = EXCLUDED.qr_code_data,
         status = EXCLUDED.status
  WHERE (t.event_id, t.ticket_type_id, t.attendee_id, t.qr_code_data, t.status)
        IS DISTINCT FROM (EXCLUDED.event_id, EXCLUDED.ticket_type_id, EXCLUDED.attendee_id,
                          EXCLUDED.qr_code_data, EXCLUDED.status);
  IF p ->> 'status' = 'attended' THEN
    PERFORM showdesk_private.bridge_platform_admission('fashionos_expansion', v_id,
                                                       (p ->> 'checked_in_at')::timestamptz);
  END IF;
END
$$;

-- The event's one show and segment that hold its event models' walk order.
CREATE OR REPLACE FUNCTION showdesk_private.bridge_fos_segment(p_event uuid) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_show uuid := showdesk_private.derived_id('fos_show', p_event);
  v_segment uuid := showdesk_private.derived_id('fos_segment', p_event);
BEGIN
  INSERT INTO showdesk.runway_shows (id, event_id, name) VALUES (v_show, p_event, 'Runway')
  ON CONFLICT (id) DO NOTHING;
  INSERT INTO showdesk.runway_segments (id, show_id, name, order_key)
  VALUES (v_segment, v_show, 'Walk order', 'a0')
  ON CONFLICT (id) DO NOTHING;
  RETURN v_segment;
END
$$;

-- A model profile as a model of one event (Showdesk's models belong to an event).
CREATE OR REPLACE FUNCTION showdesk_private.bridge_fos_model(p_event uuid, p_profile uuid) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, extensions
AS $$
DECLARE
  v_id uuid := showdesk_private.derived_id('fos_model:' || p_event::text, p_profile);
  v_user jsonb;
  v_agency text;
  v_name text;
  v_first text;
BEGIN
  SELECT to_jsonb(u), (SELECT a.name FROM public.model_agencies a WHERE a.id = mp.agency_id)
    INTO v_user, v_agency
    FROM public.model_profiles mp LEFT JOIN public.users u ON u.id = mp.user_id
   WHERE mp.id = p_profile;
  v_name := btrim(coalesce(v_user ->> 'full_name', v_user ->> 'email', 'Model'));
  v_first := split_part(v_name, ' ', 1);
  INSERT INTO showdesk.models AS t (id, event_id, first_name, last_name, agency, phone)
  VALUES (v_id, p_event, v_first, btrim(substr(v_name, length(v_first) + 1)), v_agency,
          coalesce(v_user ->> 'phone', v_user ->> 'phone_number'))
  ON CONFLICT (id) DO UPDATE
     SET first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
         agency = EXCLUDED.agency, phone = EXCLUDED.phone
  WHERE (t.first_name, t.last_name, t.agency, t.phone)
        IS DISTINCT FROM (EXCLUDED.first_name, EXCLUDED.last_name, EXCLUDED.agency, EXCLUDED.phone);
  RETURN v_id;
END
$$;

CREATE OR REPLACE FUNCTION showdesk_private.bridge_fos_event_model(p jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_id uuid := (p ->> 'id')::uuid;
  v_event uuid := (p ->> 'event_id')::uuid;
  v_look uuid := showdesk_private.derived_id('fos_look', (p ->> 'id')::uuid);
  v_segment uuid;
  v_model uuid;
  v_key text := showdesk_private.order_key_of(coalesce((p ->> 'walk_order')::bigint, 1000000));
BEGIN
  IF NOT EXISTS (SELECT 1 FROM showdesk.events WHERE id = v_event) THEN
    RETURN;
  END IF;
  v_segment := showdesk_private.bridge_fos_segment(v_event);
  v_model := showdesk_private.bridge_fos_model(v_event, (p ->> 'model_profile_id')::uuid);
  INSERT INTO showdesk.looks (id, event_id, title)
  VALUES (v_look, v_event, 'Look ' || coalesce(p ->> 'walk_order', '—'))
  ON CONFLICT (id) DO NOTHING;
  INSERT INTO showdesk.runway_appearances AS t (id, segment_id, look_id, model_id, order_key,
                                                is_opening, is_closing, status)
  VALUES (v_id, v_segment, v_look, v_model, v_key, coalesce((p ->> 'is_opening')::boolean, false),
          coalesce((p ->> 'is_closing')::boolean, false),
          CASE p ->> 'fitting_status' WHEN 'completed' THEN 'fitted' ELSE 'pending' END)
  ON CONFLICT (id) DO UPDATE
     -- the order key follows the platform only when the platform's walk order is not already
     -- where the mirror's key puts it (a kiosk's fractional key stands until the platform
     -- itself moves the model)
     SET order_key = CASE WHEN showdesk_private.bridge_fos_rank(t.id) = (p ->> 'walk_order')::int
                          THEN t.order_key ELSE EXCLUDED.order_key END,
         model_id = EXCLUDED.model_id, is_opening = EXCLUDED.is_opening,
         is_closing = EXCLUDED.is_closing,
         status = CASE WHEN EXCLUDED.status = 'fitted' AND t.status = 'pending' THEN 'fitted'
                       WHEN EXCLUDED.status = 'pending' AND t.status = 'fitted' THEN 'pending'
                       ELSE t.status END;
END
$$;

-- 1-based position of an appearance among its segment's, in the kiosk's walk order
-- (app/domain/lineup.py: the opening look first, the closing look last, then order key, then id).
CREATE OR REPLACE FUNCTION showdesk_private.bridge_fos_rank(p_appearance uuid) RETURNS int
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
  SELECT r.n::int FROM (
    SELECT a.id, row_number() OVER (ORDER BY showdesk_private.walk_pin(a.is_opening, a.is_closing),
                                             a.order_key COLLATE "C", a.id) AS n
      FROM showdesk.runway_appearances a
     WHERE a.segment_id = (SELECT segment_id FROM showdesk.runway_appearances WHERE id = p_appearance)
  ) r WHERE r.id = p_appearance
$$;

CREATE OR REPLACE FUNCTION showdesk_private.bridge_fos_person(p_event uuid, p_profile uuid,
                                                              p_stakeholder uuid) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, extensions
AS $$
DECLARE
  v_id uuid := showdesk_private.derived_id('fos_person:' || p_event::text,
                                           coalesce(p_profile, p_stakeholder));
  v_model uuid;
  v_model_row showdesk.models;
  s jsonb;
BEGIN
  IF p_profile IS NOT NULL THEN
    v_model := showdesk_private.bridge_fos_model(p_event, p_profile);
    SELECT * INTO v_model_row FROM showdesk.models WHERE id = v_model;
    INSERT INTO showdesk.people AS t (id, event_id, full_name, role, department, agency, phone, model_id)
    VALUES (v_id, p_event, btrim(v_model_row.first_name || ' ' || v_model_row.last_name), 'Model',
            'models', v_model_row.agency, v_model_row.phone, v_model)
    ON CONFLICT (id) DO UPDATE
       SET full_name = EXCLUDED.full_name, agency = EXCLUDED.agency, phone = EXCLUDED.phone
    WHERE (t.full_name, t.agency, t.phone)
          IS DISTINCT FROM (EXCLUDED.full_name, EXCLUDED.agency, EXCLUDED.phone);
  ELSE
    SELECT to_jsonb(x) INTO s FROM public.stakeholders x WHERE x.id = p_stakeholder;
    INSERT INTO showdesk.people AS t (id, event_id, full_name, role, department, agency, phone, email)
    VALUES (v_id, p_event, coalesce(s ->> 'name', ''), coalesce(s ->> 'role', 'Stakeholder'),
            'crew', s ->> 'company', s ->> 'phone', s ->> 'email')
    ON CONFLICT (id) DO UPDATE
       SET full_name = EXCLUDED.full_name, role = EXCLUDED.role, agency = EXCLUDED.agency,
           phone = EXCLUDED.phone, email = EXCLUDED.email
    WHERE (t.full_name, t.role, t.agency, t.phone, t.email)
          IS DISTINCT FROM (EXCLUDED.full_name, EXCLUDED.role, EXCLUDED.agency, EXCLUDED.phone,
                            EXCLUDED.email);
  END IF;
  RETURN v_id;
END
$$;

CREATE OR REPLACE FUNCTION showdesk_private.bridge_fos_call_time(p jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_event showdesk.events;
  v_person uuid;
BEGIN
  SELECT * INTO v_event FROM showdesk.events WHERE id = (p ->> 'event_id')::uuid;
  IF v_event.id IS NULL THEN
    RETURN;
  END IF;
  v_person := showdesk_private.bridge_fos_person(v_event.id, (p ->> 'model_profile_id')::uuid,
                                                 (p ->> 'stakeholder_id')::uuid);
  INSERT INTO showdesk.call_times AS t (id, event_id, person_id, call_at, location, notes)
  VALUES ((p ->> 'id')::uuid, v_event.id, v_person,
          (((p ->> 'date')::date + (p ->> 'time')::time) AT TIME ZONE v_event.timezone),
          p ->> 'location', p ->> 'notes')
  ON CONFLICT (id) DO UPDATE
     SET person_id = EXCLUDED.person_id, call_at = EXCLUDED.call_at,
         location = EXCLUDED.location, notes = EXCLUDED.notes
  WHERE (t.person_id, t.call_at, t.location, t.notes)
        IS DISTINCT FROM (EXCLUDED.person_id, EXCLUDED.call_at, EXCLUDED.location, EXCLUDED.notes);
END
$$;

CREATE OR REPLACE FUNCTION showdesk_private.bridge_fos_delete(p_table text, p_id uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
BEGIN
  CASE p_table
    WHEN 'registrations' THEN
      DELETE FROM showdesk.tickets WHERE id = p_id;
      DELETE FROM showdesk.attendees
       WHERE id = showdesk_private.derived_id('fos_registration_attendee', p_id);
    WHEN 'ticket_tiers' THEN DELETE FROM showdesk.ticket_types WHERE id = p_id;
    WHEN 'event_models' THEN
      DELETE FROM showdesk.runway_appearances WHERE id = p_id;
      DELETE FROM showdesk.looks WHERE id = showdesk_private.derived_id('fos_look', p_id);
    WHEN 'call_times' THEN DELETE FROM showdesk.call_times WHERE id = p_id;
    ELSE NULL;
  END CASE;
END
$$;

CREATE OR REPLACE FUNCTION showdesk_private.bridge_fos_capture() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  p jsonb;
  r record;
BEGIN
  IF showdesk_private.bridge_writing_back() THEN
    RETURN NULL;
  END IF;
  BEGIN
    IF TG_OP = 'DELETE' THEN
      PERFORM showdesk_private.bridge_fos_delete(TG_TABLE_NAME, OLD.id);
      RETURN NULL;
    END IF;
    p := to_jsonb(NEW);
    CASE TG_TABLE_NAME
      WHEN 'ticket_tiers' THEN PERFORM showdesk_private.bridge_fos_ticket_tier(p);
      WHEN 'registrations' THEN PERFORM showdesk_private.bridge_fos_registration(p);
      WHEN 'event_models' THEN PERFORM showdesk_private.bridge_fos_event_model(p);
      WHEN 'call_times' THEN PERFORM showdesk_private.bridge_fos_call_time(p);
      WHEN 'model_profiles', 'stakeholders' THEN
        -- a renamed model or stakeholder: refresh its rows in every event it is in
        FOR r IN SELECT DISTINCT c.event_id, c.model_profile_id, c.stakeholder_id
                   FROM public.call_times c
                  WHERE (TG_TABLE_NAME = 'model_profiles' AND c.model_profile_id = NEW.id)
                     OR (TG_TABLE_NAME = 'stakeholders' AND c.stakeholder_id = NEW.id) LOOP
          IF EXISTS (SELECT 1 FROM showdesk.events WHERE id = r.event_id) THEN
            PERFORM showdesk_private.bridge_fos_person(r.event_id, r.model_profile_id, r.stakeholder_id);
          END IF;
        END LOOP;
        IF TG_TABLE_NAME = 'model_profiles' THEN
          FOR r IN SELECT DISTINCT em.event_id FROM public.event_models em
                    WHERE em.model_profile_id = NEW.id LOOP
            IF EXISTS (SELECT 1 FROM showdesk.events WHERE id = r.event_id) THEN
              PERFORM showdesk_private.bridge_fos_model(r.event_id, NEW.id);
            END IF;
          END LOOP;
        END IF;
    END CASE;
  EXCEPTION WHEN OTHERS THEN
    PERFORM showdesk_private.bridge_failed('fashionos_expansion', TG_TABLE_NAME,
                                           coalesce(NEW.id, OLD.id), TG_OP, SQLERRM);
  END;
  RETURN NULL;
END
$$;

-- --- write-back --------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION showdesk_private.bridge_fashionos_expansion_admissions(p_ticket uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog
AS $$
  SELECT showdesk_private.bridge_write_admission('fashionos_expansion', 'registrations', p_ticket,
                                                 'checked_in_at', 'attended', 'confirmed',
                                                 ARRAY['confirmed', 'attended'])
$$;

-- After kiosk edits of appearances on an event's "Walk order" segment: walk_order 1..n by order
-- key, opening/closing flags and fitting status, for every event touched. Only appearances whose
-- event model belongs to the segment's own event are written.
CREATE OR REPLACE FUNCTION showdesk_private.bridge_fos_walk_order() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, extensions
AS $$
DECLARE
  v_event uuid;
BEGIN
  IF showdesk_private.bridge_writing_back() OR to_regclass('public.event_models') IS NULL
     OR NOT EXISTS (SELECT 1 FROM showdesk.sync_settings s
                     WHERE s.key = 'bridges' AND s.value ? 'fashionos_expansion') THEN
    RETURN NULL;
  END IF;
  FOR v_event IN
    SELECT DISTINCT sh.event_id
      FROM new_rows n
      JOIN showdesk.runway_segments g ON g.id = n.segment_id
      JOIN showdesk.runway_shows sh ON sh.id = g.show_id
     WHERE g.id = showdesk_private.derived_id('fos_segment', sh.event_id)
  LOOP
    BEGIN
      PERFORM showdesk_private.set_bridge_writeback(true);
      UPDATE public.event_models em
         SET walk_order = r.n, is_opening = r.is_opening, is_closing = r.is_closing,
             fitting_status = CASE WHEN r.status <> 'pending' THEN 'completed'
                                   WHEN em.fitting_status = 'completed' THEN 'pending'
                                   ELSE em.fitting_status END
        FROM (SELECT a.id, a.is_opening, a.is_closing, a.status,
                     row_number() OVER (ORDER BY showdesk_private.walk_pin(a.is_opening, a.is_closing),
                                                 a.order_key COLLATE "C", a.id)::int AS n
                FROM showdesk.runway_appearances a
               WHERE a.segment_id = showdesk_private.derived_id('fos_segment', v_event)) r
       WHERE em.id = r.id AND em.event_id = v_event
         AND ((em.walk_order, em.is_opening, em.is_closing)
                IS DISTINCT FROM (r.n, r.is_opening, r.is_closing)
              OR (r.status <> 'pending') <> (em.fitting_status = 'completed'));
      PERFORM showdesk_private.set_bridge_writeback(false);
    EXCEPTION WHEN OTHERS THEN
      PERFORM showdesk_private.set_bridge_writeback(false);
      PERFORM showdesk_private.bridge_failed('fashionos_expansion', 'event_models', v_event,
                                             'WRITEBACK', SQLERRM);
    END;
  END LOOP;
  RETURN NULL;
END
$$;

-- --- installation ------------------------------------------------------------------------------

DO $$
DECLARE
  b constant text := 'fashionos_expansion';
  r record;
BEGIN
  IF NOT (showdesk_private.platform_has('registrations', ARRAY['qr_code_data', 'checked_in_at'])
          AND showdesk_private.platform_has('ticket_tiers', ARRAY['event_id'])
          AND showdesk_private.platform_has('event_models', ARRAY['walk_order'])
          AND showdesk_private.platform_has('call_times', ARRAY['model_profile_id', 'stakeholder_id'])) THEN
    RAISE NOTICE 'Showdesk: no FashionOS expansion tables here; that bridge is not installed.';
    RETURN;
  END IF;
  PERFORM showdesk_private.require_shape(b, 'users', ARRAY['id uuid', 'full_name text']);
  PERFORM showdesk_private.require_shape(b, 'ticket_tiers',
    ARRAY['id uuid', 'event_id uuid', 'name text', 'type text', 'price numeric',
          'quantity_total integer']);
  PERFORM showdesk_private.require_shape(b, 'registrations',
    ARRAY['id uuid', 'event_id uuid', 'ticket_tier_id uuid', 'attendee_email text',
          'attendee_name text', 'status text', 'qr_code_data text',
          'checked_in_at timestamp with time zone']);
  PERFORM showdesk_private.require_shape(b, 'model_agencies', ARRAY['id uuid', 'name text']);
  PERFORM showdesk_private.require_shape(b, 'model_profiles',
    ARRAY['id uuid', 'user_id uuid', 'agency_id uuid']);
  PERFORM showdesk_private.require_shape(b, 'event_models',
    ARRAY['id uuid', 'event_id uuid', 'model_profile_id uuid', 'walk_order integer',
          'is_opening boolean', 'is_closing boolean', 'fitting_status text']);
  PERFORM showdesk_private.require_shape(b, 'stakeholders',
    ARRAY['id uuid', 'name text', 'email text', 'phone text', 'role text', 'company text']);
  PERFORM showdesk_private.require_shape(b, 'call_times',
    ARRAY['id uuid', 'event_id uuid', 'model_profile_id uuid', 'stakeholder_id uuid',
          'date date', 'time text', 'location text', 'notes text']);

  FOR r IN SELECT to_jsonb(x) AS p FROM public.ticket_tiers x LOOP
    PERFORM showdesk_private.bridge_fos_ticket_tier(r.p);
  END LOOP;
  FOR r IN SELECT to_jsonb(x) AS p, x.id FROM public.registrations x LOOP
    BEGIN
      PERFORM showdesk_private.bridge_fos_registration(r.p);
    EXCEPTION WHEN OTHERS THEN
      PERFORM showdesk_private.bridge_failed(b, 'registrations', r.id, 'BACKFILL', SQLERRM);
    END;
  END LOOP;
  FOR r IN SELECT to_jsonb(x) AS p, x.id FROM public.event_models x ORDER BY x.event_id, x.walk_order LOOP
    BEGIN
      PERFORM showdesk_private.bridge_fos_event_model(r.p);
    EXCEPTION WHEN OTHERS THEN
      PERFORM showdesk_private.bridge_failed(b, 'event_models', r.id, 'BACKFILL', SQLERRM);
    END;
  END LOOP;
  FOR r IN SELECT to_jsonb(x) AS p, x.id FROM public.call_times x LOOP
    BEGIN
      PERFORM showdesk_private.bridge_fos_call_time(r.p);
    EXCEPTION WHEN OTHERS THEN
      PERFORM showdesk_private.bridge_failed(b, 'call_times', r.id, 'BACKFILL', SQLERRM);
    END;
  END LOOP;

  PERFORM showdesk_private.bridge_trigger(t, 'bridge_fos_capture')
     FROM unnest(ARRAY['ticket_tiers', 'registrations', 'event_models', 'call_times',
                       'model_profiles', 'stakeholders']) AS t;
  DROP TRIGGER IF EXISTS bridge_fashionos_expansion_walk_order ON showdesk.runway_appearances;
  CREATE TRIGGER bridge_fashionos_expansion_walk_order AFTER UPDATE ON showdesk.runway_appearances
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION showdesk_private.bridge_fos_walk_order();
  PERFORM showdesk_private.bridge_activate(b);
  RAISE NOTICE 'Showdesk: bridge % installed.', b;
END
$$;

SELECT showdesk_private.bridge_lock_down();

RESET search_path;
