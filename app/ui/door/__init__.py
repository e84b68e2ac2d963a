"""The door kiosk screen (camera, verdicts, search, kiosk lock)."""

from app.ui.door.tab import DoorTab

__all__ = ["DoorTab"]
