"""No camera, a camera that stops, no zbar: a clear banner, and the rest keeps working."""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt

from app.scan.decoders import build_chain
from app.ui.door.camera import CAMERA_LOST, NO_CAMERA, NO_DECODER
from app.ui.door.demo_source import ticket_source

from .conftest import fresh_tickets, no_camera


def test_missing_camera_says_so_and_search_still_works(qtbot, make_door, door_ctx):
    door = make_door(source_factory=no_camera)
    qtbot.waitUntil(lambda: door.preview.banner == NO_CAMERA, timeout=10000)
    _ticket_id, _code, _number, first, last = next(
        t for t in fresh_tickets(door_ctx, 100) if t[4].isascii()
    )
    door.focus_search()
    qtbot.keyClicks(door.search.box, last, delay=30)
    qtbot.waitUntil(lambda: door.search.results.count() > 0, timeout=5000)
    assert any(
        last in door.search.results.item(i).text() for i in range(door.search.results.count())
    )


def test_camera_that_stops_sending_pictures(qtbot, make_door, door_ctx):
    door = make_door(
        source_factory=ticket_source([None], repeat=5), decoder_factory=lambda: build_chain("auto")
    )
    qtbot.waitUntil(lambda: door.preview.image is not None, timeout=10000)
    # The source runs dry like an unplugged webcam: the banner says so within a few seconds.
    qtbot.waitUntil(lambda: door.preview.banner != "", timeout=10000)
    assert door.preview.banner == CAMERA_LOST or "camera" in door.preview.banner.lower()
    code = fresh_tickets(door_ctx, 1)[0][1]
    door.scan_code(code)  # the USB scanner still checks guests in
    qtbot.waitUntil(lambda: len(door.history) == 1, timeout=5000)
    assert door.history[0].verdict == "admitted"


def test_without_zbar_the_banner_explains_and_the_scanner_works(
    qtbot, make_door, door_ctx, monkeypatch
):
    # What a kiosk without the zbar system library looks like to Python: pyzbar cannot load.
    for name in ("pyzbar", "pyzbar.pyzbar", "pyzbar.wrapper", "pyzbar.zbar_library"):
        monkeypatch.setitem(sys.modules, name, None)
    door_ctx.config.decoders = "zbar"
    code = fresh_tickets(door_ctx, 1)[0][1]
    door = make_door(source_factory=ticket_source([code], repeat=5))
    qtbot.waitUntil(lambda: door.preview.banner.startswith(NO_DECODER), timeout=10000)
    assert "zbar" in door.preview.banner
    door.wedge.buffer.max_gap = 0.25  # tolerate a loaded CI machine (see test_keyboard)
    door.search.box.setFocus()
    qtbot.keyClicks(door.search.box, code)
    qtbot.keyClick(door.search.box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(door.history) == 1, timeout=5000)
    assert door.history[0].verdict == "admitted"
