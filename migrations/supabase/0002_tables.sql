-- Showdesk 0002: Showdesk's own replicated tables, in schema showdesk.
--
-- They carry the names of the kiosk's replica and of several FashionOS platform tables, but
-- they are not the platform's tables: a platform project keeps its own tables in public
-- untouched, and a bridge (0010 on) maps them into this contract. Every name is qualified
-- (or resolved with search_path = showdesk only), so an existing public table of the same
-- name is never adopted.
--
-- Column names are those of app/store/models.py (the kiosk's SQLite replica). Every id is a
-- uuid born where the row is born (server default or client-supplied). Times are timestamptz,
-- money is numeric (sent on the wire as exact text), list columns are jsonb.
-- Sync columns on every table:
--   version     the row's change number (from sync_version_seq, set by a trigger, 0003);
--   updated_at  when the row last changed on the server (set by the same trigger).

SET search_path = showdesk, pg_catalog;

CREATE TABLE IF NOT EXISTS showdesk.organizations (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL,
  slug        text NOT NULL,
  version     bigint NOT NULL DEFAULT 0,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS showdesk.venues (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id  uuid NOT NULL REFERENCES showdesk.organizations (id),
  name             text NOT NULL,
  address          text,
  city             text,
  country          text,
  timezone         text NOT NULL DEFAULT 'UTC',
  capacity         integer,
  version          bigint NOT NULL DEFAULT 0,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS venues_organization_id_idx ON showdesk.venues (organization_id);

CREATE TABLE IF NOT EXISTS showdesk.events (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id  uuid NOT NULL REFERENCES showdesk.organizations (id),
  venue_id         uuid REFERENCES showdesk.venues (id),
  name             text NOT NULL,
  slug             text NOT NULL,
  status           text NOT NULL DEFAULT 'published',
  timezone         text NOT NULL DEFAULT 'UTC',
  starts_at        timestamptz NOT NULL,
  ends_at          timestamptz NOT NULL,
  doors_open_at    timestamptz,
  general_call_at  timestamptz,
  public_keys      jsonb NOT NULL DEFAULT '[]'::jsonb,
  version          bigint NOT NULL DEFAULT 0,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS events_organization_id_idx ON showdesk.events (organization_id);

CREATE TABLE IF NOT EXISTS showdesk.ticket_types (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id         uuid NOT NULL REFERENCES showdesk.events (id),
  name             text NOT NULL,
  tier             text NOT NULL,
  price            numeric NOT NULL DEFAULT 0 CHECK (price >= 0),
  currency         text NOT NULL DEFAULT 'EUR',
  quantity         integer,
  sale_starts_at   timestamptz,
  sale_ends_at     timestamptz,
  entry_starts_at  timestamptz,
  entry_ends_at    timestamptz,
  allowed_gates    jsonb NOT NULL DEFAULT '[]'::jsonb,
  allow_reentry    boolean NOT NULL DEFAULT true,
  color            text,
  version          bigint NOT NULL DEFAULT 0,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ticket_types_event_id_idx ON showdesk.ticket_types (event_id);

CREATE TABLE IF NOT EXISTS showdesk.orders (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id      uuid NOT NULL REFERENCES showdesk.events (id),
  order_number  text NOT NULL,
  buyer_name    text,
  buyer_email   text,
  status        text NOT NULL DEFAULT 'paid',
  total         numeric NOT NULL DEFAULT 0,
  currency      text NOT NULL DEFAULT 'EUR',
  created_at    timestamptz NOT NULL DEFAULT now(),
  version       bigint NOT NULL DEFAULT 0,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS orders_event_id_idx ON showdesk.orders (event_id);
CREATE INDEX IF NOT EXISTS orders_order_number_idx ON showdesk.orders (order_number);

CREATE TABLE IF NOT EXISTS showdesk.attendees (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id    uuid NOT NULL REFERENCES showdesk.events (id),
  first_name  text NOT NULL,
  last_name   text NOT NULL,
  email       text,
  phone       text,
  company     text,
  notes       text,
  version     bigint NOT NULL DEFAULT 0,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS attendees_event_id_idx ON showdesk.attendees (event_id);

CREATE TABLE IF NOT EXISTS showdesk.tickets (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id        uuid NOT NULL REFERENCES showdesk.events (id),
  ticket_type_id  uuid NOT NULL REFERENCES showdesk.ticket_types (id),
  attendee_id     uuid REFERENCES showdesk.attendees (id),
  order_id        uuid REFERENCES showdesk.orders (id),
  ticket_number   text NOT NULL,
  qr_code_data    text NOT NULL UNIQUE,
  token_serial    integer NOT NULL DEFAULT 1,
  status          text NOT NULL DEFAULT 'valid'
                  CHECK (status IN ('valid', 'cancelled', 'refunded', 'transferred')),
  valid_from      timestamptz,
  valid_until     timestamptz,
  version         bigint NOT NULL DEFAULT 0,
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS tickets_event_id_idx ON showdesk.tickets (event_id);
CREATE INDEX IF NOT EXISTS tickets_attendee_id_idx ON showdesk.tickets (attendee_id);
CREATE INDEX IF NOT EXISTS tickets_order_id_idx ON showdesk.tickets (order_id);
CREATE INDEX IF NOT EXISTS tickets_ticket_number_idx ON showdesk.tickets (ticket_number);

CREATE TABLE IF NOT EXISTS showdesk.revoked_tokens (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id      uuid NOT NULL REFERENCES showdesk.events (id),
  ticket_id     uuid NOT NULL,
  token_serial  integer NOT NULL,
  reason        text NOT NULL,
  revoked_at    timestamptz NOT NULL DEFAULT now(),
  version       bigint NOT NULL DEFAULT 0,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (ticket_id, token_serial)
);
CREATE INDEX IF NOT EXISTS revoked_tokens_event_id_idx ON showdesk.revoked_tokens (event_id);

-- Append-only log of scans. ticket_id / device_id carry no foreign key on purpose: a scan is
-- never refused by the server because its ticket or device row is missing (scans are never
-- dropped); double_entry is maintained by the server (0003).
CREATE TABLE IF NOT EXISTS showdesk.checkins (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id           uuid NOT NULL REFERENCES showdesk.events (id),
  ticket_id          uuid,
  device_id          uuid NOT NULL,
  gate               text NOT NULL DEFAULT 'Main',
  direction          text NOT NULL DEFAULT 'in' CHECK (direction IN ('in', 'out')),
  method             text NOT NULL DEFAULT 'qr',
  kind               text NOT NULL DEFAULT 'scan' CHECK (kind IN ('scan', 'annul')),
  scanned_at         timestamptz NOT NULL DEFAULT now(),
  verdict            text NOT NULL,
  offline            boolean NOT NULL DEFAULT true,
  raw_code           text,
  annuls_checkin_id  uuid,
  reason             text,
  staff_name         text,
  double_entry       boolean NOT NULL DEFAULT false,
  version            bigint NOT NULL DEFAULT 0,
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS checkins_event_id_idx ON showdesk.checkins (event_id);
CREATE INDEX IF NOT EXISTS checkins_ticket_scanned_idx ON showdesk.checkins (ticket_id, scanned_at);
CREATE INDEX IF NOT EXISTS checkins_annuls_idx ON showdesk.checkins (annuls_checkin_id) WHERE annuls_checkin_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS showdesk.runway_shows (
  id                        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id                  uuid NOT NULL REFERENCES showdesk.events (id),
  name                      text NOT NULL,
  starts_at                 timestamptz,
  status                    text NOT NULL DEFAULT 'planned',
  actual_started_at         timestamptz,
  walk_interval_s           integer NOT NULL DEFAULT 30,
  quick_change_min_looks    integer NOT NULL DEFAULT 3,
  quick_change_min_seconds  integer NOT NULL DEFAULT 120,
  version                   bigint NOT NULL DEFAULT 0,
  updated_at                timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS runway_shows_event_id_idx ON showdesk.runway_shows (event_id);

CREATE TABLE IF NOT EXISTS showdesk.runway_segments (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  show_id          uuid NOT NULL REFERENCES showdesk.runway_shows (id),
  name             text NOT NULL,
  order_key        text NOT NULL,
  music_cue        text,
  walk_interval_s  integer,
  version          bigint NOT NULL DEFAULT 0,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS runway_segments_show_id_idx ON showdesk.runway_segments (show_id);

CREATE TABLE IF NOT EXISTS showdesk.designers (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id    uuid NOT NULL REFERENCES showdesk.events (id),
  name        text NOT NULL,
  brand       text,
  country     text,
  version     bigint NOT NULL DEFAULT 0,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS designers_event_id_idx ON showdesk.designers (event_id);

CREATE TABLE IF NOT EXISTS showdesk.models (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id    uuid NOT NULL REFERENCES showdesk.events (id),
  first_name  text NOT NULL,
  last_name   text NOT NULL,
  agency      text,
  phone       text,
  photo_path  text,
  deleted_at  timestamptz,
  version     bigint NOT NULL DEFAULT 0,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS models_event_id_idx ON showdesk.models (event_id);

CREATE TABLE IF NOT EXISTS showdesk.looks (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id     uuid NOT NULL REFERENCES showdesk.events (id),
  designer_id  uuid REFERENCES showdesk.designers (id),
  collection   text,
  title        text NOT NULL,
  description  text,
  photo_path   text,
  version      bigint NOT NULL DEFAULT 0,
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS looks_event_id_idx ON showdesk.looks (event_id);

CREATE TABLE IF NOT EXISTS showdesk.runway_appearances (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  segment_id  uuid NOT NULL REFERENCES showdesk.runway_segments (id),
  look_id     uuid NOT NULL REFERENCES showdesk.looks (id),
  model_id    uuid REFERENCES showdesk.models (id),
  order_key   text NOT NULL,
  is_opening  boolean NOT NULL DEFAULT false,
  is_closing  boolean NOT NULL DEFAULT false,
  status      text NOT NULL DEFAULT 'pending',
  notes       text,
  walked_at   timestamptz,
  version     bigint NOT NULL DEFAULT 0,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS runway_appearances_segment_id_idx ON showdesk.runway_appearances (segment_id);

CREATE TABLE IF NOT EXISTS showdesk.people (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id    uuid NOT NULL REFERENCES showdesk.events (id),
  full_name   text NOT NULL,
  role        text NOT NULL,
  department  text NOT NULL,
  agency      text,
  phone       text,
  email       text,
  model_id    uuid REFERENCES showdesk.models (id),
  badge_code  text UNIQUE,
  version     bigint NOT NULL DEFAULT 0,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS people_event_id_idx ON showdesk.people (event_id);

CREATE TABLE IF NOT EXISTS showdesk.call_times (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  event_id        uuid NOT NULL REFERENCES showdesk.events (id),
  person_id       uuid NOT NULL REFERENCES showdesk.people (id),
  call_at         timestamptz,
  offset_minutes  integer,
  location        text,
  notes           text,
  confirmed_at    timestamptz,
  arrived_at      timestamptz,
  no_show         boolean NOT NULL DEFAULT false,
  version         bigint NOT NULL DEFAULT 0,
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS call_times_event_id_idx ON showdesk.call_times (event_id);
CREATE INDEX IF NOT EXISTS call_times_person_id_idx ON showdesk.call_times (person_id);

CREATE TABLE IF NOT EXISTS showdesk.devices (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id  uuid REFERENCES showdesk.organizations (id),
  name             text NOT NULL,
  gate             text,
  kind             text NOT NULL DEFAULT 'kiosk',
  registered_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at     timestamptz,
  revoked_at       timestamptz,
  version          bigint NOT NULL DEFAULT 0,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS devices_organization_id_idx ON showdesk.devices (organization_id);

CREATE TABLE IF NOT EXISTS showdesk.staff (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id  uuid NOT NULL REFERENCES showdesk.organizations (id),
  event_id         uuid REFERENCES showdesk.events (id),
  name             text NOT NULL,
  email            text,
  role             text NOT NULL CHECK (role IN ('door', 'producer', 'organizer', 'admin')),
  pin_hash         text,
  version          bigint NOT NULL DEFAULT 0,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS staff_organization_id_idx ON showdesk.staff (organization_id);

RESET search_path;
