"""The call-time board tab (backstage): call times, arrivals by badge, alerts, call sheet."""

from app.ui.calltimes.tab import CallTimesTab

__all__ = ["CallTimesTab"]
