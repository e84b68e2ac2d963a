"""What a joined kiosk says about its two ways to sync: the status line and the door badge."""

from __future__ import annotations

from app.store.types import utcnow
from app.sync.hub.routing import Routes
from app.sync.status import SyncStatus
from app.ui.status_badge import badge_words


def _status(hub, internet, backend="hub+server", pending=0, kiosks=3) -> SyncStatus:
    return SyncStatus(
        online=bool(hub or internet),
        pending=pending,
        pending_checkins=pending,
        backend=backend,
        last_pull_at=utcnow(),
        routes=Routes(internet=internet, hub=hub, hub_kiosks=kiosks),
    )


def test_the_status_line_names_both_ways():
    assert _status(True, False).route_words == "Internet: offline · Venue hub: connected, 3 kiosks"
    assert _status(True, True, kiosks=1).route_words == (
        "Internet: online · Venue hub: connected, 1 kiosk"
    )
    assert _status(False, True).route_words == "Internet: online · Venue hub: unreachable"
    assert _status(None, None).route_words == "Internet: checking · Venue hub: checking"
    assert _status(True, None, backend="hub").route_words.startswith("Internet: not set up")
    line = _status(True, False, pending=12).headline()
    assert line.startswith("Internet: offline · Venue hub: connected, 3 kiosks — 12 check-ins")
    cut_off = _status(False, False, pending=2).headline()
    assert "offline, 2 check-ins waiting to upload" in cut_off


def test_the_door_badge_says_venue_hub_when_only_the_hub_answers():
    now = utcnow()
    state, headline, detail = badge_words(_status(True, False), now)
    assert (state, headline) == ("hub", "● VENUE HUB") and detail.startswith("no internet")
    assert badge_words(_status(True, True), now)[1] == "● ONLINE"
    assert badge_words(_status(False, False), now)[1] == "✕ OFFLINE"
