"""The sync indicator (every screen) and the Sync tab.

Sync itself runs on the runner's threads; its status comes here through a queued Qt signal.
Local changes announced with ``ctx.notify(...)`` poke the runner, so a scan is pushed at once
while the server is reachable.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from app.store.models import Event
from app.sync import reports
from app.sync.status import QueueCounts, SyncStatus, ago, plural
from app.ui.context import AppContext
from app.ui.qt import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QObject,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    Signal,
)
from app.ui.tasks import run_db, run_task

COLOURS = {
    "ok": "#1b8a3a",
    "working": "#c98a00",
    "offline": "#b00020",
    "problem": "#b00020",
    "local": "#666666",
}
WORDS = {
    "ok": "Synced",
    "working": "Syncing",
    "offline": "Offline",
    "problem": "Attention",
    "local": "Offline only",
}
OFFLINE_ONLY = (
    "This device works offline only: no sync server is set up, so check-ins and edits stay "
    "on this computer. To sync with the event's server, run 'showdesk provision CODE' with "
    'the provisioning code from the organizer, or set backend = "supabase" with '
    "supabase_url, supabase_key and supabase_email in the settings file (or the "
    "SHOWDESK_BACKEND, SHOWDESK_SUPABASE_URL, … environment variables); the password goes "
    "into the secret store: write it once as supabase_password and Showdesk moves it there."
)


class _Bridge(QObject):
    status = Signal(object)  # SyncStatus, delivered on the UI thread (queued)
    pulled = Signal(object)  # set[str] of tables changed by a pull


class SyncService:
    """Owns the background runner for the app; stopped at exit (it is in ``ctx.services``)."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.bridge = _Bridge()
        self.problem: str | None = None
        self.runner = None
        self.last: SyncStatus | None = None
        self._own_notify = False
        self.bridge.pulled.connect(self._announce_pulled)
        self.bridge.status.connect(self._remember)
        ctx.events.changed.connect(self._local_change)
        self._start_runner()

    def _start_runner(self) -> None:
        from app.sync.backends import SyncError
        from app.sync.runner import build_runner

        ctx = self.ctx
        self.problem = None
        try:
            self.runner = build_runner(ctx.config, ctx.db, ctx.event_id, ctx.device_id)
        except SyncError as exc:
            self.problem = str(exc)
        if self.runner is not None:
            self.runner.add_listener(self.bridge.status.emit)
            self.runner.add_change_listener(self.bridge.pulled.emit)
            self.runner.start()

    def restart(self) -> None:
        """The settings changed (this kiosk joined or left a venue hub): sync with the new ones.
        Stopping waits for a running sync to finish its transaction: call off the UI thread."""
        if self.runner is not None:
            self.runner.stop()
            self.runner = None
        self._start_runner()

    @property
    def configured(self) -> bool:
        return self.runner is not None

    def _remember(self, status: SyncStatus) -> None:
        self.last = status

    def _announce_pulled(self, tables: set[str]) -> None:
        self._own_notify = True
        try:
            self.ctx.notify(*tables)
        finally:
            self._own_notify = False

    def _local_change(self, tables: set[str]) -> None:
        if not self._own_notify and self.runner is not None and tables - {"sync_conflicts"}:
            self.runner.poke()

    def sync_now(self) -> None:
        if self.runner is not None:
            self.runner.sync_now()

    def stop(self) -> None:
        if self.runner is not None:
            self.runner.stop()


def sync_service(ctx: AppContext) -> SyncService:
    """The app's one SyncService (created and started on first use)."""
    for service in ctx.services:
        if isinstance(service, SyncService):
            return service
    service = SyncService(ctx)
    ctx.services.append(service)
    return service


class SyncIndicator(QWidget):
    """Dot + words: connection, queue length, age of the last sync, clock warning.

    The queue is QueueWatch's, the same count the Sync tab and the door's badge show.
    """

    def __init__(self, ctx: AppContext) -> None:
        from app.ui.queue_watch import queue_watch

        super().__init__()
        self.ctx = ctx
        self.service = sync_service(ctx)
        self.watch = queue_watch(ctx)
        self.status: SyncStatus | None = None
        self.dot = QLabel("●")
        self.dot.setAccessibleName("Sync state")
        self.text = QLabel("Sync: starting…")
        self.text.setAccessibleName("Sync status")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.dot)
        layout.addWidget(self.text, 1)
        self.watch.changed.connect(self.show_status)
        self.watch.tick.connect(self._tick)  # keeps "12 s ago" true
        if self.watch.status is not None:  # the queue was read before this widget existed
            self.show_status(self.watch.status)
        if self.service.problem:
            self.text.setText(f"Sync is not working: {self.service.problem}")

    def show_status(self, status: SyncStatus) -> None:
        self.status = status
        self._render()

    def _tick(self) -> None:
        if self.status is not None:
            self._render()

    def _render(self) -> None:
        status = self.status
        level = "problem" if self.service.problem else status.level
        colour = COLOURS[level]
        self.dot.setStyleSheet(f"color: {colour}; font-size: 16px;")
        self.dot.setToolTip(WORDS[level])
        if status.backend is None:
            text = (
                f"Sync is not working: {self.service.problem}"
                if self.service.problem
                else "Offline only — no sync server set up"
            )
            if status.pending:
                text += f" ({plural(status.pending, 'local change')})"
        else:
            text = status.summary()
        self.text.setText(text)
        self.text.setStyleSheet(f"color: {colour};" if level in ("offline", "problem") else "")


class SyncTab(QWidget):
    """Status, queue, dead letters (retry / discard), conflicts, double-entry report."""

    def __init__(self, ctx: AppContext) -> None:
        from app.ui.queue_watch import queue_watch

        super().__init__()
        self.ctx = ctx
        self.service = sync_service(ctx)
        self.watch = queue_watch(ctx)
        self.status: SyncStatus | None = None
        self._shown_problems: tuple[int, int] | None = None
        self.tz = ZoneInfo("UTC")
        self.confirm = self._ask  # replaced in tests that do not click a dialog

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.summary = QLabel("Sync: starting…")
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("font-size: 16px; font-weight: bold;")
        self.sync_button = QPushButton("Sync now")
        self.sync_button.clicked.connect(self._sync_now)
        top.addWidget(self.summary, 1)
        top.addWidget(self.sync_button)
        layout.addLayout(top)
        self.clock = QLabel("")
        self.clock.setStyleSheet("color: #b00020; font-weight: bold;")
        self.clock.hide()
        layout.addWidget(self.clock)
        self.details = QLabel("")
        self.details.setWordWrap(True)
        layout.addWidget(self.details)
        self.offline_note = QLabel(OFFLINE_ONLY)
        self.offline_note.setWordWrap(True)
        layout.addWidget(self.offline_note)
        self.offline_note.setVisible(not self.service.configured)
        self.sync_button.setEnabled(self.service.configured)
        # Where secrets are kept (read on a worker: a keyring can take a while to answer).
        self.secrets_line = QLabel("Secrets: checking where they are kept…")
        self.secrets_line.setObjectName("secretsLine")
        self.secrets_line.setWordWrap(True)
        layout.addWidget(self.secrets_line)
        run_task(_secrets_status, self._show_secrets, self._secrets_failed)
        enrol = QHBoxLayout()
        self.enrol_kiosk_button = QPushButton("Enrol a kiosk…")
        self.enrol_kiosk_button.setToolTip(
            "Organizers and admins: a single-use code (QR and typed) for a new kiosk"
        )
        self.enrol_kiosk_button.setEnabled(self.service.configured)
        self.enrol_kiosk_button.clicked.connect(self.open_enrol_kiosk)
        self.enrol_device_button = QPushButton("Enrol this device…")
        self.enrol_device_button.setToolTip("Use a code from the organizer to sync this device")
        self.enrol_device_button.clicked.connect(self.open_enrol_device)
        self.join_hub_button = QPushButton("Join venue hub…")
        self.join_hub_button.setToolTip(
            "Doors see each other's scans with no internet: the hub's address and join code"
        )
        self.join_hub_button.clicked.connect(self.open_join_hub)
        enrol.addWidget(self.enrol_kiosk_button)
        enrol.addWidget(self.enrol_device_button)
        enrol.addWidget(self.join_hub_button)
        enrol.addStretch(1)
        layout.addLayout(enrol)

        self.queue = QLabel("")
        box = QGroupBox("Waiting to upload")
        QVBoxLayout(box).addWidget(self.queue)
        layout.addWidget(box)

        box = QGroupBox("Refused by the server (dead letters)")
        inner = QVBoxLayout(box)
        self.dead_table = _table(["What", "Why it was refused", "When", "Tries"])
        inner.addWidget(self.dead_table)
        buttons = QHBoxLayout()
        self.retry_button = QPushButton("Retry selected")
        self.discard_button = QPushButton("Discard selected…")
        self.retry_button.clicked.connect(self._retry)
        self.discard_button.clicked.connect(self._discard)
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.discard_button)
        buttons.addStretch(1)
        inner.addLayout(buttons)
        layout.addWidget(box)

        box = QGroupBox("Edits that lost to a newer server version (kept here, not lost)")
        self.conflict_table = _table(["Data", "Field", "This device had", "Server has", "When"])
        QVBoxLayout(box).addWidget(self.conflict_table)
        layout.addWidget(box)

        box = QGroupBox("Double entries (one ticket admitted twice)")
        self.double_table = _table(
            ["Ticket", "Guest", "First admitted", "Admitted again", "Which came first"]
        )
        QVBoxLayout(box).addWidget(self.double_table)
        layout.addWidget(box)

        self._dead: list[reports.DeadLetter] = []
        if self.service.problem:
            self.summary.setText(f"Sync is not working: {self.service.problem}")
        elif not self.service.configured:
            self.summary.setText("This device works offline only")
        self.watch.changed.connect(self.show_status)
        self.watch.tick.connect(self._tick)  # "oldest 4 min ago", "last download 12 s ago"
        ctx.events.changed.connect(self._changed)
        self.refresh_tables_only()
        if self.watch.status is not None:  # the queue was read before this tab existed
            self.show_status(self.watch.status)

    # --- secrets and enrolment ---------------------------------------------------------

    def _show_secrets(self, status) -> None:
        self.secrets_line.setText(status.line)
        warn = bool(status.fallback or status.problem)
        self.secrets_line.setProperty("warning", warn)
        self.secrets_line.setStyleSheet(
            f"color: {COLOURS['problem']}; font-weight: bold;" if warn else ""
        )

    def _secrets_failed(self, exc: BaseException) -> None:
        from app.errors import explain

        self.secrets_line.setText(f"Secrets: cannot tell where they are kept ({explain(exc)}).")
        self.secrets_line.setProperty("warning", True)
        self.secrets_line.setStyleSheet(f"color: {COLOURS['problem']}; font-weight: bold;")

    def open_join_hub(self, payload: str = ""):
        from app.ui.hub_join import JoinHubDialog

        self.join_dialog = JoinHubDialog(self.ctx, payload, self)
        self.join_dialog.open()
        return self.join_dialog

    def open_enrol_kiosk(self):
        """The organizer's dialog (not modal: the countdown runs while the tab is used)."""
        from app.ui.enrolment import EnrolKioskDialog

        self.enrol_dialog = EnrolKioskDialog(self.ctx, self)
        self.enrol_dialog.show()
        return self.enrol_dialog

    def open_enrol_device(self):
        from app.ui.enrolment import EnrolDeviceDialog

        self.enrol_device_dialog = EnrolDeviceDialog(
            self.ctx.config, self, source_factory=self.ctx.config.camera_enabled or None
        )
        self.enrol_device_dialog.show()
        return self.enrol_device_dialog

    # --- data -----------------------------------------------------------------------------

    def _changed(self, tables: set[str]) -> None:
        if tables & {"checkins", "outbox", "sync_conflicts", "tickets"}:
            self.refresh()

    def refresh(self) -> None:
        self.refresh_tables_only()
        self.watch.refresh()

    def _show_data(self, data) -> None:
        tz_name, dead, conflicts, doubles = data
        try:
            self.tz = ZoneInfo(tz_name)
        except (KeyError, ValueError):
            self.tz = ZoneInfo("UTC")
        self._dead = dead
        _fill(
            self.dead_table,
            [[d.what, d.reason, self._when(d.created_at), str(d.attempts)] for d in dead],
        )
        self.retry_button.setEnabled(bool(dead))
        self.discard_button.setEnabled(bool(dead))
        rows = []
        for c in conflicts:
            label = c.table_name.replace("_", " ")
            for column, local, server in c.differences or [("(no field differs)", "", "")]:
                rows.append([label, column, _show(local), _show(server), self._when(c.detected_at)])
        _fill(self.conflict_table, rows)
        _fill(
            self.double_table,
            [
                [
                    d.ticket_number or d.ticket_id[:8],
                    d.attendee or "—",
                    d.first.words(self._when),
                    d.second.words(self._when),
                    d.order_uncertain or "Certain",
                ]
                for d in doubles
            ],
        )

    def _when(self, when: datetime | None) -> str:
        return when.astimezone(self.tz).strftime("%d %b %H:%M:%S") if when else "—"

    def show_status(self, status: SyncStatus) -> None:
        self.status = status
        self._render_status()
        problems = (status.dead, status.conflicts)
        if status.backend and problems != self._shown_problems:
            self._shown_problems = problems
            self.refresh_tables_only()  # a sync round refused or lost something: show what

    def _tick(self) -> None:
        if self.status is not None:
            self._render_status()

    def _render_status(self) -> None:
        status = self.status
        now = _utcnow()
        if self.service.problem:
            self.summary.setText(f"Sync is not working: {self.service.problem}")
        else:
            self.summary.setText(
                status.summary(now) if status.backend else "This device works offline only"
            )
        warning = status.clock_warning
        self.clock.setVisible(bool(warning))
        self.clock.setText(warning or "")
        lines = []
        if status.backend:
            lines.append(
                f"Last download {ago(status.last_pull_at, now)}, last upload "
                f"{ago(status.last_push_at, now)}."
            )
        if status.server_words:
            lines.append(f"{status.server_words}.")
        if status.last_error and status.online is False:
            lines.append(f"Last problem: {status.last_error}")
        self.details.setText(" ".join(lines))
        self.queue.setText(queue_words(status, self.watch.queue, self.service.configured, now))

    def refresh_tables_only(self) -> None:
        ctx = self.ctx
        run_db(lambda: _load_panel(ctx), self._show_data)

    # --- actions --------------------------------------------------------------------------

    def _sync_now(self) -> None:
        self.summary.setText("Syncing…")
        run_task(self.service.sync_now)

    def _selected_dead(self) -> list[int]:
        rows = sorted({i.row() for i in self.dead_table.selectionModel().selectedRows()})
        if not rows and len(self._dead) == 1:
            rows = [0]
        return [self._dead[r].seq for r in rows if r < len(self._dead)]

    def _retry(self) -> None:
        seqs = self._selected_dead()
        if not seqs or not self.confirm(f"Send {len(seqs)} refused change(s) to the server again?"):
            return
        ctx = self.ctx

        def work():
            with ctx.db.session() as session:
                return reports.retry_dead(session, seqs)

        run_db(work, lambda _n: (ctx.notify("outbox"), self.service.sync_now()))

    def _discard(self) -> None:
        seqs = self._selected_dead()
        if not seqs or not self.confirm(
            f"Throw away {len(seqs)} refused change(s)? They will never reach the server, "
            "and a check-in thrown away here is removed from this device's log."
        ):
            return
        ctx = self.ctx

        def work():
            with ctx.db.session() as session:
                return reports.discard_dead(session, seqs)

        run_db(work, lambda _n: ctx.notify("outbox", "checkins"))

    def _ask(self, question: str) -> bool:
        answer = QMessageBox.question(
            self, "Showdesk sync", question, QMessageBox.Yes | QMessageBox.No, QMessageBox.No
        )
        return answer == QMessageBox.Yes


def queue_words(
    status: SyncStatus, queue: QueueCounts | None, configured: bool, now: datetime
) -> str:
    """The Sync tab's queue line: the same count as the status bar, with what it holds."""
    if not status.pending:
        if configured:
            return "Nothing waiting: every change made here has been uploaded."
        return "No changes are waiting."
    kinds = f" ({queue.breakdown()})" if queue is not None and queue.by_table else ""
    return (
        f"{plural(status.pending, 'change')} waiting{kinds}; the oldest was made "
        f"{ago(status.oldest_pending_at, now)}."
    )


def _secrets_status():
    from app.secrets import SecretStore

    return SecretStore.default().status()


def _load_panel(ctx: AppContext):
    with ctx.db.session() as session:
        event = session.get(Event, ctx.event_id)
        return (
            event.timezone if event else "UTC",
            reports.dead_letters(session),
            reports.conflicts(session),
            reports.double_entries(session, ctx.event_id),
        )


def _utcnow() -> datetime:
    from app.store.types import utcnow

    return utcnow()


def _show(value) -> str:
    return "—" if value is None else str(value)


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectRows)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
    table.verticalHeader().setVisible(False)
    return table


def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))
