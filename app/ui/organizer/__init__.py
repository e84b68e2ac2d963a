"""The organizer's view: arrivals, people inside, gates and double entries, as charts."""

from app.ui.organizer.tab import OrganizerTab

__all__ = ["OrganizerTab"]
