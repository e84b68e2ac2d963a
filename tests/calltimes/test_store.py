"""The call-time board in the replica: load, arrivals, edits, each with its outbox row."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.store import calltimes_store as store
from app.store.models import CallTime, OutboxEntry

from .conftest import GENERAL_CALL


def _outbox(db, row_id):
    with db.session() as s:
        return list(s.scalars(select(OutboxEntry).where(OutboxEntry.row_id == row_id)))


def test_board_sorted_by_call(db, backstage):
    with db.session() as s:
        board = store.load_board(s, backstage.event_id)
    names = [r.name for r in board.rows]
    assert names[0] == "Gustavo Reyes"  # 14:30 Paris, absolute
    assert names[1] == "Dmitri Volkov"  # -120
    assert names[-1] == "Fatima Zahra"  # -30
    assert board.timezone == "Europe/Paris" and board.venue_name == "Grand Palais"


def test_arrival_by_badge_earliest_stands_with_outbox(db, backstage):
    first = GENERAL_CALL - timedelta(minutes=70)
    with db.session() as s:
        res = store.arrive_by_badge(s, backstage.event_id, " BADGE-0001\n", first)
    assert res.ok and res.person_name == "Ana Silva" and not res.already
    assert res.message == "Ana Silva arrived at 15:50."
    with db.session() as s:
        again = store.arrive_by_badge(
            s, backstage.event_id, "BADGE-0001", first + timedelta(minutes=9)
        )
    assert again.ok and again.already and again.arrived_at == first
    with db.session() as s:
        assert s.get(CallTime, backstage.calls["Ana Silva"]).arrived_at == first
    rows = _outbox(db, backstage.calls["Ana Silva"])
    assert len(rows) == 1 and rows[0].op == "update"
    assert set(rows[0].payload) == {"id", "arrived_at"}


def test_unknown_badge_is_a_clear_message(db, backstage):
    with db.session() as s:
        res = store.arrive_by_badge(s, backstage.event_id, "NOPE-123", GENERAL_CALL)
    assert not res.ok and res.message.startswith("Unknown badge (NOPE-123)")
    with db.session() as s:
        assert not store.arrive_by_badge(s, backstage.event_id, "  ", GENERAL_CALL).ok


def test_general_call_moves_offsets(db, backstage):
    with db.session() as s:
        store.set_general_call(s, backstage.event_id, GENERAL_CALL + timedelta(minutes=30))
    with db.session() as s:
        board = store.load_board(s, backstage.event_id)
    by_name = {r.name: r for r in board.rows}
    assert by_name["Ana Silva"].call.at == GENERAL_CALL - timedelta(minutes=30)
    assert by_name["Gustavo Reyes"].call.at == GENERAL_CALL - timedelta(hours=2, minutes=30)
    rows = _outbox(db, backstage.event_id)
    assert [set(r.payload) for r in rows] == [{"id", "general_call_at"}]


def test_edit_call_and_confirm(db, backstage):
    cid = backstage.calls["Eva Müller"]
    new_at = GENERAL_CALL - timedelta(minutes=15)
    with db.session() as s:
        changed = store.edit_call(s, cid, call_at=new_at, location="Makeup room")
        store.mark_confirmed(s, cid, GENERAL_CALL - timedelta(hours=5))
    assert set(changed) == {"call_at", "offset_minutes", "location"}
    with db.session() as s:
        row = next(r for r in store.load_board(s, backstage.event_id).rows if r.call_time_id == cid)
    assert row.call.at == new_at and row.offset_minutes is None and row.confirmed_at is not None
    payloads = [set(r.payload) for r in _outbox(db, cid)]
    assert payloads == [{"id", "call_at", "offset_minutes", "location"}, {"id", "confirmed_at"}]


def test_arrival_clears_no_show(db, backstage):
    cid = backstage.calls["Bruno Costa"]
    with db.session() as s:
        store.set_no_show(s, cid, True)
    with db.session() as s:
        res = store.mark_arrived(s, cid, GENERAL_CALL + timedelta(minutes=70))
    assert res.ok
    with db.session() as s:
        ct = s.get(CallTime, cid)
        assert ct.no_show is False and ct.arrived_at is not None
