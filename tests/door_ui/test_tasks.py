"""app.ui.tasks: answers come back on the UI thread, and never to a widget already deleted."""

from __future__ import annotations

import threading

from app.ui import tasks
from app.ui.qt import QLabel, is_alive


def test_the_answer_comes_back_on_the_ui_thread(qtbot):
    where: list[object] = []
    label = QLabel()
    qtbot.addWidget(label)

    def work() -> str:
        where.append(threading.current_thread())
        return "done"

    def answer(text: str) -> None:
        where.append(threading.current_thread())
        label.setText(text)

    tasks.run_db(work, answer)
    qtbot.waitUntil(lambda: label.text() == "done", timeout=5000)
    assert where[0] is not threading.main_thread() and where[1] is threading.main_thread()


class _Screen(QLabel):
    def __init__(self) -> None:
        super().__init__()
        self.answers: list[object] = []

    def show_answer(self, value: object) -> None:
        self.setText(str(value))  # raises RuntimeError on a deleted widget
        self.answers.append(value)

    def show_failure(self, exc: BaseException) -> None:
        self.setText(str(exc))
        self.answers.append(exc)


def test_an_answer_for_a_deleted_screen_is_dropped(qtbot):
    gate = threading.Event()
    kept, deleted = _Screen(), _Screen()
    qtbot.addWidget(kept)

    def slow(value: object):
        def work() -> object:
            gate.wait(5)
            if isinstance(value, Exception):
                raise value
            return value

        return work

    tasks.run_task(slow(1), deleted.show_answer, deleted.show_failure)
    tasks.run_task(slow(ValueError("boom")), deleted.show_answer, deleted.show_failure)
    tasks.run_task(slow(2), kept.show_answer, kept.show_failure)
    deleted.deleteLater()
    qtbot.waitUntil(lambda: not is_alive(deleted), timeout=5000)
    gate.set()
    qtbot.waitUntil(lambda: kept.answers == [2], timeout=5000)
    qtbot.wait(200)  # the deleted screen's answers were dispatched and dropped, not raised
    assert deleted.answers == []
