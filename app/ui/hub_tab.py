"""The Venue hub screen (organizers and admins): start this laptop as the venue hub, show a
join QR with its typed code for each kiosk, see who joined, revoke a kiosk.

Everything the hub does (start PostgreSQL, relay, make codes, read its state) runs off the UI
thread through ``run_task``; the screen refreshes its state every few seconds while shown.
"""

from __future__ import annotations

from typing import Any

from app.ui.qt import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QImage,
    QLabel,
    QPixmap,
    QPushButton,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from app.ui.tasks import run_task

REFRESH_MS = 3000
QR_PIXELS = 280
ROLES = (("Door kiosk", "door"), ("Producer / backstage", "producer"))


def qr_image(payload: str) -> QImage:
    """The join QR as an image (black on white, 4-module quiet zone)."""
    import io

    import qrcode

    buffer = io.BytesIO()
    qrcode.make(payload, border=4, box_size=8).save(buffer, format="PNG")
    image = QImage()
    image.loadFromData(buffer.getvalue(), "PNG")
    return image


class VenueHubTab(QWidget):
    def __init__(self, ctx: Any, service: Any = None) -> None:
        super().__init__()
        self.ctx = ctx
        if service is None:
            from app.sync.hub.service import HubService

            service = HubService(ctx.config, ctx.db, ctx.event_id, ctx.device_id)
        self.service = service
        self.state: Any = None
        self.code: Any = None
        self.busy = False

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.headline = QLabel("Venue hub: checking…")
        self.headline.setObjectName("hubHeadline")
        self.headline.setWordWrap(True)
        self.headline.setStyleSheet("font-size: 18px; font-weight: bold;")
        self.start_button = QPushButton("&Start venue hub")
        self.start_button.setToolTip(
            "Doors on this venue's network see each other's scans through this laptop, with "
            "or without internet"
        )
        self.start_button.clicked.connect(self.toggle)
        top.addWidget(self.headline, 1)
        top.addWidget(self.start_button)
        layout.addLayout(top)
        self.problem = QLabel("")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #8a1c00; font-weight: bold;")
        self.problem.hide()
        layout.addWidget(self.problem)

        join = QGroupBox("Join a kiosk")
        join_layout = QHBoxLayout(join)
        self.qr = QLabel()
        self.qr.setObjectName("hubQr")
        self.qr.setFixedSize(QR_PIXELS, QR_PIXELS)
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr.setAccessibleName("join QR code")
        join_layout.addWidget(self.qr)
        side = QVBoxLayout()
        role_row = QHBoxLayout()
        role_label = QLabel("&Kiosk type")
        self.role = QComboBox()
        for label, value in ROLES:
            self.role.addItem(label, value)
        role_label.setBuddy(self.role)
        role_row.addWidget(role_label)
        role_row.addWidget(self.role, 1)
        side.addLayout(role_row)
        self.code_button = QPushButton("&New join code")
        self.code_button.clicked.connect(self.new_code)
        side.addWidget(self.code_button)
        self.typed = QLabel("")
        self.typed.setObjectName("hubTypedCode")
        self.typed.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.typed.setStyleSheet("font-family: monospace; font-size: 22px; font-weight: bold;")
        side.addWidget(self.typed)
        self.how = QLabel(
            "Start the hub, then make one code per kiosk. On the kiosk: scan the QR at its door "
            "camera, or type the address and the code on its Sync screen. A code works once, "
            "for 15 minutes."
        )
        self.how.setWordWrap(True)
        side.addWidget(self.how)
        side.addStretch(1)
        join_layout.addLayout(side, 1)
        layout.addWidget(join)

        kiosks = QGroupBox("Kiosks that joined")
        kiosk_layout = QVBoxLayout(kiosks)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Kiosk", "Type", "State", "Device"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        kiosk_layout.addWidget(self.table)
        self.revoke_button = QPushButton("&Revoke selected kiosk")
        self.revoke_button.clicked.connect(self.revoke_selected)
        kiosk_layout.addWidget(self.revoke_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(kiosks, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self._show(None)
        self.refresh()

    # --- state ------------------------------------------------------------------------------

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.timer.start()
        self.refresh()

    def hideEvent(self, event) -> None:  # noqa: N802
        super().hideEvent(event)
        self.timer.stop()

    def refresh(self) -> None:
        if not self.busy:
            run_task(self.service.state, self._show, self._failed)

    def _show(self, state: Any) -> None:
        self.state = state
        running = bool(state is not None and state.running)
        self.headline.setText(state.headline() if state is not None else "Venue hub: off")
        self.start_button.setText("&Stop venue hub" if running else "&Start venue hub")
        self.start_button.setEnabled(not self.busy)
        self.code_button.setEnabled(running and not self.busy)
        self.revoke_button.setEnabled(running and not self.busy)
        problem = state.problem if state is not None and running else None
        self.problem.setVisible(bool(problem))
        self.problem.setText(f"Internet: {problem}" if problem else "")
        if not running:
            self.qr.clear()
            self.qr.setText("No join code yet")
            self.typed.setText("")
            self.code = None
        kiosks = state.kiosks if state is not None else []
        self.table.setRowCount(len(kiosks))
        for row, kiosk in enumerate(kiosks):
            words = (
                "revoked"
                if kiosk.get("revoked_at")
                else "connected"
                if kiosk.get("connected")
                else "away"
            )
            for column, text in enumerate(
                (kiosk["name"], kiosk["staff_role"], words, kiosk["device_id"])
            ):
                item = QTableWidgetItem(str(text))
                item.setData(Qt.ItemDataRole.UserRole, kiosk["device_id"])
                self.table.setItem(row, column, item)

    def _failed(self, exc: BaseException) -> None:
        from app.errors import explain

        self.busy = False
        self.problem.setText(f"The venue hub: {explain(exc)}")
        self.problem.show()
        self.start_button.setEnabled(True)

    # --- actions ------------------------------------------------------------------------------

    def toggle(self) -> None:
        running = bool(self.state is not None and self.state.running)
        self.busy = True
        self.start_button.setEnabled(False)
        self.headline.setText("Venue hub: stopping…" if running else "Venue hub: starting…")
        work = self.service.stop if running else self.service.start

        def done(state: Any) -> None:
            self.busy = False
            self._show(state)

        run_task(work, done, self._failed)

    def new_code(self) -> None:
        role = self.role.currentData()

        def done(code: Any) -> None:
            self.code = code
            self.qr.setPixmap(
                QPixmap.fromImage(qr_image(code.payload)).scaled(
                    QR_PIXELS,
                    QR_PIXELS,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.FastTransformation,
                )
            )
            until = code.expires_at.astimezone().strftime("%H:%M")
            self.typed.setText(
                f"{code.typed}\n{', '.join(code.addresses)} · port {code.port} · until {until}"
            )

        run_task(lambda: self.service.new_code(role), done, self._failed)

    def revoke_selected(self) -> None:
        rows = {index.row() for index in self.table.selectedIndexes()}
        if not rows:
            self.problem.setText("Select the kiosk to revoke in the list first.")
            self.problem.show()
            return
        item = self.table.item(min(rows), 0)
        device = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if device:
            run_task(lambda: self.service.revoke(device), lambda _n: self.refresh(), self._failed)

    def stop(self) -> None:
        """At window close: a running hub stops with the app (kiosks fall back to the server)."""
        self.timer.stop()
        if self.state is not None and self.state.running:
            self.service.stop()
