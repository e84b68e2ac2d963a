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


def _valid_ticket(path, skip: int = 0) -> tuple[str, str, str, str, str, int]:
    """(number, qr text, ticket id, event id, ticket type id, serial) of an unscanned ticket that
    any gate admits."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT t.ticket_number, t.qr_code_data, t.id, t.event_id, t.ticket_type_id, "
            "t.token_serial FROM tickets t JOIN ticket_types tt ON tt.id = t.ticket_type_id "
            "WHERE t.status = 'valid' AND tt.allowed_gates = '[]' AND t.qr_code_data LIKE 'SD%' "
            "AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.ticket_id = t.id) "
            "ORDER BY t.ticket_number LIMIT 1 OFFSET ?",
            (skip,),
        ).fetchone()
    finally:
        conn.close()


def test_ticket_qr_svg_decodes_back_and_checks_in_from_the_svg(demo_file, tmp_path, capsys):
    path = demo_file
    number, qr, *_ = _valid_ticket(path)
    assert qr.startswith("SD2.")  # new tickets carry the version-2 token
    svg = tmp_path / "ticket.svg"
    assert main(["ticket-qr", "--db", str(path), number, "--out", str(svg), "--json"]) == 0
    assert _json(capsys)["qr_version"] == 7
    assert main(["decode", str(svg), "--json"]) == 0
    decoded = json.loads(capsys.readouterr().out)["files"][0]
    assert decoded["error"] is None and decoded["kind"] == "svg"
    assert [(c["text"], c["charset"]) for c in decoded["codes"]] == [(qr, "UTF-8")]
    args = ["checkin", "--db", str(path), "--image", str(svg), "--gate", "VIP entrance", "--json"]
    assert main(args) == 0
    assert _json(capsys)["verdict"] == "admitted"


def test_codes_issued_in_the_old_format_still_check_in(demo_file, tmp_path, capsys):
    """A version-1 token (SD1. + base32), as tickets sold before the change carry: typed by a
    scanner, and shown as a picture."""
    from app.domain.tokens import issue_token
    from app.store.ticket_qr import render_qr_png

    path = demo_file
    conn = sqlite3.connect(path)
    (private_key,) = conn.execute("SELECT private_key FROM event_signing_keys").fetchone()
    conn.close()
    old = []
    for skip in (0, 1):
        _, _, ticket_id, event_id, type_id, serial = _valid_ticket(path, skip)
        token = issue_token(
            private_key,
            ticket_id=ticket_id,
            event_id=event_id,
            ticket_type_id=type_id,
            serial=serial,
            version=1,
        )
        assert token.startswith("SD1.") and len(token) == 193
        old.append((token, ticket_id))
    (token, ticket_id), (token2, ticket_id2) = old
    assert (
        main(["checkin", "--db", str(path), "--code", token, "--gate", "North door", "--json"]) == 0
    )
    result = _json(capsys)
    assert result["verdict"] == "admitted" and result["ticket_id"] == ticket_id
    png = tmp_path / "old.png"
    png.write_bytes(render_qr_png(token2))
    assert main(["checkin", "--db", str(path), "--image", str(png), "--json"]) == 0
    result = _json(capsys)
    assert result["verdict"] == "admitted" and result["ticket_id"] == ticket_id2
    forged = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    assert main(["checkin", "--db", str(path), "--code", forged, "--json"]) == 3
    assert _json(capsys)["verdict"] == "forged"
