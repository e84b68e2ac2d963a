"""Is there a screen to open a window on? Asked before QApplication is created.

Without one, Qt's xcb plugin aborts the whole process with a message about libxcb-cursor0,
which sends people installing libraries that are already there. This check says what is
really missing instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

# Qt platforms that need no display server.
_HEADLESS = {"offscreen", "minimal", "vnc", "eglfs", "linuxfb", "vkkhrdisplay", "minimalegl"}

NO_DISPLAY = (
    "Showdesk cannot open its window: this session has no screen (neither DISPLAY nor "
    "WAYLAND_DISPLAY is set). Start it from the kiosk's desktop, or over SSH with X "
    "forwarding (ssh -X). The command-line tools (showdesk checkin, decode, sync, doctor) "
    "work without a screen."
)


def display_problem(
    environ: Mapping[str, str] | None = None, platform: str | None = None
) -> str | None:
    """A sentence saying why no window can open here, or None when one can (or when this is
    not Linux, where Qt finds the screen itself)."""
    env = os.environ if environ is None else environ
    system = sys.platform if platform is None else platform
    if not system.startswith("linux"):
        return None
    has_x = bool(env.get("DISPLAY", "").strip())
    has_wayland = bool(env.get("WAYLAND_DISPLAY", "").strip())
    wanted = [
        name.split(":")[0].strip().lower()
        for name in env.get("QT_QPA_PLATFORM", "").split(";")
        if name.strip()
    ]
    if not wanted:  # Qt's own choice: Wayland when it runs, else X11
        return None if (has_x or has_wayland) else NO_DISPLAY
    for name in wanted:
        if name in _HEADLESS or (name == "xcb" and has_x):
            return None
        if name.startswith("wayland") and has_wayland:
            return None
        if name not in ("xcb",) and not name.startswith("wayland"):
            return None  # a platform plugin this check does not know: let Qt decide
    return NO_DISPLAY
