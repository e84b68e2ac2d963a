"""The one rule engine that decides every scan, online or offline. Pure: no I/O.

The caller (``app.store.checkin_service``) reads the code with ``read_code``, gathers what the
replica knows into a ``Snapshot`` and calls ``decide``. The same inputs always give the same
``ScanResult``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.domain.tokens import ParsedToken, TokenError, TokenErrorKind, parse_token

MAX_CODE_CHARS = 4096
_GARBLED = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")  # control characters, lone surrogates


class Verdict(StrEnum):
    ADMITTED = "admitted"
    ALREADY_ADMITTED = "already_admitted"
    EXIT_RECORDED = "exit_recorded"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    WRONG_EVENT = "wrong_event"
    WRONG_GATE_OR_TIER = "wrong_gate_or_tier"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    UNKNOWN = "unknown"
    REVOKED = "revoked"
    FORGED = "forged"
    UNREADABLE = "unreadable"
    # strict offline policy: a guest the door would admit, held while it is cut off from both
    # the venue hub and the server, until a signed-in staff member admits them
    OFFLINE_HOLD = "offline_hold"


OK_VERDICTS = frozenset({Verdict.ADMITTED, Verdict.EXIT_RECORDED})

# The words for each verdict: the window, the command line and the logs all say these (and
# nothing else); the UI adds colour and an icon, never other words.
HEADLINES: dict[Verdict, str] = {
    Verdict.ADMITTED: "ADMITTED",
    Verdict.ALREADY_ADMITTED: "ALREADY ADMITTED",
    Verdict.EXIT_RECORDED: "EXIT RECORDED",
    Verdict.CANCELLED: "CANCELLED",
    Verdict.REFUNDED: "REFUNDED",
    Verdict.WRONG_EVENT: "WRONG EVENT",
    Verdict.WRONG_GATE_OR_TIER: "WRONG ENTRANCE",
    Verdict.NOT_YET_VALID: "NOT YET VALID",
    Verdict.EXPIRED: "EXPIRED",
    Verdict.UNKNOWN: "UNKNOWN TICKET",
    Verdict.REVOKED: "REVOKED",
    # Not "FORGED": a cracked phone screen or a bad print reads the same as a forgery, and the
    # guest in front of the kiosk hears what the screen says. The reason line says which.
    Verdict.FORGED: "INVALID CODE",
    Verdict.UNREADABLE: "UNREADABLE",
    Verdict.OFFLINE_HOLD: "HOLD — NO CONNECTION",
}

# What the door hears, by family: "ok" (go), "warning" (look at the screen), "refusal" (stop).
SOUNDS: dict[Verdict, str] = {
    Verdict.ADMITTED: "ok",
    Verdict.EXIT_RECORDED: "ok",
    Verdict.ALREADY_ADMITTED: "warning",
    Verdict.NOT_YET_VALID: "warning",
    Verdict.EXPIRED: "warning",
    Verdict.WRONG_GATE_OR_TIER: "warning",
    Verdict.UNREADABLE: "warning",
    Verdict.OFFLINE_HOLD: "warning",
    Verdict.CANCELLED: "refusal",
    Verdict.REFUNDED: "refusal",
    Verdict.REVOKED: "refusal",
    Verdict.WRONG_EVENT: "refusal",
    Verdict.UNKNOWN: "refusal",
    Verdict.FORGED: "refusal",
}

# Device names in sentences when the replica has no name for a device (never its id).
THIS_KIOSK = "this kiosk"
ANOTHER_KIOSK = "another kiosk"


def headline_for(verdict: str | Verdict) -> str:
    """The headline of a verdict value; an unknown value is shown upper-cased as it is."""
    try:
        return HEADLINES[Verdict(str(verdict))]
    except ValueError:
        return str(verdict).replace("_", " ").upper()


@dataclass(frozen=True)
class ScanResult:
    verdict: Verdict
    headline: str
    detail: str  # what to do, as a sentence
    attendee_name: str | None = None
    tier: str | None = None
    ticket_type: str | None = None
    order_number: str | None = None
    ticket_number: str | None = None
    ticket_id: str | None = None
    notes: str | None = None
    first_admitted_at: datetime | None = None
    first_gate: str | None = None
    first_device: str | None = None
    offline: bool = True
    checkin_id: str | None = None
    scanned_at: datetime | None = None
    reason: str | None = None  # why, in a few words, under the headline ("signature not valid")

    @property
    def ok(self) -> bool:
        return self.verdict in OK_VERDICTS

    def line(self) -> str:
        """One line for the command line and the logs, in the window's words:
        "INVALID CODE (signature not valid) — Do not admit. ..."."""
        head = f"{self.headline} ({self.reason})" if self.reason else self.headline
        return f"{head} — {self.detail}" if self.detail else head

    def to_dict(self) -> dict:
        """JSON-ready fields (times as ISO-8601 UTC)."""
        out: dict = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, Verdict):
                value = value.value
            out[name] = value
        out["ok"] = self.ok
        return out


# --- reading the code -----------------------------------------------------------------------


class CodeKind(StrEnum):
    UNREADABLE = "unreadable"  # nothing usable was read (empty, binary, control characters)
    TOKEN = "token"  # a structurally valid signed token (signature not yet checked)
    MALFORMED = "malformed"  # claims to be a token but is truncated or altered
    NEWER_FORMAT = "newer_format"  # a token version this kiosk does not know
    PLAIN = "plain"  # any other text: a legacy code, looked up exactly


@dataclass(frozen=True)
class ReadCode:
    kind: CodeKind
    text: str  # the text read (stripped); "" when unreadable
    token: ParsedToken | None = None
    problem: str | None = None


def read_code(raw: str | bytes | None) -> ReadCode:
    """Classify what the scanner delivered. Never raises."""
    if raw is None:
        return ReadCode(CodeKind.UNREADABLE, "", problem="Nothing was read.")
    if isinstance(raw, bytes | bytearray):
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            return ReadCode(CodeKind.UNREADABLE, "", problem="The code is not text.")
    if not isinstance(raw, str):
        return ReadCode(CodeKind.UNREADABLE, "", problem="The code is not text.")
    text = raw.strip()
    if not text:
        return ReadCode(CodeKind.UNREADABLE, "", problem="Nothing was read.")
    if _GARBLED.search(text):
        return ReadCode(CodeKind.UNREADABLE, "", problem="The code contains garbled characters.")
    if len(text) > MAX_CODE_CHARS:
        return ReadCode(CodeKind.PLAIN, text[:MAX_CODE_CHARS], problem="The code is far too long.")
    try:
        token = parse_token(text)
    except TokenError as exc:
        if exc.kind is TokenErrorKind.NOT_A_TOKEN:
            return ReadCode(CodeKind.PLAIN, text)
        if exc.kind is TokenErrorKind.UNSUPPORTED_VERSION:
            return ReadCode(CodeKind.NEWER_FORMAT, text, problem=str(exc))
        return ReadCode(CodeKind.MALFORMED, text, problem=str(exc))
    return ReadCode(CodeKind.TOKEN, text, token=token)


# --- what the replica knows -----------------------------------------------------------------


@dataclass(frozen=True)
class TicketTypeFacts:
    id: str
    name: str
    tier: str
    entry_starts_at: datetime | None = None
    entry_ends_at: datetime | None = None
    allowed_gates: tuple[str, ...] = ()
    allow_reentry: bool = True


@dataclass(frozen=True)
class TicketFacts:
    id: str
    event_id: str
    ticket_number: str
    status: str  # valid / cancelled / refunded / transferred
    token_serial: int
    qr_code_data: str
    ticket_type_id: str
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    attendee_name: str | None = None
    order_number: str | None = None
    notes: str | None = None


@dataclass(frozen=True)
class PastScan:
    """A logged scan of this ticket (only those that moved it: admissions, exits, annuls)."""

    checkin_id: str
    scanned_at: datetime
    direction: str
    verdict: str
    kind: str = "scan"  # scan / annul
    gate: str | None = None
    device_id: str | None = None
    device_name: str | None = None
    annuls_checkin_id: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """Everything the engine needs about one code, read from the replica by the caller."""

    ticket: TicketFacts | None = None
    ticket_type: TicketTypeFacts | None = None
    # Revocations of this ticket: serial -> reason (cancelled, refunded, transferred, reissued).
    revoked_serials: Mapping[int, str] = field(default_factory=dict)
    history: Sequence[PastScan] = ()
    # Public keys (base64) of the events the replica knows, for the token's event at least.
    event_keys: Mapping[str, Sequence[str]] = field(default_factory=dict)
    event_names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ScanContext:
    event_id: str
    gate: str
    direction: str  # in / out
    now: datetime
    online: bool = False
    timezone: str = "UTC"
    checkin_id: str | None = None
    device_id: str | None = None  # this kiosk, so its own scans are named, not shown as an id
    device_name: str | None = None
    offline_policy: str = "lenient"  # the event's (events.offline_policy): lenient or strict


# The action for every invalid code, whatever the reason: the guest may be honest (a cracked
# screen, a bad print), so the door checks the person rather than accusing them.
_INVALID_ACTION = (
    "Do not admit on this code. Ask for ID and the order email; find the guest by name."
)


# --- the rules ------------------------------------------------------------------------------


OFFLINE_FLAG = "Offline — duplicates possible."
OFFLINE_HOLD_ACTION = (
    "This door reaches neither the venue hub nor the server, and this event is in strict "
    "mode: a signed-in staff member must admit the guest (Admit on staff's word, F6)."
)


def decide(code: ReadCode, snap: Snapshot, ctx: ScanContext) -> ScanResult:
    """The verdict for ``code``; an admission decided with no connection follows the event's
    offline policy: flagged (lenient) or held for a staff member (strict)."""
    result = _decide(code, snap, ctx)
    if result.verdict != Verdict.ADMITTED or ctx.online:
        return result
    if ctx.offline_policy == "strict":
        return replace(
            result,
            verdict=Verdict.OFFLINE_HOLD,
            headline=HEADLINES[Verdict.OFFLINE_HOLD],
            detail=OFFLINE_HOLD_ACTION,
        )
    return replace(result, detail=f"{OFFLINE_FLAG} {result.detail}")


def _decide(code: ReadCode, snap: Snapshot, ctx: ScanContext) -> ScanResult:
    """The verdict for one scan. Never raises on any input the caller can build."""
    r = _Result(ctx)
    if code.kind is CodeKind.UNREADABLE:
        return r.make(Verdict.UNREADABLE, f"{code.problem or 'Nothing was read.'} Scan again.")
    if code.kind is CodeKind.MALFORMED:
        return r.make(Verdict.FORGED, _INVALID_ACTION, reason="damaged, altered or cut short")
    if code.kind is CodeKind.NEWER_FORMAT:
        return r.make(
            Verdict.UNKNOWN,
            "This ticket uses a newer format. Update Showdesk, or check the guest in by name.",
        )

    ticket = snap.ticket
    token = code.token
    if code.kind is CodeKind.TOKEN and token is not None:
        refusal = _check_token(token, code.text, snap, ctx, r)
        if refusal is not None:
            return refusal
        if ticket is not None and ticket.id != token.ticket_id:
            ticket = None  # the caller found a different row; trust only the signed id
    elif ticket is None:
        return r.make(Verdict.UNKNOWN, "No ticket with this code. Find the guest by name.")
    elif ticket.qr_code_data != code.text:
        return r.make(Verdict.UNKNOWN, "No ticket with this code. Find the guest by name.")

    ttype = snap.ticket_type
    r.fill(ticket, ttype, token)

    if ticket is not None and ticket.event_id != ctx.event_id:
        name = snap.event_names.get(ticket.event_id)
        return r.make(Verdict.WRONG_EVENT, f"This ticket is for {name or 'another event'}.")

    # Status and revocation first: they hold for entries and exits alike.
    refusal = _check_status(ticket, token, snap, r)
    if refusal is not None:
        return refusal

    inside, admissions, last_in = _presence(snap.history)
    first = admissions[0] if admissions else None
    r.first(first)

    if ctx.direction == "out":
        if inside and last_in is not None:  # inside: the latest move was an admission
            return r.make(
                Verdict.EXIT_RECORDED, f"Exit recorded. In since {r.clock(last_in.scanned_at)}."
            )
        return r.make(
            Verdict.EXIT_RECORDED, "Exit recorded. There was no entry on record for this ticket."
        )

    refusal = _check_window(ticket, token, ttype, ctx, r)
    if refusal is not None:
        return refusal
    if (
        ttype is not None
        and ttype.allowed_gates
        and not _gate_allowed(ctx.gate, ttype.allowed_gates)
    ):
        gates = ", ".join(ttype.allowed_gates)
        return r.make(
            Verdict.WRONG_GATE_OR_TIER, f"{ttype.name} enters at {gates}, not {ctx.gate}."
        )

    if first is not None:
        if inside:
            return r.make(Verdict.ALREADY_ADMITTED, _already_detail(first, last_in, r))
        reentry = ttype.allow_reentry if ttype is not None else True
        if not reentry:
            return r.make(
                Verdict.ALREADY_ADMITTED,
                f"{_already_detail(first, last_in, r)} This ticket has no re-entry.",
            )
        return r.make(Verdict.ADMITTED, f"Re-entry. First admitted {r.clock(first.scanned_at)}.")

    if ticket is None:
        return r.make(
            Verdict.ADMITTED, "Admitted on the ticket's signature: sold after the last sync."
        )
    return r.make(
        Verdict.ADMITTED, "Welcome." if not ticket.notes else f"Attention: {ticket.notes}"
    )


def _check_token(
    token: ParsedToken, text: str, snap: Snapshot, ctx: ScanContext, r: _Result
) -> ScanResult | None:
    keys = snap.event_keys.get(token.event_id)
    if token.event_id != ctx.event_id:
        if keys and not token.verify(keys):
            return r.make(
                Verdict.FORGED, _INVALID_ACTION, reason="signature does not match its event"
            )
        name = snap.event_names.get(token.event_id)
        return r.make(Verdict.WRONG_EVENT, f"This ticket is for {name or 'another event'}.")
    if not keys:
        if snap.ticket is not None and snap.ticket.qr_code_data == text:
            return None  # no key synced yet, but the code is exactly the ticket's own
        return r.make(
            Verdict.UNKNOWN,
            "This kiosk has no signing key for the event yet. Sync, or check the guest in by name.",
        )
    if not token.verify(keys):
        return r.make(Verdict.FORGED, _INVALID_ACTION, reason="signature not valid")
    return None


def _check_status(
    ticket: TicketFacts | None, token: ParsedToken | None, snap: Snapshot, r: _Result
) -> ScanResult | None:
    status = ticket.status if ticket is not None else None
    if status == "cancelled":
        return r.make(
            Verdict.CANCELLED, "This ticket was cancelled. Send the guest to the box office."
        )
    if status == "refunded":
        return r.make(
            Verdict.REFUNDED, "This ticket was refunded. Send the guest to the box office."
        )
    if token is None:
        return None
    reason = snap.revoked_serials.get(token.serial)
    if reason is None and ticket is not None and token.serial < ticket.token_serial:
        reason = "reissued"
    if reason == "cancelled":
        return r.make(
            Verdict.CANCELLED, "This ticket was cancelled. Send the guest to the box office."
        )
    if reason == "refunded":
        return r.make(
            Verdict.REFUNDED, "This ticket was refunded. Send the guest to the box office."
        )
    if reason is not None:
        why = (
            "transferred to someone else" if reason == "transferred" else "replaced by a newer code"
        )
        return r.make(Verdict.REVOKED, f"This code was {why}. Ask for the current ticket.")
    return None


def _check_window(
    ticket: TicketFacts | None,
    token: ParsedToken | None,
    ttype: TicketTypeFacts | None,
    ctx: ScanContext,
    r: _Result,
) -> ScanResult | None:
    starts = [
        t
        for t in (
            ticket.valid_from if ticket else None,
            token.valid_from if token else None,
            ttype.entry_starts_at if ttype else None,
        )
        if t is not None
    ]
    ends = [
        t
        for t in (
            ticket.valid_until if ticket else None,
            token.valid_until if token else None,
            ttype.entry_ends_at if ttype else None,
        )
        if t is not None
    ]
    if starts and ctx.now < max(starts):
        return r.make(Verdict.NOT_YET_VALID, f"Entry opens {r.clock(max(starts), day=True)}.")
    if ends and ctx.now > min(ends):
        return r.make(Verdict.EXPIRED, f"Entry closed {r.clock(min(ends), day=True)}.")
    return None


def _gate_allowed(gate: str, allowed: Sequence[str]) -> bool:
    wanted = gate.strip().casefold()
    return any(str(g).strip().casefold() in (wanted, "*", "any") for g in allowed)


def _presence(history: Sequence[PastScan]) -> tuple[bool, list[PastScan], PastScan | None]:
    """(inside now?, admissions oldest first, latest admission) from the non-annulled log."""
    annulled = {p.annuls_checkin_id for p in history if p.kind == "annul" and p.annuls_checkin_id}
    moves = sorted(
        (
            p
            for p in history
            if p.kind == "scan"
            and p.checkin_id not in annulled
            and p.verdict in (Verdict.ADMITTED, Verdict.EXIT_RECORDED)
        ),
        key=lambda p: (p.scanned_at, p.checkin_id),
    )
    admissions = [p for p in moves if p.verdict == Verdict.ADMITTED]
    inside = bool(moves) and moves[-1].verdict == Verdict.ADMITTED
    return inside, admissions, (admissions[-1] if admissions else None)


def _already_detail(first: PastScan, last_in: PastScan | None, r: _Result) -> str:
    text = f"First admitted {r.clock(first.scanned_at)} at {r.where(first)}."
    if last_in is not None and last_in.checkin_id != first.checkin_id:
        text += f" Last in {r.clock(last_in.scanned_at)} at {r.where(last_in)}."
    return text


class _Result:
    """Collects the facts shown with a verdict, then builds the ScanResult."""

    def __init__(self, ctx: ScanContext) -> None:
        self.ctx = ctx
        try:
            self.zone = ZoneInfo(ctx.timezone or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            self.zone = ZoneInfo("UTC")
        self.facts: dict = {}

    def fill(
        self, ticket: TicketFacts | None, ttype: TicketTypeFacts | None, token: ParsedToken | None
    ) -> None:
        if token is not None:
            self.facts["ticket_id"] = token.ticket_id
        if ticket is not None:
            self.facts.update(
                attendee_name=ticket.attendee_name,
                order_number=ticket.order_number,
                ticket_number=ticket.ticket_number,
                ticket_id=ticket.id,
                notes=ticket.notes,
            )
        if ttype is not None:
            self.facts.update(tier=ttype.tier, ticket_type=ttype.name)

    def first(self, scan: PastScan | None) -> None:
        if scan is not None:
            self.facts.update(
                first_admitted_at=scan.scanned_at,
                first_gate=scan.gate,
                first_device=self.device(scan),
            )

    def clock(self, moment: datetime | None, day: bool = False) -> str:
        if moment is None:
            return "earlier"
        local = moment.astimezone(self.zone)
        if day and local.date() != self.ctx.now.astimezone(self.zone).date():
            return local.strftime("%a %d %b %H:%M")
        return local.strftime("%H:%M")

    def device(self, scan: PastScan) -> str | None:
        """A device's name for people: its name, else "this kiosk" / "another kiosk"."""
        if scan.device_name:
            return scan.device_name
        if scan.device_id is None:
            return None
        if scan.device_id == self.ctx.device_id:
            return self.ctx.device_name or THIS_KIOSK
        return ANOTHER_KIOSK

    def where(self, scan: PastScan) -> str:
        device = self.device(scan)
        gate = scan.gate or "an unknown gate"
        return f"{gate} ({device})" if device else gate

    def make(self, verdict: Verdict, detail: str, reason: str | None = None) -> ScanResult:
        return ScanResult(
            verdict=verdict,
            headline=HEADLINES[verdict],
            detail=detail,
            reason=reason,
            offline=not self.ctx.online,
            checkin_id=self.ctx.checkin_id,
            scanned_at=self.ctx.now,
            **self.facts,
        )
