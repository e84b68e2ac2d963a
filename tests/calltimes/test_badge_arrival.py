"""Arrival by badge in "Talent arrival" mode: a badge rendered by badges.py, seen by a camera,
read by the real ScanLoop and decoder, marks the person ARRIVED with an outbox row."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from app.store.badges import person_badge
from app.store.models import OutboxEntry
from app.ui.qt import Qt

from .camera import badge_camera_frame

pytestmark = pytest.mark.gui


def test_badge_seen_by_the_camera_marks_arrival(make_tab, db, backstage):
    from app.scan.decoders import build_chain
    from app.scan.sources import SyntheticSource

    with db.session() as s:
        badge = person_badge(s, backstage.people["Chloé Martin"])
    empty = np.full((720, 1280, 3), 90, np.uint8)
    frames = [empty, empty, badge_camera_frame(badge, seed=11)]
    tab = make_tab(
        source_factory=lambda: SyntheticSource(frames, fps=30),
        decoder_factory=lambda: build_chain("auto"),
    )
    seen = []
    tab.arrival_recorded.connect(seen.append)
    tab.set_talent_mode(True)
    assert tab.talent_panel.isVisible()
    tab.qtbot.waitUntil(lambda: tab.row_text("Chloé Martin")["Status"] == "ARRIVED", timeout=20_000)
    assert seen and seen[0].ok and seen[0].person_name == "Chloé Martin"
    assert "Chloé Martin arrived at" in tab.talent_result.text()
    with db.session() as s:
        rows = s.scalars(
            select(OutboxEntry).where(OutboxEntry.row_id == backstage.calls["Chloé Martin"])
        ).all()
    assert len(rows) == 1 and rows[0].payload["arrived_at"]
    tab.set_talent_mode(False)
    assert tab.feed is None


def test_no_camera_is_a_clear_message_and_typed_badges_still_work(make_tab):
    from app.scan.sources import CameraUnavailable

    def no_camera():
        raise CameraUnavailable("No camera is connected")

    tab = make_tab(source_factory=no_camera)
    tab.set_talent_mode(True)
    tab.qtbot.waitUntil(lambda: tab.message.text().startswith("No camera found"))
    assert "USB scanner" in tab.message.text()
    # A keyboard-wedge scanner or a person types the code and presses Enter.
    tab.badge_edit.setText("BADGE-9999")
    tab.qtbot.keyClick(tab.badge_edit, Qt.Key.Key_Return)
    tab.qtbot.waitUntil(lambda: "Unknown badge" in tab.talent_result.text())
    tab.badge_edit.setText("BADGE-0002")  # Bruno
    tab.qtbot.keyClick(tab.badge_edit, Qt.Key.Key_Return)
    tab.qtbot.waitUntil(lambda: tab.row_text("Bruno Costa")["Status"] == "ARRIVED")


def test_keyboard_wedge_scanner_burst_marks_arrival(make_tab):
    from app.scan.sources import CameraUnavailable

    def no_camera():
        raise CameraUnavailable("No camera is connected")

    tab = make_tab(source_factory=no_camera)
    tab.set_talent_mode(True)
    # A USB scanner types the whole code in a burst and ends with Enter, wherever the focus is.
    tab.table.setFocus()
    tab.qtbot.keyClicks(tab.table, "BADGE-0003")
    tab.qtbot.keyClick(tab.table, Qt.Key.Key_Return)
    tab.qtbot.waitUntil(lambda: tab.row_text("Chloé Martin")["Status"] == "ARRIVED")
    assert tab.row_text("Ana Silva")["Status"] != "ARRIVED"  # Enter did not also tap a row
