"""Convergence as a property: whatever the interleaving, every replica ends equal to the server.

A Hypothesis state machine drives two real SQLite replicas (an organizer's desk and a
producer's, each with the real sync engine and the postgres backend) and the real server
(migrations applied; other clients' changes as direct SQL) through random interleavings of:
local edits (no-op edits that set what the server already holds, edits of one column while
the server changes another, deletes, check-ins), server edits, inserts and deletes, pushes,
pulls, edits made while a pull is in flight (after page N is fetched, before it is applied),
crashes (after the server committed a push but before the replica recorded the answer; before
page N; half-way through writing page N; between steps) with the engine rebuilt from the same
file, and full resyncs.

After quiescing (every replica syncs until its outbox is empty and its pulls bring nothing
new), each replica must hold exactly the server's rows of the tables it syncs and the machine
touches: same ids, same columns, same versions, deleted rows gone.

The scenario tests at the end pin down the interleavings the machine found.
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test
from sqlalchemy import func, inspect, select

from app.store import lineup_store
from app.store.calltimes_store import mark_arrived
from app.store.db import Database, open_database, set_meta
from app.store.models import MODEL_BY_TABLE, Checkin, OutboxEntry
from app.store.outbox import record
from app.store.serialize import from_wire
from app.store.types import new_id, utcnow
from app.sync.backends import PostgresBackend
from app.sync.engine import META_CURSOR, SyncEngine

pytestmark = pytest.mark.postgres

EXAMPLES = 50
STEPS = 30

T1 = datetime(2030, 3, 1, 17, 0, tzinfo=UTC)
T2 = T1 + timedelta(minutes=25)

# table -> column -> the values edits choose from (few, so both sides often pick the same)
COLUMNS: dict[str, dict[str, list[Any]]] = {
    "runway_appearances": {
        "notes": [None, "pins", "steam"],
        "status": ["pending", "fitted", "ready"],
        "model_id": ["model0", "model1", None],  # names, resolved per example
        "look_id": ["look0", "look1"],
        "order_key": ["a0", "a1", "a2"],
    },
    "call_times": {
        "notes": [None, "gate B", "late train"],
        "location": [None, "Hall", "Tent"],
        "no_show": [False, True],
        "arrived_at": [None, T1, T2],
    },
    "looks": {"title": ["Look A", "Look B"], "description": [None, "silk"]},
}
DELETABLE = ("runway_appearances", "call_times")
SAME_AS_SERVER = "<the server's value>"
GONE = object()  # the server's value of a row the server no longer has
ROLES = {"A": "organizer", "B": "producer"}
CHECKIN_ROLES = ("organizer",)
COMPARED = {
    "organizer": ("looks", "runway_appearances", "call_times", "checkins"),
    "producer": ("looks", "runway_appearances", "call_times"),
}
ENGINE_SIZES = [(2, 3), (1, 2), (500, 2000)]  # (push_batch, pull_limit): several pages or one

_examples = itertools.count()


class SimulatedCrash(Exception):
    """The process dies here: nothing after this point runs."""


# --- what the server and a replica hold -----------------------------------------------------


def server_rows(sdb: Any, table: str, event_id: str) -> dict[str, dict[str, Any]]:
    """The event's rows of ``table`` on the server as the replica stores them: columns as
    ``from_wire`` makes them, and the version as ``server_version``."""
    wire = sdb.scalar("SELECT showdesk_private.wire_sql(%s, 'x')", (table,))
    if table == "runway_appearances":
        scope = (
            "x.segment_id IN (SELECT g.id FROM showdesk.runway_segments g"
            " JOIN showdesk.runway_shows s ON s.id = g.show_id WHERE s.event_id = %s)"
        )
    else:
        scope = "x.event_id = %s"
    model = MODEL_BY_TABLE[table]
    rows = sdb.execute(
        f"SELECT x.version AS v, {wire} AS r FROM showdesk.{table} x WHERE {scope}", (event_id,)
    )
    return {r["r"]["id"]: {**from_wire(model, r["r"]), "server_version": r["v"]} for r in rows}


def local_rows(db: Database, table: str) -> dict[str, dict[str, Any]]:
    model = MODEL_BY_TABLE[table]
    keys = [c.key for c in inspect(model).columns]
    with db.session() as session:
        return {
            row.id: {k: getattr(row, k) for k in keys} for row in session.scalars(select(model))
        }


def assert_same_rows(name: str, table: str, local: dict, server: dict) -> None:
    assert local.keys() == server.keys(), (
        f"replica {name}, {table}: rows only here {sorted(local.keys() - server.keys())}, "
        f"only on the server {sorted(server.keys() - local.keys())}"
    )
    for row_id, row in server.items():
        differences = ", ".join(
            f"{k}: here {local[row_id].get(k)!r}, server {v!r}"
            for k, v in sorted(row.items())
            if local[row_id].get(k) != v
        )
        assert not differences, f"replica {name}, {table} {row_id}: {differences}"


def queue_states(db: Database) -> dict[str, int]:
    with db.session() as session:
        return dict(
            session.execute(
                select(OutboxEntry.state, func.count()).group_by(OutboxEntry.state)
            ).all()
        )


def hook_pages(engine: SyncEngine, before_apply: Callable[[int, Any], None]) -> None:
    """Call ``before_apply(n, page)`` after page n (from 0) of a pull is fetched and before it
    is applied (undo with ``del engine._apply_page``)."""
    apply_page = engine._apply_page
    seen = itertools.count()

    def hooked(page, report, bulk=False):
        before_apply(next(seen), page)
        return apply_page(page, report, bulk)

    engine._apply_page = hooked


# --- the state machine ----------------------------------------------------------------------


@dataclass
class Replica:
    name: str
    role: str
    device_id: str
    path: Path
    db: Database
    engine: SyncEngine


class ConvergenceMachine(RuleBasedStateMachine):
    sdb: Any = None  # tests.support.pg.SupabaseDB, set by the test
    folder: Path
    template: Path  # an empty, migrated replica, copied for each new replica

    def __init__(self) -> None:
        super().__init__()
        self.failed = False
        sdb = self.sdb
        self.org = sdb.create_org(f"Converge {next(_examples)}")
        self.tickets = sdb.create_tickets(self.org, 2)
        backstage = sdb.create_backstage(self.org)
        self.segment = backstage["segment"]
        self.models = {"model0": backstage["models"][0], "model1": backstage["models"][1]}
        looks = backstage["looks"]
        self.rows: dict[str, dict[str, str]] = {
            "looks": {"look0": looks[0], "look1": looks[1]},
            "runway_appearances": {
                "ap0": backstage["appearances"][0],
                "ap1": backstage["appearances"][1],
                "ap2": self._server_appearance(looks[0], "a2"),
            },
            "call_times": {
                "ct0": backstage["call_time"],
                "ct1": str(
                    sdb.scalar(
                        "INSERT INTO call_times (event_id, person_id, call_at) "
                        "VALUES (%s, %s, %s) RETURNING id",
                        (self.org.event_id, backstage["person"], T1),
                    )
                ),
            },
            "checkins": {},
        }
        self.other_door = sdb.create_device(self.org, "Other door", "East")
        self.replicas: dict[str, Replica] = {}
        for name, role in ROLES.items():
            device = sdb.create_device(self.org, f"Replica {name}", "Main")
            path = self.folder / f"{self.org.id}-{name}.sqlite"
            shutil.copyfile(self.template, path)
            # the first sync in big pages (fast), then small ones (pages and batches to cut)
            replica = self._open(name, role, device, path, ENGINE_SIZES[-1])
            replica.engine.sync_once()
            replica.engine.push_batch, replica.engine.pull_limit = ENGINE_SIZES[0]
            replica.engine.initial_pull_limit = replica.engine.pull_limit
            self.replicas[name] = replica

    # --- plumbing -------------------------------------------------------------------------

    def _open(
        self, name: str, role: str, device: str, path: Path, sizes: tuple[int, int]
    ) -> Replica:
        db = open_database(path)
        with db.session() as session:
            set_meta(session, "device_id", device)
            set_meta(session, "event_id", self.org.event_id)
        claims = self.sdb.claims(self.org, staff_role=role, device_id=device)
        backend = PostgresBackend(self.sdb.dsn, "authenticated", claims, timeout=30)
        push_batch, pull_limit = sizes
        engine = SyncEngine(
            db, backend, self.org.event_id, device, push_batch=push_batch, pull_limit=pull_limit
        )
        return Replica(name, role, device, path, db, engine)

    def _restart(self, replica: Replica, sizes: tuple[int, int]) -> None:
        """The process is gone: only the file remains. A new process opens it."""
        replica.engine.backend.close()
        replica.db.close()
        self.replicas[replica.name] = self._open(
            replica.name, replica.role, replica.device_id, replica.path, sizes
        )

    def _server_appearance(self, look_id: str, key: str) -> str:
        return str(
            self.sdb.scalar(
                "INSERT INTO runway_appearances (segment_id, look_id, order_key) "
                "VALUES (%s, %s, %s) RETURNING id",
                (self.segment, look_id, key),
            )
        )

    def _value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.models.get(value) or self.rows["looks"].get(value) or value
        return value

    def _server_value(self, table: str, row_id: str, column: str) -> Any:
        rows = self.sdb.execute(
            f"SELECT {column} AS v FROM showdesk.{table} WHERE id = %s", (row_id,)
        )
        if not rows:
            return GONE
        value = rows[0]["v"]
        return str(value) if column.endswith("_id") and value is not None else value

    def _draw_replica(self, data: st.DataObject, roles: tuple[str, ...] | None = None) -> Replica:
        names = [n for n, r in ROLES.items() if roles is None or r in roles]
        return self.replicas[data.draw(st.sampled_from(names), label="replica")]

    def _draw_row(self, data: st.DataObject, tables: tuple[str, ...]) -> tuple[str, str]:
        table = data.draw(st.sampled_from(tables), label="table")
        label = data.draw(st.sampled_from(sorted(self.rows[table])), label="row")
        return table, label

    def _draw_edit(
        self, data: st.DataObject, table: str, label: str, page_row: dict | None = None
    ) -> tuple[str, Any]:
        column = data.draw(st.sampled_from(sorted(COLUMNS[table])), label="column")
        # (twice: the no-op edit is the interesting one)
        choices = [SAME_AS_SERVER, SAME_AS_SERVER, *COLUMNS[table][column]]
        value = data.draw(st.sampled_from(choices), label="value")
        if value != SAME_AS_SERVER:
            return column, self._value(value)
        if page_row is not None:  # what the page in flight says the server holds
            return column, from_wire(MODEL_BY_TABLE[table], page_row).get(column)
        return column, self._server_value(table, self.rows[table][label], column)

    def _local_update(
        self, replica: Replica, table: str, row_id: str, column: str, value: Any
    ) -> None:
        if value is GONE:
            return  # deleted on the server: nothing to copy
        if table == "runway_appearances" and column in ("look_id", "model_id"):
            # as the app does: a look or model this replica does not have (yet) is refused
            save = lineup_store.save_look if column == "look_id" else lineup_store.save_model
            with contextlib.suppress(lineup_store.LineupProblem):
                save(replica.db, row_id, value)
            return
        model = MODEL_BY_TABLE[table]
        with replica.db.session() as session:
            row = session.get(model, row_id)
            if row is None:
                return  # deleted here: nothing to edit
            if table == "call_times" and column == "arrived_at" and value is not None:
                mark_arrived(session, row_id, value)  # as the app does: the earliest stands
                return
            setattr(row, column, value)
            record(session, row, "update", fields=[column])

    def _quiesce(self) -> None:
        """Sync every replica, round after round, until nothing moves anywhere."""
        for _round in range(8):
            moved = False
            for replica in self.replicas.values():
                report = replica.engine.sync_once()
                pulled = report.pull.upserted + report.pull.deleted + report.pull.skipped_pending
                moved = moved or bool(report.push.batches or pulled)
            if not moved:
                return
        raise AssertionError("the replicas never stopped syncing")

    def _check(self) -> None:
        self.failed = True
        self._quiesce()
        expected = {t: server_rows(self.sdb, t, self.org.event_id) for t in COMPARED["organizer"]}
        for replica in self.replicas.values():
            states = queue_states(replica.db)
            assert states == {}, f"replica {replica.name} still has queued changes: {states}"
            for table in COMPARED[replica.role]:
                local = local_rows(replica.db, table)
                assert_same_rows(replica.name, table, local, expected[table])
        self.failed = False

    def _guard(self, step: Callable[[], Any]) -> None:
        try:
            step()
        except BaseException:
            self.failed = True  # teardown must not bury this under a second failure
            raise

    # --- local changes --------------------------------------------------------------------

    @rule(data=st.data())
    def local_edit(self, data: st.DataObject) -> None:
        replica = self._draw_replica(data)
        table, label = self._draw_row(data, tuple(COLUMNS))
        column, value = self._draw_edit(data, table, label)
        row_id = self.rows[table][label]
        self._guard(lambda: self._local_update(replica, table, row_id, column, value))

    @rule(data=st.data())
    def local_delete_or_scan(self, data: st.DataObject) -> None:
        replica = self._draw_replica(data)
        if replica.role in CHECKIN_ROLES and data.draw(st.booleans(), label="scan"):
            ticket = data.draw(st.sampled_from(self.tickets), label="ticket")
            self._guard(lambda: self._local_checkin(replica, ticket))
            return
        table, label = self._draw_row(data, DELETABLE)

        def step() -> None:
            with replica.db.session() as session:
                row = session.get(MODEL_BY_TABLE[table], self.rows[table][label])
                if row is not None:
                    record(session, row, "delete")
                    session.delete(row)

        self._guard(step)

    def _local_checkin(self, replica: Replica, ticket: str) -> None:
        with replica.db.session() as session:
            row = Checkin(
                id=new_id(),
                event_id=self.org.event_id,
                ticket_id=ticket,
                device_id=replica.device_id,
                gate="Main",
                scanned_at=utcnow(),
                verdict="admitted",
            )
            session.add(row)
            record(session, row)
            self.rows["checkins"][f"in{len(self.rows['checkins'])}"] = row.id

    # --- the server (other clients) ---------------------------------------------------------

    @rule(data=st.data())
    def server_change(self, data: st.DataObject) -> None:
        kind = data.draw(
            st.sampled_from(["edit", "edit", "delete", "insert", "new look"]), label="server"
        )
        if kind == "edit":
            table, label = self._draw_row(data, tuple(COLUMNS))
            column = data.draw(st.sampled_from(sorted(COLUMNS[table])), label="column")
            value = self._value(data.draw(st.sampled_from(COLUMNS[table][column]), label="value"))
            self.sdb.execute(
                f"UPDATE showdesk.{table} SET {column} = %s WHERE id = %s",
                (value, self.rows[table][label]),
            )
        elif kind == "delete":
            table, label = self._draw_row(data, DELETABLE)
            self.sdb.execute(
                f"DELETE FROM showdesk.{table} WHERE id = %s", (self.rows[table][label],)
            )
        elif kind == "new look":
            # a new parent row; once it is edited again its change sorts after its child's
            looks = self.rows["looks"]
            label = f"look{len(looks)}"
            looks[label] = str(
                self.sdb.scalar(
                    "INSERT INTO looks (event_id, title) VALUES (%s, %s) RETURNING id",
                    (self.org.event_id, label),
                )
            )
            appearance = data.draw(
                st.sampled_from(sorted(self.rows["runway_appearances"])), label="row"
            )
            self.sdb.execute(
                "UPDATE showdesk.runway_appearances SET look_id = %s WHERE id = %s",
                (looks[label], self.rows["runway_appearances"][appearance]),
            )
        elif data.draw(st.booleans(), label="a check-in (else a look in the lineup)"):
            ticket = data.draw(st.sampled_from(self.tickets), label="ticket")
            rows = self.rows["checkins"]
            rows[f"in{len(rows)}"] = str(
                self.sdb.scalar(
                    "INSERT INTO checkins (event_id, ticket_id, device_id, gate, verdict) "
                    "VALUES (%s, %s, %s, 'East', 'admitted') RETURNING id",
                    (self.org.event_id, ticket, self.other_door),
                )
            )
        else:
            key = data.draw(st.sampled_from(COLUMNS["runway_appearances"]["order_key"]))
            rows = self.rows["runway_appearances"]
            rows[f"ap{len(rows)}"] = self._server_appearance(self.rows["looks"]["look0"], key)

    # --- sync -------------------------------------------------------------------------------

    @rule(data=st.data())
    def push(self, data: st.DataObject) -> None:
        self._guard(self._draw_replica(data).engine.push)

    @rule(data=st.data())
    def pull(self, data: st.DataObject) -> None:
        self._guard(self._draw_replica(data).engine.pull)

    @rule(data=st.data())
    def edit_while_pulling(self, data: st.DataObject) -> None:
        """Someone edits a row while a pull is under way: page N is fetched, the edit commits,
        then the page is applied (the last page when there are fewer). The row is one the page
        brings, when it brings any: an edit of another row is an edit before the pull."""
        replica = self._draw_replica(data)
        page_no = data.draw(st.integers(0, 2), label="before applying page")
        done = False

        def edit(n: int, page: Any) -> None:
            nonlocal done
            if done or (n < page_no and page.has_more):
                return
            done = True
            in_page = [
                c
                for c in page.changes
                if c.get("table") in COLUMNS and not c.get("deleted") and c.get("row")
            ]
            if in_page:
                change = data.draw(st.sampled_from(in_page), label="change in the page")
                table = change["table"]
                label = next(k for k, v in self.rows[table].items() if v == change["id"])
                column, value = self._draw_edit(data, table, label, change["row"])
            else:
                table, label = self._draw_row(data, tuple(COLUMNS))
                column, value = self._draw_edit(data, table, label)
            self._local_update(replica, table, self.rows[table][label], column, value)

        hook_pages(replica.engine, edit)
        try:
            self._guard(replica.engine.pull)
        finally:
            del replica.engine._apply_page

    @rule(data=st.data())
    def full_resync(self, data: st.DataObject) -> None:
        replica = self._draw_replica(data)

        def step() -> None:
            with replica.db.session() as session:
                set_meta(session, META_CURSOR, "a cursor the server cannot honour")
            replica.engine.pull()

        self._guard(step)

    # --- crashes ----------------------------------------------------------------------------

    @rule(data=st.data())
    def crash(self, data: st.DataObject) -> None:
        """The process dies (after the server committed a push but before the replica recorded
        the answer; before page N of a pull; half-way through writing page N; or between two
        steps) and a new process opens the same file, maybe with other batch and page sizes."""
        replica = self._draw_replica(data)
        where = data.draw(
            st.sampled_from(["after server commit", "before page", "inside page", "idle"]),
            label="crash",
        )
        engine = replica.engine
        page_no = data.draw(st.integers(0, 2), label="page") if "page" in where else 0
        if where == "after server commit":
            real_push = engine.backend.push

            def push(device_id: str, mutations: list[dict[str, Any]]):
                real_push(device_id, mutations)
                raise SimulatedCrash

            engine.backend.push = push
            run = engine.push
        elif where == "inside page":
            write_page = engine._write_page
            seen = itertools.count()

            def written(*args):
                write_page(*args)  # in the page's transaction, which the crash never commits
                if next(seen) == page_no:
                    raise SimulatedCrash

            engine._write_page = written
            run = engine.pull
        elif where == "before page":

            def die(n: int, page: Any) -> None:
                if n == page_no:
                    raise SimulatedCrash

            hook_pages(engine, die)
            run = engine.pull
        else:
            run = None
        if run is not None:
            try:
                run()
            except SimulatedCrash:
                pass
        sizes = data.draw(st.sampled_from(ENGINE_SIZES), label="push batch, pull limit")
        self._guard(lambda: self._restart(replica, sizes))

    # --- the property -----------------------------------------------------------------------

    @rule()
    def converge(self) -> None:
        self._check()

    def teardown(self) -> None:
        try:
            if not self.failed:
                self._check()
        finally:
            for replica in self.replicas.values():
                replica.engine.backend.close()
                replica.db.close()


def test_replicas_converge_whatever_the_interleaving(supabase_db, tmp_path: Path) -> None:
    template = tmp_path / "template.sqlite"
    open_database(template).close()
    ConvergenceMachine.sdb = supabase_db
    ConvergenceMachine.folder = tmp_path
    ConvergenceMachine.template = template
    run_state_machine_as_test(
        ConvergenceMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


# --- what the machine found, as scenarios -----------------------------------------------------


@pytest.fixture
def desk(world):
    """An organizer's replica of an event with a lineup, synced."""
    backstage = world.sdb.create_backstage(world.org)
    kiosk = world.kiosk("Desk", staff_role="organizer")
    kiosk.engine.sync_once()
    return kiosk, backstage["appearances"][0]


def _assert_converged(world, kiosk) -> None:
    for _ in range(3):
        kiosk.engine.sync_once()
    assert queue_states(kiosk.db) == {}
    for table in ("looks", "runway_appearances"):
        server = server_rows(world.sdb, table, world.event_id)
        assert_same_rows(kiosk.name, table, local_rows(kiosk.db, table), server)


def test_a_no_op_edit_made_during_a_pull_keeps_the_change_the_pull_held_back(world, desk):
    kiosk, appearance = desk
    world.sdb.execute(
        "UPDATE runway_appearances SET notes = 'pins', status = 'fitted' WHERE id = %s",
        (appearance,),
    )

    def edit(n: int, page: Any) -> None:
        lineup_store.save_notes(kiosk.db, appearance, "pins")  # what the server already holds

    hook_pages(kiosk.engine, edit)
    assert kiosk.engine.pull().skipped_pending == 1  # held back: the row has a queued edit
    del kiosk.engine._apply_page
    # the push changes nothing on the server (no new version, nothing new to pull)...
    assert kiosk.engine.push().applied == 1
    # ...so the held-back change (status) must be applied now, not dropped
    _assert_converged(world, kiosk)


def test_a_replayed_conflict_answer_does_not_bring_back_an_older_row(world, desk):
    kiosk, appearance = desk
    lineup_store.save_notes(kiosk.db, appearance, "kiosk says")
    world.sdb.execute(
        "UPDATE runway_appearances SET notes = 'office says' WHERE id = %s", (appearance,)
    )
    real_push = kiosk.engine.backend.push

    def push_then_die(device_id, mutations):
        real_push(device_id, mutations)  # the server records a conflict...
        raise SimulatedCrash  # ...and the answer never arrives

    kiosk.engine.backend.push = push_then_die
    with pytest.raises(SimulatedCrash):
        kiosk.engine.push()
    del kiosk.engine.backend.push
    world.sdb.execute("UPDATE runway_appearances SET status = 'ready' WHERE id = %s", (appearance,))
    assert kiosk.engine.pull().skipped_pending == 1  # the newer row, held back
    # the replay is answered with the row as it was at the conflict: the held one is newer
    assert kiosk.engine.push().duplicate == 1
    _assert_converged(world, kiosk)


def test_a_held_back_row_whose_parent_comes_in_a_later_page_does_not_wedge_the_queue(world, desk):
    kiosk, appearance = desk
    lineup_store.save_notes(kiosk.db, appearance, "pins")
    look = world.sdb.scalar(
        "INSERT INTO looks (event_id, title) VALUES (%s, 'New') RETURNING id", (world.event_id,)
    )
    world.sdb.execute(
        "UPDATE runway_appearances SET look_id = %s, notes = 'pins' WHERE id = %s",
        (look, appearance),
    )
    world.sdb.execute("UPDATE looks SET title = 'Newer' WHERE id = %s", (look,))  # sorts last
    kiosk.engine.pull_limit = kiosk.engine.initial_pull_limit = 1

    def die(n: int, page: Any) -> None:
        if n == 1:
            raise SimulatedCrash  # the appearance is held back; its new look never arrived

    hook_pages(kiosk.engine, die)
    with pytest.raises(SimulatedCrash):
        kiosk.engine.pull()
    del kiosk.engine._apply_page
    # the no-op push applies the held appearance, whose look this replica does not have yet
    assert kiosk.engine.push().applied == 1
    _assert_converged(world, kiosk)


def test_a_replayed_push_keeps_the_delete_the_pull_held_back(world, desk):
    kiosk, appearance = desk
    lineup_store.save_notes(kiosk.db, appearance, "pins")
    real_push = kiosk.engine.backend.push

    def push_then_die(device_id, mutations):
        real_push(device_id, mutations)  # the server applies the edit...
        raise SimulatedCrash  # ...and the answer never arrives

    kiosk.engine.backend.push = push_then_die
    with pytest.raises(SimulatedCrash):
        kiosk.engine.push()
    del kiosk.engine.backend.push
    world.sdb.execute("DELETE FROM runway_appearances WHERE id = %s", (appearance,))
    assert kiosk.engine.pull().skipped_pending == 1  # the delete, held back
    # the replay is answered "duplicate" with the version of the edit, older than the delete
    assert kiosk.engine.push().duplicate == 1
    _assert_converged(world, kiosk)
