"""Scanner input at any speed: a ticket code is a scan whether a fast wedge scanner types it
(2 ms a key), a slow one (55–120 ms), or it is pasted; a name a person types never is.

Real key events go through Qt (QTest) into the focused widget and the application-wide
filter. The filter's clock is the test's: each key arrives exactly ``ms`` after the one before,
so the speeds are the ones named, however loaded the machine is. Two runs use the wall clock
as well (2 ms and 120 ms a key)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from app.domain.tokens import looks_like_ticket_code
from app.store.models import Ticket
from app.ui.qt import QApplication

from .conftest import fresh_tickets, no_camera

SPEEDS_MS = [2, 5, 10, 20, 35, 50, 55, 70, 90, 120]
HUMAN_MS = [55, 70, 90, 120, 180, 300]  # a person: rarely under ~100 ms a key, never 6 in a row
NAMES = ["Maria Lopez", "Lopez", "Jean-Luc Picard", "Anne Marie O'Neil", "mar"]


class KeyClock:
    """The wedge filter's clock: moves ``ms`` per key, as a scanner or a person would."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def step(self, ms: float) -> None:
        self.now += ms / 1000


def _type(qtbot, widget, text: str, ms: float, clock: KeyClock | None, enter: bool = True):
    keys = [*text, Qt.Key.Key_Return] if enter else list(text)
    for key in keys:
        if clock is None:
            qtbot.wait(int(ms))  # the wall clock: a real pause between keys
        else:
            clock.step(ms)
        qtbot.keyClick(widget, key)


@pytest.fixture
def door(qtbot, make_door) -> Any:
    door = make_door(source_factory=no_camera)
    door.window().activateWindow()
    qtbot.waitUntil(lambda: door.window().isActiveWindow(), timeout=3000)
    door.search.box.setFocus()
    door.scans: list[None] = []  # type: ignore[attr-defined]
    door.scan_captured.connect(lambda: door.scans.append(None))
    door.wedge.clock = KeyClock()
    return door


def _legacy_code(ctx: Any) -> str:
    with ctx.db.session() as session:
        codes = session.scalars(select(Ticket.qr_code_data)).all()
    legacy = [c for c in codes if c and not looks_like_ticket_code(c)]
    assert legacy, "the demo replica holds a few plain legacy codes"
    return legacy[0]


def _ticket_of(ctx: Any, code: str) -> str:
    with ctx.db.session() as session:
        return session.scalars(select(Ticket.id).where(Ticket.qr_code_data == code)).one()


def _expect_scan(qtbot, door, ticket_id: str, speed: int) -> None:
    qtbot.waitUntil(lambda: len(door.history) == len(door.scans), timeout=5000)
    result = door.history[-1]
    assert result.ticket_id == ticket_id, f"{speed} ms a key: {result.verdict} {result.detail}"
    assert result.verdict in ("admitted", "already_admitted"), f"{speed} ms: {result.verdict}"


def test_a_signed_code_typed_into_the_search_box_is_a_scan_at_every_speed(qtbot, door, door_ctx):
    code = fresh_tickets(door_ctx, 1)[0][1]
    ticket_id = _ticket_of(door_ctx, code)
    for n, ms in enumerate(SPEEDS_MS, start=1):
        _type(qtbot, door.search.box, code, ms, door.wedge.clock)
        assert len(door.scans) == n, f"{ms} ms a key: not taken as a scan"
        assert door.search.box.text() == "", f"{ms} ms: the code was left in the search box"
        _expect_scan(qtbot, door, ticket_id, ms)
    assert door.history[0].verdict == "admitted"


def test_a_legacy_code_is_a_scan_at_every_speed(qtbot, door, door_ctx):
    qtbot.waitUntil(lambda: bool(door.codes.legacy), timeout=5000)  # read on the DB worker
    code = _legacy_code(door_ctx)
    ticket_id = _ticket_of(door_ctx, code)
    for n, ms in enumerate(SPEEDS_MS, start=1):
        _type(qtbot, door.search.box, code, ms, door.wedge.clock)
        assert len(door.scans) == n, f"{ms} ms a key: not taken as a scan"
        assert door.search.box.text() == ""
        _expect_scan(qtbot, door, ticket_id, ms)


def test_a_slow_scanner_reaches_the_door_wherever_the_focus_is(qtbot, door, door_ctx):
    code = fresh_tickets(door_ctx, 1)[0][1]
    ticket_id = _ticket_of(door_ctx, code)
    door.recent.setFocus()  # the last-scans list: not a text field
    _type(qtbot, door.recent, code, 120, door.wedge.clock)
    assert len(door.scans) == 1
    _expect_scan(qtbot, door, ticket_id, 120)

    door.search.box.setFocus()  # a person had started typing a name, then the scanner
    _type(qtbot, door.search.box, "Ma", 250, door.wedge.clock, enter=False)
    door.wedge.clock.step(600)
    _type(qtbot, door.search.box, code, 90, door.wedge.clock)
    assert len(door.scans) == 2
    assert door.search.box.text() == "Ma"  # only the scanner's characters were taken back
    _expect_scan(qtbot, door, ticket_id, 90)


def test_a_name_typed_by_a_person_is_never_a_scan(qtbot, door):
    for name in NAMES:
        for ms in HUMAN_MS:
            door.search.box.clear()
            _type(qtbot, door.search.box, name, ms, door.wedge.clock)
            assert door.scans == [], f"{name!r} at {ms} ms a key was taken for a scan"
            assert door.search.box.text() == name
    for ms in SPEEDS_MS:  # a name with a space is a name even at a scanner's speed
        door.search.box.clear()
        _type(qtbot, door.search.box, "Maria Lopez", ms, door.wedge.clock)
        assert door.scans == [], f"'Maria Lopez' at {ms} ms a key was taken for a scan"


def test_a_pasted_code_is_a_scan_at_once_and_a_pasted_name_is_not(qtbot, door, door_ctx):
    code = fresh_tickets(door_ctx, 1)[0][1]
    ticket_id = _ticket_of(door_ctx, code)
    clipboard = QApplication.clipboard()
    box = door.search.box

    clipboard.setText(f"  {code}\n")
    qtbot.keyClick(box, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert len(door.scans) == 1 and box.text() == ""  # no Enter needed
    _expect_scan(qtbot, door, ticket_id, 0)

    _type(qtbot, box, "Ma", 200, door.wedge.clock, enter=False)
    clipboard.setText(code)
    qtbot.keyClick(box, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert len(door.scans) == 2 and box.text() == "Ma"
    _expect_scan(qtbot, door, ticket_id, 0)

    box.clear()
    clipboard.setText("Maria Lopez")
    qtbot.keyClick(box, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    door.wedge.clock.step(300)
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert len(door.scans) == 2 and box.text() == "Maria Lopez"  # a search, as before


@pytest.mark.parametrize("ms", [2, 120])
def test_on_the_wall_clock(qtbot, door, door_ctx, ms):
    """The same, with real pauses between the keys (no test clock)."""
    import time

    door.wedge.clock = time.monotonic
    code = _legacy_code(door_ctx)  # short: 11 keys at 120 ms is 1.3 s
    qtbot.waitUntil(lambda: bool(door.codes.legacy), timeout=5000)
    _type(qtbot, door.search.box, code, ms, None)
    assert len(door.scans) == 1 and door.search.box.text() == ""
    _expect_scan(qtbot, door, _ticket_of(door_ctx, code), ms)
    if ms >= 55:
        _type(qtbot, door.search.box, "Maria Lopez", ms, None)
        assert len(door.scans) == 1 and door.search.box.text() == "Maria Lopez"
