"""The lineup board through its real view: drag and drop, keyboard, undo, edits, show mode."""

from __future__ import annotations

import numpy as np
import pytest

from app.store import lineup_store
from app.ui.lineup.model import MODEL, NOTES, NUM, QUICK, STATUS
from app.ui.qt import QDragEnterEvent, QDragMoveEvent, QDropEvent, QImage, QModelIndex, QPointF, Qt

from .conftest import outbox

pytestmark = [
    pytest.mark.gui,
    # PySide marks the QPoint constructors of drag events deprecated; they are what views get.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


def ids_on_screen(tab) -> list[str]:
    return [tab.model.appearance_at(r).id for r in range(tab.model.rowCount())]


def drop_on_view(tab, source_row: int, target_row: int) -> None:
    """Drag-enter, drag-move and drop events on the viewport, as the mouse would send them."""
    view = tab.view
    mime = tab.model.mimeData([tab.model.index(source_row, 0)])
    rect = view.visualRect(tab.model.index(target_row, 3))
    pos = QPointF(rect.center().x(), rect.top() + 2)  # just below the line above target_row
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    action = Qt.DropAction.MoveAction
    view.dragEnterEvent(QDragEnterEvent(pos.toPoint(), action, mime, buttons, mods))
    view.dragMoveEvent(QDragMoveEvent(pos.toPoint(), action, mime, buttons, mods))
    view.dropEvent(QDropEvent(pos, action, mime, buttons, mods))


def test_board_shows_numbers_status_words_and_quick_changes(make_tab):
    tab = make_tab()
    model = tab.model
    assert model.rowCount() == 12
    assert model.index(0, NUM).data() == "1 OPEN" and model.index(11, NUM).data() == "12 CLOSE"
    assert model.index(0, STATUS).data() == "Pending"
    assert model.index(0, STATUS).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert "quick change" not in tab.summary.text() or "no quick changes" in tab.summary.text()
    assert model.index(0, 2).data(Qt.ItemDataRole.DecorationRole) is not None  # placeholder swatch


def test_drag_and_drop_through_the_view_moves_one_row_and_saves_one_outbox_row(
    qtbot, make_tab, ctx
):
    tab = make_tab()
    before = ids_on_screen(tab)
    moved = before[7]
    drop_on_view(tab, 7, 5)
    after = ids_on_screen(tab)
    assert after[5] == moved and len(after) == 12
    assert after == before[:5] + [moved] + before[5:7] + before[8:]
    qtbot.waitUntil(lambda: len(outbox(ctx.db)) == 1)
    (entry,) = outbox(ctx.db)
    assert entry.row_id == moved and set(entry.payload) == {"id", "order_key"}
    assert [a.id for a in lineup_store.load_lineup(ctx.db, tab.show_id).order] == after


def test_drop_above_the_opening_is_clamped_with_a_message(qtbot, make_tab):
    tab = make_tab()
    moved = ids_on_screen(tab)[3]
    tab.model.dropMimeData(
        tab.model.mimeData([tab.model.index(3, 0)]), Qt.DropAction.MoveAction, 0, 0, QModelIndex()
    )
    assert ids_on_screen(tab)[1] == moved
    assert "opening" in tab.status_line.text()


def test_keyboard_moves_and_move_to_position(qtbot, make_tab, monkeypatch, ctx):
    tab = make_tab()
    before = ids_on_screen(tab)
    tab.select(before[6])
    tab.view.setFocus()
    qtbot.keyClick(tab.view, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert ids_on_screen(tab)[5] == before[6]
    assert tab.selected_id() == before[6]  # selection follows the look
    qtbot.keyClick(tab.view, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    assert ids_on_screen(tab) == before
    from app.ui.lineup import tab as tab_module

    monkeypatch.setattr(tab_module.QInputDialog, "getInt", lambda *a, **k: (3, True))
    qtbot.keyClick(tab.view, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    assert ids_on_screen(tab)[2] == before[6]
    qtbot.waitUntil(lambda: len(outbox(ctx.db)) == 3)


def test_undo_writes_the_old_key_back_through_the_outbox(qtbot, make_tab, ctx):
    tab = make_tab()
    before = ids_on_screen(tab)
    tab.select(before[2])
    tab.move_selected_to(9)
    tab.select(before[4])
    tab.move_selected_by(1)
    assert ids_on_screen(tab) != before
    tab.view.setFocus()
    qtbot.keyClick(tab.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(tab.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert ids_on_screen(tab) == before
    qtbot.waitUntil(lambda: len(outbox(ctx.db)) == 4)
    assert [e.row_id for e in outbox(ctx.db)] == [before[2], before[4], before[4], before[2]]
    assert [a.id for a in lineup_store.load_lineup(ctx.db, tab.show_id).order] == before
    tab.undo()
    assert "Nothing to undo" in tab.status_line.text()


def test_edit_notes_and_model_through_the_model(qtbot, make_tab, ctx, show):
    tab = make_tab()
    model = tab.model
    assert model.setData(model.index(2, NOTES), "Shoes size 39")
    assert model.setData(model.index(2, MODEL), show.models[0])
    assert model.index(2, MODEL).data() == "Ana M0"
    assert not model.setData(model.index(2, MODEL), "not-a-model")
    qtbot.waitUntil(lambda: len(outbox(ctx.db)) == 2)
    assert [set(e.payload) for e in outbox(ctx.db)] == [{"id", "notes"}, {"id", "model_id"}]
    # notes stay the producer's; automatic warnings are in the quick-change column
    qtbot.waitUntil(lambda: model.index(2, NOTES).data() == "Shoes size 39")
    assert model.index(2, QUICK).data() == "QUICK CHANGE: 1 look since look 1, 60 s"


def test_status_steps_and_filter(qtbot, make_tab, ctx):
    tab = make_tab()
    tab.select(ids_on_screen(tab)[4])
    tab.step_status(1)
    tab.step_status(1)
    assert tab.model.index(4, STATUS).data() == "Dressed"
    at = tab.status_filter.findData("dressed")
    tab.status_filter.setCurrentIndex(at)
    visible = [r for r in range(12) if not tab.view.isRowHidden(r)]
    assert visible == [4]
    assert tab.move_selected_by(1) is None and "Clear the filter" in tab.status_line.text()
    tab.status_filter.setCurrentIndex(0)
    assert all(not tab.view.isRowHidden(r) for r in range(12))
    qtbot.waitUntil(lambda: len(outbox(ctx.db)) == 2)


def test_show_mode_locks_rows(qtbot, make_tab, ctx):
    tab = make_tab()
    before = ids_on_screen(tab)
    tab.set_mode("show")
    flags = tab.model.flags(tab.model.index(3, NOTES))
    assert not flags & Qt.ItemFlag.ItemIsDragEnabled and not flags & Qt.ItemFlag.ItemIsEditable
    assert not tab.view.dragEnabled()
    mime = tab.model.mimeData([tab.model.index(3, 0)])
    assert not tab.model.dropMimeData(mime, Qt.DropAction.MoveAction, 8, 0, QModelIndex())
    assert not tab.model.setData(tab.model.index(3, NOTES), "nope")
    tab.select(before[5])
    tab.view.setFocus()
    qtbot.keyClick(tab.view, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert ids_on_screen(tab) == before and "locked" in tab.status_line.text()
    assert outbox(ctx.db) == []
    tab.set_mode("edit")
    assert tab.view.dragEnabled()


def test_reload_in_place_keeps_selection_and_scroll(qtbot, make_tab, ctx):
    tab = make_tab()
    tab.resize(900, 260)
    target = ids_on_screen(tab)[9]
    tab.select(target)
    scroll = tab.view.verticalScrollBar().value()
    assert scroll > 0
    other = lineup_store.load_lineup(ctx.db, tab.show_id)  # another device moved a look
    lineup_store.save_move(ctx.db, other.plan_move(other.at(2).id, 3))
    ctx.notify("runway_appearances")
    qtbot.waitUntil(lambda: ids_on_screen(tab)[3] == other.at(2).id)
    assert tab.selected_id() == target
    assert tab.view.verticalScrollBar().value() == scroll


def test_model_removed_is_shown_in_words(qtbot, make_tab, ctx, db):
    from app.store.models import Model

    with db.session() as s:
        s.get(Model, tab_model_id(ctx, db)).deleted_at = s.get(
            Model, tab_model_id(ctx, db)
        ).updated_at
    tab = make_tab()
    texts = [tab.model.index(r, MODEL).data() for r in range(12)]
    assert "Model removed" in texts
    assert "need a model" in tab.summary.text()


def tab_model_id(ctx, db) -> str:
    lineup = lineup_store.load_lineup(db, lineup_store.list_shows(db, ctx.event_id)[0].id)
    return lineup.at(3).model_id


def test_empty_show_has_a_message(qtbot, db, ctx):
    from app.store.models import RunwayShow
    from app.ui import tasks
    from app.ui.lineup import LineupTab

    with db.session() as s:
        for show in s.query(RunwayShow).all():
            show.name = "Main runway"
        s.add(RunwayShow(event_id=ctx.event_id, name="Zz empty rehearsal"))
    tab = LineupTab(ctx)
    qtbot.addWidget(tab)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 12)
    tab.show_picker.setCurrentIndex(tab.show_picker.findText("Zz empty rehearsal (0 looks)"))
    qtbot.waitUntil(lambda: tab.stack.currentWidget() is tab.empty)
    assert "no looks yet" in tab.empty.text()
    tasks.shutdown(wait=True)


def _pixels(image):
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    data = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    rows = data.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 4]
    return rows.reshape(image.height(), image.width(), 4)[:, :, :3].astype(np.int16)


def _viewport_image(tab):
    tab.view.viewport().repaint()
    return tab.view.viewport().grab().toImage()


def test_cached_cell_pictures_match_cells_drawn_the_ordinary_way(qtbot, make_tab):
    """After drops, a status step, a new selection and a new palette, no picture is stale."""
    from app.ui.qt import QColor, QPalette, QStyledItemDelegate

    tab = make_tab()
    before = ids_on_screen(tab)
    drop_on_view(tab, 7, 2)
    tab.select(before[4])
    tab.step_status(1)
    drop_on_view(tab, 9, 4)
    tab.select(before[9])
    _viewport_image(tab)
    palette = tab.view.palette()
    palette.setColor(QPalette.ColorRole.Highlight, QColor("#C2185B"))
    tab.view.setPalette(palette)  # pictures drawn with the old highlight must go
    cached = _viewport_image(tab)

    plain = QStyledItemDelegate(tab.view)
    for column in (-1, MODEL, 3):
        if column < 0:
            tab.view.setItemDelegate(plain)
        else:
            tab.view.setItemDelegateForColumn(column, plain)
    ordinary = _viewport_image(tab)

    assert cached.size() == ordinary.size()
    a, b = _pixels(cached), _pixels(ordinary)
    differing = int((np.abs(a - b).max(axis=2) > 24).sum())
    # Anti-aliased text over a transparent picture may round differently by a few levels;
    # a stale number, status or highlight differs in hundreds of pixels.
    assert differing < 10, f"{differing} sampled pixels differ"


def test_a_move_is_saved_after_the_paint_or_when_the_board_hides(qtbot, make_tab, ctx):
    tab = make_tab()
    before = ids_on_screen(tab)
    tab.select(before[6])
    tab.move_selected_to(2)
    qtbot.waitUntil(lambda: len(outbox(ctx.db)) == 1)  # painted, then saved
    tab.select(before[8])
    tab.move_selected_to(3)
    tab.hide()  # before any paint: hiding saves at once
    qtbot.waitUntil(lambda: len(outbox(ctx.db)) == 2)
    assert [a.id for a in lineup_store.load_lineup(ctx.db, tab.show_id).order] == ids_on_screen(tab)


def test_a_reload_right_after_a_move_still_shows_the_move(qtbot, make_tab, ctx):
    tab = make_tab()
    before = ids_on_screen(tab)
    tab.select(before[6])
    tab.move_selected_to(1)
    moved = ids_on_screen(tab)
    tab.reload()  # queued behind the save on the one DB worker
    qtbot.waitUntil(lambda: len(outbox(ctx.db)) == 1)
    with qtbot.waitSignal(tab.model.modelReset, timeout=5000):
        tab.reload()
    assert ids_on_screen(tab) == moved


@pytest.mark.parametrize(
    ("kind", "words", "pages"),
    [("lineup", ["Main runway", "Look 1 coat", "Look 12 coat"], 1), ("run-cards", ["Ana M0"], 8)],
)
def test_print_goes_through_the_print_dialog_to_the_printer(
    qtbot, make_tab, tmp_path, kind, words, pages
):
    from pypdf import PdfReader

    from tests.support.dialogs import answer_print_dialog, printer_to_file

    tab = make_tab()
    out = tmp_path / f"{kind}.pdf"
    seen: list[str] = []
    answer_print_dialog(True, seen)
    tab.print_paper(kind, printer_to_file(out))  # its data is read on the DB worker
    qtbot.waitUntil(lambda: "sent to the printer" in tab.status_line.text(), timeout=10_000)
    assert seen == ["Print"]
    reader = PdfReader(str(out))
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    assert len(reader.pages) >= pages
    for word in words:
        assert word in text


def test_cancelled_print_prints_nothing(qtbot, make_tab, tmp_path):
    from tests.support.dialogs import answer_print_dialog, printer_to_file

    tab = make_tab()
    tab.say("")
    out = tmp_path / "never.pdf"
    seen: list[str] = []
    answer_print_dialog(False, seen)
    tab.print_paper("lineup", printer_to_file(out))
    qtbot.waitUntil(lambda: seen == ["Print"], timeout=10_000)  # the dialog came and went
    qtbot.wait(50)
    assert not out.exists() and tab.status_line.text() == ""
