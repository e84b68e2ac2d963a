"""Bad input to sync_push: a refusal with a reason in words, the batch's other mutations
unaffected, nothing stored for the refused one.

Every text column of every table an organizer writes gets nulls, arrays and objects where a
string belongs, a 1 MB string and a NUL byte; every reference column gets a malformed id, the
id of a deleted row and the id of a row of another event of the same organization.
SQL-shaped text is data: it is stored exactly as sent and changes nothing else.
"""

from __future__ import annotations

import uuid

import pytest

from tests.support.pg import OrgFixture, SupabaseDB, mutation

pytestmark = pytest.mark.postgres

SQL_SHAPED = "Robert'); DROP TABLE showdesk.tickets; -- \" OR 1=1 /* $$ ; $x$"
MEGABYTE = "é" * 1_000_000
WRONG_SHAPES = [("array", ["a", "b"]), ("object", {"a": 1})]


@pytest.fixture
def world(supabase_db: SupabaseDB):
    org = supabase_db.create_org("Alpha")
    device = supabase_db.create_device(org, "Laptop", "")
    backstage = supabase_db.create_backstage(org)
    other_event = supabase_db.create_event(org, "Second show")
    other = {
        "designer": supabase_db.scalar(
            "INSERT INTO designers (event_id, name) VALUES (%s, 'Other') RETURNING id::text",
            (other_event,),
        ),
        "model": supabase_db.scalar(
            "INSERT INTO models (event_id, first_name, last_name) VALUES (%s, 'O', 'M')"
            " RETURNING id::text",
            (other_event,),
        ),
    }
    gone = supabase_db.scalar(
        "INSERT INTO designers (event_id, name) VALUES (%s, 'Gone') RETURNING id::text",
        (org.event_id,),
    )
    supabase_db.execute("DELETE FROM designers WHERE id = %s", (gone,))
    return supabase_db, org, device, backstage, other, gone


def _templates(org: OrgFixture, backstage: dict) -> dict[str, dict]:
    """A valid new row per table, with every text column filled."""
    return {
        "attendees": {
            "event_id": org.event_id,
            "first_name": "Ana",
            "last_name": "Lima",
            "email": "ana@example.com",
            "phone": "+33 6 00 00 00 00",
            "company": "Maison",
            "notes": "VIP",
        },
        "designers": {"event_id": org.event_id, "name": "Ida", "brand": "IDA"},
        "looks": {
            "event_id": org.event_id,
            "designer_id": backstage["designer"],
            "title": "Look 9",
        },
        "call_times": {
            "event_id": org.event_id,
            "person_id": backstage["person"],
            "location": "Hair",
            "notes": "Bring the shoes",
        },
    }


def _text_columns(db: SupabaseDB, table: str, present: dict) -> list[str]:
    return [
        r["column_name"]
        for r in db.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'showdesk'"
            " AND table_name = %s AND data_type = 'text' ORDER BY ordinal_position",
            (table,),
        )
        if r["column_name"] in present
    ]


def _push_between_good_ones(db, claims, device, org, table, template, bad_payload):
    good = [
        mutation("designers", "insert", str(uuid.uuid4()), {"event_id": org.event_id, "name": n})
        for n in ("Before", "After")
    ]
    bad = mutation(table, "insert", str(uuid.uuid4()), bad_payload)
    results = db.push(claims, device, [good[0], bad, good[1]])
    return good, bad, results


def _assert_refused_alone(db, good, bad, results, table, what):
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"], (what, results)
    reason = results[1]["reason"]
    assert reason and reason[0].isupper() and reason.endswith((".", ")")), (what, reason)
    assert len(reason) < 400, (what, "the reason must not echo the value back")
    assert db.scalar(f"SELECT count(*) FROM {table} WHERE id = %s", (bad["row_id"],)) == 0
    for g in good:
        assert db.scalar("SELECT count(*) FROM designers WHERE id = %s", (g["row_id"],)) == 1


def test_wrong_shapes_and_huge_values_in_every_text_column_are_refused_alone(world):
    db, org, device, backstage, _, _ = world
    claims = db.claims(org, "organizer", device)
    for table, template in _templates(org, backstage).items():
        for column in _text_columns(db, table, template):
            for label, value in [
                *WRONG_SHAPES,
                ("1 MB", MEGABYTE),
            ]:
                what = f"{table}.{column} = {label}"
                good, bad, results = _push_between_good_ones(
                    db, claims, device, org, table, template, {**template, column: value}
                )
                _assert_refused_alone(db, good, bad, results, table, what)
                if label == "1 MB":
                    limit = "20,000" if column in ("notes", "description") else "2,000"
                    assert results[1]["reason"] == (
                        f"Too long: {column.replace('_', ' ')} takes at most {limit} characters."
                    ), what


def test_a_nul_character_fails_the_whole_batch_before_anything_is_stored(world):
    """JSON with \\u0000 cannot even become jsonb, so no mutation of that batch is judged; the
    client never sends one (app.domain.text makes scanned and typed text safe first)."""
    import psycopg

    db, org, device, backstage, _, _ = world
    claims = db.claims(org, "organizer", device)
    template = _templates(org, backstage)["attendees"]
    before = db.scalar("SELECT count(*) FROM designers")
    with pytest.raises(psycopg.errors.UntranslatableCharacter, match="Unicode escape"):
        _push_between_good_ones(
            db, claims, device, org, "attendees", template, {**template, "notes": "a\u0000b"}
        )
    assert db.scalar("SELECT count(*) FROM designers") == before


def test_bad_references_are_refused_alone(world):
    db, org, device, backstage, other, gone = world
    claims = db.claims(org, "organizer", device)
    template = _templates(org, backstage)["looks"]
    for label, value in [
        ("malformed", "not-a-uuid"),
        ("deleted row", gone),
        ("row of another event", other["designer"]),
        ("number", 42),
    ]:
        good, bad, results = _push_between_good_ones(
            db, claims, device, org, "looks", template, {**template, "designer_id": value}
        )
        _assert_refused_alone(db, good, bad, results, "looks", f"designer_id = {label}")


def test_a_missing_required_value_is_refused_alone(world):
    db, org, device, backstage, _, _ = world
    claims = db.claims(org, "organizer", device)
    template = _templates(org, backstage)["attendees"]
    good, bad, results = _push_between_good_ones(
        db, claims, device, org, "attendees", template, {**template, "first_name": None}
    )
    _assert_refused_alone(db, good, bad, results, "attendees", "first_name = null")
    assert "first_name" in results[1]["reason"]


def test_sql_shaped_text_is_stored_verbatim_and_touches_nothing_else(world):
    db, org, device, backstage, _, _ = world
    claims = db.claims(org, "organizer", device)
    before = db.scalar("SELECT count(*) FROM tickets")
    for table, template in _templates(org, backstage).items():
        for column in _text_columns(db, table, template):
            row = mutation(table, "insert", str(uuid.uuid4()), {**template, column: SQL_SHAPED})
            [result] = db.push(claims, device, [row])
            assert result["status"] == "applied", (table, column, result)
            stored = db.scalar(f"SELECT {column} FROM {table} WHERE id = %s", (row["row_id"],))
            assert stored == SQL_SHAPED, (table, column)
    assert db.scalar("SELECT count(*) FROM tickets") == before
