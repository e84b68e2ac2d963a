-- Showdesk 0011: the bridge to the platform's "AI event management" schema.
--
-- Installed where the database holds that document's tables (organizations, events with
-- organization_id and start_datetime, ticket_categories, ticket_orders, tickets with
-- ticket_category_id, qr_code_data and check_in_time); elsewhere this file defines its
-- functions and installs nothing. The mapping, column by column, is in README.md ("Bridges").
--
-- Tenant: the platform's own organizations. events.organization_id is the organization a
-- kiosk's JWT (app_metadata.organization_id) must name; a platform event without one is not
-- mirrored. Tickets carry no event: it is their category's (else their order's).
-- A ticket the platform itself marks used (with a check_in_time) is logged as an admission from
-- the platform (gate "Platform"), so kiosks answer ALREADY ADMITTED.
-- Write-back: an admission pushed by a kiosk sets tickets.status = 'used' and
-- tickets.check_in_time (the earliest admission); annulling the last standing admission sets
-- them back ('valid', NULL). Everything else a kiosk records stays in Showdesk's tables.

SET search_path = showdesk, pg_catalog;

-- --- capture: platform row (as jsonb) -> mirror row -----------------------------------------

CREATE OR REPLACE FUNCTION showdesk_private.bridge_ai_organization(p jsonb) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
  INSERT INTO showdesk.organizations AS t (id, name, slug)
  VALUES ((p ->> 'id')::uuid, coalesce(p ->> 'name', ''), coalesce(p ->> 'slug', p ->> 'id'))
  ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, slug = EXCLUDED.slug
  WHERE (t.name, t.slug) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.slug)
$$;

CREATE OR REPLACE FUNCTION showdesk_private.bridge_ai_venue(p jsonb) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
  INSERT INTO showdesk.venues AS t (id, organization_id, name, address, city, country, capacity)
  SELECT (p ->> 'id')::uuid, (p ->> 'organization_id')::uuid, coalesce(p ->> 'name', ''),
         p ->> 'address', p ->> 'city', p ->> 'country', (p ->> 'max_capacity')::int
   WHERE p ->> 'organization_id' IS NOT NULL
  ON CONFLICT (id) DO UPDATE
     SET organization_id = EXCLUDED.organization_id, name = EXCLUDED.name,
         address = EXCLUDED.address, city = EXCLUDED.city, country = EXCLUDED.country,
         capacity = EXCLUDED.capacity
  WHERE (t.organization_id, t.name, t.address, t.city, t.country, t.capacity)
        IS DISTINCT FROM (EXCLUDED.organization_id, EXCLUDED.name, EXCLUDED.address,
                          EXCLUDED.city, EXCLUDED.country, EXCLUDED.capacity)
$$;

CREATE OR REPLACE FUNCTION showdesk_private.bridge_ai_event(p jsonb) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
  INSERT INTO showdesk.events AS t (id, organization_id, venue_id, name, slug, status, timezone,
                                    starts_at, ends_at)
  SELECT (p ->> 'id')::uuid, (p ->> 'organization_id')::uuid,
         (SELECT v.id FROM showdesk.venues v
           WHERE v.id = (p ->> 'venue_id')::uuid
             AND v.organization_id = (p ->> 'organization_id')::uuid),
         coalesce(p ->> 'name', ''), coalesce(p ->> 'slug', p ->> 'id'),
         coalesce(p ->> 'status', 'planning'), coalesce(p ->> 'timezone', 'UTC'),
         (p ->> 'start_datetime')::timestamptz, (p ->> 'end_datetime')::timestamptz
   WHERE p ->> 'organization_id' IS NOT NULL
  ON CONFLICT (id) DO UPDATE
     SET organization_id = EXCLUDED.organization_id, venue_id = EXCLUDED.venue_id,
         name = EXCLUDED.name, slug = EXCLUDED.slug, status = EXCLUDED.status,
         timezone = EXCLUDED.timezone, starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at
  WHERE (t.organization_id, t.venue_id, t.name, t.slug, t.status, t.timezone, t.starts_at, t.ends_at)
        IS DISTINCT FROM (EXCLUDED.organization_id, EXCLUDED.venue_id, EXCLUDED.name,
                          EXCLUDED.slug, EXCLUDED.status, EXCLUDED.timezone, EXCLUDED.starts_at,
                          EXCLUDED.ends_at)
$$;

CREATE OR REPLACE FUNCTION showdesk_private.bridge_ai_ticket_type(p jsonb) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
  INSERT INTO showdesk.ticket_types AS t (id, event_id, name, tier, price, currency, quantity,
                                          sale_starts_at, sale_ends_at)
  SELECT (p ->> 'id')::uuid, e.id, coalesce(p ->> 'name', ''),
         CASE p ->> 'category_type' WHEN 'vip' THEN 'vip' WHEN 'super_vip' THEN 'vip'
                                   ELSE 'general' END,
         coalesce((p ->> 'base_price')::numeric, 0), coalesce(p ->> 'currency', 'USD'),
         (p ->> 'total_quantity')::int, (p ->> 'sale_start_date')::timestamptz,
         (p ->> 'sale_end_date')::timestamptz
    FROM showdesk.events e WHERE e.id = (p ->> 'event_id')::uuid
  ON CONFLICT (id) DO UPDATE
     SET event_id = EXCLUDED.event_id, name = EXCLUDED.name, tier = EXCLUDED.tier,
         price = EXCLUDED.price, currency = EXCLUDED.currency, quantity = EXCLUDED.quantity,
         sale_starts_at = EXCLUDED.sale_starts_at, sale_ends_at = EXCLUDED.sale_ends_at
  WHERE (t.event_id, t.name, t.tier, t.price, t.currency, t.quantity, t.sale_starts_at, t.sale_ends_at)
        IS DISTINCT FROM (EXCLUDED.event_id, EXCLUDED.name, EXCLUDED.tier, EXCLUDED.price,
                          EXCLUDED.currency, EXCLUDED.quantity, EXCLUDED.sale_starts_at,
                          EXCLUDED.sale_ends_at)
$$;

CREATE OR REPLACE FUNCTION showdesk_private.bridge_ai_order(p jsonb) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
  INSERT INTO showdesk.orders AS t (id, event_id, order_number, buyer_name, buyer_email, status,
                                    total, currency, created_at)
  SELECT (p ->> 'id')::uuid, e.id, coalesce(p ->> 'order_number', ''), p ->> 'customer_name',
         p ->> 'customer_email',
         CASE WHEN p ->> 'order_status' IN ('cancelled', 'refunded') THEN p ->> 'order_status'
              ELSE coalesce(p ->> 'payment_status', 'pending') END,
         coalesce((p ->> 'total_amount')::numeric, 0), coalesce(p ->> 'currency', 'USD'),
         coalesce((p ->> 'created_at')::timestamptz, now())
    FROM showdesk.events e WHERE e.id = (p ->> 'event_id')::uuid
  ON CONFLICT (id) DO UPDATE
     SET event_id = EXCLUDED.event_id, order_number = EXCLUDED.order_number,
         buyer_name = EXCLUDED.buyer_name, buyer_email = EXCLUDED.buyer_email,
         status = EXCLUDED.status, total = EXCLUDED.total, currency = EXCLUDED.currency
  WHERE (t.event_id, t.order_number, t.buyer_name, t.buyer_email, t.status, t.total, t.currency)
        IS DISTINCT FROM (EXCLUDED.event_id, EXCLUDED.order_number, EXCLUDED.buyer_name,
                          EXCLUDED.buyer_email, EXCLUDED.status, EXCLUDED.total,
                          EXCLUDED.currency)
$$;

-- A ticket is two mirror rows: the attendee (name, email and phone live on the platform's
-- ticket; the attendee's id is derived from the ticket's) and the ticket.
CREATE OR REPLACE FUNCTION showdesk_private.bridge_ai_ticket(p jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, showdesk
AS $$
DECLARE
  v_id uuid := (p ->> 'id')::uuid;
  v_type showdesk.ticket_types;
  v_name text := btrim(coalesce(p ->> 'attendee_name', ''));
  v_first text := split_part(btrim(coalesce(p ->> 'attendee_name', '')), ' ', 1);
  v_attendee uuid := showdesk_private.derived_id('ai_ticket_attendee', (p ->> 'id')::uuid);
BEGIN
  SELECT * INTO v_type FROM showdesk.ticket_types WHERE id = (p ->> 'ticket_category_id')::uuid;
  IF v_type.id IS NULL THEN
    RETURN;  -- its category belongs to no mirrored event
  END IF;
  INSERT INTO showdesk.attendees AS t (id, event_id, first_name, last_name, email, phone)
  VALUES (v_attendee, v_type.event_id, v_first, btrim(substr(v_name, length(v_first) + 1)),
          p ->> 'attendee_email', p ->> 'attendee_phone')
  ON CONFLICT (id) DO UPDATE
     SET event_id = EXCLUDED.event_id, first_name = EXCLUDED.first_name,
         last_name = EXCLUDED.last_name, email = EXCLUDED.email, phone = EXCLUDED.phone
  WHERE (t.event_id, t.first_name, t.last_name, t.email, t.phone)
        IS DISTINCT FROM (EXCLUDED.event_id, EXCLUDED.first_name, EXCLUDED.last_name,
                          EXCLUDED.email, EXCLUDED.phone);
  INSERT INTO showdesk.tickets AS t (id, event_id, ticket_type_id, attendee_id, order_id,
                                     ticket_number, qr_code_data, status)
  VALUES (v_id, v_type.event_id, v_type.id, v_attendee,
          (SELECT o.id FROM showdesk.orders o
            WHERE o.id = (p ->> 'order_id')::uuid AND o.event_id = v_type.event_id),
          coalesce(p ->> 'ticket_number', ''), p ->> 'qr_code_data',
          CASE p ->> 'status' WHEN 'cancelled' THEN 'cancelled'
                              WHEN 'transferred' THEN 'transferred' ELSE 'valid' END)
  ON CONFLICT (id) DO UPDATE
     SET event_id = EXCLUDED.event_id, ticket_type_id = EXCLUDED.ticket_type_id,
         attendee_id = EXCLUDED.attendee_id, order_id = EXCLUDED.order_id,
         ticket_number = EXCLUDED.ticket_number, qr_code_data = EXCLUDED.qr_code_data,
         status = EXCLUDED.status
  WHERE (t.event_id, t.ticket_type_id, t.attendee_id, t.order_id, t.ticket_number,
         t.qr_code_data, t.status)
        IS DISTINCT FROM (EXCLUDED.event_id, EXCLUDED.ticket_type_id, EXCLUDED.attendee_id,
                          EXCLUDED.order_id, EXCLUDED.ticket_number, EXCLUDED.qr_code_data,
                          EXCLUDED.status);
  IF p ->> 'status' = 'used' THEN
    PERFORM showdesk_private.bridge_platform_admission('ai_event_management', v_id,
                                                       (p ->> 'check_in_time')::timestamptz);
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION showdesk_private.bridge_ai_delete(p_table text, p_id uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
BEGIN
  CASE p_table
    WHEN 'tickets' THEN
      DELETE FROM showdesk.tickets WHERE id = p_id;
      DELETE FROM showdesk.attendees WHERE id = showdesk_private.derived_id('ai_ticket_attendee', p_id);
    WHEN 'ticket_orders' THEN
      UPDATE showdesk.tickets SET order_id = NULL WHERE order_id = p_id;
      DELETE FROM showdesk.orders WHERE id = p_id;
    WHEN 'ticket_categories' THEN DELETE FROM showdesk.ticket_types WHERE id = p_id;
    WHEN 'events' THEN DELETE FROM showdesk.events WHERE id = p_id;
    WHEN 'venues' THEN
      UPDATE showdesk.events SET venue_id = NULL WHERE venue_id = p_id;
      DELETE FROM showdesk.venues WHERE id = p_id;
    WHEN 'organizations' THEN DELETE FROM showdesk.organizations WHERE id = p_id;
  END CASE;
END
$$;

-- The one trigger function on every bridged platform table.
CREATE OR REPLACE FUNCTION showdesk_private.bridge_ai_capture() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  p jsonb;
BEGIN
  IF showdesk_private.bridge_writing_back() THEN
    RETURN NULL;  -- Showdesk's own write-back: the mirror already holds it
  END IF;
  BEGIN
    IF TG_OP = 'DELETE' THEN
      PERFORM showdesk_private.bridge_ai_delete(TG_TABLE_NAME, OLD.id);
      RETURN NULL;
    END IF;
    p := to_jsonb(NEW);
    CASE TG_TABLE_NAME
      WHEN 'organizations' THEN PERFORM showdesk_private.bridge_ai_organization(p);
      WHEN 'venues' THEN PERFORM showdesk_private.bridge_ai_venue(p);
      WHEN 'events' THEN PERFORM showdesk_private.bridge_ai_event(p);
      WHEN 'ticket_categories' THEN PERFORM showdesk_private.bridge_ai_ticket_type(p);
      WHEN 'ticket_orders' THEN PERFORM showdesk_private.bridge_ai_order(p);
      WHEN 'tickets' THEN PERFORM showdesk_private.bridge_ai_ticket(p);
    END CASE;
  EXCEPTION WHEN OTHERS THEN
    PERFORM showdesk_private.bridge_failed('ai_event_management', TG_TABLE_NAME,
                                           coalesce(NEW.id, OLD.id), TG_OP, SQLERRM);
  END;
  RETURN NULL;
END
$$;

-- --- write-back: kiosk admissions -> tickets.status / check_in_time ---------------------------

CREATE OR REPLACE FUNCTION showdesk_private.bridge_ai_event_management_admissions(p_ticket uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog
AS $$
  SELECT showdesk_private.bridge_write_admission('ai_event_management', 'tickets', p_ticket,
                                                 'check_in_time', 'used', 'valid',
                                                 ARRAY['valid', 'used'])
$$;

-- --- installation: where the document's tables are there ------------------------------------

DO $$
DECLARE
  b constant text := 'ai_event_management';
  r record;
BEGIN
  IF NOT (showdesk_private.platform_has('organizations', ARRAY['slug'])
          AND showdesk_private.platform_has('events', ARRAY['organization_id', 'start_datetime'])
          AND showdesk_private.platform_has('tickets', ARRAY['ticket_category_id'])
          AND showdesk_private.platform_has('ticket_categories', ARRAY['event_id'])) THEN
    RAISE NOTICE 'Showdesk: no AI event management tables here; that bridge is not installed.';
    RETURN;
  END IF;
  PERFORM showdesk_private.require_shape(b, 'organizations',
    ARRAY['id uuid', 'name text', 'slug text']);
  PERFORM showdesk_private.require_shape(b, 'venues',
    ARRAY['id uuid', 'organization_id uuid', 'name text', 'address text', 'city text',
          'country text', 'max_capacity integer']);
  PERFORM showdesk_private.require_shape(b, 'events',
    ARRAY['id uuid', 'organization_id uuid', 'venue_id uuid', 'name text', 'slug text',
          'status text', 'timezone text', 'start_datetime timestamp with time zone',
          'end_datetime timestamp with time zone']);
  PERFORM showdesk_private.require_shape(b, 'ticket_categories',
    ARRAY['id uuid', 'event_id uuid', 'name text', 'category_type text', 'base_price numeric',
          'currency text', 'total_quantity integer', 'sale_start_date timestamp with time zone',
          'sale_end_date timestamp with time zone']);
  PERFORM showdesk_private.require_shape(b, 'ticket_orders',
    ARRAY['id uuid', 'event_id uuid', 'order_number text', 'customer_name text',
          'customer_email text', 'payment_status text', 'order_status text',
          'total_amount numeric', 'currency text', 'created_at timestamp with time zone']);
  PERFORM showdesk_private.require_shape(b, 'tickets',
    ARRAY['id uuid', 'order_id uuid', 'ticket_category_id uuid', 'ticket_number text',
          'attendee_name text', 'attendee_email text', 'attendee_phone text',
          'qr_code_data text', 'status text', 'check_in_time timestamp with time zone']);

  -- what is there already, parents first
  FOR r IN SELECT to_jsonb(x) AS p FROM public.organizations x LOOP
    PERFORM showdesk_private.bridge_ai_organization(r.p);
  END LOOP;
  FOR r IN SELECT to_jsonb(x) AS p FROM public.venues x LOOP
    PERFORM showdesk_private.bridge_ai_venue(r.p);
  END LOOP;
  FOR r IN SELECT to_jsonb(x) AS p FROM public.events x LOOP
    PERFORM showdesk_private.bridge_ai_event(r.p);
  END LOOP;
  FOR r IN SELECT to_jsonb(x) AS p FROM public.ticket_categories x LOOP
    PERFORM showdesk_private.bridge_ai_ticket_type(r.p);
  END LOOP;
  FOR r IN SELECT to_jsonb(x) AS p FROM public.ticket_orders x LOOP
    PERFORM showdesk_private.bridge_ai_order(r.p);
  END LOOP;
  FOR r IN SELECT to_jsonb(x) AS p FROM public.tickets x LOOP
    BEGIN
      PERFORM showdesk_private.bridge_ai_ticket(r.p);
    EXCEPTION WHEN OTHERS THEN
      PERFORM showdesk_private.bridge_failed(b, 'tickets', (r.p ->> 'id')::uuid, 'BACKFILL', SQLERRM);
    END;
  END LOOP;

  -- and from now on, every change
  PERFORM showdesk_private.bridge_trigger(t, 'bridge_ai_capture')
     FROM unnest(ARRAY['organizations', 'venues', 'events', 'ticket_categories',
                       'ticket_orders', 'tickets']) AS t;
  PERFORM showdesk_private.bridge_activate(b);
  RAISE NOTICE 'Showdesk: bridge % installed.', b;
END
$$;

SELECT showdesk_private.bridge_lock_down();

RESET search_path;
