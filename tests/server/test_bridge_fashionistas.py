"""The bridge to the platform's Fashionistas schema, on a real PostgreSQL.

The platform's SQL (tests/fixtures/platform/fashionistas.sql) is applied as written and written
to as the platform would; then Showdesk's migrations are applied over it. The platform must keep
working exactly as before, while producer kiosks sync its runway shows, reorder the walks and
see each move written back into the platform's runway_appearances.appearance_order.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg.rows import tuple_row

from app.store import lineup_store
from tests.server.test_bridge_ai_event_management import without_showdesk
from tests.support.pg import OrgFixture, PgServer, SupabaseDB, apply_migrations, mutation
from tests.support.platform import (
    REQUEST_HEADERS,
    apply_platform,
    bridged_database,
    platform_everyday_writes,
    snapshot_platform,
)
from tests.sync.conftest import World

pytestmark = pytest.mark.postgres

DOC = "fashionistas"
BRIDGED = {
    "users",
    "venues",
    "events",
    "ticket_types",
    "runway_shows",
    "runway_segments",
    "models",
    "designers",
    "collections",
    "fashion_items",
    "runway_appearances",
}


@contextmanager
def platform_request(conn: psycopg.Connection) -> Iterator[psycopg.Cursor]:
    """One platform write, as PostgREST runs it with the platform's service key."""
    with conn.transaction(), conn.cursor(row_factory=tuple_row) as cur:
        cur.execute(
            "SELECT set_config('search_path', 'public, extensions', true),"
            " set_config('request.headers', %s, true),"
            " set_config('request.jwt.claims', %s, true)",
            (json.dumps(REQUEST_HEADERS), json.dumps({"role": "service_role"})),
        )
        cur.execute("SET LOCAL ROLE service_role")
        yield cur


def platform_show(
    conn: psycopg.Connection, organizer: str, walks: tuple[int, ...] = (4, 2)
) -> dict[str, Any]:
    """What the platform writes when an organizer sets up a runway show: an event at a venue,
    a ticket type, a designer's collection, models and the running order (``walks`` per
    segment, appearance_order 1, 2, ... in each)."""
    sfx = uuid.uuid4().hex[:8]
    now = datetime.now(UTC)
    ids: dict[str, Any] = {"name": organizer}
    with platform_request(conn) as cur:

        def one(query: str, *args: Any) -> str:
            return str(cur.execute(query, args).fetchone()[0])

        ids["organizer"] = one(
            "INSERT INTO users (email, password_hash, full_name, user_type, status)"
            " VALUES (%s, 'bcrypt$placeholder', %s, 'organizer', 'active') RETURNING id",
            f"organizer-{sfx}@example.com",
            organizer,
        )
        ids["venue"] = one(
            "INSERT INTO venues (name, slug, address, city, country, capacity)"
            " VALUES ('Grand Hall', %s, '1 Avenue', 'Paris', 'France', 800) RETURNING id",
            f"hall-{sfx}",
        )
        ids["event"] = one(
            "INSERT INTO events (organizer_id, title, slug, start_date, end_date, venue_id, type,"
            " status) VALUES (%s, %s, %s, %s, %s, %s, 'fashion_show', 'published') RETURNING id",
            ids["organizer"],
            f"{organizer} Runway",
            f"runway-{sfx}",
            now + timedelta(days=3),
            now + timedelta(days=3, hours=4),
            ids["venue"],
        )
        ids["ticket_type"] = one(
            "INSERT INTO ticket_types (event_id, name, base_price, sale_start_date, sale_end_date,"
            " tier, total_capacity, remaining_capacity) VALUES (%s, 'Front row', 300, %s, %s,"
            " 'exclusive', 40, 40) RETURNING id",
            ids["event"],
            now - timedelta(days=1),
            now + timedelta(days=2),
        )
        ids["designer"] = one(
            "INSERT INTO designers (name, slug, brand_name, status, location)"
            " VALUES ('Dario Vane', '', 'VANE', 'active', '{\"country\": \"France\"}') RETURNING id"
        )
        ids["collection"] = one(
            "INSERT INTO collections (designer_id, name, slug, season, year, status, event_id)"
            " VALUES (%s, 'Tidal', '', 'spring', 2027, 'published', %s) RETURNING id",
            ids["designer"],
            ids["event"],
        )
        ids["models"] = [
            one(
                "INSERT INTO models (name, slug, agency, status) VALUES (%s, '', 'Elite',"
                " 'active') RETURNING id",
                f"Model{i} {organizer.split()[0]}",
            )
            for i in range(3)
        ]
        ids["show"] = one(
            "INSERT INTO runway_shows (collection_id, event_id, venue_id, show_date, status)"
            " VALUES (%s, %s, %s, %s, 'scheduled') RETURNING id",
            ids["collection"],
            ids["event"],
            ids["venue"],
            now + timedelta(days=3, hours=1),
        )
        ids["segments"], ids["walks"], ids["items"] = [], [], []
        n = 0
        for s, count in enumerate(walks, start=1):
            segment = one(
                "INSERT INTO runway_segments (runway_show_id, name, segment_order)"
                " VALUES (%s, %s, %s) RETURNING id",
                ids["show"],
                f"Segment {s}",
                s,
            )
            ids["segments"].append(segment)
            ids["walks"].append([])
            for order in range(1, count + 1):
                n += 1
                item = one(
                    "INSERT INTO fashion_items (collection_id, name, item_type, display_order)"
                    " VALUES (%s, %s, 'dress', %s) RETURNING id",
                    ids["collection"],
                    f"Look {n}",
                    n,
                )
                ids["items"].append(item)
                ids["walks"][-1].append(
                    one(
                        "INSERT INTO runway_appearances (runway_segment_id, model_id,"
                        " fashion_item_id, appearance_order) VALUES (%s, %s, %s, %s) RETURNING id",
                        segment,
                        ids["models"][n % 3],
                        item,
                        order,
                    )
                )
    return ids


@pytest.fixture
def bridged(pg_server: PgServer):
    """A database holding the platform's tables with one organizer's show, then Showdesk."""
    with bridged_database(pg_server, (DOC,), lambda c: platform_show(c, "Olivia Organizer")) as b:
        yield b


@pytest.fixture
def world(bridged, tmp_path):
    """The organizer's event as Showdesk sees it, and the kiosks that sync it."""
    db, show = bridged
    venue = db.scalar("SELECT venue_id::text FROM showdesk.events WHERE id = %s", (show["event"],))
    org = OrgFixture(show["organizer"], show["name"], venue, show["event"], show["ticket_type"])
    w = World(db, org, [], tmp_path)
    yield w
    for kiosk in w.kiosks:
        kiosk.engine.backend.close()
        kiosk.db.close()


def platform_walks(db: SupabaseDB, segment: str) -> tuple[list[str], list[int]]:
    """A platform segment's walks in the platform's order, and their appearance_order."""
    rows = db.execute(
        "SELECT id::text AS id, appearance_order FROM public.runway_appearances"
        " WHERE runway_segment_id = %s ORDER BY appearance_order",
        (segment,),
    )
    return [r["id"] for r in rows], [r["appearance_order"] for r in rows]


def kiosk_walks(kiosk, show: dict[str, Any], segment: str) -> list[str]:
    """A segment's walks in the kiosk's lineup order."""
    lineup = lineup_store.load_lineup(kiosk.db, show["show"])
    return [a.id for a in lineup.order if a.segment_id == segment]


def bridge_errors(db: SupabaseDB) -> list[tuple]:
    rows = db.execute(
        "SELECT bridge, table_name, row_id::text AS row_id, operation, message"
        " FROM showdesk.bridge_errors ORDER BY id"
    )
    return [(r["bridge"], r["table_name"], r["row_id"], r["operation"], r["message"]) for r in rows]


def test_platform_schema_rows_and_writes_are_unchanged_by_showdesk(pg_server: PgServer):
    name = pg_server.create_database(template=None)
    try:
        with pg_server.connect(name) as conn:
            apply_platform(conn, DOC)
            platform_everyday_writes(conn, DOC)
            before = snapshot_platform(conn)
            apply_migrations(conn)
            after = snapshot_platform(conn)
            assert without_showdesk(after) == without_showdesk(before)
            added = {
                name: [t[0] for t in table["triggers"] if t[0] == "showdesk_bridge"]
                for name, table in after["tables"].items()
            }
            assert {n for n, t in added.items() if t} == BRIDGED
            # what was there is mirrored: the event, its show and the two walks left of three
            mirrored = conn.execute(
                "SELECT (SELECT count(*) FROM showdesk.events),"
                " (SELECT count(*) FROM showdesk.runway_appearances),"
                " (SELECT count(*) FROM showdesk.models)"
            ).fetchone()
            assert mirrored == (1, 2, 2)

            # applying Showdesk's migrations again changes nothing, here or in Showdesk's rows
            changes = conn.execute(
                "SELECT table_name, row_id, version FROM showdesk.sync_changes ORDER BY 1, 2"
            ).fetchall()
            apply_migrations(conn)
            assert without_showdesk(snapshot_platform(conn)) == without_showdesk(before)
            again = conn.execute(
                "SELECT table_name, row_id, version FROM showdesk.sync_changes ORDER BY 1, 2"
            ).fetchall()
            assert again == changes

            # the platform's own everyday writes, triggers and checks included, still work
            ids = platform_everyday_writes(conn, DOC)
            event = conn.execute(
                "SELECT e.name, e.status, e.organization_id::text, o.name, o.slug, v.name"
                " FROM showdesk.events e JOIN showdesk.organizations o ON o.id = e.organization_id"
                " JOIN showdesk.venues v ON v.id = e.venue_id WHERE e.id = %s",
                (ids["event"],),
            ).fetchone()
            assert event == (
                "Spring Runway 2027",
                "published",
                ids["organizer_user"],
                "Olivia Organizer",
                f"organizer-{ids['organizer_user']}",
                "Grand Hall",
            )
            tier = conn.execute(
                "SELECT tier, price, quantity FROM showdesk.ticket_types WHERE id = %s",
                (ids["ticket_type"],),
            ).fetchone()
            assert (tier[0], int(tier[1]), tier[2]) == ("vip", 250, 40)
            # and were mirrored: the walks left (orders 1 and 10), their looks and models
            walks = conn.execute(
                "SELECT a.id::text, a.order_key, a.notes, l.title, m.first_name, d.brand"
                " FROM showdesk.runway_appearances a JOIN showdesk.looks l ON l.id = a.look_id"
                " JOIN showdesk.models m ON m.id = a.model_id"
                " JOIN showdesk.designers d ON d.id = l.designer_id"
                ' WHERE a.segment_id = %s ORDER BY a.order_key COLLATE "C"',
                (ids["runway_segment"],),
            ).fetchall()
            assert walks == [
                (ids["runway_appearances"][0], "a1", None, "Look 1", "Model", "VANE"),
                (ids["runway_appearances"][1], "aA", "closing", "Look 1", "Model", "VANE"),
            ]
            # the model whose walk was deleted no longer walks in that event
            models = conn.execute(
                "SELECT count(*) FROM showdesk.models WHERE event_id = %s", (ids["event"],)
            ).fetchone()[0]
            assert models == 2
            assert conn.execute("SELECT count(*) FROM showdesk.bridge_errors").fetchone()[0] == 0
            bridges = conn.execute("SELECT showdesk.server_info() ->> 'bridges'").fetchone()[0]
            assert bridges == '["fashionistas"]'
    finally:
        pg_server.drop_database(name)


def test_a_producer_moves_a_look_and_the_platform_order_follows(bridged, world):
    db, show = bridged
    first, second = show["segments"]
    kiosk = world.kiosk("Backstage", staff_role="producer")
    kiosk.engine.sync_once()
    assert kiosk_walks(kiosk, show, first) == show["walks"][0]
    assert kiosk_walks(kiosk, show, second) == show["walks"][1]
    (info,) = lineup_store.list_shows(kiosk.db, show["event"])
    assert (info.name, info.looks, info.status) == ("Tidal", 6, "planned")

    # the last walk of the first segment opens the show
    a, b, c, d = show["walks"][0]
    lineup = lineup_store.load_lineup(kiosk.db, show["show"])
    assert lineup_store.save_move(kiosk.db, lineup.plan_move(d, 0)) == 1
    assert kiosk.engine.sync_once().push.applied == 1
    assert platform_walks(db, first) == ([d, a, b, c], [1, 2, 3, 4])
    assert platform_walks(db, second) == (show["walks"][1], [1, 2])

    # the first walk of the second segment moves into the first one, third place
    e, f = show["walks"][1]
    lineup = lineup_store.load_lineup(kiosk.db, show["show"])
    plan = lineup.plan_move(e, 2)
    assert plan.writes[e][0] == first
    lineup_store.save_move(kiosk.db, plan)
    assert kiosk.engine.sync_once().push.applied == 1
    assert platform_walks(db, first) == ([d, a, e, b, c], [1, 2, 3, 4, 5])
    assert platform_walks(db, second) == ([f], [1])
    assert kiosk_walks(kiosk, show, first) == [d, a, e, b, c]

    # the write-back did not echo into the mirror: a second producer sees the same order
    other = world.kiosk("Desk", staff_role="producer")
    other.engine.sync_once()
    assert kiosk_walks(other, show, first) == [d, a, e, b, c]
    assert kiosk.engine.sync_once().pull.tables <= {"devices"}  # (the second kiosk's row)
    assert bridge_errors(db) == []


def test_a_platform_reorder_reaches_the_kiosk(bridged, world, pg_server):
    db, show = bridged
    first = show["segments"][0]
    a, b, c, d = show["walks"][0]
    kiosk = world.kiosk("Backstage", staff_role="producer")
    kiosk.engine.sync_once()
    # a move on the kiosk first, so the mirror holds a key between two platform numbers
    lineup = lineup_store.load_lineup(kiosk.db, show["show"])
    lineup_store.save_move(kiosk.db, lineup.plan_move(d, 1))
    kiosk.engine.sync_once()
    assert platform_walks(db, first) == ([a, d, b, c], [1, 2, 3, 4])

    # the platform swaps the first and third walks, the way it must with its unique order
    with pg_server.connect(db.name) as conn, platform_request(conn) as cur:
        cur.execute("UPDATE runway_appearances SET appearance_order = 1000 WHERE id = %s", (a,))
        cur.execute("UPDATE runway_appearances SET appearance_order = 1 WHERE id = %s", (b,))
        cur.execute("UPDATE runway_appearances SET appearance_order = 3 WHERE id = %s", (a,))
    assert platform_walks(db, first) == ([b, d, a, c], [1, 2, 3, 4])
    kiosk.engine.sync_once()
    assert kiosk_walks(kiosk, show, first) == [b, d, a, c]

    # and moves the last walk to the front with a number of its own
    with pg_server.connect(db.name) as conn, platform_request(conn) as cur:
        cur.execute("UPDATE runway_appearances SET appearance_order = 0 WHERE id = %s", (c,))
    kiosk.engine.sync_once()
    assert kiosk_walks(kiosk, show, first) == [c, b, d, a]
    # a kiosk move after that still writes ranks back
    lineup = lineup_store.load_lineup(kiosk.db, show["show"])
    lineup_store.save_move(kiosk.db, lineup.plan_move(c, 3))
    kiosk.engine.sync_once()
    assert platform_walks(db, first) == ([b, d, a, c], [1, 2, 3, 4])
    assert bridge_errors(db) == []


def test_a_late_committing_platform_write_is_not_skipped(bridged, world):
    db, show = bridged
    first = show["segments"][0]
    a, b, c, d = show["walks"][0]
    kiosk = world.kiosk("Backstage", staff_role="producer")
    kiosk.engine.sync_once()

    early = db.connect(autocommit=False)
    early.execute("SET search_path = public, extensions")
    early.execute(
        "UPDATE models SET name = 'Early Writer' WHERE id = %s", (show["models"][1],)
    )  # takes its change number now, commits last
    done = threading.Event()

    def late_but_quick():
        with db.connect() as conn:
            conn.execute("SET search_path = public, extensions")
            conn.execute("UPDATE runway_appearances SET appearance_order = 9 WHERE id = %s", (a,))
        done.set()

    worker = threading.Thread(target=late_but_quick)
    worker.start()
    worker.join(10)
    assert done.is_set()
    kiosk.engine.sync_once()  # sees neither: the early transaction holds the watermark
    assert kiosk_walks(kiosk, show, first) == [a, b, c, d]
    early.commit()
    early.close()
    kiosk.engine.sync_once()

    assert kiosk_walks(kiosk, show, first) == [b, c, d, a]
    from sqlalchemy import select

    from app.store.models import Model

    with kiosk.db.session() as session:
        names = set(session.scalars(select(Model.first_name)))
    assert "Early" in names


def test_another_organizer_cannot_reorder_or_read_the_platform_show(bridged, world, pg_server):
    db, show = bridged
    with pg_server.connect(db.name) as conn:
        rival = platform_show(conn, "Rita Rival", walks=(2,))
    victim_walks = [w for segment in show["walks"] for w in segment]

    def victim_rows() -> list[dict[str, Any]]:
        return db.execute(
            "SELECT id, runway_segment_id, appearance_order, updated_at"
            " FROM public.runway_appearances WHERE id = ANY (%s::uuid[]) ORDER BY id",
            (victim_walks,),
        )

    before = victim_rows()
    device = db.create_device(rival["organizer"], "Rival kiosk", "Backstage")
    claims = db.claims(rival["organizer"], "producer", device)
    target = show["walks"][0][1]

    # an update of the victim's walk: the rival does not see it, so nothing moves
    forged = mutation(
        "runway_appearances",
        "update",
        target,
        {"order_key": "a0", "segment_id": rival["segments"][0]},
    )
    assert [r["status"] for r in db.push(claims, device, [forged])] == ["rejected"]
    assert victim_rows() == before

    # nor does it read the victim's rows
    changes, _ = db.pull_all(claims, rival["event"])
    seen = {c["id"] for c in changes}
    assert rival["walks"][0][0] in seen
    assert not seen & {show["event"], show["show"], *show["segments"], *victim_walks}
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.pull(claims, show["event"])

    # a walk Showdesk holds no mirror of: the rival makes a walk of its own under its id and
    # moves it; the victim's platform row is not the rival's to write
    db.execute("DELETE FROM showdesk.runway_appearances WHERE id = %s", (target,))
    own = db.execute(
        "SELECT look_id::text AS look_id, model_id::text AS model_id"
        " FROM showdesk.runway_appearances WHERE id = %s",
        (rival["walks"][0][0],),
    )[0]
    taken = mutation(
        "runway_appearances",
        "insert",
        target,
        {"segment_id": rival["segments"][0], "order_key": "a0", **own},
    )
    moved = mutation("runway_appearances", "update", target, {"order_key": "a5"})
    assert [r["status"] for r in db.push(claims, device, [taken, moved])] == [
        "applied",
        "applied",
    ]
    assert victim_rows() == before
    assert platform_walks(db, rival["segments"][0]) == (rival["walks"][0], [1, 2])

    # the victim's producer reorders that segment: the walk with no mirror of its own keeps
    # its number, the others fill in around it
    a, b, c, d = show["walks"][0]
    kiosk = world.kiosk("Backstage", staff_role="producer")
    kiosk.engine.sync_once()
    assert kiosk_walks(kiosk, show, show["segments"][0]) == [a, c, d]
    lineup = lineup_store.load_lineup(kiosk.db, show["show"])
    lineup_store.save_move(kiosk.db, lineup.plan_move(d, 0))
    assert kiosk.engine.sync_once().push.applied == 1
    assert platform_walks(db, show["segments"][0]) == ([d, b, a, c], [1, 2, 3, 4])
    assert [r for r in victim_rows() if str(r["id"]) == b] == [
        r for r in before if str(r["id"]) == b
    ]
    assert bridge_errors(db) == []


def test_a_platform_row_showdesk_cannot_mirror_never_fails_the_platform_write(bridged, pg_server):
    db, show = bridged
    # Showdesk's own organization, with an event, a ticket type and a lineup of its own
    native = db.create_org("Maison Native")
    backstage = db.create_backstage(native)
    now = datetime.now(UTC)
    with pg_server.connect(db.name) as conn:
        # the platform writes rows under ids Showdesk's own rows already have
        with platform_request(conn) as cur:
            cur.execute(
                "INSERT INTO ticket_types (id, event_id, name, base_price, sale_start_date,"
                " sale_end_date, tier, total_capacity) VALUES (%s, %s, 'Press', 0, %s, %s,"
                " 'general', 10)",
                (native.ticket_type_id, show["event"], now, now + timedelta(days=1)),
            )
        with platform_request(conn) as cur:
            cur.execute(
                "INSERT INTO runway_appearances (id, runway_segment_id, model_id,"
                " fashion_item_id, appearance_order) VALUES (%s, %s, %s, %s, 3)",
                (
                    backstage["appearances"][0],
                    show["segments"][1],
                    show["models"][0],
                    show["items"][0],
                ),
            )
        # and edits and deletes them
        with platform_request(conn) as cur:
            cur.execute(
                "UPDATE ticket_types SET name = 'Press pass' WHERE id = %s",
                (native.ticket_type_id,),
            )
            cur.execute(
                "UPDATE runway_appearances SET appearance_order = 4 WHERE id = %s",
                (backstage["appearances"][0],),
            )
        with platform_request(conn) as cur:
            cur.execute("DELETE FROM ticket_types WHERE id = %s", (native.ticket_type_id,))
            cur.execute(
                "DELETE FROM runway_appearances WHERE id = %s", (backstage["appearances"][0],)
            )

    # every platform write went through; Showdesk's rows are untouched
    assert (
        db.scalar("SELECT count(*) FROM public.ticket_types WHERE event_id = %s", (show["event"],))
        == 1
    )
    assert db.execute(
        "SELECT event_id::text AS event_id, name FROM showdesk.ticket_types WHERE id = %s",
        (native.ticket_type_id,),
    ) == [{"event_id": native.event_id, "name": "General"}]
    assert db.execute(
        "SELECT segment_id::text AS segment_id, order_key FROM showdesk.runway_appearances"
        " WHERE id = %s",
        (backstage["appearances"][0],),
    ) == [{"segment_id": backstage["segment"], "order_key": "a0"}]
    # and what could not be mirrored is logged
    errors = bridge_errors(db)
    assert [e[:4] for e in errors] == [
        (DOC, "ticket_types", native.ticket_type_id, "INSERT"),
        (DOC, "runway_appearances", backstage["appearances"][0], "INSERT"),
        (DOC, "ticket_types", native.ticket_type_id, "UPDATE"),
        (DOC, "runway_appearances", backstage["appearances"][0], "UPDATE"),
    ]
    assert all("another event" in e[4] for e in errors)
