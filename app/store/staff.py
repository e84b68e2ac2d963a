"""Staff sign-in at a shared kiosk: badge + PIN, checked offline against the replica.

A staff member signs in by scanning their badge (a QR carrying ``SDS1:<badge_code>``) and
typing a PIN of 4 to 6 digits. The replica holds every staff row of the organization (pulled
like any replicated table), with the PIN as an Argon2id hash only, so sign-in works with no
network; a member disabled centrally (``disabled_at``) is refused as soon as a pull has
brought that change.

- ``hash_pin`` / ``verify_pin``: Argon2id, 48 MiB, 2 passes, 1 lane (``PIN_HASHER``): one
  verify takes ~100 ms on the project's 2-core machine (98-105 ms over 15 runs, with the
  machine otherwise busy; 64 MiB took 137-154 ms there, too close to the 150 ms budget). A
  hash read from the replica with costs above ``MAX_MEMORY_KIB`` / ``MAX_TIME_COST`` /
  ``MAX_PARALLELISM`` is not tried (a row crafted to make a kiosk allocate gigabytes is simply
  a wrong PIN).
- ``pin_problem``: 4 to 6 digits, and not a trivial one (one digit repeated, or a straight run
  up or down such as 1234 or 98765): those are the first a person tries.
- ``sign_in``: the staff member (``SignedIn``) or a sentence. Five wrong PINs in a row lock the
  kiosk for 60 s; the count and the lock live in ``local_meta``, so restarting the app does
  not reset them. A wrong PIN for any badge counts (the lock is per kiosk, not per badge).
- ``should_lock``: the idle rule (default 300 s), a pure function.
- ``badge_payload`` / ``parse_badge`` / ``badge_png``: the badge's QR.

No Qt here: the screens call these on the DB worker (``sign_in`` writes ``local_meta``; run it
inside ``Database.session()``, which commits).
"""

from __future__ import annotations

import io
import json
import math
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import qrcode
from argon2 import PasswordHasher
from argon2.exceptions import Argon2Error, InvalidHashError
from argon2.low_level import Type
from qrcode.constants import ERROR_CORRECT_M
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.store import outbox
from app.store.models import LocalMeta, Staff
from app.store.types import utcnow

ROLES = ("door", "producer", "organizer", "admin")
BADGE_PREFIX = "SDS1:"
BADGE_CODE_RE = re.compile(r"[0-9a-f]{32}")
PIN_RE = re.compile(r"[0-9]{4,6}")

MAX_WRONG_PINS = 5
LOCKOUT_SECONDS = 60
DEFAULT_IDLE_SECONDS = 300
META_SIGN_IN_FAILURES = "staff.sign_in_failures"

# Argon2id with 48 MiB and 2 passes on one lane: ~100 ms per verify on this project's
# 2-core Linux machine (measured with argon2-cffi 25.1; see the module docstring).
PIN_HASHER = PasswordHasher(time_cost=2, memory_cost=49152, parallelism=1, type=Type.ID)
MAX_MEMORY_KIB = 262144  # 256 MiB
MAX_TIME_COST = 10
MAX_PARALLELISM = 8
_PHC_RE = re.compile(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+")


class PinProblem(ValueError):
    """A PIN that cannot be set; the message is a sentence for the person."""


# --- PINs -------------------------------------------------------------------------------------


def pin_problem(pin: str) -> str | None:
    """Why ``pin`` cannot be a PIN, or None when it can."""
    if not isinstance(pin, str) or not PIN_RE.fullmatch(pin):
        return "A PIN is 4 to 6 digits."
    digits = [int(c) for c in pin]
    if len(set(digits)) == 1:
        return "That PIN is too easy to guess (one digit repeated): choose another."
    steps = {b - a for a, b in zip(digits, digits[1:], strict=False)}
    if steps in ({1}, {-1}):
        return "That PIN is too easy to guess (a run like 1234): choose another."
    return None


def hash_pin(pin: str) -> str:
    """The Argon2id hash (PHC string) of a valid PIN; raises ``PinProblem`` otherwise."""
    problem = pin_problem(pin)
    if problem is not None:
        raise PinProblem(problem)
    return PIN_HASHER.hash(pin)


def hash_within_limits(pin_hash: str | None) -> bool:
    """An Argon2id PHC string whose costs a kiosk is willing to pay."""
    if not pin_hash:
        return False
    found = _PHC_RE.fullmatch(pin_hash)
    if found is None:
        return False
    memory, time_cost, lanes = (int(g) for g in found.groups())
    return memory <= MAX_MEMORY_KIB and time_cost <= MAX_TIME_COST and 1 <= lanes <= MAX_PARALLELISM


def verify_pin(pin_hash: str | None, pin: str) -> bool:
    """Whether ``pin`` matches ``pin_hash``; False for any malformed or too costly hash."""
    if not isinstance(pin, str) or not PIN_RE.fullmatch(pin) or not hash_within_limits(pin_hash):
        return False
    assert pin_hash is not None
    try:
        return PIN_HASHER.verify(pin_hash, pin)
    except (Argon2Error, InvalidHashError):
        return False


def set_pin(session: Session, staff_id: str, pin: str) -> None:
    """Give a staff member a new PIN (an organizer's or admin's action): the hash is written
    and queued for the server, which passes it to every kiosk. Raises ``PinProblem``."""
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise PinProblem("There is no such staff member here.")
    staff.pin_hash = hash_pin(pin)
    outbox.record(session, staff, "update", fields=["pin_hash"])


def set_disabled(session: Session, staff_id: str, disabled_at: datetime | None) -> None:
    """Disable a staff member (``disabled_at`` a time) or enable them again (None); queued for
    the server, whence it reaches every kiosk with its next pull."""
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise LookupError("There is no such staff member here.")
    staff.disabled_at = disabled_at
    outbox.record(session, staff, "update", fields=["disabled_at"])


# --- badges -----------------------------------------------------------------------------------


def new_badge_code() -> str:
    """A fresh badge code: 128 random bits as 32 lowercase hex digits (what the server's
    CHECK takes)."""
    return secrets.token_hex(16)


def badge_payload(badge_code: str) -> str:
    return f"{BADGE_PREFIX}{badge_code}"


def parse_badge(text: str | bytes | None) -> str | None:
    """The badge code in a scanned text (``SDS1:`` and 32 hex digits, surrounding whitespace
    as a USB scanner adds it allowed; hex in either case), or None for anything else."""
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            return None
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not text.startswith(BADGE_PREFIX):
        return None
    code = text[len(BADGE_PREFIX) :].lower()
    return code if BADGE_CODE_RE.fullmatch(code) else None


def badge_png(staff: Staff, px: int = 300) -> bytes:
    """The badge's QR as a PNG of ``px`` x ``px`` pixels (a quiet zone of 4 modules
    included), for the printed badge sheet."""
    if not staff.badge_code or not BADGE_CODE_RE.fullmatch(staff.badge_code):
        raise ValueError(f"{staff.name} has no badge code yet: sync, then print again.")
    if px < 64:
        raise ValueError("A badge QR needs at least 64 pixels a side.")
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4, box_size=1)
    qr.add_data(badge_payload(staff.badge_code))
    qr.make(fit=True)
    image = qr.make_image(fill_color="black", back_color="white").get_image().convert("L")
    from PIL import Image  # Pillow: a dependency of the app, only needed here

    # whole pixels per module (crisp when printed), centred on a white square of px
    scale = px // image.width
    if scale >= 1:
        image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
        canvas = Image.new("L", (px, px), 255)
        offset = (px - image.width) // 2
        canvas.paste(image, (offset, offset))
        image = canvas
    else:
        image = image.resize((px, px), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


# --- sign-in ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedIn:
    """Who is signed in at this kiosk (no ORM object: safe to hand to the main thread)."""

    staff_id: str
    name: str
    role: str
    organization_id: str
    event_id: str | None
    signed_in_at: datetime


@dataclass(frozen=True)
class SignInResult:
    """``staff`` when signed in, else ``message`` says why not. ``locked_until`` is set while
    the kiosk refuses PINs; ``tries_left`` after a wrong PIN."""

    staff: SignedIn | None
    message: str
    locked_until: datetime | None = None
    tries_left: int | None = None

    @property
    def ok(self) -> bool:
        return self.staff is not None


@dataclass(frozen=True)
class _Failures:
    count: int = 0
    locked_until: datetime | None = None


def _read_failures(session: Session) -> _Failures:
    row = session.get(LocalMeta, META_SIGN_IN_FAILURES)
    if row is None:
        return _Failures()
    try:
        data = json.loads(row.value)
        until = data.get("locked_until")
        return _Failures(
            int(data.get("count", 0)),
            datetime.fromisoformat(until) if until else None,
        )
    except (ValueError, TypeError, AttributeError):
        # unreadable: treat as a lock that just started, never as no lock at all
        return _Failures(0, utcnow() + timedelta(seconds=LOCKOUT_SECONDS))


def _write_failures(session: Session, failures: _Failures) -> None:
    value = json.dumps(
        {
            "count": failures.count,
            "locked_until": failures.locked_until.isoformat() if failures.locked_until else None,
        }
    )
    row = session.get(LocalMeta, META_SIGN_IN_FAILURES)
    if row is None:
        session.add(LocalMeta(key=META_SIGN_IN_FAILURES, value=value))
    else:
        row.value = value
    session.flush()


def locked_for(session: Session, now: datetime) -> int:
    """Seconds this kiosk still refuses PINs (0: not locked), for the screen's countdown."""
    until = _read_failures(session).locked_until
    if until is None or until <= now:
        return 0
    # a lock further off than one lockout means the clock went back: cap it
    return min(LOCKOUT_SECONDS, math.ceil((until - now).total_seconds()))


def _locked_message(seconds: int) -> str:
    return f"Too many wrong PINs — try again in {seconds} s"


def _when(at: datetime) -> str:
    return f"{at.day} {at:%b %Y} at {at:%H:%M} UTC"


def _still_locked(session: Session, now: datetime) -> SignInResult | None:
    """The refusal while this kiosk is paused after too many wrong PINs, else None."""
    failures = _read_failures(session)
    if failures.locked_until is not None and failures.locked_until - now > timedelta(
        seconds=LOCKOUT_SECONDS
    ):  # the clock went back: the lock lasts one lockout from now, not until then
        _write_failures(session, _Failures(0, now + timedelta(seconds=LOCKOUT_SECONDS)))
    wait = locked_for(session, now)
    if not wait:
        return None
    return SignInResult(
        None, _locked_message(wait), locked_until=_read_failures(session).locked_until
    )


def _wrong_pin(session: Session, now: datetime) -> SignInResult:
    """Count a wrong PIN (kept in the replica: a restart does not reset it); the fifth in a
    row pauses every PIN on this kiosk, badge or kiosk PIN, for ``LOCKOUT_SECONDS``."""
    count = _read_failures(session).count + 1
    if count >= MAX_WRONG_PINS:
        until = now + timedelta(seconds=LOCKOUT_SECONDS)
        _write_failures(session, _Failures(0, until))
        return SignInResult(None, _locked_message(LOCKOUT_SECONDS), locked_until=until)
    _write_failures(session, _Failures(count, None))
    left = MAX_WRONG_PINS - count
    word = "try" if left == 1 else "tries"
    return SignInResult(None, f"Wrong PIN — {left} {word} left", tries_left=left)


def check_kiosk_pin(
    session: Session, right: Callable[[str], bool], pin: str, now: datetime | None = None
) -> SignInResult | None:
    """The kiosk PIN (no badge), checked by ``right`` under the same count of wrong PINs and
    the same pause as a badge's: None when accepted, else the refusal."""
    now = now or utcnow()
    refused = _still_locked(session, now)
    if refused is not None:
        return refused
    if not right(pin):
        return _wrong_pin(session, now)
    _write_failures(session, _Failures())
    return None


def find_badge(session: Session, scanned: str) -> Staff | None:
    """The staff row of a scanned badge (the QR's text or the bare code)."""
    code = parse_badge(scanned)
    if code is None and isinstance(scanned, str) and BADGE_CODE_RE.fullmatch(scanned.strip()):
        code = scanned.strip()
    if code is None:
        return None
    return session.scalars(select(Staff).where(Staff.badge_code == code).limit(1)).first()


def sign_in(
    session: Session,
    badge: str,
    pin: str,
    now: datetime | None = None,
    *,
    event_id: str | None = None,
) -> SignInResult:
    """Sign a staff member in with their badge (scanned text or code) and PIN.

    While the kiosk is locked no PIN is tried, right or wrong. ``event_id``: the kiosk's
    event; staff who work another event only are refused.
    """
    now = now or utcnow()
    refused = _still_locked(session, now)
    if refused is not None:
        return refused
    staff = find_badge(session, badge)
    if staff is None:
        return SignInResult(None, "Unknown badge")
    if staff.disabled_at is not None and staff.disabled_at <= now:
        return SignInResult(None, f"This badge was disabled on {_when(staff.disabled_at)}")
    if event_id is not None and staff.event_id is not None and staff.event_id != event_id:
        return SignInResult(None, "This badge is for another event")
    if staff.role not in ROLES:
        return SignInResult(None, "This badge has no role here: ask an organizer")
    if not staff.pin_hash:
        return SignInResult(None, "No PIN is set for this badge: ask an organizer to set one")
    if not verify_pin(staff.pin_hash, pin):
        return _wrong_pin(session, now)
    _write_failures(session, _Failures())
    signed = SignedIn(
        staff_id=staff.id,
        name=staff.name,
        role=staff.role,
        organization_id=staff.organization_id,
        event_id=staff.event_id,
        signed_in_at=now,
    )
    return SignInResult(signed, f"Signed in: {staff.name} ({staff.role})")


def still_allowed(session: Session, signed: SignedIn, now: datetime | None = None) -> bool:
    """Whether a signed-in member may go on (not disabled or removed since): call after each
    pull, and sign them out when it says no."""
    staff = session.get(Staff, signed.staff_id)
    now = now or utcnow()
    return staff is not None and (staff.disabled_at is None or staff.disabled_at > now)


def should_lock(
    last_activity: datetime, now: datetime, idle_seconds: float | None = DEFAULT_IDLE_SECONDS
) -> bool:
    """Whether a kiosk idle since ``last_activity`` locks at ``now``. ``idle_seconds`` None or
    0 never locks; a clock that went back (``now`` before the activity) does not lock."""
    if not idle_seconds or idle_seconds <= 0:
        return False
    return (now - last_activity).total_seconds() >= idle_seconds


def seconds_until_lock(
    last_activity: datetime, now: datetime, idle_seconds: float | None = DEFAULT_IDLE_SECONDS
) -> float | None:
    """Seconds left before the idle lock (0 when due), None when the kiosk never locks: the
    screen's timer interval."""
    if not idle_seconds or idle_seconds <= 0:
        return None
    return max(0.0, idle_seconds - (now - last_activity).total_seconds())
