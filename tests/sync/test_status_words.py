"""Status words for people, and the transient/permanent error classification."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.store.types import utcnow
from app.sync.backends import classify
from app.sync.status import SyncStatus


def test_online_all_uploaded():
    now = utcnow()
    s = SyncStatus(online=True, last_pull_at=now - timedelta(seconds=12), backend="postgres")
    assert s.summary(now) == "Online — all changes uploaded, last sync 12 s ago"
    assert s.level == "ok"


def test_offline_with_waiting_checkins():
    now = utcnow()
    s = SyncStatus(
        online=False,
        pending=12,
        pending_checkins=12,
        last_pull_at=now - timedelta(minutes=4),
        backend="supabase",
        last_error="Cannot reach the sync server.",
    )
    assert s.summary(now) == "No internet — 12 check-ins waiting to upload, last sync 4 min ago"
    assert s.level == "offline"


def test_dead_letters_and_clock_warning_come_first():
    now = utcnow()
    s = SyncStatus(
        online=True, dead=2, clock_skew_seconds=600, last_pull_at=now, backend="postgres"
    )
    text = s.summary(now)
    assert text.startswith("Kiosk clock is 10 min off")
    assert "check the date and time" in text
    assert "2 changes were refused by the server — see Sync tab" in text
    assert s.level == "problem"


def test_small_skew_is_no_warning():
    assert SyncStatus(online=True, clock_skew_seconds=30, backend="x").clock_warning is None
    assert "behind" in SyncStatus(online=True, clock_skew_seconds=-900, backend="x").clock_warning


def test_no_backend_words():
    assert "offline only" in SyncStatus(online=None).summary()


@pytest.mark.parametrize(
    "code",
    [
        "40001",
        "40P01",
        "57P01",
        "08006",
        "503",
        "502",
        "429",
        "408",
        "PGRST301",
        "PGRST303",
        "PGRST000",
        "401",
        None,
        "timeout",
    ],
)
def test_transient(code):
    assert classify(code) is True


@pytest.mark.parametrize(
    "code",
    ["22P02", "23505", "23503", "42501", "42883", "P0001", "PGRST102", "PGRST202", "400", "404"],
)
def test_permanent(code):
    assert classify(code) is False


def test_uncoded_message_about_bad_input_is_permanent():
    assert classify(None, 'invalid input syntax for type uuid: "x"') is False
    assert classify(None, "server closed the connection unexpectedly") is True
