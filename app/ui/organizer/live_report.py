"""A screen that shows a report read from the replica and keeps it current while on screen.

The organizer's charts and the audit trail both read on a worker thread of ``app.ui.tasks``
(a read-only session beside the serial DB worker, so a report never queues in front of a door
scan) and draw on the UI thread. This base holds what they share: a read when first shown,
when the tables the screen watches change (a burst of scans is one read) and every
``refresh_seconds`` while on screen, none while hidden (the next showing reads instead); one
read at a time, a change meanwhile asking for one more.

A subclass names its tables (``WATCHED_TABLES``) and its words (``WHAT``), and implements
``read_job`` (on the UI thread: a function for the worker), ``draw`` (the result, UI thread),
``has_report`` and ``first_focus``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from app.errors import explain
from app.ui.qt import QApplication, QLabel, QTimer, QWidget, Signal
from app.ui.tasks import run_task

log = logging.getLogger(__name__)

CHANGE_DELAY_MS = 1000  # a burst of scans is one refresh


class LiveReport(QWidget):
    loaded = Signal(object)  # the report, after it is drawn
    failed = Signal(str)

    WATCHED_TABLES: frozenset[str] = frozenset()
    WHAT = "the report"  # in "Could not read the report: …"

    status: QLabel  # the subclass's status line: "Loading…" and failures go there

    def __init__(self, ctx: Any, refresh_seconds: float) -> None:
        super().__init__()
        self.ctx = ctx
        self._busy = False
        self._again = False
        self._stale = True
        self._closed = False
        self._changed = QTimer(self)
        self._changed.setSingleShot(True)
        self._changed.setInterval(CHANGE_DELAY_MS)
        self._changed.timeout.connect(self.refresh)
        self._ticker = QTimer(self)
        self._ticker.setInterval(int(refresh_seconds * 1000))
        self._ticker.timeout.connect(self.periodic_refresh)
        ctx.events.changed.connect(self._data_changed)
        ctx.services.append(self)

    # --- what a subclass provides ------------------------------------------------------------
    def read_job(self) -> Callable[[], Any]:
        """On the UI thread: the read to run on the worker, with the screen's current
        choices bound in."""
        raise NotImplementedError

    def draw(self, report: Any) -> None:
        raise NotImplementedError

    def has_report(self) -> bool:
        raise NotImplementedError

    def first_focus(self) -> QWidget:
        """Where the keyboard goes when the screen is shown, so its shortcuts work at once."""
        raise NotImplementedError

    def periodic_refresh(self) -> None:
        self.refresh()

    # --- refreshing --------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._closed:
            return
        self.before_first_read()
        focus = QApplication.focusWidget()
        if focus is None or not self.isAncestorOf(focus):
            self.first_focus().setFocus()
        self._ticker.start()
        if self._stale or not self.has_report():
            self.refresh()

    def before_first_read(self) -> None:
        """Called on each showing before any read (the charts build themselves here)."""

    def hideEvent(self, event) -> None:  # noqa: N802
        super().hideEvent(event)
        self._ticker.stop()  # nobody is looking: refresh on the next showing instead

    def _data_changed(self, tables: set[str]) -> None:
        if self._closed or not tables & self.WATCHED_TABLES:
            return
        self._stale = True
        if self.isVisible():
            self._changed.start()

    def refresh(self) -> None:
        """Read on a worker thread; draw when it comes back."""
        if self._closed:
            return
        if self._busy:
            self._again = True
            return
        self._busy, self._again, self._stale = True, False, False
        job = self.read_job()
        if not self.has_report():
            self.status.setText("Loading…")
        run_task(job, self._read, self._failed)

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def closed(self) -> bool:
        return self._closed

    def _finished(self) -> None:
        self._busy = False
        if self._again and not self._closed:
            self.refresh()

    def _failed(self, exc: BaseException) -> None:
        log.error("reading %s failed: %r", self.WHAT, exc)
        message = f"Could not read {self.WHAT}: {explain(exc)}"
        if not self._closed:
            self.status.setText(message)
            self.failed.emit(message)
        self._finished()

    def _read(self, report: Any) -> None:
        if self._closed:
            return
        self.draw(report)
        self._finished()
        self.loaded.emit(report)

    # --- shutdown ---------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop refreshing (at exit; in tests)."""
        if self._closed:
            return
        self._closed = True
        self._changed.stop()
        self._ticker.stop()
        try:
            self.ctx.events.changed.disconnect(self._data_changed)
        except (RuntimeError, TypeError):
            pass
