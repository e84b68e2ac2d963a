"""Read from two metres, and never pushed off the screen.

Every line of a verdict is at least 28 px on a 1080p kiosk; long names, emails and codes end in
"…" or wrap instead of widening the window (the issue's "No guest matches" line with a
190-character code, and a long email on the verdict panel); search results keep their
ADMITTED marker whatever the name's length.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.domain.verdicts import Verdict
from app.ui.qt import QFontMetrics, Qt
from tests.support.contrast import font_px
from tests.support.screens import main_window
from tests.support.screens import sample_result as result

from .conftest import fresh_tickets

pytestmark = pytest.mark.gui

KIOSK = (1920, 1080)
DESK = (1280, 800)
LONG_EMAIL = "maria-dolores.de-la-fuente-y-hernandez-castellanos.press-office@" + (
    "atelier-nord-international-communications.example.com"
)
LONG_CODE = "7KX" * 63 + "A"  # 190 characters, no spaces, not a ticket of this event


def test_every_verdict_line_is_28px_or_more_on_a_1080p_kiosk(qtbot, door_ctx):
    with main_window(qtbot, door_ctx, KIOSK) as window:
        panel = window.door.panel
        states = [("ready", lambda: panel.clear())]
        for verdict in Verdict:
            extra = {"notes": "Wheelchair user"} if verdict is Verdict.ADMITTED else {}
            if verdict is Verdict.FORGED:
                extra = {"reason": "signature not valid", "attendee_name": None}
            states.append(
                (verdict.value, lambda v=verdict, e=extra: panel.show_result(result(v, **e)))
            )
        states.append(
            ("long", lambda: panel.show_result(result(Verdict.ADMITTED, attendee_name="Maria-Dolores de la Fuente y Hernández-Castellanos", order_number=LONG_CODE[:60])))
        )  # fmt: skip
        small: list[str] = []
        for name, show in states:
            show()
            shown = [label for label in panel.text_lines() if label.isVisible()]
            assert len(shown) >= 2, name
            small += [
                f"{name}: {label.objectName()} {font_px(label.font(), label):.0f} px"
                for label in shown
                if font_px(label.font(), label) < 28
            ]
        assert not small, small


def _assert_fits(window: Any, panel_width: int) -> None:
    assert window.minimumSizeHint().width() <= DESK[0]
    assert window.width() == DESK[0]
    # The verdict panel was not squeezed to make room.
    assert window.door.panel.width() >= panel_width - 2


def test_long_inputs_never_widen_the_window(qtbot, door_ctx):
    with main_window(qtbot, door_ctx, DESK) as window:
        door = window.door
        panel_width = door.panel.width()
        assert window.minimumSizeHint().width() <= DESK[0]

        for query in (LONG_CODE, LONG_EMAIL):
            door.search.box.setText(query)
            qtbot.waitUntil(lambda q=query: door.search.status.text().endswith(f"“{q}”."))
            qtbot.wait(0)
            _assert_fits(window, panel_width)
            assert door.search.status.shown_text().endswith("…")

        door.panel.show_result(
            result(
                Verdict.ALREADY_ADMITTED,
                attendee_name=LONG_EMAIL,
                ticket_type=f"Guest of {LONG_EMAIL}",
                notes=f"Send the invoice to {LONG_EMAIL} before the show",
                detail=f"This code {LONG_CODE} was first admitted at North door (Kiosk 2).",
            )
        )
        qtbot.wait(0)
        _assert_fits(window, panel_width)
        name = door.panel.name
        assert name.text() == LONG_EMAIL and name.shown_text().endswith("…")
        for label in (door.panel.notes, door.panel.detail):  # wrapped inside the panel
            assert label.width() <= door.panel.width()
            assert label.heightForWidth(label.width()) > QFontMetrics(label.font()).height()


def test_attendee_card_elides_a_long_email_and_stays_on_screen(qtbot, door_ctx):
    from app.ui.door.dialogs import AttendeeCard, AttendeeDetails
    from app.ui.door.widgets import ElidedLabel

    details = AttendeeDetails(
        ticket_id="t-1",
        name="Maria-Dolores de la Fuente y Hernández-Castellanos " * 3,
        email=LONG_EMAIL,
        phone=None,
        company="Atelier Nord International Communications and Press Relations Ltd " * 2,
        tier="press",
        ticket_type="Press",
        ticket_number=LONG_CODE,
        order_number="AUR-1",
        status="valid",
        notes=f"Call {LONG_EMAIL}",
        admitted=False,
    )
    card = AttendeeCard(details, "in")
    qtbot.addWidget(card)
    card.show()
    qtbot.wait(0)
    assert card.minimumSizeHint().width() <= DESK[0] and card.width() <= DESK[0]
    fields = {label.text(): label for label in card.findChildren(ElidedLabel)}
    email = fields[LONG_EMAIL]
    assert "…" in email.shown_text() and email.shown_text().endswith(".example.com")
    assert email.toolTip() == LONG_EMAIL


def test_search_results_keep_the_admitted_marker(qtbot, door_ctx):
    """A very long name is cut at the end of its line; the marker comes first and stays."""
    from app.store.models import Attendee, Ticket

    ticket_id, code, number, _first, _last = fresh_tickets(door_ctx, 1)[0]
    with door_ctx.db.session() as session:
        attendee = session.get(Attendee, session.get(Ticket, ticket_id).attendee_id)
        attendee.first_name = "Maria-Dolores Esperanza Inmaculada"
        attendee.last_name = "de la Fuente y Hernández-Castellanos de Borbón"
    with main_window(qtbot, door_ctx, DESK) as window:
        door = window.door
        door.scan_code(code)
        qtbot.waitUntil(lambda: bool(door.history) and door.history[-1].verdict == "admitted")
        door.search.box.setText(number)
        qtbot.waitUntil(lambda: door.search.results.count() == 1, timeout=10000)
        view = door.search.results
        item = view.item(0)
        assert item.text().startswith("ADMITTED")
        width = view.visualItemRect(item).width() - 8
        metrics = QFontMetrics(view.font())
        assert metrics.horizontalAdvance(item.text()) > width  # it is cut...
        shown = metrics.elidedText(item.text(), Qt.TextElideMode.ElideRight, width)
        assert shown.startswith("ADMITTED") and shown.endswith("…")  # ...but not its marker
