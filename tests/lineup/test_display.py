"""The show display: advance by key on both windows, survives the control window, one instance."""

from __future__ import annotations

import pytest

from app.store import lineup_store
from app.ui import show_display
from app.ui.qt import QGuiApplication, QMainWindow, Qt

from .conftest import outbox

pytestmark = pytest.mark.gui


def walked(ctx, show_id) -> list[int]:
    lineup = lineup_store.load_lineup(ctx.db, show_id)
    return [i + 1 for i, a in enumerate(lineup.order) if a.status == "walked"]


def test_space_on_the_display_sends_the_next_look_and_saves_it(qtbot, make_tab, ctx):
    tab = make_tab()
    tab.set_mode("show")
    display = tab.open_display()
    assert display.isVisible() and display.isFullScreen()
    assert "Not started" in display.now_panel.model.text()
    qtbot.keyClick(display, Qt.Key.Key_Space)
    assert display.now_panel.number.text().startswith("LOOK 1")
    assert display.deck_panel.number.text() == "LOOK 2"
    assert display.next_rows[0].text().startswith("3  ")
    qtbot.keyClick(display, Qt.Key.Key_PageDown)
    qtbot.keyClick(display, Qt.Key.Key_Right)
    assert display.now_panel.number.text() == "LOOK 3"
    qtbot.keyClick(display, Qt.Key.Key_Backspace)
    assert display.now_panel.number.text() == "LOOK 2"
    # Four appearance writes (walk 1, 2, 3, then 3 stepped back) run in order on the DB worker:
    # wait for the last of them, not for a state an earlier write already matched.
    qtbot.waitUntil(lambda: len(outbox(ctx.db)) == 5)
    assert walked(ctx, tab.show_id) == [1, 2]
    tables = [e.table_name for e in outbox(ctx.db)]
    assert tables.count("runway_shows") == 1 and tables.count("runway_appearances") == 4
    assert "Elapsed" in display.elapsed.text() and display.delta.text().strip()


def test_keys_on_the_board_in_show_mode_drive_the_display(qtbot, make_tab, ctx):
    tab = make_tab()
    tab.set_mode("show")
    tab.view.setFocus()
    qtbot.keyClick(tab.view, Qt.Key.Key_Space)  # opens the display and sends look 1
    display = show_display.current_display()
    assert display is not None and display.runner.run.current_index == 0
    qtbot.keyClick(tab.view, Qt.Key.Key_PageDown)
    assert display.runner.run.current_index == 1
    qtbot.keyClick(tab.view, Qt.Key.Key_PageUp)
    assert display.runner.run.current_index == 0
    qtbot.waitUntil(lambda: walked(ctx, tab.show_id) == [1])
    qtbot.waitUntil(lambda: tab.selected_id() == display.runner.run.current.id)


def test_closing_the_control_window_leaves_the_display_running(qtbot, make_tab, ctx):
    tab = make_tab()
    window = QMainWindow()
    qtbot.addWidget(window)
    window.setCentralWidget(tab)
    window.show()
    tab.set_mode("show")
    display = tab.open_display()
    qtbot.keyClick(display, Qt.Key.Key_Space)
    window.close()
    assert not window.isVisible()
    assert display.isVisible() and display.timer.isActive()
    assert display.testAttribute(Qt.WidgetAttribute.WA_QuitOnClose)
    assert display.parent() is None
    qtbot.keyClick(display, Qt.Key.Key_Space)
    assert display.now_panel.number.text() == "LOOK 2"
    qtbot.waitUntil(lambda: walked(ctx, tab.show_id) == [1, 2])


def test_a_second_open_focuses_the_same_window(make_tab):
    tab = make_tab()
    first = tab.open_display()
    second = tab.open_display()
    assert first is second is show_display.current_display()
    visible = [
        w
        for w in QGuiApplication.topLevelWindows()
        if w.isVisible() and "show display" in w.title()
    ]
    assert len(visible) == 1


def test_escape_asks_before_closing(qtbot, make_tab):
    tab = make_tab()
    display = tab.open_display()
    display.confirm_close = lambda: False
    qtbot.keyClick(display, Qt.Key.Key_Escape)
    display.close()  # a window-manager close is refused too
    assert display.isVisible()
    display.confirm_close = lambda: True
    qtbot.keyClick(display, Qt.Key.Key_Escape)
    assert not display.isVisible() and show_display.current_display() is None


def test_screen_choice_prefers_another_screen():
    screens = QGuiApplication.screens()
    control = screens[0]
    assert show_display.pick_screen(screens, control) is (
        screens[1] if len(screens) > 1 else control
    )
    assert show_display.pick_screen([], None) is None


def test_screen_removed_moves_the_display_without_crashing(qtbot, make_tab):
    tab = make_tab()
    display = tab.open_display()
    other = object()
    display._on_screen_removed(other)  # another screen went away: nothing to do
    assert display.isVisible()
    display._on_screen_removed(display.screen())  # ours: move to what remains (if anything)
    assert display.isVisible()
    qtbot.keyClick(display, Qt.Key.Key_Space)
    assert display.now_panel.number.text().startswith("LOOK 1")
