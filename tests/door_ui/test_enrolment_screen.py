"""The enrolment screens (app/ui/enrolment.py) against the real PostgreSQL: a new kiosk
enrols from a camera frame of the organizer's QR or from the typed code; spent, expired,
withdrawn, unknown and mistyped codes each get their sentence in red; the demo stays one key
away; the organizer's dialog shows a QR that reads back to the same code; the Sync tab says
where secrets are kept; and the screen's text is readable (WCAG AA on rendered pixels)."""

from __future__ import annotations

import json
import tomllib
import uuid
from typing import Any

import numpy as np
import pytest

from app.config import Config, config_path, load_config
from app.ui.enrolment import RED, EnrolmentScreen
from tests.support.contrast import check

pytestmark = [pytest.mark.gui, pytest.mark.postgres]


class Server:
    """One organization's event on the real PostgreSQL, and its organizer's backend."""

    def __init__(self, sdb: Any) -> None:
        from app.sync.backends import PostgresBackend
        from app.sync.enrolment import server_of_dsn

        self.sdb = sdb
        self.org = sdb.create_org("Maison Enrol")
        sdb.create_tickets(self.org, 4)
        self.claims = sdb.claims(self.org, "organizer", sub=str(uuid.uuid4()))
        self.organizer = PostgresBackend(sdb.dsn, "authenticated", self.claims, timeout=5)
        self.server = server_of_dsn(sdb.dsn)

    def invite(self, name: str = "Kiosk 3", gate: str | None = "North door") -> Any:
        from app.sync.enrolment import create_enrolment

        return create_enrolment(
            self.organizer,
            self.server,
            event_id=self.org.event_id,
            role="door",
            device_name=name,
            gate=gate,
        )


@pytest.fixture
def server(supabase_db) -> Any:
    s = Server(supabase_db)
    yield s
    s.organizer.close()


@pytest.fixture
def kiosk_config(tmp_path, supabase_db) -> Config:
    """A new kiosk: its own database login, no enrolment, no replica yet."""
    return Config(
        db=tmp_path / "kiosk.sqlite",
        backend="postgres",
        postgres_dsn=supabase_db.dsn,
        kiosk=True,
        debounce_seconds=1.0,
    )


@pytest.fixture
def screens(qtbot) -> Any:
    from app.ui import tasks

    made: list[EnrolmentScreen] = []

    def make(config: Config, **kwargs: Any) -> EnrolmentScreen:
        kwargs.setdefault("source_factory", None)
        screen = EnrolmentScreen(config, **kwargs)
        qtbot.addWidget(screen)
        screen.resize(1280, 800)
        screen.show()
        made.append(screen)
        return screen

    yield make
    for screen in made:
        screen.stop()
    tasks.shutdown(wait=True)


def _answer(qtbot, screen: EnrolmentScreen) -> str:
    qtbot.waitUntil(lambda: not screen.busy, timeout=20000)
    return screen.message.text()


def test_a_camera_frame_of_the_qr_enrols_the_kiosk(qtbot, server, kiosk_config, screens):
    from app.secrets import DEVICE_CREDENTIAL, SecretStore
    from app.sync.runner import build_backend
    from app.ui.door.demo_source import ticket_source

    invitation = server.invite()
    screen = screens(kiosk_config, source_factory=ticket_source([None, invitation.qr], 40))
    with qtbot.waitSignal(screen.enrolled, timeout=30000) as signal:
        pass
    enrolled = signal.args[0]
    assert screen.message.text() == (
        f"Enrolled as Kiosk 3 at North door for {enrolled.event_name}."
    )
    assert enrolled.event_name and enrolled.event_id == server.org.event_id
    assert screen.feed is None  # the camera stopped once enrolled

    settings = tomllib.loads(config_path().read_text())["showdesk"]
    assert settings["auth"] == "enrolled" and settings["gate"] == "North door"
    credential = SecretStore.default().get(DEVICE_CREDENTIAL)
    assert credential == enrolled.credential.secret
    backend = build_backend(load_config(), enrolled.device_id)
    try:
        assert backend.claims["sub"] == credential
        assert backend.pull(server.org.event_id, "", 50).changes  # syncs as itself
    finally:
        backend.close()


def test_the_typed_code_enrols_and_bad_codes_get_their_sentences(
    qtbot, server, kiosk_config, screens
):
    invitation = server.invite(name="Kiosk 5", gate=None)
    screen = screens(kiosk_config)
    screen.code_field.setFocus()
    qtbot.keyClicks(screen.code_field, invitation.code.replace("-", "").lower())
    assert screen.code_field.text() == invitation.code  # grouped by 4, upper case
    qtbot.keyClick(screen.code_field, "\r")
    assert _answer(qtbot, screen).startswith("Enrolled as Kiosk 5 for ")
    assert screen.result is not None and screen.result.gate is None

    def refused(text: str, scanner: bool = False) -> str:
        again = screens(kiosk_config)
        if scanner:  # a USB scanner types into the focused field and presses Enter
            qtbot.keyClicks(again.scan_field, text)
            qtbot.keyClick(again.scan_field, "\r")
            assert again.busy or again.message.text()
        else:
            again.submit(text)
        message = _answer(qtbot, again)
        assert RED in again.message.styleSheet() and again.result is None
        assert again.scan_field.isEnabled()  # try again at once
        return message

    assert "already used" in refused(invitation.qr)
    late = server.invite(name="Kiosk L")
    server.sdb.execute(
        "UPDATE enrolments SET expires_at = now() - interval '1 minute' WHERE id = %s",
        (late.enrolment_id,),
    )
    assert "expired at" in refused(late.code)
    from app.sync.enrolment import format_code, revoke_enrolment

    withdrawn = server.invite(name="Kiosk W")
    revoke_enrolment(server.organizer, withdrawn.enrolment_id)
    assert "withdrawn" in refused(withdrawn.qr, scanner=True)
    assert refused(format_code("0" * 26)) == (
        "This enrolment code is not valid: check it, or ask the organizer for a new one."
    )
    tampered = invitation.code[:-1] + ("0" if invitation.code[-1] != "0" else "1")
    assert "typing mistake" in refused(tampered)


def test_the_demo_is_one_key_away_on_a_new_kiosk(qtbot, kiosk_config):
    from app.ui import tasks
    from app.ui.enrolment import enrol_first
    from app.ui.qt import QApplication, Qt, QTimer

    app = QApplication.instance()
    seen: list[Any] = []

    def press(how: str) -> None:
        [screen] = [
            w.view
            for w in app.topLevelWidgets()
            if w.objectName() == "firstStart" and w.isVisible()
        ]
        assert screen.isVisible() and screen.window().isFullScreen()
        seen.append(screen.demo_button.text())
        if how == "click":
            qtbot.mouseClick(screen.demo_button, Qt.MouseButton.LeftButton)
        else:
            qtbot.keyClick(screen, Qt.Key.Key_F2)

    for how in ("click", "key"):
        QTimer.singleShot(200, lambda how=how: press(how))
        assert enrol_first(kiosk_config, source_factory=None) is kiosk_config
    assert seen == ["Open the demo event instead  (F2)"] * 2
    tasks.shutdown(wait=True)

    # and run_app then opens the demo event: open_context seeds it for an unsynced kiosk
    from sqlalchemy import func, select

    from app.config import Config as Settings
    from app.store.models import Ticket
    from app.ui.main import open_context

    ctx = open_context(Settings(db=kiosk_config.db, kiosk=True))
    try:
        with ctx.db.session() as session:
            tickets = session.scalar(
                select(func.count()).select_from(Ticket).where(Ticket.event_id == ctx.event_id)
            )
        assert ctx.event_id and tickets > 0
    finally:
        ctx.db.close()


def test_the_organizer_dialog_shows_a_qr_that_reads_back_and_withdraws_it(qtbot, server, door_ctx):
    from app.scan.decoders import build_chain
    from app.sync.enrolment import normalize_code, parse_enrolment
    from app.ui import tasks
    from app.ui.enrolment import EnrolKioskDialog
    from app.ui.qt import QImage

    door_ctx.config.backend = "postgres"
    door_ctx.config.postgres_dsn = server.sdb.dsn
    door_ctx.config.postgres_claims = json.dumps(server.claims)
    dialog = EnrolKioskDialog(door_ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.event_box.count() > 0, timeout=15000)
    assert dialog.gate_box.count() >= 1  # the replica event's gates
    # the server's event, as a replica synced with it lists it
    dialog.event_box.addItem("Maison Enrol event", server.org.event_id)
    dialog.event_box.setCurrentIndex(dialog.event_box.count() - 1)
    dialog.gate_box.setEditText("North door")
    dialog.name_field.setText("Kiosk 9")
    with qtbot.waitSignal(dialog.created, timeout=20000) as signal:
        dialog.create_button.click()
    invitation = signal.args[0]
    assert dialog.code.text() == invitation.code
    assert dialog.countdown.text().startswith(("Expires in 15:00", "Expires in 14:"))

    image = dialog.qr.pixmap().toImage().convertToFormat(QImage.Format.Format_RGB888)
    w, h = image.width(), image.height()
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine())
    frame = np.ascontiguousarray(rows[:, : w * 3].reshape(h, w, 3)[:, :, ::-1])
    [found] = build_chain("auto").decode(frame)[:1]
    assert found.text == invitation.qr
    assert parse_enrolment(found.text).code == normalize_code(dialog.code.text())

    with qtbot.waitSignal(dialog.withdrawn, timeout=20000):
        dialog.withdraw_button.click()
    assert dialog.countdown.text() == "Withdrawn: this code no longer works."
    revoked = server.sdb.scalar(
        "SELECT revoked_at FROM enrolments WHERE id = %s", (invitation.enrolment_id,)
    )
    assert revoked is not None
    dialog.close()
    tasks.shutdown(wait=True)


def test_the_enrolment_screen_is_readable(qtbot, kiosk_config, screens):
    from app.ui.main import apply_style
    from app.ui.qt import QApplication

    apply_style(QApplication.instance())
    try:
        screen = screens(Config(db=kiosk_config.db, kiosk=True))  # no server: a typed code
        results, failures = check(screen)
        assert results and failures == []
        screen.submit("ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345")
        _answer(qtbot, screen)
        assert RED in screen.message.styleSheet()
        results, failures = check(screen)
        assert any("typing mistake" in m.spot.text for m in results)
        assert failures == []
    finally:
        QApplication.instance().setStyleSheet("")


def test_the_sync_tab_says_where_secrets_are_kept(qtbot, door_ctx):
    from tests.support.screens import main_window

    with main_window(qtbot, door_ctx) as window:
        tab = window.sync
        qtbot.waitUntil(lambda: "checking" not in tab.secrets_line.text(), timeout=15000)
        # the test machine has no OS keyring: the file fallback, said as a warning
        assert tab.secrets_line.text().startswith("Secrets: no OS keyring here")
        assert tab.secrets_line.property("warning") is True
        assert tab.enrol_device_button.isEnabled()
        assert not tab.enrol_kiosk_button.isEnabled()  # offline only: nothing to sign in to
        dialog = tab.open_enrol_device()
        qtbot.addWidget(dialog)
        assert dialog.screen.demo_button.isHidden()  # the desktop already has its event
        dialog.screen.submit("not a code")
        qtbot.waitUntil(lambda: not dialog.screen.busy, timeout=15000)
        assert "7 groups of 4" in dialog.screen.message.text()
        dialog.reject()
        assert dialog.screen.feed is None  # the camera (if any) stopped with the dialog


@pytest.mark.parametrize("kiosk", [True, False])
def test_run_app_starts_a_new_kiosk_on_enrolment_and_a_desktop_on_the_demo(tmp_path, kiosk):
    """`showdesk --kiosk` with no settings and no replica: the enrolment screen first, then
    (F2) the demo event; `showdesk` without --kiosk opens the demo at once, as the README
    promises. In its own process: run_app runs and quits the application's event loop, which
    leaves this process's QApplication unable to run timers for the tests after it."""
    import json
    import os
    import subprocess
    import sys

    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        SHOWDESK_CAMERA_ENABLED="false",
        SHOWDESK_SOUND="false",
        SHOWDESK_CONFIG=str(tmp_path / "config.toml"),
        SHOWDESK_DATA_DIR=str(tmp_path / "data"),
        SHOWDESK_LOG_DIR=str(tmp_path / "logs"),
    )
    out = subprocess.run(
        [sys.executable, "-m", "tests.door_ui.first_start_script", str(tmp_path / "new.sqlite")]
        + (["--kiosk"] if kiosk else []),
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    assert lines, out.stderr[-2000:]
    seen = json.loads(lines[-1])
    assert seen["code"] == 0
    assert seen.get("enrolment_screen", 0) == (1 if kiosk else 0)
    assert seen["event"] and seen["door"]
