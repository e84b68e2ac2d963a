"""Kiosk mode: fullscreen and frameless; Esc, Alt+F4 and close refused; staff PIN unlocks."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.ui.qt import QApplication, QMainWindow

from .conftest import no_camera


def test_kiosk_refuses_to_close_until_the_right_pin(qtbot, make_door, door_ctx):
    door = make_door(source_factory=no_camera)
    window = QMainWindow()
    qtbot.addWidget(window)
    window.setCentralWidget(door)
    door.enter_kiosk_mode(window)
    assert window.isFullScreen()
    assert window.windowFlags() & Qt.WindowType.FramelessWindowHint
    assert door.staff_button.isVisible() and door.gate.isReadOnly()

    qtbot.keyClick(window, Qt.Key.Key_Escape)
    qtbot.keyClick(window, Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier)
    assert window.close() is False
    assert window.isVisible() and door.kiosk.refused >= 2

    door.edit_gate()  # settings need the PIN too
    dialog = door.kiosk.dialog
    assert dialog.isVisible() and not door.gate.hasFocus()
    qtbot.keyClicks(dialog.field, "1234")
    qtbot.keyClick(dialog.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Wrong PIN" in dialog.message.text(), timeout=3000)
    assert dialog.isVisible()
    assert door.kiosk.locked and window.close() is False

    # The PIN for the gate opens the gate list once; the kiosk stays locked.
    qtbot.keyClicks(dialog.field, door_ctx.config.kiosk_pin)
    qtbot.keyClick(dialog.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: door.gate.view().isVisible(), timeout=3000)
    door.gate.hidePopup()
    assert door.kiosk.locked and window.isFullScreen() and door.gate.isReadOnly()
    assert window.close() is False

    dialog = door.kiosk.ask_pin()  # leaving kiosk mode: the same PIN unlocks
    qtbot.keyClicks(dialog.field, door_ctx.config.kiosk_pin)
    qtbot.keyClick(dialog.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not door.kiosk.locked, timeout=3000)
    assert not window.isFullScreen()
    assert not door.gate.isReadOnly()
    assert window.close() is True


def test_main_window_kiosk_shows_only_the_door(qtbot, door_ctx):
    from app.ui import tasks
    from app.ui.main import MainWindow

    window = MainWindow(door_ctx, door_options={"source_factory": no_camera})
    qtbot.addWidget(window)
    try:
        qtbot.waitUntil(lambda: window.door.is_ready, timeout=15000)
        window.door.enter_kiosk_mode(window)
        assert window.isFullScreen() and not window.tabs.tabBar().isVisible()
        window.tabs.setCurrentWidget(window.lineup)  # Ctrl+Tab and friends
        assert window.tabs.currentWidget() is window.door
        assert window.close() is False

        dialog = window.door.kiosk.ask_pin()
        qtbot.keyClicks(dialog.field, door_ctx.config.kiosk_pin)
        qtbot.keyClick(dialog.field, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: window.tabs.tabBar().isVisible(), timeout=2000)
        window.tabs.setCurrentWidget(window.lineup)
        assert window.tabs.currentWidget() is window.lineup
        qtbot.waitUntil(lambda: not window._pending, timeout=15000)
    finally:
        for service in door_ctx.services:
            service.stop()
        tasks.shutdown(wait=True)
        QApplication.processEvents()  # answers still queued reach their screens, still alive
