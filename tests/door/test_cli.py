"""`showdesk demo`, `showdesk checkin` and `showdesk ticket-qr` through app.cli.main, with --json."""

from __future__ import annotations

import json
import sqlite3

import cv2
import numpy as np
import pytest
import zxingcpp

from app.cli import main


def _json(capsys) -> dict:
    out = capsys.readouterr().out.strip().splitlines()
    return json.loads(out[-1])


@pytest.fixture
def demo_file(small_demo_template, tmp_path):
    import shutil

    template, summary = small_demo_template
    path = tmp_path / "cli.sqlite"
    shutil.copy(template, path)
    return path


def _code(path, where: str) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT t.qr_code_data FROM tickets t JOIN ticket_types tt ON tt.id = t.ticket_type_id "
            f"WHERE {where} AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.ticket_id = t.id) "
            "LIMIT 1"
        ).fetchone()[0]
    finally:
        conn.close()


def test_demo_refuses_to_overwrite_without_force(tmp_path, capsys):
    path = tmp_path / "cli.sqlite"
    assert main(["demo", "--db", str(path), "--tickets", "25", "--json"]) == 0
    summary = _json(capsys)
    assert summary["tickets"] == 25 and summary["event_id"] and summary["db"] == str(path)
    assert main(["demo", "--db", str(path), "--tickets", "10", "--json"]) == 1
    assert "--force" in _json(capsys)["error"]
    assert main(["demo", "--db", str(path), "--tickets", "10", "--force", "--json"]) == 0
    assert _json(capsys)["tickets"] == 10


def test_demo_rejects_absurd_ticket_counts(tmp_path, capsys):
    assert main(["demo", "--db", str(tmp_path / "x.sqlite"), "--tickets", "0", "--json"]) == 1
    assert "between" in _json(capsys)["error"]


def test_checkin_code_json_and_exit_codes(demo_file, tmp_path, capsys):
    path = demo_file
    code = _code(path, "tt.name = 'General Admission' AND t.status = 'valid'")
    args = ["checkin", "--db", str(path), "--code", code, "--gate", "North door", "--json"]
    assert main(args) == 0
    result = _json(capsys)
    assert result["verdict"] == "admitted" and result["ok"] is True
    for field in ("headline", "detail", "attendee_name", "tier", "ticket_type", "order_number",
                  "ticket_number", "ticket_id", "notes", "first_admitted_at", "first_gate",
                  "first_device", "offline", "checkin_id", "scanned_at"):  # fmt: skip
        assert field in result
    assert main(args) == 3
    again = _json(capsys)
    assert again["verdict"] == "already_admitted" and again["first_gate"] == "North door"
    assert main(["checkin", "--db", str(path), "--code", "FW99-1", "--json"]) == 3
    assert _json(capsys)["verdict"] == "unknown"
    assert main(["checkin", "--db", str(path), "--code", code, "--direction", "out", "--json"]) == 0
    assert _json(capsys)["verdict"] == "exit_recorded"


def test_checkin_plain_text_output(demo_file, tmp_path, capsys):
    path = demo_file
    assert main(["checkin", "--db", str(path), "--code", "nonsense"]) == 3
    assert "UNKNOWN TICKET" in capsys.readouterr().out


def test_checkin_missing_database_is_an_error_in_words(tmp_path, capsys):
    missing = tmp_path / "nowhere.sqlite"
    assert main(["checkin", "--db", str(missing), "--code", "x", "--json"]) == 1
    assert "no database" in _json(capsys)["error"].lower()
    assert not missing.exists()


def test_ticket_qr_png_decodes_back_and_checks_in_from_the_image(demo_file, tmp_path, capsys):
    path = demo_file
    conn = sqlite3.connect(path)
    number, qr = conn.execute(
        "SELECT t.ticket_number, t.qr_code_data FROM tickets t JOIN ticket_types tt "
        "ON tt.id = t.ticket_type_id WHERE t.status = 'valid' AND tt.allowed_gates = '[]' "
        "AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.ticket_id = t.id) LIMIT 1"
    ).fetchone()
    conn.close()
    png = tmp_path / "ticket.png"
    assert main(["ticket-qr", "--db", str(path), number, "--out", str(png), "--json"]) == 0
    assert _json(capsys)["ticket_number"] == number
    image = cv2.imread(str(png))
    found = zxingcpp.read_barcodes(image)
    assert [f.text for f in found] == [qr]
    assert (
        main(
            ["checkin", "--db", str(path), "--image", str(png), "--gate", "VIP entrance", "--json"]
        )
        == 0
    )
    assert _json(capsys)["verdict"] == "admitted"
    svg = tmp_path / "ticket.svg"
    assert main(["ticket-qr", "--db", str(path), number, "--out", str(svg)]) == 0
    assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()


def test_checkin_image_without_a_code_is_unreadable_and_logged(demo_file, tmp_path, capsys):
    path = demo_file
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((300, 300, 3), 255, np.uint8))
    conn = sqlite3.connect(path)
    before = conn.execute("SELECT count(*) FROM checkins").fetchone()[0]
    assert main(["checkin", "--db", str(path), "--image", str(blank), "--json"]) == 3
    assert _json(capsys)["verdict"] == "unreadable"
    assert conn.execute("SELECT count(*) FROM checkins").fetchone()[0] == before + 1
    conn.close()
    assert (
        main(["checkin", "--db", str(path), "--image", str(tmp_path / "none.png"), "--json"]) == 1
    )
    assert "not found" in _json(capsys)["error"].lower()


def test_ticket_qr_unknown_ticket_and_bad_suffix(demo_file, tmp_path, capsys):
    path = demo_file
    assert (
        main(["ticket-qr", "--db", str(path), "NOPE-1", "--out", str(tmp_path / "a.png"), "--json"])
        == 1
    )
    assert "No ticket" in _json(capsys)["error"]
    assert (
        main(["ticket-qr", "--db", str(path), "NOPE-1", "--out", str(tmp_path / "a.gif"), "--json"])
        == 1
    )
    assert ".png or .svg" in _json(capsys)["error"]
