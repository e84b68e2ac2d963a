"""The door: read a code, decide with the rule engine, log the scan durably, then answer.

Every scan (admitted or not) is written to ``checkins`` with its outbox entry in one
transaction, committed (WAL, synchronous=FULL) before ``scan`` returns the verdict.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import insert, text
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session

from app.domain.text import sanitize
from app.domain.verdicts import (
    HEADLINES,
    CodeKind,
    PastScan,
    ReadCode,
    ScanContext,
    ScanResult,
    Snapshot,
    TicketFacts,
    TicketTypeFacts,
    Verdict,
    decide,
    read_code,
)
from app.store import outbox
from app.store.clock import META_CLOCK_OFFSET, ClockOffset
from app.store.db import Database, DatabaseProblem, _explain
from app.store.models import Checkin
from app.store.types import new_id, parse_utc, utcnow


class TierCount(NamedTuple):
    tier: str
    admitted: int
    expected: int


@dataclass(frozen=True)
class Counters:
    admitted: int  # tickets admitted at least once (annulled admissions do not count)
    expected: int  # tickets that may enter (valid or transferred)
    inside: int  # tickets whose latest movement is an entry
    per_tier: list[TierCount]


@dataclass(frozen=True)
class RecentScan:
    checkin_id: str
    scanned_at: datetime
    verdict: str
    headline: str
    ok: bool
    attendee_name: str | None
    ticket_number: str | None
    tier: str | None
    ticket_id: str | None
    gate: str
    direction: str
    method: str
    offline: bool
    annulled: bool
    raw_code: str | None


class StaffRequired(Exception):
    """The action needs a signed-in staff member. ``str()`` is a sentence."""


class CheckinNotFound(LookupError):
    """``annul`` was given an id that is not a logged admission or exit."""


# --- queries (plain SQL: a scan runs a handful of index lookups) ----------------------------

_INSERT_CHECKIN = insert(Checkin.__table__)
_EVENT = "SELECT name, timezone, public_keys FROM events WHERE id = :id"
_OFFLINE_POLICY = "SELECT offline_policy FROM events WHERE id = :id"
OVERRIDE_REASON = "strict offline mode: admitted by the signed-in staff member"
_TICKET_COLUMNS = """
    t.id, t.event_id, t.ticket_number, t.status, t.token_serial, t.qr_code_data,
    t.ticket_type_id, t.valid_from, t.valid_until,
    a.first_name, a.last_name, a.notes, o.order_number
    FROM tickets t
    LEFT JOIN attendees a ON a.id = t.attendee_id
    LEFT JOIN orders o ON o.id = t.order_id
"""
_TICKET_BY_ID = f"SELECT {_TICKET_COLUMNS} WHERE t.id = :key"
_TICKET_BY_CODE = f"SELECT {_TICKET_COLUMNS} WHERE t.qr_code_data = :key"
_TICKET_TYPE = (
    "SELECT id, name, tier, entry_starts_at, entry_ends_at, allowed_gates, allow_reentry "
    "FROM ticket_types WHERE id = :id"
)
_REVOKED = "SELECT token_serial, reason FROM revoked_tokens WHERE ticket_id = :id"
# A ticket's moves in its own event only (as the server derives double entries), each at its
# time on the server's clock where the scanning kiosk knew its offset, else on that kiosk's
# clock: the domain's "first admission" is the first in that order.
_HISTORY = (
    "SELECT c.id, coalesce(c.corrected_at, c.scanned_at), c.direction, c.verdict, c.kind, "
    "c.gate, c.device_id, c.annuls_checkin_id, d.name "
    "FROM checkins c LEFT JOIN devices d ON d.id = c.device_id "
    "WHERE c.ticket_id = :id AND c.event_id = :event "
    "AND (c.kind = 'annul' OR c.verdict IN ('admitted', 'exit_recorded'))"
)
_CLOCK_OFFSET = "SELECT value FROM local_meta WHERE key = :key"


def _raw(session: Session):
    """The session's sqlite3 connection: a scan's few lookups skip SQLAlchemy's overhead."""
    return session.connection().connection.driver_connection


def _one(session: Session, sql: str, params: dict):
    return _raw(session).execute(sql, params).fetchone()


def _all(session: Session, sql: str, params: dict) -> list:
    return _raw(session).execute(sql, params).fetchall()


def _time(value: str | None) -> datetime | None:
    return parse_utc(value) if value else None


def _ticket_facts(row) -> TicketFacts:
    name = " ".join(p for p in (row[9], row[10]) if p) or None
    return TicketFacts(
        id=row[0],
        event_id=row[1],
        ticket_number=row[2],
        status=row[3],
        token_serial=row[4] or 1,
        qr_code_data=row[5],
        ticket_type_id=row[6],
        valid_from=_time(row[7]),
        valid_until=_time(row[8]),
        attendee_name=name,
        notes=row[11] or None,
        order_number=row[12],
    )


def _type_facts(row) -> TicketTypeFacts:
    gates = json.loads(row[5]) if row[5] else []
    return TicketTypeFacts(
        id=row[0],
        name=row[1],
        tier=row[2],
        entry_starts_at=_time(row[3]),
        entry_ends_at=_time(row[4]),
        allowed_gates=tuple(str(g) for g in gates) if isinstance(gates, list) else (),
        allow_reentry=bool(row[6]),
    )


def load_snapshot(session: Session, code: ReadCode, event_id: str) -> tuple[Snapshot, str]:
    """What the replica knows about ``code``, plus the kiosk event's timezone."""
    keys: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    timezone = _load_event(session, event_id, keys, names) or "UTC"
    ticket_row = None
    type_id: str | None = None
    token = code.token
    if code.kind is CodeKind.TOKEN and token is not None:
        if token.event_id != event_id:
            _load_event(session, token.event_id, keys, names)
            return Snapshot(event_keys=keys, event_names=names), timezone
        ticket_row = _one(session, _TICKET_BY_ID, {"key": token.ticket_id})
        type_id = token.ticket_type_id
    elif code.kind is CodeKind.PLAIN and code.text:
        ticket_row = _one(session, _TICKET_BY_CODE, {"key": code.text})
    if ticket_row is None and token is None:
        return Snapshot(event_keys=keys, event_names=names), timezone
    token_ticket = token.ticket_id if token is not None else None
    snap = _snapshot_for(session, ticket_row, type_id, token_ticket, keys, names, event_id)
    return snap, timezone


def _load_event(session: Session, event_id: str, keys: dict, names: dict) -> str | None:
    """Fill ``keys``/``names`` for one event; returns its timezone (None if unknown)."""
    row = _one(session, _EVENT, {"id": event_id})
    if row is None:
        return None
    names[event_id] = row[0]
    loaded = json.loads(row[2]) if row[2] else []
    keys[event_id] = [k for k in loaded if isinstance(k, str)] if isinstance(loaded, list) else []
    return row[1]


def _snapshot_for(
    session, ticket_row, type_id, token_ticket_id, keys, names, event_id=None
) -> Snapshot:
    ticket = _ticket_facts(ticket_row) if ticket_row is not None else None
    if ticket is not None:
        type_id = ticket.ticket_type_id
        if ticket.event_id not in names:
            row = _one(session, _EVENT, {"id": ticket.event_id})
            if row is not None:
                names[ticket.event_id] = row[0]
    ticket_id = ticket.id if ticket is not None else token_ticket_id
    type_row = _one(session, _TICKET_TYPE, {"id": type_id}) if type_id else None
    revoked = {int(s): str(r) for s, r in _all(session, _REVOKED, {"id": ticket_id})}
    history = tuple(
        PastScan(
            checkin_id=h[0],
            scanned_at=parse_utc(h[1]),
            direction=h[2],
            verdict=h[3],
            kind=h[4],
            gate=h[5],
            device_id=h[6],
            annuls_checkin_id=h[7],
            device_name=h[8],
        )
        for h in _all(
            session,
            _HISTORY,
            {"id": ticket_id, "event": ticket.event_id if ticket is not None else event_id},
        )
    )
    return Snapshot(
        ticket=ticket,
        ticket_type=_type_facts(type_row) if type_row is not None else None,
        revoked_serials=revoked,
        history=history,
        event_keys=keys,
        event_names=names,
    )


# --- the service ----------------------------------------------------------------------------


class CheckinService:
    """One kiosk's door: ``scan`` records the scan, then returns its verdict."""

    def __init__(
        self,
        db: Database,
        event_id: str,
        device_id: str,
        gate: str = "Main",
        direction: str = "in",
        staff_name: str | None = None,
        online: Callable[[], bool] | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        staff_id: str | None = None,
    ) -> None:
        self.db = db
        self.event_id = event_id
        self.device_id = device_id
        self.gate = gate
        self.direction = direction
        self.staff_name = staff_name
        # Who is signed in at this kiosk (app.store.staff): every scan and annulment records
        # it. The screen sets it at sign-in and clears it at sign-out or lock.
        self.staff_id = staff_id
        self.online = online
        self.clock = clock or utcnow

    def _is_online(self) -> bool:
        if self.online is None:
            return False
        try:
            return bool(self.online())
        except Exception:
            return False  # a failing probe means we decide offline

    def _context(self, timezone: str, session: Session) -> ScanContext:
        online = self._is_online()
        policy = "lenient"
        if not online:  # the event's offline policy matters only now
            row = _one(session, _OFFLINE_POLICY, {"id": self.event_id})
            policy = "strict" if row is not None and row[0] == "strict" else "lenient"
        return ScanContext(
            event_id=self.event_id,
            gate=self.gate,
            direction="out" if self.direction == "out" else "in",
            now=self.clock(),
            online=online,
            timezone=timezone,
            checkin_id=new_id(),
            device_id=self.device_id,
            device_name=self.staff_name,
            offline_policy=policy,
        )

    def scan(self, code: str | bytes | None, method: str = "qr") -> ScanResult:
        """Decide ``code`` and log it. Returns only after the log row is on disk."""
        read = read_code(code)
        raw = _raw_for_log(code, read)

        def work(session: Session) -> ScanResult:
            snap, timezone = load_snapshot(session, read, self.event_id)
            result = decide(read, snap, self._context(timezone, session))
            self._log(session, result, method, raw)
            return result

        return self._in_transaction(work)

    def checkin_ticket(self, ticket_id: str, method: str = "manual") -> ScanResult:
        """Check a ticket in (or out) chosen by hand, e.g. from a name search."""

        def work(session: Session) -> ScanResult:
            row = _one(session, _TICKET_BY_ID, {"key": str(ticket_id)})
            tz_row = _one(
                session, "SELECT timezone FROM events WHERE id = :id", {"id": self.event_id}
            )
            timezone = tz_row[0] if tz_row and tz_row[0] else "UTC"
            if row is None:
                read = ReadCode(CodeKind.PLAIN, "")
                snap = Snapshot()
                raw = sanitize(f"manual:{ticket_id}")
            else:
                read = ReadCode(CodeKind.PLAIN, row[5])
                snap = _snapshot_for(session, row, None, None, {}, {})
                raw = sanitize(f"manual:{row[2]}")
            result = decide(read, snap, self._context(timezone, session))
            self._log(session, result, method, raw)
            return result

        return self._in_transaction(work)

    def admit_on_hold(self, checkin_id: str) -> ScanResult:
        """Admit a guest the door held (strict offline policy) on the word of the signed-in
        staff member: a new admission, method ``override``, with who and why. StaffRequired
        when nobody is signed in; CheckinNotFound when ``checkin_id`` is not a hold here."""

        def work(session: Session) -> ScanResult:
            held = session.get(Checkin, checkin_id)
            if held is None or held.verdict != Verdict.OFFLINE_HOLD.value:
                raise CheckinNotFound("There is no held guest with that id to admit.")
            now = self.clock()
            result = ScanResult(
                verdict=Verdict.ADMITTED,
                headline=HEADLINES[Verdict.ADMITTED],
                detail="Admitted on a staff member's word with no connection (strict mode).",
                ticket_id=held.ticket_id,
                offline=True,
                checkin_id=new_id(),
                scanned_at=now,
            )
            self._log(session, result, "override", held.raw_code, reason=OVERRIDE_REASON)
            return result

        if not self.staff_id:
            raise StaffRequired(
                "Only a signed-in staff member can admit a held guest: sign in with your badge."
            )
        return self._in_transaction(work)

    def annul(self, checkin_id: str, reason: str) -> None:
        """Undo an admission or exit (the guest did not go through). Logged, never deleted."""

        def work(session: Session) -> None:
            original = session.get(Checkin, checkin_id)
            if (
                original is None
                or original.kind != "scan"
                or original.verdict
                not in (
                    Verdict.ADMITTED,
                    Verdict.EXIT_RECORDED,
                )
            ):
                raise CheckinNotFound("There is no admission or exit with that id to undo.")
            now = self.clock()
            corrected, uncertainty = _corrected(session, now)
            row = Checkin(
                id=new_id(),
                event_id=original.event_id,
                ticket_id=original.ticket_id,
                device_id=self.device_id,
                gate=self.gate,
                direction=original.direction,
                method=original.method,
                kind="annul",
                scanned_at=now,
                corrected_at=corrected,
                corrected_uncertainty_s=uncertainty,
                verdict="annulled",
                offline=not self._is_online(),
                raw_code=original.raw_code,
                annuls_checkin_id=original.id,
                reason=sanitize(reason or "", 300) or None,
                staff_name=self.staff_name,
                staff_id=self.staff_id,
            )
            session.add(row)
            outbox.record(session, row, "insert")

        self._in_transaction(work)

    def counters(self) -> Counters:
        with self.db.session() as session:
            return event_counters(session, self.event_id)

    def recent(self, limit: int = 20) -> list[RecentScan]:
        with self.db.session() as session:
            return recent_scans(session, self.event_id, limit)

    # --- internals ------------------------------------------------------------------------

    def _log(
        self,
        session: Session,
        result: ScanResult,
        method: str,
        raw: str | None,
        reason: str | None = None,
    ) -> None:
        corrected, uncertainty = _corrected(session, result.scanned_at)
        values = {
            "id": result.checkin_id,
            "server_version": None,
            "updated_at": result.scanned_at,
            "event_id": self.event_id,
            "ticket_id": result.ticket_id,
            "device_id": self.device_id,
            "gate": sanitize(self.gate or "Main", 60),
            "direction": "out" if self.direction == "out" else "in",
            "method": sanitize(method or "qr", 10),
            "kind": "scan",
            "scanned_at": result.scanned_at,
            "verdict": result.verdict.value,
            "offline": result.offline,
            "raw_code": raw,
            "annuls_checkin_id": None,
            "reason": reason,
            "staff_name": sanitize(self.staff_name, 100) if self.staff_name else None,
            "double_entry": False,
            "corrected_at": corrected,
            "corrected_uncertainty_s": uncertainty,
            "staff_id": self.staff_id,
        }
        # A Core insert (no unit-of-work bookkeeping), then the outbox entry from the same
        # values, in the same transaction.
        session.execute(_INSERT_CHECKIN, values)
        outbox.record(session, Checkin(**values), "insert")

    def _in_transaction(self, work):
        try:
            with self.db.session() as session:
                raw = _raw(session)
                if not raw.in_transaction:
                    # Take the write lock before reading: the history the verdict is based on
                    # cannot change (another kiosk process, sync) until this scan is logged.
                    raw.execute("BEGIN IMMEDIATE")
                return work(session)
        except (OperationalError, DatabaseError) as exc:
            raise DatabaseProblem(_explain(self.db.path, exc)) from exc


@functools.lru_cache(maxsize=4)
def _offset(stored: str | None) -> ClockOffset | None:
    return ClockOffset.from_json(stored)


def _corrected(session: Session, when: datetime | None) -> tuple[datetime | None, float | None]:
    """``when`` (this kiosk's clock) on the server's clock, with its uncertainty in seconds,
    from the offset the last sync measured; (None, None) when there is none to trust."""
    row = _one(session, _CLOCK_OFFSET, {"key": META_CLOCK_OFFSET})
    offset = _offset(row[0] if row is not None else None)
    if offset is None or when is None:
        return None, None
    return offset.correct(when)


def _raw_for_log(code: str | bytes | None, read: ReadCode) -> str | None:
    if code is None:
        return None
    if isinstance(code, bytes | bytearray):
        shown = bytes(code[:200]).decode("utf-8", errors="replace")
    elif isinstance(code, str):
        shown = code.strip()
    else:
        shown = repr(code)
    return sanitize(shown, 200) or None


# --- counters and the recent list ------------------------------------------------------------

_MOVES = text(
    "SELECT c.id, c.ticket_id, c.verdict, c.kind, c.annuls_checkin_id, "
    "coalesce(c.corrected_at, c.scanned_at), "
    "t.ticket_type_id FROM checkins c LEFT JOIN tickets t ON t.id = c.ticket_id "
    "WHERE c.event_id = :event AND c.ticket_id IS NOT NULL "
    "AND (c.kind = 'annul' OR c.verdict IN ('admitted', 'exit_recorded'))"
)
_EXPECTED = text(
    "SELECT ticket_type_id, count(*) FROM tickets "
    "WHERE event_id = :event AND status IN ('valid', 'transferred') GROUP BY ticket_type_id"
)
_TIERS = text("SELECT id, tier FROM ticket_types WHERE event_id = :event")


def event_counters(session: Session, event_id: str) -> Counters:
    """Admitted / expected / inside now, in total and per tier."""
    tier_of: dict[str, str] = dict(session.execute(_TIERS, {"event": event_id}).all())
    expected: dict[str, int] = {}
    for type_id, count in session.execute(_EXPECTED, {"event": event_id}):
        tier = tier_of.get(type_id, "other")
        expected[tier] = expected.get(tier, 0) + count
    rows = session.execute(_MOVES, {"event": event_id}).all()
    annulled = {r[4] for r in rows if r[3] == "annul" and r[4]}
    last: dict[str, tuple[tuple[str, str], str]] = {}  # ticket -> ((scanned_at, id), verdict)
    admitted_types: dict[str, str | None] = {}
    for cid, ticket_id, verdict, kind, _annuls, scanned_at, type_id in rows:
        if kind != "scan" or cid in annulled:
            continue
        if verdict == Verdict.ADMITTED:
            admitted_types[ticket_id] = type_id
        key = (scanned_at, cid)
        if ticket_id not in last or key > last[ticket_id][0]:
            last[ticket_id] = (key, verdict)
    inside = sum(1 for _key, verdict in last.values() if verdict == Verdict.ADMITTED)
    admitted_per_tier: dict[str, int] = {}
    for type_id in admitted_types.values():
        tier = tier_of.get(type_id, "other") if type_id else "other"
        admitted_per_tier[tier] = admitted_per_tier.get(tier, 0) + 1
    tiers = sorted(set(expected) | set(admitted_per_tier), key=_tier_rank)
    return Counters(
        admitted=len(admitted_types),
        expected=sum(expected.values()),
        inside=inside,
        per_tier=[TierCount(t, admitted_per_tier.get(t, 0), expected.get(t, 0)) for t in tiers],
    )


_TIER_ORDER = ("general", "premium", "vip", "press", "comp", "staff")


def _tier_rank(tier: str) -> tuple[int, str]:
    return (_TIER_ORDER.index(tier) if tier in _TIER_ORDER else len(_TIER_ORDER), tier)


_RECENT = text(
    "SELECT c.id, c.scanned_at, c.verdict, c.ticket_id, c.gate, c.direction, c.method, "
    "c.offline, c.raw_code, a.first_name, a.last_name, t.ticket_number, tt.tier, "
    "EXISTS (SELECT 1 FROM checkins x WHERE x.annuls_checkin_id = c.id AND x.kind = 'annul') "
    "FROM checkins c "
    "LEFT JOIN tickets t ON t.id = c.ticket_id "
    "LEFT JOIN attendees a ON a.id = t.attendee_id "
    "LEFT JOIN ticket_types tt ON tt.id = t.ticket_type_id "
    "WHERE c.event_id = :event AND c.kind = 'scan' "
    "ORDER BY c.scanned_at DESC, c.rowid DESC LIMIT :limit"
)


def recent_scans(session: Session, event_id: str, limit: int = 20) -> list[RecentScan]:
    """The latest scans at this event, newest first."""
    from app.domain.verdicts import HEADLINES, OK_VERDICTS

    out: list[RecentScan] = []
    for row in session.execute(_RECENT, {"event": event_id, "limit": max(0, int(limit))}):
        try:
            verdict = Verdict(row[2])
        except ValueError:
            verdict = None
        name = " ".join(p for p in (row[9], row[10]) if p) or None
        out.append(
            RecentScan(
                checkin_id=row[0],
                scanned_at=parse_utc(row[1]),
                verdict=row[2],
                headline=HEADLINES[verdict] if verdict else row[2].upper(),
                ok=verdict in OK_VERDICTS,
                attendee_name=name,
                ticket_number=row[11],
                tier=row[12],
                ticket_id=row[3],
                gate=row[4],
                direction=row[5],
                method=row[6],
                offline=bool(row[7]),
                annulled=bool(row[13]),
                raw_code=row[8],
            )
        )
    return out
