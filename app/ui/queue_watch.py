"""One count of the upload queue for every view: the status bar, the Sync tab, the door's badge.

The sync engine reports connection facts after each round; local changes (scans, lineup,
show, call times) happen between rounds. Every view shows the engine's connection facts with
the queue as it is now, read on the DB worker after any change, so two views never disagree.
A one-second tick lets "last sync 12 s ago" and "oldest 4 min ago" stay true.
"""

from __future__ import annotations

import logging

from app.sync.status import QueueCounts, SyncStatus, read_queue, with_queue
from app.ui.context import AppContext
from app.ui.qt import QObject, QTimer, Signal
from app.ui.tasks import run_db

REFRESH_DELAY_MS = 200  # let a burst of changes (or the next scan) go first on the DB worker
TICK_MS = 1000

log = logging.getLogger(__name__)


class QueueWatch(QObject):
    """``changed(status)`` when the queue or the connection changed; ``tick`` every second."""

    changed = Signal(object)  # SyncStatus with the current queue
    tick = Signal()

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        from app.ui.sync_panel import sync_service

        self.ctx = ctx
        self.service = sync_service(ctx)
        self.queue: QueueCounts | None = None
        self._engine: SyncStatus | None = self.service.last
        self._reading = False
        self._again = False
        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(REFRESH_DELAY_MS)
        self._refresh.timeout.connect(self.refresh)
        self._ticker = QTimer(self)
        self._ticker.setInterval(TICK_MS)
        self._ticker.timeout.connect(self.tick)
        self._ticker.start()
        if self.service.configured:
            self.service.bridge.status.connect(self._engine_status)
        ctx.events.changed.connect(self._local_change)
        self.refresh()

    @property
    def status(self) -> SyncStatus | None:
        """The last status with the current queue; None until the first read lands."""
        if self.queue is None:
            return None
        base = self._engine or SyncStatus(online=None, backend=self._backend_name())
        return with_queue(base, self.queue)

    def _backend_name(self) -> str | None:
        # Before the first sync round: a configured backend is "connecting", not "offline only".
        return self.ctx.config.backend if self.service.configured else None

    def _engine_status(self, status: SyncStatus) -> None:
        self._engine = status
        self.refresh()  # the round may have uploaded or refused some of the queue

    def _local_change(self, _tables: set[str]) -> None:
        self._refresh.start()

    def refresh(self) -> None:
        """Read the queue on the DB worker (at most one read in flight; one more if asked)."""
        if self._reading:
            self._again = True
            return
        self._reading = True
        db = self.ctx.db

        def work() -> QueueCounts:
            with db.session() as session:
                return read_queue(session)

        run_db(work, self._read, self._failed)

    def _read(self, queue: QueueCounts) -> None:
        self._reading = False
        self.queue = queue
        if self._again:
            self._again = False
            self.refresh()
        self.changed.emit(self.status)

    def _failed(self, exc: BaseException) -> None:
        self._reading = False
        log.warning("reading the upload queue failed: %s", exc)

    def stop(self) -> None:
        self._ticker.stop()
        self._refresh.stop()


def queue_watch(ctx: AppContext) -> QueueWatch:
    """The app's one QueueWatch (created on first use, stopped at exit with the services)."""
    for service in ctx.services:
        if isinstance(service, QueueWatch):
            return service
    watch = QueueWatch(ctx)
    ctx.services.append(watch)
    return watch
