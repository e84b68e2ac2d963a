"""The organizer's offline policy of an event (``events.offline_policy``, server migration 0025):
what its doors do while cut off from both the venue hub and the server. The door applies it
(``app.domain.verdicts.decide``); this module only sets it, queued for upload like any edit."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.store.models import Event

POLICIES = ("lenient", "strict")


def set_offline_policy(session: Session, event: Event, policy: str) -> bool:
    """Set ``policy`` for ``event`` and queue only that column; False when it already was."""
    from app.store import outbox

    if policy not in POLICIES:
        raise ValueError(f"the offline policy is lenient or strict, not {policy!r}")
    if (event.offline_policy or "lenient") == policy:
        return False
    event.offline_policy = policy
    outbox.record(session, event, "update", fields=["offline_policy"])
    return True
