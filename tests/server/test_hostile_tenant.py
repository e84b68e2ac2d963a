"""A hostile tenant: organization A, in every role, points every reference column of every
Showdesk table at organization B's rows (and, where the data model wants the same event, at
rows of another event of A's own), through every write path — direct INSERT and UPDATE as
`authenticated` with A's claims, sync_push insert and update mutations. Nothing of B changes,
the answer is a refusal, and it reads exactly like the answer for a random id (no existence
oracle); the rest of a pushed batch goes through.

The tables and their reference columns come from the catalog (every single-column foreign key
of a table `authenticated` may write) plus FK_LESS, so a new table or column is covered without
editing this file. Everything runs in one database, in transactions that are rolled back.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import psycopg
import pytest

from tests.support.pg import OrgFixture, SupabaseDB, apply_claims, mutation

pytestmark = pytest.mark.postgres

ROLES = ("door", "producer", "organizer", "admin")

# Reference columns without a foreign key (scans are never dropped), and what they name.
FK_LESS = {
    ("checkins", "ticket_id"): "tickets",
    ("checkins", "annuls_checkin_id"): "checkins",
    ("checkins", "device_id"): "devices",
    ("checkins", "staff_id"): "staff",
    ("call_times", "arrived_by_staff_id"): "staff",
    ("runway_appearances", "edited_by_staff_id"): "staff",
    ("revoked_tokens", "ticket_id"): "tickets",
}

SKIP_IN_COPIES = ("id", "version", "updated_at")
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Ref:
    table: str
    column: str
    target: str  # the referenced table


@dataclass
class World:
    db: SupabaseDB
    alpha: OrgFixture
    beta: OrgFixture
    refs: list[Ref]
    templates: dict[str, dict[str, Any]]  # table -> one of A's rows (its first event's)
    unique_columns: dict[str, list[tuple[str, str]]]  # table -> [(column, type)] to vary
    may_insert: dict[str, set[str]]  # role -> tables it may insert into
    may_update: dict[str, set[str]]  # role -> tables it may update
    b_rows: dict[str, str] = field(default_factory=dict)  # table -> a row of B
    other_event_rows: dict[str, str] = field(default_factory=dict)  # table -> A's 2nd event
    same_event_refs: set[Ref] = field(default_factory=set)
    scope_refs: set[Ref] = field(default_factory=set)  # point the row itself at B
    checksum_sql: str = ""
    b_checksum: dict[str, str] = field(default_factory=dict)

    def claims(self, role: str) -> dict[str, Any]:
        return self.db.claims(self.alpha, role, self.alpha.devices[0])


# --- the world ----------------------------------------------------------------------------------


def _populate(db: SupabaseDB, org: OrgFixture, event_id: str | None = None) -> None:
    """Rows in every table for ``org`` (or another event of it): tickets with an order and
    attendees, a revocation, two admissions (the first annulled), the backstage tables, staff."""
    if event_id is not None:
        tt = db.scalar(
            "INSERT INTO ticket_types (event_id, name, tier) VALUES (%s, 'Other', 'general')"
            " RETURNING id",
            (event_id,),
        )
        org = replace(org, event_id=event_id, ticket_type_id=str(tt))
    tickets = db.create_tickets(org, 2)
    db.execute("UPDATE tickets SET status = 'cancelled' WHERE id = %s", (tickets[1],))
    db.create_backstage(org)
    scans = [
        db.scalar(
            "INSERT INTO checkins (event_id, ticket_id, device_id, verdict, scanned_at)"
            " VALUES (%s, %s, %s, 'admitted', now() + %s * interval '1 minute') RETURNING id",
            (org.event_id, tickets[0], org.devices[0], minute),
        )
        for minute in (0, 1)
    ]
    db.execute(  # the first admission was a mistake; the second one stands
        "INSERT INTO checkins (event_id, ticket_id, device_id, kind, verdict, annuls_checkin_id,"
        " reason) VALUES (%s, %s, %s, 'annul', 'annulled', %s, 'mistake')",
        (org.event_id, tickets[0], org.devices[0], scans[0]),
    )


def _references(db: SupabaseDB) -> list[Ref]:
    """Every single-column foreign key of a table authenticated may write, plus FK_LESS."""
    found = {
        Ref(r["t"], r["c"], r["r"])
        for r in db.execute(
            "SELECT t.relname AS t, a.attname AS c,"
            "       f.relname AS r"
            "  FROM pg_constraint c"
            "  JOIN pg_class t ON t.oid = c.conrelid"
            "  JOIN pg_class f ON f.oid = c.confrelid"
            "  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
            " WHERE c.contype = 'f' AND cardinality(c.conkey) = 1"
            "   AND t.relnamespace = 'showdesk'::regnamespace"
            "   AND (has_table_privilege('authenticated', c.conrelid, 'INSERT')"
            "        OR has_table_privilege('authenticated', c.conrelid, 'UPDATE'))"
        )
    }
    found |= {Ref(t, c, r) for (t, c), r in FK_LESS.items()}
    return sorted(found, key=lambda r: (r.table, r.column))


def _scope(db: SupabaseDB, table: str, row: dict[str, Any]) -> tuple[str | None, str | None]:
    """(event, organization) a row belongs to, as the server decides it."""
    found = db.execute(
        "SELECT event_id::text AS e, organization_id::text AS o"
        " FROM showdesk_private.row_scope(%s, %s::jsonb)",
        (table, json.dumps(row)),
    )[0]
    return found["e"], found["o"]


def _rows_of(db: SupabaseDB, table: str, org: str, event: str | None) -> list[dict[str, Any]]:
    """Rows of ``table`` in ``org`` (and ``event``, or organization-wide rows), the plainest
    (most NULL columns) first."""
    return [
        r["j"]
        for r in db.execute(
            f"SELECT to_jsonb(x) AS j FROM showdesk.{table} x,"
            " LATERAL showdesk_private.row_scope(%s, to_jsonb(x)) s"
            " WHERE s.organization_id = %s AND (s.event_id IS NOT DISTINCT FROM %s::uuid"
            "       OR (%s::uuid IS NOT NULL AND s.event_id IS NULL))"
            " ORDER BY (SELECT count(*) FROM jsonb_each(to_jsonb(x)) v WHERE v.value = 'null')"
            " DESC, x.id",
            (table, org, event, event),
        )
    ]


def _checksum_sql(db: SupabaseDB) -> str:
    """One query: table -> md5 of B's rows of every table of schema showdesk (replicated rows
    by their scope; the log and idempotency records by their organization or event; any other
    table whole). %(org)s and %(events)s are B's."""
    parts = []
    for r in db.execute(
        "SELECT c.relname AS t,"
        "       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid"
        "                  AND a.attname = 'organization_id' AND NOT a.attisdropped) AS has_org,"
        "       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid"
        "                  AND a.attname = 'event_id' AND NOT a.attisdropped) AS has_event,"
        "       c.relname = ANY (showdesk_private.sync_tables()) AS replicated"
        "  FROM pg_class c WHERE c.relnamespace = 'showdesk'::regnamespace AND c.relkind = 'r'"
        " ORDER BY 1"
    ):
        t = r["t"]
        if r["replicated"]:
            where = (
                f"(showdesk_private.row_scope('{t}', to_jsonb(x))).organization_id = %(org)s::uuid"
            )
        elif r["has_org"]:
            where = "x.organization_id = %(org)s::uuid"
        elif r["has_event"]:
            where = "x.event_id = ANY (%(events)s::uuid[])"
        else:
            where = "true"
        parts.append(
            f"SELECT '{t}' AS t, md5(coalesce(string_agg(md5(x::text), ',' ORDER BY md5(x::text)),"
            f" '')) AS sum, count(*) AS n FROM showdesk.{t} x WHERE {where}"
        )
    return " UNION ALL ".join(parts)


@pytest.fixture(scope="module")
def world(pg_server) -> Iterator[World]:
    db = SupabaseDB(pg_server, pg_server.create_database())
    alpha = db.create_org("Alpha")
    beta = db.create_org("Beta")
    for org in (alpha, beta):
        db.create_device(org)
        _populate(db, org)
    second = db.create_event(alpha, "Alpha Encore")
    _populate(db, alpha, second)

    refs = _references(db)
    tables = sorted({r.table for r in refs})
    templates = {}
    for t in tables:
        rows = _rows_of(db, t, alpha.id, alpha.event_id)
        assert rows, f"no row of A's first event in {t}: extend _populate"
        templates[t] = rows[0]
    unique_columns: dict[str, list[tuple[str, str]]] = {}
    for r in db.execute(
        "SELECT c.relname AS t, (SELECT array_agg(a.attname || ':' || format_type(a.atttypid, NULL)"
        "                          ORDER BY a.attnum)"
        "          FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)) AS cols"
        "  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
        " WHERE i.indisunique AND NOT i.indisprimary AND c.relnamespace = 'showdesk'::regnamespace"
        "   AND c.relname = ANY (%s)",
        (tables,),
    ):
        # vary one column of the key that is not a reference, so a copy is not a duplicate
        cols = [tuple(c.split(":", 1)) for c in r["cols"]]
        vary = [c for c in cols if c[1] in ("text", "integer")]
        assert vary, f"unique key of {r['t']} with no text or integer column: {cols}"
        unique_columns.setdefault(r["t"], []).append(vary[0])

    def role_tables(role: str, action: str) -> set[str]:
        return set(db.scalar("SELECT showdesk_private.role_tables(%s, %s)", (role, action)))

    w = World(
        db,
        alpha,
        beta,
        refs,
        templates,
        unique_columns,
        may_insert={r: role_tables(r, "insert") | role_tables(r, "write") for r in ROLES},
        may_update={r: role_tables(r, "write") for r in ROLES},
    )

    for ref in refs:
        if ref.target not in w.b_rows:
            rows = _rows_of(db, ref.target, beta.id, None) or _rows_of(
                db, ref.target, beta.id, beta.event_id
            )
            assert rows, f"no row of B in {ref.target}: extend _populate"
            w.b_rows[ref.target] = rows[0]["id"]
            others = _rows_of(db, ref.target, alpha.id, second)
            others = [o for o in others if _scope(db, ref.target, o)[0] == second]
            if others:
                w.other_event_rows[ref.target] = others[0]["id"]
        template = templates[ref.table]
        event, _ = _scope(db, ref.table, template)
        if _scope(db, ref.table, {**template, ref.column: w.b_rows[ref.target]})[1] == beta.id:
            w.scope_refs.add(ref)  # this column decides where the row belongs
        other = w.other_event_rows.get(ref.target)
        if event is not None and other is not None:
            moved, _ = _scope(db, ref.table, {**template, ref.column: other})
            if moved == event:  # the row stays in its event: the reference must be of it
                w.same_event_refs.add(ref)
    w.checksum_sql = _checksum_sql(db)
    with db.connect() as conn:
        w.b_checksum = _b_checksum(w, conn)
    yield w
    db.close()
    pg_server.drop_database(db.name)


def _b_checksum(w: World, conn: psycopg.Connection) -> dict[str, str]:
    """Row count and md5 of B's rows, per table (run as a superuser)."""
    events = conn.execute(
        "SELECT array_agg(id) AS ids FROM showdesk.events WHERE organization_id = %s", (w.beta.id,)
    ).fetchone()["ids"]
    rows = conn.execute(w.checksum_sql, {"org": w.beta.id, "events": events}).fetchall()
    return {r["t"]: f"{r['n']}:{r['sum']}" for r in rows}


# --- attempts -----------------------------------------------------------------------------------


def _copy(w: World, table: str) -> tuple[str, dict[str, Any]]:
    """A new row like A's template row of ``table``: new id, unique columns varied."""
    row = {k: v for k, v in w.templates[table].items() if k not in SKIP_IN_COPIES}
    for column, kind in w.unique_columns.get(table, []):
        if row.get(column) is not None:
            row[column] = (
                uuid.uuid4().hex if kind == "text" else uuid.uuid4().int % 1_000_000 + 1000
            )
    return str(uuid.uuid4()), row


def _targets(w: World, ref: Ref) -> dict[str, str]:
    """The hostile values: B's row, a random id, and A's other event's row where it matters."""
    found = {"B": w.b_rows[ref.target], "random": str(uuid.uuid4())}
    if ref in w.same_event_refs:
        found["other_event"] = w.other_event_rows[ref.target]
    return found


def _error_text(exc: psycopg.Error) -> str:
    diag = exc.diag
    detail = UUID_RE.sub("<id>", diag.message_detail or "")
    return f"{diag.sqlstate}: {diag.message_primary} | {detail} | {diag.constraint_name}"


def _direct(conn: psycopg.Connection, sql: str, params: tuple, w: World | None = None) -> str:
    """Run one statement in a savepoint that is rolled back; 'applied', '0 rows' or the error.
    With ``w``, a statement that went through is first checked to have left B's rows alone
    (as superuser: the RESET ROLE is undone with the savepoint)."""
    conn.execute("SAVEPOINT attempt")
    try:
        done = conn.execute(sql, params).rowcount
        outcome = "applied" if done else "0 rows"
    except psycopg.Error as exc:
        outcome = _error_text(exc)
    else:
        if w is not None:
            conn.execute("RESET ROLE")
            assert _b_checksum(w, conn) == w.b_checksum, f"B's rows changed by {sql} {params}"
    conn.execute("ROLLBACK TO SAVEPOINT attempt")
    return outcome


def _insert_sql(table: str, row: dict[str, Any]) -> str:
    cols = ", ".join(f'"{c}"' for c in row)
    picked = ", ".join(f'r."{c}"' for c in row)
    return (
        f"INSERT INTO showdesk.{table} (id, {cols}) SELECT %s, {picked}"
        f" FROM jsonb_populate_record(NULL::showdesk.{table}, %s::jsonb) r"
    )


def _is_refusal(outcome: str) -> bool:
    return outcome != "applied"


def _judge(w: World, ref: Ref, got: dict[str, str], where: str, refused: dict[str, str]) -> None:
    """B's row and A's other event's row are refused, in the words a random id gets."""
    assert _is_refusal(got["B"]), f"{where}: B's row was accepted"
    if "other_event" in got:
        assert got["other_event"] == got["B"], f"{where}: another event's row"
    if _is_refusal(got["random"]):
        assert got["random"] == got["B"], f"{where}: B's row is told from a random id"
    else:
        # only where there is no foreign key is an unknown id accepted (scans are never
        # dropped); B's row then gets the refusal any row outside the caller's scope gets
        assert (ref.table, ref.column) in FK_LESS, f"{where}: a random id was accepted"
        assert got["B"] == refused[ref.table], f"{where}: B's row is told from other refusals"


@pytest.mark.parametrize("role", ROLES)
def test_direct_writes_naming_another_tenants_rows_are_refused_like_random_ids(world, role):
    w = world
    for op in ("insert", "update"):
        outcomes: dict[tuple[Ref, str], str] = {}
        baseline: dict[str, str] = {}
        with w.db.connect(autocommit=False) as conn:
            apply_claims(conn, w.claims(role))
            for table in sorted(w.templates):
                new_id, row = _copy(w, table)
                if op == "insert":
                    baseline[table] = _direct(
                        conn, _insert_sql(table, row), (new_id, json.dumps(row))
                    )
                else:
                    some = next(r.column for r in w.refs if r.table == table)
                    baseline[table] = _direct(
                        conn,
                        f'UPDATE showdesk.{table} SET "{some}" = "{some}" WHERE id = %s',
                        (w.templates[table]["id"],),
                    )
            for ref in w.refs:
                for name, value in _targets(w, ref).items():
                    if op == "insert":
                        new_id, row = _copy(w, ref.table)
                        row[ref.column] = value
                        sql, params = _insert_sql(ref.table, row), (new_id, json.dumps(row))
                    else:
                        sql = f'UPDATE showdesk.{ref.table} SET "{ref.column}" = %s WHERE id = %s'
                        params = (value, w.templates[ref.table]["id"])
                    outcomes[ref, name] = _direct(conn, sql, params, w)
            conn.rollback()
        # the copies themselves are fine: a refusal below is the reference's doing
        allowed = w.may_insert[role] if op == "insert" else w.may_update[role]
        for table, outcome in baseline.items():
            assert (outcome == "applied") == (table in allowed), (role, op, table, outcome)
        # a row put into B's scope gets the plain refusal
        refused = {ref.table: outcomes[ref, "B"] for ref in w.refs if ref in w.scope_refs}
        for ref in w.refs:
            got = {name: v for (r, name), v in outcomes.items() if r == ref}
            _judge(w, ref, got, f"{role} direct {op} {ref.table}.{ref.column}", refused)


def _push(w: World, role: str, batch: list[dict[str, Any]]) -> tuple[list[dict], int]:
    """Push as ``role`` of A in a transaction that is rolled back, after checking that none of
    B's rows changed; returns the results and how many went the one-at-a-time way."""
    with w.db.connect(autocommit=False) as conn:
        conn.execute("SET LOCAL track_functions = 'pl'")
        apply_claims(conn, w.claims(role))
        results = conn.execute(
            "SELECT showdesk.sync_push(%s, %s::jsonb) AS r",
            (w.alpha.devices[0], json.dumps(batch, default=str)),
        ).fetchone()["r"]["results"]
        conn.execute("RESET ROLE")
        one_by_one = conn.execute(
            "SELECT coalesce(sum(calls), 0) AS n FROM pg_stat_xact_user_functions"
            " WHERE funcname = 'push_one'"
        ).fetchone()["n"]
        assert _b_checksum(w, conn) == w.b_checksum, f"{role}: B's rows changed"
        conn.rollback()
    return results, one_by_one


@pytest.mark.parametrize("role", ROLES)
def test_pushes_naming_another_tenants_rows_are_rejected_like_random_ids(world, role):
    w = world
    outcomes: dict[tuple[str, Ref, str], str] = {}
    for ref in w.refs:
        for op in ("insert", "update"):
            hostile = {}
            for name, value in _targets(w, ref).items():
                if op == "insert":
                    new_id, row = _copy(w, ref.table)
                    hostile[name] = mutation(
                        ref.table, "insert", new_id, {**row, ref.column: value}
                    )
                else:
                    hostile[name] = mutation(
                        ref.table, "update", w.templates[ref.table]["id"], {ref.column: value}
                    )
            good = [mutation(ref.table, "insert", *_copy(w, ref.table)) for _ in range(2)]
            batch = [good[0], *hostile.values(), good[1]]
            results, _ = _push(w, role, batch)
            by_id = {r["mutation_id"]: r for r in results}
            where = f"{role} push {op} {ref.table}.{ref.column}"
            # the rest of the batch is judged on its own
            expected = "applied" if ref.table in w.may_insert[role] else "rejected"
            assert [by_id[g["mutation_id"]]["status"] for g in good] == [expected] * 2, where
            for name, m in hostile.items():
                r = by_id[m["mutation_id"]]
                assert r["status"] in ("applied", "rejected"), (where, name, r)
                outcomes[op, ref, name] = "applied" if r["status"] == "applied" else r["reason"]
    for op in ("insert", "update"):
        refused = {ref.table: outcomes[op, ref, "B"] for ref in w.refs if ref in w.scope_refs}
        for ref in w.refs:
            got = {name: v for (o, r, name), v in outcomes.items() if o == op and r == ref}
            _judge(w, ref, got, f"{role} push {op} {ref.table}.{ref.column}", refused)


# --- what the generic sweep does not spell out ---------------------------------------------------


def test_every_reference_column_is_swept(world):
    """The sweep covers the columns the issue names (and finds them in the catalog)."""
    swept = {(r.table, r.column) for r in world.refs}
    assert {
        ("checkins", "ticket_id"), ("checkins", "annuls_checkin_id"), ("revoked_tokens", "ticket_id"),
        ("runway_appearances", "look_id"), ("runway_appearances", "model_id"),
        ("runway_segments", "show_id"), ("call_times", "person_id"), ("people", "model_id"),
        ("tickets", "ticket_type_id"), ("tickets", "attendee_id"), ("tickets", "order_id"),
        ("events", "venue_id"), ("looks", "designer_id"), ("staff", "event_id"),
    } <= swept  # fmt: skip
    same_event = {(r.table, r.column) for r in world.same_event_refs}
    assert {
        ("checkins", "ticket_id"), ("checkins", "annuls_checkin_id"), ("revoked_tokens", "ticket_id"),
        ("runway_appearances", "look_id"), ("runway_appearances", "model_id"),
        ("call_times", "person_id"), ("people", "model_id"), ("looks", "designer_id"),
        ("tickets", "ticket_type_id"), ("tickets", "attendee_id"), ("tickets", "order_id"),
    } <= same_event  # fmt: skip


def test_a_foreign_reference_gets_the_foreign_keys_own_error(world):
    """To A, B's ticket type is a ticket type that does not exist: the error is the one the
    foreign key itself gives a random id (here as a superuser, whom no policy judges)."""
    w = world
    new_id, row = _copy(w, "tickets")
    with w.db.connect(autocommit=False) as conn:
        missing = _direct(
            conn,
            _insert_sql("tickets", row),
            (new_id, json.dumps({**row, "ticket_type_id": str(uuid.uuid4())})),
        )
        apply_claims(conn, w.claims("organizer"))
        foreign = _direct(
            conn,
            _insert_sql("tickets", row),
            (new_id, json.dumps({**row, "ticket_type_id": w.b_rows["ticket_types"]})),
        )
        conn.rollback()
    assert missing.startswith('23503: insert or update on table "tickets" violates foreign key')
    assert foreign == missing


def test_a_refused_scan_in_a_run_is_split_out_and_rejected_alone(world):
    """The set-based check-in insert (0006) runs the same policies: a scan naming B's ticket
    in a run of 64 good ones fails the set insert, which is halved down to it."""
    w = world
    good = [mutation("checkins", "insert", *_copy(w, "checkins")) for _ in range(64)]
    new_id, row = _copy(w, "checkins")
    bad = mutation("checkins", "insert", new_id, {**row, "ticket_id": w.b_rows["tickets"]})
    results, one_by_one = _push(w, "door", [*good[:40], bad, *good[40:]])
    assert [r["status"] for r in results] == ["applied"] * 40 + ["rejected"] + ["applied"] * 24
    assert (
        results[40]["reason"] == "Not permitted: this account may not make this change to checkins."
    )
    assert one_by_one <= 8


def test_scans_of_unknown_tickets_and_devices_are_still_accepted(world):
    w = world
    rows = []
    for change in (
        {"ticket_id": None, "verdict": "unknown"},
        {"ticket_id": str(uuid.uuid4()), "verdict": "forged"},
        {"device_id": str(uuid.uuid4())},
        {"kind": "annul", "verdict": "annulled", "annuls_checkin_id": str(uuid.uuid4())},
    ):
        new_id, row = _copy(w, "checkins")
        rows.append(mutation("checkins", "insert", new_id, {**row, **change}))
    for fast in (rows, rows[:1]):  # a run (set-based) and a single mutation
        results, _ = _push(w, "door", fast)
        assert [r["status"] for r in results] == ["applied"] * len(fast)


def test_an_annulment_must_undo_a_scan_of_its_own_event_and_ticket(world):
    w = world
    db = w.db
    scan = w.templates["checkins"]
    other_ticket = db.scalar(
        "SELECT id::text FROM tickets WHERE event_id = %s AND id <> %s ORDER BY id LIMIT 1",
        (w.alpha.event_id, scan["ticket_id"]),
    )

    def annul(ticket: str | None) -> dict[str, Any]:
        new_id, row = _copy(w, "checkins")
        change = {"kind": "annul", "verdict": "annulled", "annuls_checkin_id": scan["id"]}
        return mutation("checkins", "insert", new_id, {**row, **change, "ticket_id": ticket})

    batch = [annul(scan["ticket_id"]), annul(None), annul(other_ticket)]
    results, _ = _push(w, "door", batch)
    assert [r["status"] for r in results] == ["applied", "applied", "rejected"]
    # an annulment of B's admission, in A's own event, never touches B
    new_id, row = _copy(w, "checkins")
    b_scan = w.b_rows["checkins"]
    results, _ = _push(
        w, "door", [mutation("checkins", "insert", new_id, {**row, "annuls_checkin_id": b_scan})]
    )
    assert [r["status"] for r in results] == ["rejected"]
