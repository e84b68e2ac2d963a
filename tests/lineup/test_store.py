"""The lineup in a real replica: loading, and every edit queued in the outbox."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.store import lineup_store
from app.store.lineup_store import LineupProblem
from app.store.models import OutboxEntry, RunwayAppearance

from .conftest import SHOW_START, seed_show


def outbox_rows(db) -> list[OutboxEntry]:
    with db.session() as s:
        return list(s.scalars(select(OutboxEntry).order_by(OutboxEntry.seq)))


def test_load_orders_numbers_and_pins(db, show):
    lineup = lineup_store.load_lineup(db, show.show_id)
    assert [a.id for a in lineup.order] == show.appearances
    assert lineup.order[0].is_opening and lineup.order[-1].is_closing
    assert lineup.order[0].designer == "Arlo"
    assert [s.name for s in lineup.ordered_segments()] == ["Daywear", "Evening", "Finale"]
    (info,) = lineup_store.list_shows(db, show.event_id)
    assert info.looks == 12 and info.name == "Main runway"


def test_a_move_writes_exactly_one_outbox_row_with_only_the_key(db, show):
    lineup = lineup_store.load_lineup(db, show.show_id)
    moved = lineup.at(7).id  # within Evening (looks 5-8)
    plan = lineup.plan_move(moved, 5)
    assert lineup_store.save_move(db, plan) == 1
    (entry,) = outbox_rows(db)
    assert entry.table_name == "runway_appearances" and entry.op == "update"
    assert entry.row_id == moved
    assert set(entry.payload) == {"id", "order_key"}
    reloaded = lineup_store.load_lineup(db, show.show_id)
    assert reloaded.index_of(moved) == 5


def test_a_move_into_another_segment_writes_key_and_segment_of_one_row(db, show):
    lineup = lineup_store.load_lineup(db, show.show_id)
    moved = lineup.at(2).id
    plan = lineup.plan_move(moved, 6)
    lineup_store.save_move(db, plan)
    (entry,) = outbox_rows(db)
    assert set(entry.payload) == {"id", "order_key", "segment_id"}
    assert entry.payload["segment_id"] == show.segments[1]


def test_status_notes_model_edits_are_queued(db, show):
    a = show.appearances[3]
    lineup_store.save_status(db, a, "walked", SHOW_START)
    lineup_store.save_notes(db, a, "  Shoes: size 39\n  heel strap ")
    lineup_store.save_model(db, a, show.models[0])
    rows = outbox_rows(db)
    assert [set(r.payload) for r in rows] == [
        {"id", "status", "walked_at"},
        {"id", "notes"},
        {"id", "model_id"},
    ]
    lineup = lineup_store.load_lineup(db, show.show_id)
    got = lineup.get(a)
    assert got.status == "walked" and got.walked_at == SHOW_START
    assert got.notes == "Shoes: size 39 heel strap" and got.model_id == show.models[0]


def test_deleted_model_shows_as_removed(db):
    seeded = seed_show(db, deleted_model_at=1)
    lineup = lineup_store.load_lineup(db, seeded.show_id)
    a = lineup.get(seeded.appearances[1])
    assert a.model_removed and a.model_label == "Model removed"
    with pytest.raises(LineupProblem, match="removed"):
        lineup_store.save_model(db, seeded.appearances[2], seeded.models[1])


def test_bad_input_gets_a_sentence(db, show):
    with pytest.raises(LineupProblem, match="not a look status"):
        lineup_store.save_status(db, show.appearances[0], "flying")
    with pytest.raises(LineupProblem, match="no longer|removed"):
        lineup_store.save_notes(db, "missing-id", "x")
    with pytest.raises(LineupProblem, match="show"):
        lineup_store.load_lineup(db, "nope")


def test_damaged_key_in_the_replica_sorts_last_without_crashing(db, show):
    with db.session() as s:
        s.get(RunwayAppearance, show.appearances[4]).order_key = "!!bad"
    lineup = lineup_store.load_lineup(db, show.show_id)
    assert len(lineup) == 12


def test_show_started_is_queued(db, show):
    lineup_store.save_show_started(db, show.show_id, SHOW_START)
    (entry,) = outbox_rows(db)
    assert entry.table_name == "runway_shows" and set(entry.payload) == {
        "id",
        "status",
        "actual_started_at",
    }
    assert lineup_store.load_lineup(db, show.show_id).show.actual_started_at == SHOW_START
