"""This kiosk's clock against the server's: the offset the sync engine measured, kept in
local_meta (so it is known offline and after a restart), and the scan times it corrects.

A measurement: at a pull the server says what time it is; the kiosk compares that with the
middle of the request's round trip. The server read its clock somewhere inside the round trip,
so the offset is right to within half of it. From then on the kiosk's clock drifts away from the
server's: a PC's quartz clock gains or loses up to about 100 ppm (8.6 s a day) when nothing
(NTP) disciplines it, so a measurement's uncertainty grows by ``DRIFT_PER_SECOND`` for every
second since it was taken. An offset older than ``MAX_AGE_SECONDS``, or one measured at a time
the kiosk's clock now places in the future (its clock was set back since), is not used at all.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.store.db import get_meta, set_meta
from app.store.types import UTCDateTime, parse_utc

META_CLOCK_OFFSET = "sync.clock_offset"
"""JSON: {"offset_s", "uncertainty_s", "measured_at"} of the measurement in use."""

DRIFT_PER_SECOND = 100e-6
MAX_AGE_SECONDS = 7 * 86400.0
MAX_UNCERTAINTY_SECONDS = 3600.0  # the server refuses more (migrations/supabase/0019)
SET_BACK_TOLERANCE_SECONDS = 1.0

_TIME = UTCDateTime()


@dataclass(frozen=True)
class ClockOffset:
    """Kiosk clock minus server clock (positive: the kiosk is ahead), as measured at
    ``measured_at`` (kiosk time), good to within ``uncertainty_s`` then."""

    offset_s: float
    uncertainty_s: float
    measured_at: datetime

    def uncertainty_at(self, device_time: datetime) -> float | None:
        """How far the offset can be off at ``device_time``; None when it no longer holds."""
        age = (device_time - self.measured_at).total_seconds()
        if age < -SET_BACK_TOLERANCE_SECONDS or age > MAX_AGE_SECONDS:
            return None
        uncertainty = self.uncertainty_s + DRIFT_PER_SECOND * max(age, 0.0)
        return uncertainty if uncertainty <= MAX_UNCERTAINTY_SECONDS else None

    def correct(self, device_time: datetime) -> tuple[datetime | None, float | None]:
        """``device_time`` on the server's clock and its uncertainty (s), or (None, None)."""
        uncertainty = self.uncertainty_at(device_time)
        if uncertainty is None:
            return None, None
        # to the millisecond, rounded up: an uncertainty is never understated (less a hair, so
        # float noise such as 560.0000000001 ms does not add a millisecond)
        milliseconds = math.ceil(uncertainty * 1000 - 1e-6)
        return device_time - timedelta(seconds=self.offset_s), milliseconds / 1000

    def to_json(self) -> str:
        return json.dumps(
            {
                "offset_s": self.offset_s,
                "uncertainty_s": self.uncertainty_s,
                "measured_at": _TIME.process_bind_param(self.measured_at, None),
            }
        )

    @classmethod
    def from_json(cls, text: str | None) -> ClockOffset | None:
        """The stored measurement; None for none or for anything unreadable."""
        if not text:
            return None
        try:
            data = json.loads(text)
            found = cls(
                float(data["offset_s"]),
                float(data["uncertainty_s"]),
                parse_utc(str(data["measured_at"])),
            )
        except (ValueError, TypeError, KeyError):
            return None
        usable = math.isfinite(found.offset_s) and math.isfinite(found.uncertainty_s)
        return found if usable and found.uncertainty_s >= 0 else None


def better_offset(kept: ClockOffset | None, new: ClockOffset) -> ClockOffset:
    """The measurement to keep: the new one, unless the kept one, aged to now, is still tighter
    and agrees with it (a pull whose big page took a long round trip does not replace a tight
    measurement of a minute ago). When they disagree the kiosk's clock was changed: the new one."""
    if kept is None:
        return new
    aged = kept.uncertainty_at(new.measured_at)
    if aged is None or aged >= new.uncertainty_s:
        return new
    if abs(kept.offset_s - new.offset_s) > aged + new.uncertainty_s:
        return new
    return kept


def load_offset(session: Session) -> ClockOffset | None:
    return ClockOffset.from_json(get_meta(session, META_CLOCK_OFFSET))


def remember_offset(session: Session, measured: ClockOffset) -> ClockOffset:
    """Keep the better of ``measured`` and the stored measurement; returns the one kept.

    A stored one that agrees with the new one and is still about as sure (within twice its
    uncertainty, plus a millisecond) stays: a pull every few seconds then writes (and syncs to
    disk) about once a minute, when the drift allowance has grown past that, not every time.
    """
    kept = load_offset(session)
    best = better_offset(kept, measured)
    if best is kept:
        return kept
    if kept is not None:
        aged = kept.uncertainty_at(best.measured_at)
        if (
            aged is not None
            and abs(kept.offset_s - best.offset_s) <= best.uncertainty_s
            and aged <= 2 * best.uncertainty_s + 0.001
        ):
            return kept
    set_meta(session, META_CLOCK_OFFSET, best.to_json())
    return best
