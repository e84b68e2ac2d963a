"""A damaged database gives a plain message and a non-zero exit, never a traceback."""

from __future__ import annotations

from app.store.db import DatabaseProblem, open_database
from app.ui import main
from app.ui.qt import QMessageBox


def _corrupt_file(path):
    path.write_bytes(b"this is not a database at all, just text " * 200)
    return path


def test_message_for_a_damaged_database(tmp_path):
    path = _corrupt_file(tmp_path / "broken.sqlite")
    try:
        open_database(path)
    except DatabaseProblem as exc:
        title, text = main.startup_error_message(exc)
    assert title == "Showdesk cannot open its database"
    assert str(path) in text and "damaged" in text
    assert "Traceback" not in text and "sqlite3" not in text


def test_message_for_any_other_startup_failure():
    title, text = main.startup_error_message(PermissionError(13, "Permission denied", "/kiosk/db"))
    assert title == "Showdesk cannot start"
    assert "/kiosk/db" in text and "showdesk doctor" in text


def test_run_app_on_a_damaged_database_returns_non_zero(qapp, tmp_path, monkeypatch):
    path = _corrupt_file(tmp_path / "broken.sqlite")
    shown: list[tuple[str, str]] = []
    # Only the modal box is replaced (it would block the test); the message is the real one.
    monkeypatch.setattr(
        QMessageBox,
        "critical",
        staticmethod(lambda parent, title, text: shown.append((title, text))),
    )
    code = main.run_app(db=path, kiosk=False)
    assert code == 2
    assert len(shown) == 1
    title, text = shown[0]
    assert title == "Showdesk cannot open its database"
    assert "damaged" in text and str(path) in text
