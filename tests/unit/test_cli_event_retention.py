"""`showdesk event retention`: the organizer's number of days for an event, set in the replica
and queued for upload like any edit; cleared with `default`; refused on a door or producer
kiosk and for a number the server would refuse."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.cli import COMMANDS, main
from app.cli.output import EXIT_OK, EXIT_USAGE
from app.store.db import open_database, set_meta
from app.store.models import Event, Organization, OutboxEntry
from app.store.retention import purge_personal_data

ENDS = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)


@pytest.fixture
def replica(db_path: Path) -> tuple[Path, str, str]:
    """Two events, the first the database's current one; nothing queued."""
    db = open_database(db_path)
    try:
        with db.session() as s:
            org = Organization(name="Maison", slug="maison")
            s.add(org)
            s.flush()
            ids = []
            for name in ("Gala", "Encore"):
                event = Event(
                    organization_id=org.id,
                    name=name,
                    slug=name.lower(),
                    starts_at=ENDS - timedelta(hours=5),
                    ends_at=ENDS,
                    server_version=12,
                )
                s.add(event)
                s.flush()
                ids.append(event.id)
            set_meta(s, "event_id", ids[0])
    finally:
        db.close()
    return db_path, ids[0], ids[1]


def _state(path: Path, event_id: str) -> tuple[int | None, list[tuple[str, str, dict, int]]]:
    db = open_database(path)
    try:
        with db.session() as s:
            event = s.get(Event, event_id)
            assert event is not None
            queued = [
                (e.table_name, e.op, e.payload, e.base_version)
                for e in s.scalars(select(OutboxEntry).order_by(OutboxEntry.seq))
            ]
            return event.retention_days, queued
    finally:
        db.close()


def test_the_command_is_in_the_table() -> None:
    assert "event retention" in {c.name for c in COMMANDS}


def test_setting_the_days_changes_the_event_and_queues_only_that_column(replica, capsys) -> None:
    path, gala, _encore = replica
    code = main(["event", "retention", "--days", "3", "--db", str(path)])
    out = capsys.readouterr().out
    assert code == EXIT_OK
    assert "forgets the attendees' personal data of 'Gala' 3 days after it ends" in out
    assert "next sync" in out and "next pull" in out
    days, queued = _state(path, gala)
    assert days == 3
    assert queued == [("events", "update", {"id": gala, "retention_days": 3}, 12)]

    # the same again: nothing more to upload
    assert main(["event", "retention", "--days", "3", "--db", str(path), "--json"]) == EXIT_OK
    document = json.loads(capsys.readouterr().out)
    assert document["queued"] is False and document["retention_days"] == 3
    assert len(_state(path, gala)[1]) == 1


def test_another_event_by_id_and_back_to_the_kiosks_setting(replica, capsys) -> None:
    path, gala, encore = replica
    assert main(["event", "retention", "--days", "30", "--event", encore, "--db", str(path)]) == 0
    capsys.readouterr()
    assert _state(path, encore)[0] == 30 and _state(path, gala)[0] is None

    code = main(
        ["event", "retention", "--days", "default", "--event", encore, "--db", str(path), "--json"]
    )
    assert code == EXIT_OK
    document = json.loads(capsys.readouterr().out)
    assert document == {
        "event_id": encore,
        "event": "Encore",
        "retention_days": None,
        "previous": 30,
        "kiosk_days": 7,
        "queued": True,
    }
    days, queued = _state(path, encore)
    assert days is None
    assert [q[2] for q in queued] == [
        {"id": encore, "retention_days": 30},
        {"id": encore, "retention_days": None},
    ]


def test_the_set_days_decide_the_purge(replica, capsys) -> None:
    path, gala, encore = replica
    assert main(["event", "retention", "--days", "0", "--event", encore, "--db", str(path)]) == 0
    capsys.readouterr()
    db = open_database(path)
    try:
        with db.session() as s:  # what the upload answered: nothing queued any more
            s.execute(OutboxEntry.__table__.delete())
        report = purge_personal_data(db, now=ENDS + timedelta(days=1))
    finally:
        db.close()
    assert report.events == [encore] and report.organizer_days == {encore: 0}


@pytest.mark.parametrize("role", ["door", "producer"])
def test_a_door_or_producer_kiosk_is_refused(replica, capsys, monkeypatch, role) -> None:
    path, gala, _encore = replica
    monkeypatch.setenv("SHOWDESK_DEVICE_ROLE", role)
    code = main(["event", "retention", "--days", "3", "--db", str(path)])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert f"enrolled as a {role} kiosk" in err and "only an organizer or an admin" in err
    assert _state(path, gala) == (None, [])


def test_an_organizer_kiosk_may(replica, capsys, monkeypatch) -> None:
    path, gala, _encore = replica
    monkeypatch.setenv("SHOWDESK_DEVICE_ROLE", "organizer")
    assert main(["event", "retention", "--days", "14", "--db", str(path)]) == EXIT_OK
    assert _state(path, gala)[0] == 14


@pytest.mark.parametrize("days", ["400", "-1", "week"])
def test_a_number_the_server_would_refuse_is_a_usage_error(replica, capsys, days) -> None:
    path, gala, _encore = replica
    with pytest.raises(SystemExit) as stopped:
        main(["event", "retention", "--days", days, "--db", str(path)])
    assert stopped.value.code == EXIT_USAGE
    assert "0 to 365" in capsys.readouterr().err
    assert _state(path, gala) == (None, [])


def test_an_unknown_event_or_database_is_said(replica, tmp_path, capsys) -> None:
    path, _gala, _encore = replica
    code = main(["event", "retention", "--days", "3", "--event", "nope", "--db", str(path)])
    assert code == EXIT_USAGE and "There is no event nope" in capsys.readouterr().err
    missing = tmp_path / "missing.sqlite"
    code = main(["event", "retention", "--days", "3", "--db", str(missing)])
    assert code == EXIT_USAGE and "There is no database" in capsys.readouterr().err
    assert not missing.exists()
