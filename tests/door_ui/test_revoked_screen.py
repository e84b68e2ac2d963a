"""A kiosk the server removed: the whole window says so, in words, and nothing else works."""

from __future__ import annotations

import json

from app.store.db import set_meta
from app.sync.revocation import META_REVOKED, Retirement

from .conftest import no_camera


def test_a_removed_kiosk_shows_only_the_removal(qtbot, door_ctx, tmp_path):
    from dataclasses import asdict

    from app.ui.main import MainWindow
    from app.ui.revoked_screen import RevokedScreen

    retirement = Retirement(
        "This kiosk was removed from Maison Aurel on 2026-12-01 21:30 UTC.",
        "Maison Aurel",
        "2026-12-01T21:30:00Z",
        str(tmp_path / "showdesk-unsent-1.sdexport"),
        3,
        0,
    )
    with door_ctx.db.session() as session:
        set_meta(session, META_REVOKED, json.dumps(asdict(retirement)))
    # a sync server is configured, so the app builds its runner, which knows it was removed
    door_ctx.config.backend = "postgres"
    door_ctx.config.postgres_dsn = "postgresql://nobody@127.0.0.1:9/none"
    window = MainWindow(door_ctx, door_options={"source_factory": no_camera})
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: isinstance(window.centralWidget(), RevokedScreen), timeout=3000)
    screen = window.centralWidget()
    assert screen.headline.text() == retirement.message
    assert "3 changes that had not reached the server were saved" in screen.advice.text()
    assert str(tmp_path / "showdesk-unsent-1.sdexport") in screen.advice.text()
    assert not window.statusBar().isVisible()
    assert not window.door.wedge.enabled  # a scanner burst admits nobody
    assert screen.headline.font().pixelSize() >= 28 or "44px" in screen.headline.styleSheet()
