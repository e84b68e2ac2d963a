"""Start-up waits for the door alone: the other screens are built when first shown, or in the
background once the door is ready, and keep their tab, label and order either way."""

from __future__ import annotations

from app.ui.qt import QApplication, Qt
from tests.door_ui.conftest import no_camera

LABELS = ["&Door", "&Lineup", "&Call times", "&Organizer", "&Audit trail", "Venue &hub", "S&ync"]


def _labels(window) -> list[str]:
    return [window.tabs.tabText(i) for i in range(window.tabs.count())]


def test_door_first_then_every_screen_in_its_place(qtbot, door_ctx):
    from app.ui import tasks
    from app.ui.calltimes import CallTimesTab
    from app.ui.hub_tab import VenueHubTab
    from app.ui.lineup import LineupTab
    from app.ui.main import MainWindow
    from app.ui.organizer import OrganizerTab
    from app.ui.organizer.audit_tab import AuditTab
    from app.ui.sync_panel import SyncTab

    window = MainWindow(door_ctx, door_options={"source_factory": no_camera})
    qtbot.addWidget(window)
    try:
        # Built with the window: the door only; the rest are placeholders in the tab bar.
        assert _labels(window) == LABELS
        assert set(window._pending) == {"lineup", "calltimes", "organizer", "audit", "hub", "sync"}
        window.show()

        # A person opens a screen before the background build got to it: built then, in place.
        window.tabs.setCurrentIndex(2)
        assert isinstance(window.tabs.currentWidget(), CallTimesTab)
        assert window.tabs.currentIndex() == 2 and _labels(window) == LABELS
        assert window.tabs.currentWidget() is window.calltimes

        window.tabs.setCurrentWidget(window.door)
        qtbot.waitUntil(lambda: window.door.is_ready, timeout=15000)
        qtbot.waitUntil(lambda: not window._pending, timeout=15000)  # the background build
        kinds = [type(window.tabs.widget(i)) for i in range(window.tabs.count())]
        assert kinds[1:] == [LineupTab, CallTimesTab, OrganizerTab, AuditTab, VenueHubTab, SyncTab]
        assert _labels(window) == LABELS
        assert window.tabs.currentWidget() is window.door  # nobody was moved off the door

        # The keyboard still reaches every rebuilt tab by its mnemonic.
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
        qtbot.keyClick(window.door, Qt.Key.Key_Y, Qt.KeyboardModifier.AltModifier)
        assert window.tabs.currentWidget() is window.sync
    finally:
        window.door.stop()
        tasks.shutdown(wait=True)
