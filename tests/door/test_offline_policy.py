"""The event's offline policy at a door cut off from both the venue hub and the server:
lenient admits and says "offline — duplicates possible"; strict holds the guest until a
signed-in staff member admits them, and that admission is logged with who and why."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.domain.verdicts import OFFLINE_FLAG, Verdict
from app.store.checkin_service import OVERRIDE_REASON, CheckinNotFound, StaffRequired
from app.store.models import Checkin, Event, OutboxEntry


def _policy(door, value: str | None) -> None:
    with door.db.session() as s:
        s.get(Event, door.event_id).offline_policy = value


@pytest.mark.parametrize("policy", [None, "lenient"])
def test_lenient_admits_offline_and_says_duplicates_are_possible(door, policy):
    _policy(door, policy)
    _ticket, code = door.add_ticket()
    result = door.service(online=lambda: False).scan(code)
    assert result.verdict == Verdict.ADMITTED and result.offline
    assert result.detail.startswith(OFFLINE_FLAG)


@pytest.mark.parametrize("policy", [None, "lenient", "strict"])
def test_connected_doors_decide_as_always(door, policy):
    _policy(door, policy)
    _ticket, code = door.add_ticket()
    result = door.service(online=lambda: True).scan(code)
    assert result.verdict == Verdict.ADMITTED
    assert OFFLINE_FLAG not in result.detail


def test_strict_holds_a_guest_until_a_signed_in_staff_member_admits_them(door):
    _policy(door, "strict")
    ticket, code = door.add_ticket()
    alone = door.service(online=lambda: False)
    held = alone.scan(code)
    assert held.verdict == Verdict.OFFLINE_HOLD
    assert held.headline == "HOLD — NO CONNECTION"
    assert "staff member" in held.detail and "F6" in held.detail
    # a hold is not an admission: scanning again holds again, nobody is inside
    assert alone.scan(code).verdict == Verdict.OFFLINE_HOLD
    with pytest.raises(StaffRequired, match="signed-in staff member"):
        alone.admit_on_hold(held.checkin_id)
    staffed = door.service(online=lambda: False, staff_id="staff-7", staff_name="Door 1")
    admitted = staffed.admit_on_hold(held.checkin_id)
    assert admitted.verdict == Verdict.ADMITTED and admitted.ticket_id == ticket
    with door.db.session() as s:
        row = s.get(Checkin, admitted.checkin_id)
        assert (row.method, row.staff_id, row.reason) == ("override", "staff-7", OVERRIDE_REASON)
        queued = s.scalars(
            select(OutboxEntry.payload).where(OutboxEntry.row_id == admitted.checkin_id)
        ).one()
    payload = queued if isinstance(queued, dict) else json.loads(queued)
    assert payload["method"] == "override" and payload["staff_id"] == "staff-7"
    # now the guest is inside: a second scan is a duplicate, even offline
    assert staffed.scan(code).verdict == Verdict.ALREADY_ADMITTED


def test_only_a_hold_can_be_admitted_on_staffs_word(door):
    _policy(door, "strict")
    _ticket, code = door.add_ticket()
    staffed = door.service(online=lambda: True, staff_id="staff-7")
    ordinary = staffed.scan(code)
    with pytest.raises(CheckinNotFound):
        staffed.admit_on_hold(ordinary.checkin_id)
    with pytest.raises(CheckinNotFound):
        staffed.admit_on_hold("no-such-id")


def test_strict_refusals_stay_refusals(door):
    _policy(door, "strict")
    _ticket, code = door.add_ticket(status="cancelled")
    assert door.service(online=lambda: False).scan(code).verdict == Verdict.CANCELLED
