"""Joining this kiosk to a venue hub: the QR's text (scanned at the door camera or pasted), or
the hub's address and the typed code from the hub's screen. The join runs off the UI thread
(``app.sync.hub.join.join_and_keep``); then sync restarts with the hub beside the server."""

from __future__ import annotations

from typing import Any

from app.ui.qt import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from app.ui.tasks import run_task


def join_and_restart(ctx: Any, text: str, address: str | None) -> Any:
    """Worker-thread work: join, put the new settings in this run's config, restart sync."""
    from app.sync.hub.join import join_and_keep
    from app.ui.sync_panel import sync_service

    credential = join_and_keep(text, address, ctx.config)
    ctx.config.hub_addresses = ",".join(credential.addresses)
    ctx.config.hub_port = credential.port
    ctx.config.hub_login = credential.login
    ctx.config.hub_certificate = credential.certificate
    for service in list(ctx.services):
        if hasattr(service, "restart"):
            service.restart()
            break
    else:
        sync_service(ctx)
    return credential


class JoinHubDialog(QDialog):
    joined = Signal(object)

    def __init__(self, ctx: Any, payload: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Join the venue hub")
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Scan the hub's QR at the door camera, or type what the hub's screen shows: its "
            "address and the join code."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.code = QLineEdit(payload)
        self.code.setPlaceholderText("ABCD-EFGH-JKMN-1a2b3c4d")
        self.code.setAccessibleName("join code")
        self.address = QLineEdit()
        self.address.setPlaceholderText("192.168.1.20")
        self.address.setAccessibleName("hub address")
        form.addRow("Join &code", self.code)
        form.addRow("Hub &address", self.address)
        layout.addLayout(form)
        self.find_button = QPushButton("&Find the hub on this network")
        self.find_button.setToolTip(
            "Listens for the hub for 2 seconds (mDNS); the address on the hub's screen always works"
        )
        self.find_button.clicked.connect(self.find)
        layout.addWidget(self.find_button)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setObjectName("joinMessage")
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Join")
        self.buttons.accepted.connect(self.join)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.address.setVisible(not payload.startswith("showdesk-hub:"))
        self.code.setFocus()

    def find(self) -> None:
        from app.sync.hub.discovery import browse

        self.find_button.setEnabled(False)
        self.message.setText("Listening for the venue hub…")
        run_task(browse, self._found, self._failed)

    def _found(self, result: Any) -> None:
        self.find_button.setEnabled(True)
        if not result.hubs:
            self.message.setText(
                f"No venue hub heard ({result.problem}). Type the address shown on the hub's "
                "screen."
            )
            return
        hub = result.hubs[0]
        self.address.setText(f"{hub.addresses[0]}:{hub.port}")
        self.message.setText(
            f"Found {hub.name} at {hub.addresses[0]}. Type the join code from its screen."
        )

    def join(self) -> None:
        text = self.code.text().strip()
        address = self.address.text().strip() or None
        self.buttons.setEnabled(False)
        self.message.setText("Joining…")
        ctx = self.ctx
        run_task(lambda: join_and_restart(ctx, text, address), self._done, self._failed)

    def _done(self, credential: Any) -> None:
        self.message.setText(
            f"Joined the venue hub at {credential.addresses[0]}:{credential.port} as a "
            f"{credential.role} kiosk."
        )
        self.joined.emit(credential)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        from app.errors import explain

        self.buttons.setEnabled(True)
        self.find_button.setEnabled(True)
        self.message.setText(explain(exc) if not _is_problem(exc) else str(exc))


def _is_problem(exc: BaseException) -> bool:
    from app.secrets import SecretsUnavailable
    from app.sync.hub.server import HubProblem

    return isinstance(exc, HubProblem | SecretsUnavailable)
