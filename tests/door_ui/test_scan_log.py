"""The log of a door: one line per verdict with ticket id, verdict, gate and device, and a line
per kiosk lock and event switch; no attendee's name, email or phone anywhere in the file."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

import app.logs as logs
from app.store.models import Attendee

from .conftest import fresh_tickets, no_camera
from .test_event_and_state import _add_second_event

pytestmark = pytest.mark.gui


@pytest.fixture
def log_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The app's log file in a fresh folder; the root logger as it was afterwards."""
    monkeypatch.setenv(logs.LOG_DIR_ENV, str(tmp_path / "log"))
    root = logging.getLogger()
    handlers, level, before = list(root.handlers), root.level, logs._state["handler"]
    path = logs.setup_logging("app")
    assert path is not None

    def read() -> str:
        logs._state["handler"].flush()
        return path.read_text(encoding="utf-8")

    yield read
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    logs._state["handler"] = before


def _people(ctx: Any) -> list[tuple[str, str, str | None, str | None]]:
    with ctx.db.session() as session:
        return [
            (a.first_name, a.last_name, a.email, a.phone) for a in session.scalars(select(Attendee))
        ]


def _scan_lines(text: str) -> list[str]:
    return [line.split("] ", 1)[1] for line in text.splitlines() if "] scan " in line]


def test_every_verdict_is_one_line_of_ids_and_no_attendee_is_named(
    qtbot, make_door, door_ctx, log_file
):
    door = make_door(source_factory=no_camera)
    tickets = fresh_tickets(door_ctx, 6)
    for _ticket_id, code, *_ in tickets[:4]:
        door.scan_code(code)
    door.scan_code(tickets[0][1])  # again: already admitted, naming the first scan's gate
    door.check_in_ticket(tickets[4][0])  # found by name at the desk
    door.scan_code("SD2.not-a-real-token")
    door.scan_code("no such code 123")
    qtbot.waitUntil(lambda: len(door.history) == 8, timeout=15000)

    lines = _scan_lines(log_file())
    assert len(lines) == 8
    pattern = re.compile(
        r"scan verdict=(\w+) words='[A-Z ]+' ticket=(\S+) checkin=(\S+) gate='North door' device='Kiosk' "
        r"direction=in method=(qr|manual) offline=yes ms=\d+$"
    )
    parsed = [pattern.match(line) for line in lines]
    assert all(parsed), lines
    verdicts = [m.group(1) for m in parsed]
    assert verdicts[:4] == ["admitted"] * 4 and verdicts[4] == "already_admitted"
    assert verdicts[5] == "admitted" and parsed[5].group(4) == "manual"
    assert verdicts[6] in ("forged", "unknown") and verdicts[7] == "unknown"
    assert [m.group(2) for m in parsed[:6]] == [t[0] for t in tickets[:4]] + [
        tickets[0][0],
        tickets[4][0],
    ]
    assert [m.group(3) for m in parsed] == [r.checkin_id for r in door.history]

    text = log_file()
    people = _people(door_ctx)
    assert len(people) >= 300
    for first, last, email, phone in people:
        assert f"{first} {last}" not in text
        if email:
            assert email not in text and email.split("@")[0] not in text
        if phone:
            assert phone not in text
    scanned = {t[0] for t in tickets[:5]}
    with door_ctx.db.session() as session:
        from app.store.models import Ticket

        names = [
            (a.first_name, a.last_name)
            for a in session.scalars(
                select(Attendee)
                .join(Ticket, Ticket.attendee_id == Attendee.id)
                .where(Ticket.id.in_(scanned))
            )
        ]
    for first, last in names:  # the guests who were scanned: not even a first name
        for word in (first, last):
            assert not re.search(rf"\b{re.escape(word)}\b", text), word


def test_kiosk_lock_unlock_and_event_switch_are_lines(qtbot, door_ctx, log_file):
    from app.ui import tasks
    from app.ui.main import MainWindow

    second = _add_second_event(door_ctx)
    window = MainWindow(door_ctx, door_options={"source_factory": no_camera})
    qtbot.addWidget(window)
    try:
        qtbot.waitUntil(lambda: window.door.is_ready, timeout=15000)
        window.door.enter_kiosk_mode(window)
        dialog = window.door.kiosk.ask_pin()
        qtbot.keyClicks(dialog.field, door_ctx.config.kiosk_pin)
        qtbot.keyClick(dialog.field, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: window.tabs.tabBar().isVisible(), timeout=2000)
        first = window.ctx.event_id
        window.switch_event(second)
        qtbot.waitUntil(lambda: window.door.is_ready, timeout=15000)
    finally:
        for service in window.ctx.services:
            service.stop()
        tasks.shutdown(wait=True)
    states = [line.split("] ", 1)[1] for line in log_file().splitlines() if "] state " in line]
    assert states == [
        "state kiosk locked",
        "state kiosk unlocked",
        f"state event {first} -> {second}",
    ]
