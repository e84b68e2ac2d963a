"""One vocabulary for verdicts: the window, the sound, the command line and the logs say the
same words, defined once in app.domain.verdicts; devices are named, never shown as an id."""

from __future__ import annotations

import json

from app.cli import main
from app.domain.verdicts import HEADLINES, SOUNDS, Verdict
from app.store.checkin_service import CheckinService
from app.store.types import new_id


def test_the_window_uses_the_domain_words_and_sounds():
    from app.ui.door.verdict_style import STYLES, sound_for

    for verdict in Verdict:
        assert STYLES[verdict.value].headline == HEADLINES[verdict]
        assert sound_for(verdict.value, None) == SOUNDS[verdict]
    assert HEADLINES[Verdict.FORGED] == "INVALID CODE"
    assert HEADLINES[Verdict.WRONG_GATE_OR_TIER] == "WRONG ENTRANCE"
    words = " ".join(HEADLINES.values()) + " ".join(s.headline for s in STYLES.values())
    assert "FORGED" not in words and "GATE OR TIER" not in words


def test_an_invalid_code_gives_its_reason_and_the_cli_says_the_same(door, tmp_path, capsys):
    _ticket_id, qr = door.add_ticket()
    flipped = qr[:-3] + ("A" if qr[-3] != "A" else "B") + qr[-2:]
    result = door.service().scan(flipped)
    assert result.headline == "INVALID CODE" and result.reason == "signature not valid"
    assert "Do not admit" in result.detail and "forg" not in result.detail.lower()
    assert result.line().startswith("INVALID CODE (signature not valid) — Do not admit")
    assert door.service().scan(qr[:-7]).reason == "damaged, altered or cut short"

    door.db.close()
    path = str(door.db.path)
    assert main(["checkin", "--db", path, "--code", flipped, "--gate", "North door"]) == 3
    assert capsys.readouterr().out.startswith("INVALID CODE (signature not valid) — ")
    assert main(["checkin", "--db", path, "--code", flipped, "--json"]) == 3
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["headline"] == "INVALID CODE" and out["reason"] == "signature not valid"


def test_first_admission_names_this_kiosk_not_its_id(door):
    """This kiosk's own device has no row in ``devices`` (that table comes from the server):
    the sentence names it by its configured name."""
    _ticket_id, qr = door.add_ticket()
    mine = new_id()
    service = CheckinService(door.db, door.event_id, mine, gate="North door", staff_name="Kiosk 7")
    assert service.scan(qr).verdict is Verdict.ADMITTED
    again = service.scan(qr)
    assert again.verdict is Verdict.ALREADY_ADMITTED
    assert "North door (Kiosk 7)" in again.detail and again.first_device == "Kiosk 7"
    assert mine[:8] not in again.detail


def test_another_unnamed_device_is_another_kiosk(door):
    _ticket_id, qr = door.add_ticket()
    stranger = new_id()
    CheckinService(door.db, door.event_id, stranger, gate="South door").scan(qr)
    again = door.service().scan(qr)
    assert "South door (another kiosk)" in again.detail
    assert stranger[:8] not in again.detail and again.first_device == "another kiosk"
