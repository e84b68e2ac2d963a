"""Gates come from the event: a list (F4, arrows, Enter), remembered per device across
restarts; a fresh kiosk starts at the event's main entrance; a tier without gate rules enters
anywhere."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from sqlalchemy import select

from app.config import Config
from app.store.db import get_meta, open_database
from app.store.gates import choose_gate, event_gates
from app.store.models import Checkin, Ticket, TicketType
from app.store.types import utcnow
from app.ui.qt import QApplication, QMainWindow

from .conftest import no_camera

DEMO_GATES = {"North door", "South door", "VIP entrance", "Press desk"}


def _code_of_type(ctx: Any, type_name: str) -> str:
    """A valid ticket of ``type_name`` whose entry window is open now."""
    now = utcnow()
    with ctx.db.session() as session:
        kind = session.scalars(
            select(TicketType).where(
                TicketType.event_id == ctx.event_id, TicketType.name == type_name
            )
        ).one()
        assert kind.entry_starts_at is None or kind.entry_starts_at <= now
        return session.scalars(
            select(Ticket.qr_code_data)
            .where(Ticket.ticket_type_id == kind.id, Ticket.status == "valid")
            .order_by(Ticket.ticket_number.desc())
        ).first()


def _pick(qtbot, door, gate: str) -> None:
    """F4, arrows to ``gate``, Enter: what a person at the kiosk does."""
    qtbot.keyClick(door.search.box, Qt.Key.Key_F4)
    qtbot.waitUntil(lambda: door.gate.view().isVisible(), timeout=3000)
    view = door.gate.view()
    steps = door.gate.gates.index(gate) - door.gate.currentIndex()
    key = Qt.Key.Key_Down if steps > 0 else Qt.Key.Key_Up
    for _ in range(abs(steps)):
        qtbot.keyClick(view, key)
    qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: door.config.gate == gate, timeout=3000)


def _scan(qtbot, door, code: str) -> Any:
    before = len(door.history)
    door.scan_code(code)
    qtbot.waitUntil(lambda: len(door.history) > before, timeout=5000)
    return door.history[-1]


def test_the_event_gates_main_entrance_first(door_ctx):
    with door_ctx.db.session() as session:
        gates = event_gates(session, door_ctx.event_id)
    assert set(gates) == DEMO_GATES and len(gates) == len(DEMO_GATES)
    assert gates[0] == "North door"  # general, premium and comp tickets all enter there


def test_which_gate_a_kiosk_starts_at():
    gates = ["North door", "South door"]
    assert choose_gate(gates, None, "Main") == "North door"  # a fresh kiosk
    assert choose_gate(gates, None, "south DOOR ") == "South door"  # configured, any case
    assert choose_gate(gates, "South door", "North door") == "South door"  # chosen here wins
    assert choose_gate(gates, "Old tent", "Main") == "North door"  # a gate gone from the event
    assert choose_gate([], None, "Main") == "Main"  # an event with no gate rules at all


def test_a_fresh_kiosk_admits_the_first_general_ticket(qtbot, make_door, door_ctx):
    door_ctx.config.gate = "Main"  # the default of a fresh install: not a gate of the event
    door = make_door(source_factory=no_camera)
    assert door.gate.gate == "North door" and door.config.gate == "North door"
    assert set(door.gate.gates) == DEMO_GATES  # a list of the event's gates, no free text

    result = _scan(qtbot, door, _code_of_type(door_ctx, "General Admission"))
    assert result.verdict == "admitted", result.detail


def test_the_gate_chosen_by_keyboard_is_remembered_after_a_restart(qtbot, make_door, door_ctx):
    from app.ui import tasks
    from app.ui.context import AppContext
    from app.ui.door import DoorTab

    door = make_door(source_factory=no_camera)
    door.window().activateWindow()
    door.search.box.setFocus()
    _pick(qtbot, door, "South door")
    assert door.search.box.hasFocus()  # back to scanning
    result = _scan(qtbot, door, _code_of_type(door_ctx, "General Admission"))
    assert result.verdict == "admitted", result.detail
    with door_ctx.db.session() as session:
        assert session.get(Checkin, result.checkin_id).gate == "South door"  # logged there

    def remembered() -> str | None:
        with door_ctx.db.session() as session:
            return get_meta(session, f"door_gate:{door_ctx.event_id}")

    qtbot.waitUntil(lambda: remembered() == "South door", timeout=3000)

    # Restart: the window goes, the database is opened again, the settings say nothing.
    door.stop()
    tasks.shutdown(wait=True)
    QApplication.processEvents()  # the answers the old door was waiting for, while it exists
    path = door_ctx.config.db
    db = open_database(path)
    ctx = AppContext(
        config=Config(db=path, sound=False), db=db, event_id=door_ctx.event_id,
        device_id=door_ctx.device_id,
    )  # fmt: skip
    again = DoorTab(ctx, source_factory=no_camera)
    qtbot.addWidget(again)
    try:
        qtbot.waitUntil(lambda: again.is_ready, timeout=15000)
        assert again.gate.gate == "South door" and ctx.config.gate == "South door"
        assert again.gate.currentText() == "South door"
    finally:
        again.stop()
        tasks.shutdown(wait=True)
        db.close()


def test_a_tier_without_gate_rules_enters_at_any_gate(qtbot, make_door, door_ctx):
    general_code = _code_of_type(door_ctx, "General Admission")
    door = make_door(source_factory=no_camera)
    door.window().activateWindow()
    door.search.box.setFocus()
    _pick(qtbot, door, "Press desk")
    vip = _scan(qtbot, door, _code_of_type(door_ctx, "VIP Front Row"))  # no gate rules
    assert vip.verdict == "admitted", vip.detail
    general = _scan(qtbot, door, general_code)
    assert general.verdict == "wrong_gate_or_tier"  # general tickets have their doors
    assert "Press desk" in general.detail


def test_a_locked_kiosk_keeps_its_gate_until_the_pin(qtbot, make_door, door_ctx):
    door = make_door(source_factory=no_camera)
    window = QMainWindow()
    qtbot.addWidget(window)
    window.setCentralWidget(door)
    door.enter_kiosk_mode(window)
    door.gate.setFocus()
    qtbot.keyClick(door.gate, Qt.Key.Key_Down)
    assert door.gate.gate == "North door" and door.config.gate == "North door"
    door.gate.showPopup()  # a tap on the list: the PIN first
    assert door.kiosk.dialog is not None and door.kiosk.dialog.isVisible()
    assert not door.gate.view().isVisible()
    qtbot.keyClicks(door.kiosk.dialog.field, door_ctx.config.kiosk_pin)
    qtbot.keyClick(door.kiosk.dialog.field, Qt.Key.Key_Return)
    # then the list (the PIN is checked on the DB worker, behind whatever is queued there)
    qtbot.waitUntil(lambda: door.gate.view().isVisible(), timeout=10000)
    door.gate.hidePopup()
