"""Style sheets from resources/style, read once."""

from __future__ import annotations

import logging
from functools import cache

from app.resources import resource_path

log = logging.getLogger(__name__)

STYLE_DIR = resource_path("style")


@cache
def load_sheet(name: str) -> str:
    """The text of ``resources/style/<name>`` ("" and a warning if it is missing)."""
    path = STYLE_DIR / name
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        log.warning("stylesheet %s missing; using Qt's default look", path)
        return ""


def dialog_sheet() -> str:
    """The door's dialogs (attendee card, undo, staff PIN): set on each dialog itself, so they
    look the same whichever window opens them and never inherit the door's text colour
    without its background."""
    return load_sheet("dialogs.qss")
