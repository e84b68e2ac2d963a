"""Every platform document, alone and stacked as a real project would hold them: the platform's
schema, rows and everyday writes are the same before and after Showdesk's migrations, and the
bridges the database calls for are the ones installed."""

from __future__ import annotations

import pytest

from tests.server.test_bridge_ai_event_management import without_showdesk
from tests.support.pg import PgServer, apply_migrations
from tests.support.platform import apply_platform, platform_everyday_writes, snapshot_platform

pytestmark = pytest.mark.postgres

CHAINS = {
    ("fashionistas",): ["fashionistas"],
    ("fashionistas", "fashionos_expansion", "event_checkins"): [
        "attendee_flags",
        "event_checkins",
        "fashionistas",
        "fashionos_expansion",
    ],
    ("ai_event_management", "event_checkins", "fashionos_expansion"): [
        "ai_event_management",
        "attendee_flags",
        "event_checkins",
        "fashionos_expansion",
    ],
}


@pytest.mark.parametrize("chain", list(CHAINS), ids=["+".join(c) for c in CHAINS])
def test_platform_is_unchanged_and_keeps_working(pg_server: PgServer, chain: tuple[str, ...]):
    name = pg_server.create_database(template=None)
    try:
        with pg_server.connect(name) as conn:
            apply_platform(conn, *chain)
            for document in chain:
                platform_everyday_writes(conn, document)
            before = snapshot_platform(conn)
            apply_migrations(conn)
            assert without_showdesk(snapshot_platform(conn)) == without_showdesk(before)
            for document in chain:
                platform_everyday_writes(conn, document)
            bridges = conn.execute("SELECT showdesk.server_info() -> 'bridges'").fetchone()[0]
            assert bridges == CHAINS[chain]
            errors = conn.execute(
                "SELECT table_name, operation, message FROM showdesk.bridge_errors"
            ).fetchall()
            assert errors == []
            settled = snapshot_platform(conn)
            apply_migrations(conn)  # a second apply changes nothing of the platform either
            assert snapshot_platform(conn) == settled
    finally:
        pg_server.drop_database(name)
