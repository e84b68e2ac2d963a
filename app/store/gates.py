"""The event's gates, and the gate this device scans at (remembered in the replica).

There is no table of gates: an event's gates are the names its ticket types admit at. The
first is the one most of the event's tickets may enter by (the main entrance), so a fresh
kiosk starts where most guests arrive. With no gate rules at all, the organization's kiosks'
gates stand in (every ticket admits at any of them anyway).
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.store.db import get_meta, set_meta
from app.store.models import Device, Event, Ticket, TicketType

FALLBACK_GATE = "Main"


def _meta_key(event_id: str) -> str:
    return f"door_gate:{event_id}"


def event_gates(session: Session, event_id: str) -> list[str]:
    """The event's gate names, main entrance first (most tickets admitted there), then by name."""
    types = session.execute(
        select(TicketType.id, TicketType.allowed_gates).where(TicketType.event_id == event_id)
    ).all()
    tickets = dict(
        session.execute(
            select(Ticket.ticket_type_id, func.count())
            .where(Ticket.event_id == event_id)
            .group_by(Ticket.ticket_type_id)
        ).all()
    )
    spelling: dict[str, str] = {}  # casefolded -> first spelling seen
    admitted: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for type_id, allowed in types:
        for raw in allowed if isinstance(allowed, list) else []:
            name = str(raw).strip()
            key = name.casefold()
            if not name or key in ("*", "any"):
                continue
            spelling.setdefault(key, name)
            admitted[key] += tickets.get(type_id, 0)
            kinds[key] += 1
    if spelling:
        order = sorted(spelling, key=lambda k: (-admitted[k], -kinds[k], k))
        return [spelling[k] for k in order]
    org = select(Event.organization_id).where(Event.id == event_id).scalar_subquery()
    names = session.scalars(
        select(Device.gate)
        .where(Device.organization_id == org, Device.gate.is_not(None))
        .distinct()
        .order_by(Device.gate)
    ).all()
    return [name for name in names if name and name.strip()]


def choose_gate(gates: list[str], remembered: str | None, configured: str | None) -> str:
    """The gate to scan at: the one chosen here before, else the configured one, if either is
    still a gate of the event; else the event's main entrance."""
    by_key = {g.casefold(): g for g in gates}
    for wanted in (remembered, configured):
        if wanted and wanted.strip().casefold() in by_key:
            return by_key[wanted.strip().casefold()]
    if gates:
        return gates[0]
    return (remembered or configured or FALLBACK_GATE).strip() or FALLBACK_GATE


def remembered_gate(session: Session, event_id: str) -> str | None:
    return get_meta(session, _meta_key(event_id))


def remember_gate(session: Session, event_id: str, gate: str) -> None:
    """Keep this device's gate for the event across restarts (the replica is per device)."""
    set_meta(session, _meta_key(event_id), gate)


def door_gate(session: Session, event_id: str, configured: str | None) -> tuple[list[str], str]:
    """(the event's gates, the gate this device scans at now)."""
    gates = event_gates(session, event_id)
    return gates, choose_gate(gates, remembered_gate(session, event_id), configured)
