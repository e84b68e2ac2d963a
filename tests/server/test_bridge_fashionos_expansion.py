"""The bridge to the platform's FashionOS expansion tables (registrations, event models, call
times), on top of the AI event management base, on a real PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy import select

from app.store import lineup_store
from app.store.models import CallTime, Person, Ticket
from tests.server.test_bridge_ai_event_management import platform_sale, without_showdesk
from tests.support.pg import OrgFixture, PgServer, SupabaseDB, apply_migrations
from tests.support.platform import (
    apply_platform,
    bridged_database,
    platform_everyday_writes,
    snapshot_platform,
)
from tests.sync.conftest import World

pytestmark = pytest.mark.postgres

BASE = "ai_event_management"
DOC = "fashionos_expansion"


def expansion_rows(conn: psycopg.Connection, sale: dict[str, Any]) -> dict[str, Any]:
    """What the platform writes for an event with the expansion: a tier, registrations, four
    booked models with a walk order, a stylist and their call times."""
    sfx = uuid.uuid4().hex[:8]
    ids: dict[str, Any] = {"registrations": [], "codes": [], "event_models": []}
    with conn.transaction():
        conn.execute("SET LOCAL search_path = public, extensions")
        one = lambda q, *a: conn.execute(q, a).fetchone()[0]  # noqa: E731
        ids["tier"] = str(
            one(
                "INSERT INTO ticket_tiers (event_id, name, type, price, quantity_total)"
                " VALUES (%s, 'Press', 'press', 0, 50) RETURNING id",
                sale["event"],
            )
        )
        for i, status in enumerate(("confirmed", "confirmed", "pending")):
            code = f"REG-{sfx}-{i}"
            ids["registrations"].append(
                str(
                    one(
                        "INSERT INTO registrations (event_id, ticket_tier_id, attendee_email,"
                        " attendee_name, status, qr_code_data) VALUES (%s, %s, %s, %s, %s, %s)"
                        " RETURNING id",
                        sale["event"],
                        ids["tier"],
                        f"press{i}-{sfx}@example.com",
                        f"Press{i} Reporter",
                        status,
                        code,
                    )
                )
            )
            ids["codes"].append(code)
        agency = one("INSERT INTO model_agencies (name) VALUES ('Elite Paris') RETURNING id")
        for i in range(4):
            user = one(
                "INSERT INTO users (organization_id, email, full_name) VALUES (%s, %s, %s)"
                " RETURNING id",
                sale["org"],
                f"model{i}-{sfx}@example.com",
                f"Model{i} Walker",
            )
            profile = one(
                "INSERT INTO model_profiles (user_id, agency_id) VALUES (%s, %s) RETURNING id",
                user,
                agency,
            )
            ids["event_models"].append(
                str(
                    one(
                        "INSERT INTO event_models (event_id, model_profile_id, walk_order,"
                        " is_opening) VALUES (%s, %s, %s, %s) RETURNING id",
                        sale["event"],
                        profile,
                        i + 1,
                        i == 0,
                    )
                )
            )
            if i == 0:
                ids["model_profile"] = str(profile)
        ids["stakeholder"] = str(
            one(
                "INSERT INTO stakeholders (name, email, phone, role, company) VALUES"
                " ('Sam Stylist', 'sam@example.com', '+33 1 00', 'Hair stylist', 'Salon Sam')"
                " RETURNING id"
            )
        )
        ids["call_date"] = date.today()
        ids["call_stylist"] = str(
            one(
                "INSERT INTO call_times (event_id, stakeholder_id, date, time, location, notes)"
                " VALUES (%s, %s, %s, '17:30', 'Backstage B', 'Bring irons') RETURNING id",
                sale["event"],
                ids["stakeholder"],
                ids["call_date"],
            )
        )
        ids["call_model"] = str(
            one(
                "INSERT INTO call_times (event_id, model_profile_id, date, time)"
                " VALUES (%s, %s, %s, '18:00') RETURNING id",
                sale["event"],
                ids["model_profile"],
                ids["call_date"],
            )
        )
    return ids


@pytest.fixture
def bridged(pg_server: PgServer):
    def write(conn: psycopg.Connection) -> dict[str, Any]:
        sale = platform_sale(conn, "Maison Expansion", tickets=1)
        sale.update(expansion_rows(conn, sale))
        return sale

    with bridged_database(pg_server, (BASE, DOC), write) as b:
        yield b


def _world(db: SupabaseDB, sale: dict[str, Any], folder) -> World:
    org = OrgFixture(sale["org"], "Maison Expansion", sale["venue"], sale["event"], sale["tier"])
    return World(db, org, sale["tickets"], folder)


def _registration(db: SupabaseDB, rid: str) -> dict[str, Any]:
    return db.execute(
        "SELECT status, checked_in_at FROM public.registrations WHERE id = %s", (rid,)
    )[0]


def _walk_order(db: SupabaseDB, event: str) -> list[tuple[str, int, bool]]:
    return [
        (str(r["id"]), r["walk_order"], r["is_opening"])
        for r in db.execute(
            "SELECT id, walk_order, is_opening FROM public.event_models WHERE event_id = %s"
            " ORDER BY walk_order",
            (event,),
        )
    ]


def test_platform_unchanged_and_its_expansion_writes_still_work(pg_server: PgServer):
    name = pg_server.create_database(template=None)
    try:
        with pg_server.connect(name) as conn:
            apply_platform(conn, BASE, DOC)
            platform_everyday_writes(conn, DOC)
            before = snapshot_platform(conn)
            apply_migrations(conn)
            after = snapshot_platform(conn)
            assert without_showdesk(after) == without_showdesk(before)
            platform_everyday_writes(conn, DOC)
            bridges = conn.execute("SELECT showdesk.server_info() -> 'bridges'").fetchone()[0]
            assert bridges == ["ai_event_management", "fashionos_expansion"]
            assert conn.execute("SELECT count(*) FROM showdesk.bridge_errors").fetchone()[0] == 0
    finally:
        pg_server.drop_database(name)


def test_door_admits_a_registration_and_the_platform_sees_it(bridged, tmp_path):
    db, sale = bridged
    world = _world(db, sale, tmp_path)
    kiosk = world.kiosk("Press desk", "North")
    kiosk.engine.sync_once()
    door = kiosk.door()
    admitted = door.scan(sale["codes"][0])
    assert admitted.verdict == "admitted" and "Press0" in (admitted.attendee_name or "")
    # a registration that is not paid yet is not a ticket at the door
    assert door.scan(sale["codes"][2]).verdict == "unknown"
    kiosk.engine.sync_once()
    row = _registration(db, sale["registrations"][0])
    assert row["status"] == "attended" and row["checked_in_at"] is not None

    door.annul(admitted.checkin_id, reason="wrong guest")
    kiosk.engine.sync_once()
    assert _registration(db, sale["registrations"][0]) == {
        "status": "confirmed",
        "checked_in_at": None,
    }

    # payment arrives on the platform: the registration becomes a ticket on the next pull
    db.execute(
        "UPDATE public.registrations SET status = 'confirmed' WHERE id = %s",
        (sale["registrations"][2],),
    )
    kiosk.engine.sync_once()
    assert kiosk.door().scan(sale["codes"][2]).verdict == "admitted"


def test_producer_reorders_and_the_platform_walk_order_follows(bridged, tmp_path):
    db, sale = bridged
    world = _world(db, sale, tmp_path)
    kiosk = world.kiosk("Backstage", "Backstage", staff_role="producer")
    kiosk.engine.sync_once()
    (show,) = lineup_store.list_shows(kiosk.db, sale["event"])
    lineup = lineup_store.load_lineup(kiosk.db, show.id)
    assert [a.id for a in lineup.order] == sale["event_models"]
    assert lineup.order[0].is_opening

    last = sale["event_models"][3]
    lineup_store.save_move(kiosk.db, lineup.plan_move(last, 1))  # 4th model walks second
    kiosk.engine.sync_once()
    em = sale["event_models"]
    assert _walk_order(db, sale["event"]) == [
        (em[0], 1, True),
        (em[3], 2, False),
        (em[1], 3, False),
        (em[2], 4, False),
    ]
    lineup_store.save_status(kiosk.db, em[1], "fitted")
    kiosk.engine.sync_once()
    assert (
        db.scalar("SELECT fitting_status FROM public.event_models WHERE id = %s", (em[1],))
        == "completed"
    )

    # the platform moves a model itself: the kiosk's lineup follows on the next pull
    db.execute("UPDATE public.event_models SET walk_order = 5 WHERE id = %s", (em[3],))
    kiosk.engine.sync_once()
    lineup = lineup_store.load_lineup(kiosk.db, show.id)
    assert [a.id for a in lineup.order] == [em[0], em[1], em[2], em[3]]


def test_platform_call_times_appear_on_the_call_time_board(bridged, tmp_path):
    db, sale = bridged
    world = _world(db, sale, tmp_path)
    kiosk = world.kiosk("Backstage", "Backstage", staff_role="producer")
    kiosk.engine.sync_once()
    paris = ZoneInfo("Europe/Paris")
    with kiosk.db.session() as session:
        calls = {
            str(c.id): (c.call_at, c.location, c.notes, c.person_id)
            for c in session.scalars(select(CallTime))
        }
        people = {
            str(p.id): (p.full_name, p.role, p.department) for p in session.scalars(select(Person))
        }
    stylist = calls[sale["call_stylist"]]
    expected = datetime.combine(sale["call_date"], datetime.min.time(), paris) + timedelta(
        hours=17, minutes=30
    )
    assert stylist[0].astimezone(UTC) == expected.astimezone(UTC)
    assert stylist[1:3] == ("Backstage B", "Bring irons")
    assert people[str(stylist[3])] == ("Sam Stylist", "Hair stylist", "crew")
    model_call = calls[sale["call_model"]]
    assert people[str(model_call[3])] == ("Model0 Walker", "Model", "models")

    # the platform moves the stylist's call: the board shows the new time after a pull
    db.execute("UPDATE public.call_times SET time = '16:45' WHERE id = %s", (sale["call_stylist"],))
    kiosk.engine.sync_once()
    with kiosk.db.session() as session:
        moved = session.get(CallTime, sale["call_stylist"]).call_at
    assert moved.astimezone(UTC) == (expected - timedelta(minutes=45)).astimezone(UTC)


def test_a_door_kiosk_receives_no_backstage_rows_and_no_other_organizations_rows(
    bridged, pg_server, tmp_path
):
    db, sale = bridged
    with pg_server.connect(db.name) as conn:
        rival = platform_sale(conn, "Maison Rivale", tickets=1)
        expansion_rows(conn, rival)
    world = _world(db, sale, tmp_path)
    kiosk = world.kiosk("Door", "North")
    kiosk.engine.sync_once()
    with kiosk.db.session() as session:
        codes = set(session.scalars(select(Ticket.qr_code_data)))
        assert session.scalars(select(CallTime)).first() is None
    assert set(sale["codes"][:2]) <= codes
    assert not any(c.startswith("REG-") and c not in sale["codes"] for c in codes)
