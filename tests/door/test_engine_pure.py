"""The rule engine on its own (no database): random snapshots and codes never make it raise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.tokens import generate_keypair, issue_token
from app.domain.verdicts import (
    HEADLINES,
    PastScan,
    ScanContext,
    Snapshot,
    TicketFacts,
    TicketTypeFacts,
    Verdict,
    decide,
    read_code,
)
from app.store.types import new_id

NOW = datetime(2026, 11, 21, 19, 30, tzinfo=UTC)
PRIVATE, PUBLIC = generate_keypair()
EVENT, TICKET, TYPE = new_id(), new_id(), new_id()
TOKEN = issue_token(PRIVATE, ticket_id=TICKET, event_id=EVENT, ticket_type_id=TYPE, serial=2)

times = st.one_of(st.none(), st.integers(-600, 600).map(lambda m: NOW + timedelta(minutes=m)))
scans = st.builds(
    PastScan,
    checkin_id=st.sampled_from(["c1", "c2", "c3", "c4"]),
    scanned_at=st.integers(-300, 0).map(lambda m: NOW + timedelta(minutes=m)),
    direction=st.sampled_from(["in", "out"]),
    verdict=st.sampled_from(["admitted", "exit_recorded", "already_admitted", "forged"]),
    kind=st.sampled_from(["scan", "annul"]),
    gate=st.one_of(st.none(), st.text(max_size=10)),
    device_id=st.one_of(st.none(), st.text(max_size=10)),
    device_name=st.one_of(st.none(), st.text(max_size=10)),
    annuls_checkin_id=st.one_of(st.none(), st.sampled_from(["c1", "c2", "c3"])),
)
tickets = st.one_of(
    st.none(),
    st.builds(
        TicketFacts,
        id=st.sampled_from([TICKET, new_id()]),
        event_id=st.sampled_from([EVENT, new_id()]),
        ticket_number=st.just("FW26-000001"),
        status=st.sampled_from(["valid", "cancelled", "refunded", "transferred", "weird"]),
        token_serial=st.integers(0, 4),
        qr_code_data=st.sampled_from([TOKEN, "FW26-000001"]),
        ticket_type_id=st.just(TYPE),
        valid_from=times,
        valid_until=times,
        attendee_name=st.one_of(st.none(), st.text(max_size=20)),
        order_number=st.none(),
        notes=st.one_of(st.none(), st.text(max_size=20)),
    ),
)
types = st.one_of(
    st.none(),
    st.builds(
        TicketTypeFacts,
        id=st.just(TYPE),
        name=st.text(min_size=1, max_size=12),
        tier=st.sampled_from(["general", "vip", "press"]),
        entry_starts_at=times,
        entry_ends_at=times,
        allowed_gates=st.lists(st.sampled_from(["North door", "Press desk", "*"]), max_size=2).map(
            tuple
        ),
        allow_reentry=st.booleans(),
    ),
)
codes = st.one_of(
    st.just(TOKEN), st.just("FW26-000001"), st.text(max_size=80), st.binary(max_size=80), st.none()
)


@settings(max_examples=150, deadline=None)
@given(
    code=codes,
    ticket=tickets,
    ttype=types,
    history=st.lists(scans, max_size=5),
    revoked=st.dictionaries(
        st.integers(0, 3),
        st.sampled_from(["cancelled", "refunded", "transferred", "x"]),
        max_size=2,
    ),
    keys=st.sampled_from([[PUBLIC], [], ["junk"], [generate_keypair()[1]]]),
    direction=st.sampled_from(["in", "out"]),
    gate=st.text(max_size=12),
    tz=st.sampled_from(["Europe/Paris", "UTC", "Not/AZone", ""]),
)
def test_engine_never_raises(code, ticket, ttype, history, revoked, keys, direction, gate, tz):
    snap = Snapshot(
        ticket=ticket,
        ticket_type=ttype,
        revoked_serials=revoked,
        history=history,
        event_keys={EVENT: keys},
    )
    ctx = ScanContext(event_id=EVENT, gate=gate, direction=direction, now=NOW, timezone=tz)
    result = decide(read_code(code), snap, ctx)
    assert isinstance(result.verdict, Verdict)
    assert result.headline == HEADLINES[result.verdict] and result.detail
    if result.verdict is Verdict.ADMITTED:
        assert keys == [PUBLIC] or (ticket is not None and ticket.qr_code_data == code)


def test_same_inputs_same_verdict():
    snap = Snapshot(event_keys={EVENT: [PUBLIC]})
    ctx = ScanContext(event_id=EVENT, gate="North door", direction="in", now=NOW)
    first = decide(read_code(TOKEN), snap, ctx)
    assert first == decide(read_code(TOKEN), snap, ctx)
    assert first.verdict is Verdict.ADMITTED and first.offline
