"""`showdesk audit`: the audit trail from a terminal, on a real replica (test_staff's world):
a table, one JSON document, a CSV file, and usage errors said in one sentence."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path

import pytest

from app.cli import audit as cli_audit
from app.cli import main
from app.cli.output import EXIT_OK, EXIT_USAGE
from app.store import audit as store_audit
from app.store.checkin_service import CheckinService
from app.store.db import open_database, set_meta
from tests.unit.test_staff import NOW, _world


@pytest.fixture
def replica(db_path: Path) -> tuple[Path, dict[str, str]]:
    """Four check-ins: nobody, Camille (a scan and its annulment), then Camille again."""
    db = open_database(db_path)
    try:
        w = _world(db)
        with db.session() as s:
            set_meta(s, "event_id", w["event"])
        clock = iter(NOW + timedelta(minutes=i) for i in range(100))
        door = CheckinService(db, w["event"], w["device"], gate="North", clock=lambda: next(clock))
        door.scan("nothing we know")
        door.staff_id = w["camille"]
        first = door.checkin_ticket(w["ticket1"])
        door.annul(first.checkin_id, "wrong guest")
        door.checkin_ticket(w["ticket2"])
        w["first"] = first.checkin_id
    finally:
        db.close()
    return db_path, w


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["audit", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_kinds_are_the_stores() -> None:
    assert cli_audit.KINDS == store_audit.KINDS  # kept apart only so --help loads no SQL


def test_a_table_of_everything(replica, capsys) -> None:
    path, _w = replica
    code, out, _err = _run(capsys, "--db", str(path))
    assert code == EXIT_OK
    lines = out.splitlines()
    assert lines[0].split() == ["time", "(UTC)", "staff", "role", "what", "gate", "device"]
    assert "(no one signed in)" in lines[1] and "check-in: unknown" in lines[1]
    assert "Camille" in lines[3] and "annulment" in lines[3] and "Kiosk 1" in lines[3]
    assert lines[-1] == "4 entries"


def test_json_by_staff_name_and_kind(replica, capsys) -> None:
    path, w = replica
    code, out, _err = _run(
        capsys, "--db", str(path), "--staff", "CAMILLE", "--kind", "scan", "--json"
    )
    assert code == EXIT_OK
    document = json.loads(out)
    assert set(document) == {"filters", "count", "csv", "entries"}
    assert document["filters"] == {
        "staff_id": w["camille"],
        "kind": "scan",
        "since": None,
        "until": None,
    }
    assert document["count"] == 2 and document["csv"] is None
    first = document["entries"][0]
    assert set(first) == {
        "at",
        "staff_id",
        "staff",
        "role",
        "kind",
        "what",
        "subject_id",
        "gate",
        "device",
        "reason",
        "checkin_id",
    }
    assert (first["staff"], first["kind"], first["checkin_id"]) == ("Camille", "scan", w["first"])
    assert first["at"] == (NOW + timedelta(minutes=1)).isoformat()


def test_by_id_nobody_and_a_time_window(replica, capsys) -> None:
    path, w = replica
    _code, out, _err = _run(capsys, "--db", str(path), "--staff", w["camille"], "--json")
    assert json.loads(out)["count"] == 3
    _code, out, _err = _run(capsys, "--db", str(path), "--staff", "nobody", "--json")
    assert [e["staff"] for e in json.loads(out)["entries"]] == ["(no one signed in)"]
    since = (NOW + timedelta(minutes=2)).isoformat()
    until = (NOW + timedelta(hours=1, minutes=3)).strftime("%Y-%m-%dT%H:%M+01:00")
    _code, out, _err = _run(capsys, "--db", str(path), "--since", since, "--until", until, "--json")
    document = json.loads(out)
    assert [e["kind"] for e in document["entries"]] == ["annul"]
    assert document["filters"]["until"] == (NOW + timedelta(minutes=3)).isoformat()


def test_csv_writes_the_filtered_rows(replica, capsys, tmp_path) -> None:
    path, _w = replica
    target = tmp_path / "audit.csv"
    code, out, _err = _run(capsys, "--db", str(path), "--staff", "Camille", "--csv", str(target))
    assert code == EXIT_OK and f"Wrote {target}." in out
    with target.open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0] == store_audit.AUDIT_COLUMNS
    assert [r[1] for r in table[1:]] == ["Camille"] * 3
    assert [r[3] for r in table[1:]][1] == "annulment" and table[2][7] == "wrong guest"


def test_unknown_staff_is_a_usage_error_in_one_sentence(replica, capsys) -> None:
    path, _w = replica
    code, out, err = _run(capsys, "--db", str(path), "--staff", "Zed")
    assert code == EXIT_USAGE and out == ""
    assert err.startswith("showdesk: No staff member is called 'Zed' here. Staff: Camille,")
    code, out, _err = _run(capsys, "--db", str(path), "--staff", "Zed", "--json")
    assert code == EXIT_USAGE and "No staff member" in json.loads(out)["error"]


def test_a_name_of_several_members_asks_for_more(replica, capsys) -> None:
    path, _w = replica
    code, _out, err = _run(capsys, "--db", str(path), "--staff", "o")  # Gone, No Pin
    assert code == EXIT_USAGE and "names 2 staff members" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["--kind", "bogus"],
        ["--since", "yesterday"],
    ],
)
def test_bad_arguments_are_usage_errors(replica, capsys, argv) -> None:
    path, _w = replica
    with pytest.raises(SystemExit) as stopped:
        main(["audit", "--db", str(path), *argv])
    assert stopped.value.code == EXIT_USAGE
    assert "showdesk audit: error: argument" in capsys.readouterr().err


def test_since_after_until_and_a_missing_database(replica, capsys, tmp_path) -> None:
    path, _w = replica
    code, _out, err = _run(
        capsys, "--db", str(path), "--since", "2026-12-03T20:00", "--until", "2026-12-03T19:00"
    )
    assert code == EXIT_USAGE and "--since must be before --until" in err
    missing = tmp_path / "nothing.sqlite"
    code, _out, err = _run(capsys, "--db", str(missing))
    assert code != EXIT_OK and "There is no database at" in err and not missing.exists()
