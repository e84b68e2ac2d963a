"""Call alerts on a timer: a few minutes before, and at, each call of someone not arrived.

APScheduler's BackgroundScheduler runs ``check_now`` every ``interval_seconds`` on its own
thread. The check itself runs on the DB worker (``app.ui.tasks.run_db``), like every other read
of the screens: it reads the board from the replica (so arrivals synced from other devices
count), asks the domain which alerts are due at the injected clock's time, remembers them so
each fires once, and hands them to ``deliver`` on the UI thread. The scheduler's thread only
waits for that check to finish (one at a time); the UI thread never waits.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime

from app.domain import calltimes as rules
from app.store.calltimes_store import load_board
from app.store.db import Database
from app.ui.tasks import on_main_thread, run_db

log = logging.getLogger(__name__)

_started: weakref.WeakSet[AlertService] = weakref.WeakSet()


def running_services() -> list[AlertService]:
    """Every call-alert scheduler running in this process (a door-only window has none)."""
    return [service for service in list(_started) if service.running]


class AlertService:
    def __init__(
        self,
        db: Database,
        event_id: str,
        clock: Callable[[], datetime],
        deliver: Callable[[list[rules.Alert]], None],
        *,
        alert_minutes: int = 10,
        interval_seconds: float = 15.0,
    ) -> None:
        self.db = db
        self.event_id = event_id
        self.clock = clock
        self.deliver = deliver
        self.alert_minutes = alert_minutes
        self.interval_seconds = interval_seconds
        self.fired: set[tuple[str, str, str]] = set()
        self._lock = threading.Lock()
        self._scheduler = None

    def start(self) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        if self._scheduler is not None:
            return
        # Called on the main thread: this makes sure the dispatcher that carries results back
        # lives there before the scheduler's thread first asks for it.
        on_main_thread(lambda: None)
        scheduler = BackgroundScheduler(daemon=True)
        scheduler.add_job(
            self._job,
            "interval",
            seconds=self.interval_seconds,
            id="call-alerts",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(rules.UTC),
        )
        scheduler.start()
        self._scheduler = scheduler
        _started.add(self)

    def stop(self) -> None:
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=False)

    @property
    def running(self) -> bool:
        return self._scheduler is not None

    def _job(self) -> None:
        try:
            self.check_now().result()
        except Exception:  # a bad tick must not kill the schedule; the next one retries
            log.exception("call alert check failed")

    def check_now(self) -> Future[list[rules.Alert]]:
        """Check on the DB worker: find the alerts due now, mark them fired, and deliver them
        on the UI thread. The future holds the alerts found (or the check's exception)."""
        return run_db(self._check, on_error=lambda _exc: None)

    def _check(self) -> list[rules.Alert]:
        with self.db.session() as session:
            board = load_board(session, self.event_id)
        now = self.clock()
        with self._lock:
            alerts = rules.due_alerts(
                (row.alert_candidate() for row in board.rows),
                now,
                alert_minutes=self.alert_minutes,
                already=self.fired,
                tz=board.tz,
            )
            self.fired.update(alert.key for alert in alerts)
        if alerts:
            on_main_thread(lambda: self.deliver(alerts))
        return alerts
