"""Every screen readable: WCAG AA contrast of every visible piece of text, measured on the
rendered pixels of the real windows, in every state a door or a backstage shows.

The measurement (tests/support/contrast.py) grabs what Qt painted with the palettes and style
sheets actually applied, so it sees what a person sees: the attendee card's former white text
on light grey measured 1.03:1, and the checker is itself tested on that case below.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from app.domain.verdicts import HEADLINES, Verdict
from app.ui.qt import QDialog, QLabel, QMessageBox, QVBoxLayout, QWidget
from tests.support.contrast import check
from tests.support.screens import drain, main_window
from tests.support.screens import sample_result as scan_result

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, door_ctx) -> Iterator[Any]:
    """The real main window (app style sheet and all) on a copy of the demo replica."""
    with main_window(qtbot, door_ctx) as w:
        yield w


class Failures:
    """Collects failures over many states, so one run lists all of them."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.spots = 0

    def check(self, widget: QWidget, state: str) -> None:
        results, failures = check(widget)
        assert results, f"{state}: no text found to measure"
        self.spots += len(results)
        self.lines += [f"[{state}] {f}" for f in failures]

    def assert_none(self) -> None:
        assert not self.lines, "text below WCAG AA:\n" + "\n".join(self.lines)


def test_the_checker_catches_white_text_on_light_grey(qtbot):
    """The attendee card's old failure: the door's light label colour without its background."""
    door_like = QWidget()
    door_like.setStyleSheet("QLabel { color: #f2f2f2; }")
    qtbot.addWidget(door_like)
    dialog = QDialog(door_like)
    layout = QVBoxLayout(dialog)
    layout.addWidget(QLabel("Email: ada@example.com"))
    dialog.show()
    _results, failures = check(dialog)
    dialog.close()
    assert len(failures) == 1 and "#f2f2f2" in failures[0]
    assert float(failures[0].split(" = ")[1].split(":")[0]) < 1.2


def test_door_in_every_verdict_state(window):
    door, panel = window.door, window.door.panel
    failures = Failures()
    failures.check(window, "ready")
    for verdict in Verdict:
        extra: dict[str, Any] = {}
        if verdict is Verdict.ADMITTED:
            extra["notes"] = "Wheelchair user — use the ramp entrance"
        if verdict is Verdict.FORGED:
            extra.update(reason="signature not valid", attendee_name=None, tier=None)
        panel.show_result(scan_result(verdict, **extra))
        failures.check(window, verdict.value)
    panel.show_message("NOT RECORDED", "This scan could not be saved.", verdict="failure")
    failures.check(window, "not recorded")
    panel.set_blocked("Showdesk cannot write to /data/showdesk.sqlite.")
    panel.clear()
    failures.check(window, "blocked")
    panel.set_blocked(None)
    door.direction.toggle()  # the OUT direction button has its own colour
    failures.check(window, "direction out")
    failures.assert_none()
    assert failures.spots > 15 * 20


def test_last_scans_in_every_verdict_colour(window, door_ctx, qtbot):
    from app.store.models import Checkin
    from app.store.types import new_id, utcnow

    now = utcnow()
    with door_ctx.db.session() as session:
        for i, verdict in enumerate(Verdict):
            session.add(
                Checkin(
                    id=new_id(),
                    event_id=door_ctx.event_id,
                    device_id=door_ctx.device_id,
                    gate="North door",
                    scanned_at=now + timedelta(seconds=i + 1),
                    verdict=verdict.value,
                    raw_code=f"CODE-{i}",
                )
            )
    door = window.door
    door.refresh_counts()
    newest = HEADLINES[list(Verdict)[-1]]  # the last verdict got the latest time
    qtbot.waitUntil(lambda: newest in door.recent.item(0).text(), timeout=10000)
    failures = Failures()
    for row in range(door.recent.count()):
        door.recent.scrollToItem(door.recent.item(row))
        failures.check(window, f"last scans at row {row}")
    door.recent.setCurrentRow(1)  # a selected row: light text on the selection colour
    failures.check(window, "last scans, one selected")
    failures.assert_none()


def test_search_with_results_a_selection_and_no_match(window, qtbot):
    search = window.door.search
    failures = Failures()
    search.box.setText("mar")
    qtbot.waitUntil(lambda: search.results.count() > 3, timeout=10000)
    failures.check(window, "search results")
    search.results.setCurrentRow(2)
    search.results.setFocus()
    failures.check(window, "search results, one selected")
    search.box.setText("zzzz nobody")
    qtbot.waitUntil(lambda: search.status.text().startswith("No guest matches"), timeout=10000)
    failures.check(window, "no match")
    failures.assert_none()


def test_door_dialogs(window, qtbot):
    """Attendee card, undo admission and the staff PIN, each with its message showing; their
    text is also big enough to read from a step back (20 px or more)."""
    from app.ui.door.dialogs import AnnulDialog, AttendeeCard, AttendeeDetails
    from app.ui.kiosk_lock import PinDialog
    from tests.support.contrast import text_spots

    door = window.door
    details = AttendeeDetails(
        ticket_id="t-1",
        name="Marianela Ergül",
        email="marianela.ergul50@outlook.com",
        phone="+33 6 67 81 65 85",
        company="Atelier Nord",
        tier="vip",
        ticket_type="VIP Front Row",
        ticket_number="FW26-000148",
        order_number="AUR-100485",
        status="valid",
        notes="Wheelchair user",
        admitted=True,
    )
    card = AttendeeCard(details, "in", door)
    annul = AnnulDialog("c-1", "Marianela Ergül", door)
    from app.ui.kiosk_lock import KioskAuthority

    authority = KioskAuthority(window.ctx.db, window.ctx.event_id, "2468")
    pin = PinDialog(authority, "undo an admission", window, ask_badge=True)
    failures = Failures()
    for dialog, name in ((card, "attendee card"), (annul, "undo admission"), (pin, "staff PIN")):
        dialog.show()
        if dialog is annul:
            annul._confirm()  # no reason given: the error line shows
            assert annul.error.text()
        if dialog is pin:
            pin.field.setText("0000")
            pin.try_pin()  # checked on the DB worker
            qtbot.waitUntil(lambda: "Wrong PIN" in pin.message.text(), timeout=5000)
        failures.check(dialog, name)
        small = [s.where for s in text_spots(dialog) if s.px < 20]
        assert not small, f"{name}: text under 20 px: {small}"
        dialog.reject()
    failures.assert_none()


def test_every_other_screen_and_its_dialogs(window, qtbot):
    """Lineup, call times, sync (and any tab added later), the call-time editor, and the
    questions the app asks in a message box."""
    from app.ui.calltimes.dialogs import EditCallDialog

    failures = Failures()
    tabs = window.tabs
    for index in range(tabs.count()):
        tabs.setCurrentIndex(index)
        drain(qtbot)
        failures.check(window, f"tab {tabs.tabText(index).replace('&', '')}")
    calltimes = window.calltimes
    if calltimes.board is not None and calltimes.model.rows:
        tabs.setCurrentWidget(calltimes)
        editor = EditCallDialog(calltimes.model.rows[0], calltimes.board, calltimes)
        editor.show()
        editor.error.setText("Type a clock time like 17:30, or an offset like -90.")
        failures.check(editor, "call-time editor")
        editor.reject()
    question = QMessageBox(
        QMessageBox.Icon.Question,
        "Showdesk sync",
        "Send the 12 waiting changes now?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        window,
    )
    question.show()
    failures.check(question, "message box")
    question.close()
    failures.assert_none()


def test_show_display_in_every_timing_state(window, qtbot):
    from app.ui.lineup.shots import open_display_mid_show

    tabs = window.tabs
    tabs.setCurrentWidget(window.lineup)
    drain(qtbot)
    display = open_display_mid_show(window.lineup)
    assert display is not None
    try:
        display.resize(1280, 720)
        failures = Failures()
        failures.check(display, "mid-show, quick change on deck")
        assert display.deck_panel.alert.isVisible()
        run = display.runner.run
        for seconds, words in ((-59, "0:59 ahead"), (0, "on time"), (30, "0:30 behind"),
                               (125, "2:05 behind")):  # fmt: skip
            run.delta = lambda _now, s=seconds: float(s)  # this state, whatever the clock says
            display.refresh_clock()
            assert display.delta.text().strip() == words
            failures.check(display, f"delta {words}")
        del run.delta
        while run.current_index >= 0:  # take every look back: the show has not started
            display.runner.back()
        display.refresh()
        assert display.delta.text() == "Not started"
        failures.check(display, "not started")
        failures.assert_none()
    finally:
        display.close_confirmed()
