"""``showdesk bench sync``: sync speed against a real, throwaway PostgreSQL.

Measured in one run, on the same server and data:
- initial sync of an event with N tickets and N attendees into an empty replica (rows/s),
  beside a NAIVE client that pages the same tables PostgREST-style (``order by id offset/
  limit``, one request per page, row-by-row ORM inserts);
- incremental sync of 1,000 rows changed on the server (s);
- push of 10,000 queued scans (s), exactly once (server and queue counts verified);
- a scan at kiosk A seen as "already admitted" at kiosk B, two runners with default settings.
"""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from app.bench.stats import format_table
from app.store.db import open_database, set_meta
from app.store.models import REPLICATED_TABLES, Checkin, OutboxEntry, Ticket
from app.store.outbox import record
from app.store.serialize import from_wire
from app.store.types import new_id, utcnow
from app.sync.backends import PostgresBackend
from app.sync.engine import SyncEngine
from app.sync.localpg import SUPABASE_MIGRATIONS, apply_sql_dir, temporary_postgres

SHOWDESK_TABLES = "-c search_path=showdesk"
"""Connection option of the benchmark's own superuser and naive-client connections, which name
Showdesk's tables unqualified (the sync engine's backend qualifies every name itself)."""

TARGETS = {"initial_rows_per_s": 10_000, "incremental_s": 1.0, "push_10k_s": 10.0, "a_to_b_s": 5.0}


def _first(cursor: Any) -> Any:
    """The first column of the one row a query returns."""
    row = cursor.fetchone()
    assert row is not None, "the query returned no row"
    return row[0]


def seed_server(dsn: str, tickets: int) -> dict[str, str]:
    """An organization, venue, event, ticket type, one order per 10 tickets, N attendees and
    N tickets (legacy plain codes ``BENCH-<n>``), generated server-side."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True, options=SHOWDESK_TABLES) as conn:
        org = _first(
            conn.execute(
                "insert into organizations (name, slug) values ('Bench House', 'bench') returning id"
            )
        )
        venue = _first(
            conn.execute(
                "insert into venues (organization_id, name, timezone) values "
                "(%s, 'Bench Hall', 'Europe/Paris') returning id",
                (org,),
            )
        )
        event = _first(
            conn.execute(
                "insert into events (organization_id, venue_id, name, slug, timezone, starts_at, "
                "ends_at) values (%s, %s, 'Bench Show', 'bench-show', 'Europe/Paris', "
                "now() - interval '1 hour', now() + interval '6 hours') returning id",
                (org, venue),
            )
        )
        ttype = _first(
            conn.execute(
                "insert into ticket_types (event_id, name, tier, price) values "
                "(%s, 'General', 'general', 25) returning id",
                (event,),
            )
        )
        conn.execute(
            "insert into orders (event_id, order_number, buyer_name, buyer_email, total) "
            "select %s, 'B' || lpad(g::text, 7, '0'), 'Buyer ' || g, 'buyer' || g || "
            "'@example.com', 250 from generate_series(1, %s) g",
            (event, max(1, tickets // 10)),
        )
        conn.execute(
            "insert into attendees (event_id, first_name, last_name, email, company) "
            "select %s, 'Guest', 'Number ' || g, 'guest' || g || '@example.com', 'Atelier ' || "
            "(g %% 97) from generate_series(1, %s) g",
            (event, tickets),
        )
        conn.execute(
            """
            with a as (select id, row_number() over (order by id) n from attendees
                        where event_id = %(e)s),
                 o as (select id, row_number() over (order by order_number) n from orders
                        where event_id = %(e)s)
            insert into tickets (event_id, ticket_type_id, attendee_id, order_id,
                                 ticket_number, qr_code_data)
            select %(e)s, %(t)s, a.id, o.id, 'T' || lpad(a.n::text, 7, '0'), 'BENCH-' || a.n
              from a join o on o.n = (a.n - 1) / 10 + 1
            """,
            {"e": event, "t": ttype},
        )
        conn.execute("analyze")
        devices = [
            _first(
                conn.execute(
                    "insert into devices (organization_id, name, gate) values "
                    "(%s, %s, %s) returning id",
                    (org, name, gate),
                )
            )
            for name, gate in (("Kiosk A", "North"), ("Kiosk B", "South"))
        ]
    return {
        "org": str(org),
        "event": str(event),
        "device_a": str(devices[0]),
        "device_b": str(devices[1]),
    }


PLATFORM_SALE_BATCH = 500


def seed_platform(dsn: str, tickets: int) -> dict[str, str]:
    """One organization's event in the AI event management platform schema, written as the
    platform writes it (its own triggers run): a venue, an event, a ticket category, one order
    per 10 tickets and N tickets with the attendee's name and email and a QR code."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True, options="-c search_path=public,extensions") as conn:
        org = _first(
            conn.execute(
                "insert into organizations (name, slug) values ('Bench Platform', 'bench-platform')"
                " returning id"
            )
        )
        venue = _first(
            conn.execute(
                "insert into venues (organization_id, name, address, max_capacity) values"
                " (%s, 'Bench Hall', '1 Bench Street', 100000) returning id",
                (org,),
            )
        )
        event = _first(
            conn.execute(
                "insert into events (organization_id, venue_id, name, slug, timezone, start_datetime,"
                " end_datetime) values (%s, %s, 'Bench Platform Show', 'bench-platform-show',"
                " 'Europe/Paris', now() - interval '1 hour', now() + interval '6 hours') returning id",
                (org, venue),
            )
        )
        category = _first(
            conn.execute(
                "insert into ticket_categories (event_id, name, category_type, base_price,"
                " total_quantity, available_quantity) values (%s, 'General', 'general_admission',"
                " 25, %s, %s) returning id",
                (event, tickets, tickets),
            )
        )
        conn.execute(
            "insert into ticket_orders (organization_id, event_id, order_number, customer_email,"
            " customer_name, subtotal, total_amount, payment_status) select %s, %s,"
            " 'P' || lpad(g::text, 7, '0'), 'buyer' || g || '@example.com', 'Buyer ' || g, 250,"
            " 250, 'paid' from generate_series(1, %s) g",
            (org, event, max(1, tickets // 10)),
        )
        # The platform's own trigger updates the category's count once per ticket: sold in
        # batches (one transaction each, as sales arrive), so its row versions are pruned.
        for first in range(1, tickets + 1, PLATFORM_SALE_BATCH):
            conn.execute(
                """
                with o as (select id, row_number() over (order by order_number) n
                             from ticket_orders where event_id = %(e)s)
                insert into tickets (order_id, ticket_category_id, ticket_number, attendee_name,
                                     attendee_email, qr_code_data, price_paid)
                select o.id, %(c)s, 'PT' || lpad(g::text, 7, '0'), 'Guest Number ' || g,
                       'guest' || g || '@example.com', 'PLATFORM-' || g, 25
                  from generate_series(%(first)s::int, %(last)s::int) g join o on o.n = (g - 1) / 10 + 1
                """,
                {
                    "e": event,
                    "c": category,
                    "first": first,
                    "last": min(tickets, first + PLATFORM_SALE_BATCH - 1),
                },
            )
        conn.execute("analyze")
    return {"org": str(org), "event": str(event)}


def bridged_initial_sync(
    pg, folder: Path, tickets: int, platform_sql: list[Path], say=print
) -> dict[str, Any]:
    """The same initial sync against a database that holds the platform's AI event management
    tables: the platform's rows are written first, then Showdesk's migrations install the
    bridge (backfilling its mirror), then a kiosk of the platform's organization syncs."""
    import psycopg

    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        conn.execute("create database bridged")
    dsn = pg.dsn("bridged")
    with psycopg.connect(dsn, autocommit=True) as conn:
        for path in platform_sql:
            conn.execute(path.read_text())
    t = time.perf_counter()
    ids = seed_platform(dsn, tickets)
    say(
        f"platform: {tickets:,} tickets sold through its own tables in {time.perf_counter() - t:.1f} s"
    )
    t = time.perf_counter()
    apply_sql_dir(dsn, SUPABASE_MIGRATIONS)
    install = time.perf_counter() - t
    with psycopg.connect(dsn, autocommit=True, options=SHOWDESK_TABLES) as conn:
        bridges = _first(conn.execute("select value from sync_settings where key = 'bridges'"))
        errors = _first(conn.execute("select count(*) from bridge_errors"))
        device = _first(
            conn.execute(
                "insert into devices (organization_id, name, gate) values (%s, 'Kiosk P', 'North')"
                " returning id",
                (ids["org"],),
            )
        )
    say(
        f"Showdesk migrations with the bridge's backfill: {install:.1f} s ({bridges}, {errors} rows not mirrored)"
    )
    db = replica(folder, "bridged", ids["event"], str(device))
    engine = SyncEngine(
        db,
        PostgresBackend(dsn, "authenticated", claims_for(ids["org"], str(device))),
        ids["event"],
        str(device),
    )
    t = time.perf_counter()
    engine.sync_once()
    elapsed = time.perf_counter() - t
    rows = count_rows(db)
    db.close()
    say(f"bridged initial sync: {rows:,} rows in {elapsed:.2f} s = {rows / elapsed:,.0f} rows/s")
    return {
        "bridged_install_s": round(install, 2),
        "bridged_rows": rows,
        "bridged_s": round(elapsed, 2),
        "bridged_rows_per_s": round(rows / elapsed),
        "bridged_not_mirrored": errors,
    }


def claims_for(org: str, device: str) -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": device,
        "role": "authenticated",
        "aud": "authenticated",
        "iat": now,
        "exp": now + 86400,
        "app_metadata": {"organization_id": org, "staff_role": "organizer", "device_id": device},
    }


def replica(folder: Path, name: str, event_id: str, device: str, key: bytes | None = None):
    """A replica for the run: plain, or encrypted with ``key`` (SQLCipher, as the app's own)."""
    db = open_database(folder / f"{name}.sqlite", key=key, encrypt=key is not None)
    with db.session() as session:
        set_meta(session, "device_id", device)
        set_meta(session, "event_id", event_id)
    return db


def count_rows(db) -> int:
    with db.session() as session:
        return sum(
            session.scalar(select(func.count()).select_from(m)) or 0 for m in REPLICATED_TABLES
        )


def naive_initial(dsn: str, claims: dict, db, page: int = 1000) -> int:
    """The usual hand-rolled client: offset/limit pages per table, one ORM insert per row."""
    import psycopg
    from psycopg import sql
    from psycopg.rows import dict_row

    rows = 0
    with psycopg.connect(dsn, row_factory=dict_row, options=SHOWDESK_TABLES) as conn:
        for model in REPLICATED_TABLES:
            table = model.__tablename__
            offset = 0
            while True:
                with conn.transaction():
                    conn.execute("set local role authenticated")
                    conn.execute(
                        "select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),)
                    )
                    # PostgREST returns JSON: make the rows JSON the same way.
                    result = conn.execute(
                        sql.SQL(
                            "select to_jsonb(t) as r from {} t order by id offset %s limit %s"
                        ).format(sql.Identifier(table)),
                        (offset, page),
                    ).fetchall()
                if not result:
                    break
                with db.session() as session:
                    session.connection().exec_driver_sql("PRAGMA foreign_keys=OFF")
                    for item in result:
                        data = item["r"]
                        obj: Any = model(**from_wire(model, data))
                        obj.server_version = data.get("version")
                        session.add(obj)
                        session.flush()
                    rows += len(result)
                with db.session() as session:
                    session.connection().exec_driver_sql("PRAGMA foreign_keys=ON")
                offset += page
    return rows


def queue_scans(db, event_id: str, device: str, n: int, ago: float = 0.0) -> list[str]:
    """``n`` admitted scans queued for upload, scanned ``ago`` seconds before now."""
    ids = []
    when = utcnow() - timedelta(seconds=ago)
    with db.session() as session:
        tickets = session.execute(select(Ticket.id).limit(n)).scalars().all()
        for i in range(n):
            row = Checkin(
                id=new_id(),
                event_id=event_id,
                ticket_id=tickets[i % len(tickets)],
                device_id=device,
                gate="North",
                direction="in",
                method="qr",
                scanned_at=when,
                verdict="admitted",
                offline=True,
                raw_code=f"BENCH-{i}",
            )
            session.add(row)
            record(session, row, "insert")
            ids.append(row.id)
    return ids


def a_to_b(dsn: str, ids: dict[str, str], db_a, db_b) -> float:
    """Seconds from a scan admitted at A until B would say 'already admitted'."""
    from app.store.checkin_service import CheckinService
    from app.sync.runner import SyncRunner

    runners = []
    for db, device in ((db_a, ids["device_a"]), (db_b, ids["device_b"])):
        engine = SyncEngine(
            db,
            PostgresBackend(dsn, "authenticated", claims_for(ids["org"], device)),
            ids["event"],
            device,
        )
        runner = SyncRunner(engine)  # default settings: pull every 5 s, push debounce 0.3 s
        runner.start()
        runners.append(runner)
    try:
        time.sleep(1.0)  # both settled
        with db_a.session() as session:
            scanned = select(Checkin.ticket_id).where(Checkin.ticket_id.is_not(None))
            code = session.scalar(
                select(Ticket.qr_code_data).where(Ticket.id.not_in(scanned)).limit(1)
            )
        door_a = CheckinService(db_a, ids["event"], ids["device_a"], gate="North")
        door_b = CheckinService(db_b, ids["event"], ids["device_b"], gate="South")
        started = time.monotonic()
        first = door_a.scan(code)
        runners[0].poke()
        if first.verdict != "admitted":
            raise RuntimeError(f"kiosk A did not admit the bench ticket: {first.verdict}")
        while time.monotonic() - started < 30:
            with db_b.session() as session:
                arrived = session.get(Checkin, first.checkin_id)
            if arrived is not None:
                break
            time.sleep(0.02)
        elapsed = time.monotonic() - started
        second = door_b.scan(code)
        if second.verdict != "already_admitted":
            raise RuntimeError(f"kiosk B said {second.verdict}, not already_admitted")
        return elapsed
    finally:
        for runner in runners:
            runner.stop()


# What encryption at rest may cost (the goal): initial sync within 1.15x of plain.
ENCRYPTION_GOAL = 1.15
ENCRYPTED_CHOICES = ("no", "yes", "both")


def timed_initial_sync(
    dsn: str, folder: Path, name: str, ids: dict[str, str], key: bytes | None
) -> tuple[float, int]:
    """(seconds, rows) of one initial sync of the event into a new replica."""
    db = replica(folder, name, ids["event"], ids["device_a"], key)
    try:
        claims = claims_for(ids["org"], ids["device_a"])
        engine = SyncEngine(
            db, PostgresBackend(dsn, "authenticated", claims), ids["event"], ids["device_a"]
        )
        t = time.perf_counter()
        engine.sync_once()
        elapsed = time.perf_counter() - t
        return elapsed, count_rows(db)
    finally:
        db.close()


def encrypted_initial_syncs(
    dsn: str, folder: Path, ids: dict[str, str], say=print
) -> dict[str, Any]:
    """The initial sync into fresh replicas, plain and encrypted, in the order plain,
    encrypted, encrypted, plain: a drift in the machine's speed (and the first sync's cold
    caches, which the main figure above already paid) falls on both sides alike. The ratio is
    the encrypted replicas' mean time over the plain replicas' mean time."""
    key = secrets.token_bytes(32)
    times: dict[str, list[float]] = {"plain": [], "encrypted": []}
    rows = 0
    for i, kind in enumerate(("plain", "encrypted", "encrypted", "plain")):
        elapsed, rows = timed_initial_sync(
            dsn, folder, f"{kind}-{i}", ids, key if kind == "encrypted" else None
        )
        times[kind].append(elapsed)
        say(f"initial sync, {kind} replica: {rows:,} rows in {elapsed:.2f} s")
    plain = sum(times["plain"]) / 2
    enc = sum(times["encrypted"]) / 2
    ratio = enc / plain
    say(f"encrypted vs plain initial sync: {ratio:.2f}x the time (goal: within {ENCRYPTION_GOAL}x)")
    return {
        "encrypted_initial_s": round(enc, 2),
        "encrypted_initial_rows_per_s": round(rows / enc),
        "plain_initial_s": round(plain, 2),
        "plain_initial_rows_per_s": round(rows / plain),
        "encrypted_initial_runs_s": [round(t, 2) for t in times["encrypted"]],
        "plain_initial_runs_s": [round(t, 2) for t in times["plain"]],
        "encrypted_initial_ratio": round(ratio, 3),
    }


def run_bench(
    tickets: int, say=print, platform_sql: list[Path] | None = None, encrypted: str = "no"
) -> dict[str, Any]:
    """``encrypted``: "no" (plain replicas), "yes" (every replica encrypted with a throwaway
    raw key), "both" (plain, plus the initial sync timed into an encrypted replica too)."""
    if encrypted not in ENCRYPTED_CHOICES:
        raise ValueError(f"encrypted must be one of {ENCRYPTED_CHOICES}, not {encrypted!r}")
    key = secrets.token_bytes(32) if encrypted == "yes" else None
    results: dict[str, Any] = {"tickets": tickets, "encrypted": encrypted}
    folder = Path(tempfile.mkdtemp(prefix="showdesk-bench-"))
    pg = temporary_postgres()
    try:
        pg.start()
        import psycopg

        with psycopg.connect(pg.dsn(), autocommit=True) as conn:
            conn.execute("create database bench")
        dsn = pg.dsn("bench")
        apply_sql_dir(dsn, SUPABASE_MIGRATIONS)
        t = time.perf_counter()
        ids = seed_server(dsn, tickets)
        say(
            f"seeded {tickets:,} tickets and attendees server-side in "
            f"{time.perf_counter() - t:.1f} s"
        )
        claims_a = claims_for(ids["org"], ids["device_a"])

        # 1. initial sync, ours vs naive
        db_a = replica(folder, "a", ids["event"], ids["device_a"], key)
        engine_a = SyncEngine(
            db_a, PostgresBackend(dsn, "authenticated", claims_a), ids["event"], ids["device_a"]
        )
        t = time.perf_counter()
        engine_a.sync_once()
        ours = time.perf_counter() - t
        rows = count_rows(db_a)
        results.update(
            initial_rows=rows, initial_s=round(ours, 2), initial_rows_per_s=round(rows / ours)
        )
        say(f"initial sync: {rows:,} rows in {ours:.2f} s = {rows / ours:,.0f} rows/s")

        db_naive = replica(folder, "naive", ids["event"], ids["device_a"], key)
        t = time.perf_counter()
        naive_rows = naive_initial(dsn, claims_a, db_naive)
        naive = time.perf_counter() - t
        results.update(
            naive_rows=naive_rows,
            naive_s=round(naive, 2),
            naive_rows_per_s=round(naive_rows / naive),
        )
        say(
            f"naive offset/limit client: {naive_rows:,} rows in {naive:.2f} s = "
            f"{naive_rows / naive:,.0f} rows/s ({naive / ours:.1f}x slower)"
        )
        db_naive.close()
        if encrypted == "both":
            results.update(encrypted_initial_syncs(dsn, folder, ids, say))

        # 2. incremental: 1,000 rows changed on the server
        with psycopg.connect(dsn, autocommit=True, options=SHOWDESK_TABLES) as conn:
            conn.execute(
                "update attendees set notes = 'changed ' || now() where id in "
                "(select id from attendees where event_id = %s order by id limit 1000)",
                (ids["event"],),
            )
        t = time.perf_counter()
        report = engine_a.pull()
        incremental = time.perf_counter() - t
        results.update(incremental_rows=report.upserted, incremental_s=round(incremental, 3))
        say(f"incremental sync: {report.upserted:,} changed rows in {incremental:.3f} s")

        # B starts as a copy of A's synced replica (same data, its own identity)
        db_a.close()
        shutil.copy(folder / "a.sqlite", folder / "b.sqlite")
        db_a = replica(folder, "a", ids["event"], ids["device_a"], key)
        db_b = replica(folder, "b", ids["event"], ids["device_b"], key)
        engine_a = SyncEngine(
            db_a, PostgresBackend(dsn, "authenticated", claims_a), ids["event"], ids["device_a"]
        )

        # 3. push 10,000 queued scans, exactly once
        scans = 10_000
        queued = queue_scans(db_a, ids["event"], ids["device_a"], scans)
        t = time.perf_counter()
        pushed = engine_a.push()
        push_s = time.perf_counter() - t
        with psycopg.connect(dsn, options=SHOWDESK_TABLES) as conn:
            on_server = _first(
                conn.execute("select count(*) from checkins where id = any(%s::uuid[])", (queued,))
            )
        again = engine_a.push()  # nothing left: the queue is empty
        with db_a.session() as session:
            left = session.scalar(select(func.count()).select_from(OutboxEntry))
        exact = on_server == scans and left == 0 and pushed.applied == scans and not again.batches
        results.update(
            push_scans=scans,
            push_s=round(push_s, 2),
            push_on_server=on_server,
            push_left_in_queue=left,
            push_exactly_once=exact,
        )
        say(
            f"push of {scans:,} queued scans: {push_s:.2f} s; on server {on_server:,}, left in "
            f"queue {left}, exactly once: {'yes' if exact else 'NO'}"
        )
        engine_a.pull()
        SyncEngine(
            db_b,
            PostgresBackend(dsn, "authenticated", claims_for(ids["org"], ids["device_b"])),
            ids["event"],
            ids["device_b"],
        ).pull()

        # 4. A -> B with two background runners
        elapsed = a_to_b(dsn, ids, db_a, db_b)
        results["a_to_b_s"] = round(elapsed, 2)
        say(
            f"scan at kiosk A -> 'already admitted' at kiosk B: {elapsed:.2f} s "
            "(default settings: pull every 5 s, push 0.3 s after a scan)"
        )
        db_a.close()
        db_b.close()

        # 5. the same initial sync, bridged to the platform's own tables
        if platform_sql:
            results.update(bridged_initial_sync(pg, folder, tickets, platform_sql, say))
            ratio = results["initial_rows_per_s"] / results["bridged_rows_per_s"]
            results["bridged_slowdown"] = round(ratio, 2)
            say(
                f"bridged vs standalone initial sync: {ratio:.2f}x the time per row "
                "(target: within 1.5x)"
            )
    finally:
        pg.stop()
        shutil.rmtree(folder, ignore_errors=True)
    results["targets"] = TARGETS
    results["met"] = {
        "initial": results.get("initial_rows_per_s", 0) >= TARGETS["initial_rows_per_s"],
        "incremental": results.get("incremental_s", 99) <= TARGETS["incremental_s"],
        "push": results.get("push_s", 99) <= TARGETS["push_10k_s"],
        "a_to_b": results.get("a_to_b_s", 99) <= TARGETS["a_to_b_s"],
    }
    if "bridged_slowdown" in results:
        results["met"]["bridged"] = results["bridged_slowdown"] <= 1.5
    if "encrypted_initial_ratio" in results:
        results["encryption_goal"] = ENCRYPTION_GOAL
        results["met"]["encrypted"] = results["encrypted_initial_ratio"] <= ENCRYPTION_GOAL
    return results


def sync_table(results: dict[str, Any]) -> str:
    """The human form of :func:`run_bench`'s document."""
    met = results.get("met", {})

    def ok(key: str) -> str:
        return "met" if met.get(key) else "MISSED"

    r = results
    rows: list[tuple] = [
        (
            "initial sync (rows/s)",
            r.get("initial_rows_per_s"),
            r.get("naive_rows_per_s"),
            f">= {TARGETS['initial_rows_per_s']:,}",
            ok("initial"),
        ),
        (
            "incremental sync, 1,000 rows (s)",
            r.get("incremental_s"),
            None,
            f"<= {TARGETS['incremental_s']}",
            ok("incremental"),
        ),
        (
            f"push of {r.get('push_scans', 0):,} scans (s)",
            r.get("push_s"),
            None,
            f"<= {TARGETS['push_10k_s']}",
            ok("push"),
        ),
        (
            "scan at A -> 'already admitted' at B (s)",
            r.get("a_to_b_s"),
            None,
            f"<= {TARGETS['a_to_b_s']}",
            ok("a_to_b"),
        ),
    ]
    if "bridged_rows_per_s" in r:
        rows.append(
            (
                "bridged initial sync (rows/s)",
                r["bridged_rows_per_s"],
                r.get("initial_rows_per_s"),
                "within 1.5x",
                ok("bridged"),
            )
        )
    if "encrypted_initial_ratio" in r:
        rows.append(
            (
                "initial sync, encrypted replica (s)",
                r["encrypted_initial_s"],
                r.get("plain_initial_s"),
                f"within {ENCRYPTION_GOAL}x",
                ok("encrypted"),
            )
        )
    exact = "yes" if r.get("push_exactly_once") else "NO"
    kind = {"yes": "encrypted replicas", "no": "plain replicas"}.get(
        str(r.get("encrypted")), "plain replicas, plus an encrypted initial sync"
    )
    return format_table(
        ("measure", "Showdesk", "baseline", "target", ""),
        rows,
        title=f"bench sync: {r['tickets']:,} tickets and attendees on a throwaway PostgreSQL "
        f"({kind})",
        notes=[
            "baseline: a PostgREST-style offset/limit client (initial); standalone (bridged); "
            "plain replica (encrypted: mean of 2 runs against 2 plain ones, in the order "
            f"plain, encrypted, encrypted, plain: {r.get('encrypted_initial_ratio', '-')}x)",
            f"push exactly once: {exact}",
        ],
    )
