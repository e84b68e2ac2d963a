"""`showdesk bench lookup`: door speed on a big event, beside a naive way of doing the same.

1. builds a demo event with --tickets tickets (default 100,000) in a temporary folder;
2. scan: verdict plus durable write (commit, synchronous=FULL) per code, over a mix of valid
   signed tokens, legacy codes, unknown codes, forged and revoked tokens, and tickets sold
   after the last sync. Baseline: the same engine fed by ORM objects, one transaction per read;
3. search as you type: real names, companies, order and ticket numbers typed one letter at a
   time. Baseline: ``LIKE '%text%'`` over the joined, unfolded columns (no index can help).
"""

from __future__ import annotations

import random
import secrets
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from app.bench.stats import format_table, summary
from app.domain.tokens import issue_token, looks_like_ticket_code
from app.domain.verdicts import (
    CodeKind,
    PastScan,
    ScanContext,
    Snapshot,
    TicketFacts,
    TicketTypeFacts,
    decide,
    read_code,
)
from app.store import outbox
from app.store.checkin_service import CheckinService, load_snapshot
from app.store.db import Database, device_id, open_database
from app.store.models import (
    Attendee,
    Checkin,
    Event,
    EventSigningKey,
    Order,
    RevokedToken,
    Ticket,
    TicketType,
)
from app.store.search import search_tickets
from app.store.types import new_id, utcnow


def _percentiles(samples_ms: list[float]) -> dict[str, float]:
    return summary(samples_ms, {"p50": 50, "p95": 95, "p99": 99, "mean": "mean"})


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


# --- code mix -------------------------------------------------------------------------------


def scan_codes(db: Database, event_id: str, n: int, rng: random.Random) -> list[tuple[str, str]]:
    """``n`` (kind, code) pairs: the mix a busy door sees, plus hostile and stale codes."""
    with db.session() as s:
        private = s.scalar(
            select(EventSigningKey.private_key).where(EventSigningKey.event_id == event_id)
        )
        valid = s.execute(
            select(Ticket.qr_code_data, Ticket.id, Ticket.ticket_type_id).where(
                Ticket.event_id == event_id, Ticket.status.in_(("valid", "transferred"))
            )
        ).all()
        revoked = s.execute(
            select(RevokedToken.ticket_id, RevokedToken.token_serial, Ticket.ticket_type_id).join(
                Ticket, Ticket.id == RevokedToken.ticket_id
            )
        ).all()
        types = s.scalars(select(TicketType.id).where(TicketType.event_id == event_id)).all()
    signed = [v for v in valid if looks_like_ticket_code(v[0])]
    legacy = [v[0] for v in valid if not looks_like_ticket_code(v[0])]
    out: list[tuple[str, str]] = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.55 or not private:
            out.append(("valid token", rng.choice(signed)[0]))
        elif roll < 0.65 and legacy:
            out.append(("legacy", rng.choice(legacy)))
        elif roll < 0.77:
            out.append(("unknown", f"FW25-{rng.randint(0, 999_999):06d}"))
        elif roll < 0.89:
            code = list(rng.choice(signed)[0])
            i = rng.randrange(4, len(code))
            code[i] = "A" if code[i] != "A" else "B"
            out.append(("forged", "".join(code)))
        elif roll < 0.95 and revoked:
            ticket_id, serial, type_id = rng.choice(revoked)
            out.append(
                (
                    "revoked",
                    issue_token(
                        private,
                        ticket_id=ticket_id,
                        event_id=event_id,
                        ticket_type_id=type_id,
                        serial=serial,
                    ),
                )
            )
        else:
            out.append(
                (
                    "sold after sync",
                    issue_token(
                        private,
                        ticket_id=new_id(),
                        event_id=event_id,
                        ticket_type_id=rng.choice(types),
                    ),
                )
            )
    return out


# --- naive baseline for a scan --------------------------------------------------------------


def naive_scan(db: Database, event_id: str, device: str, gate: str, code: str) -> str:
    """The same verdict, the way a first version might: ORM objects, a transaction per read."""
    read = read_code(code)
    now = utcnow()
    with db.session() as s:
        event = s.get(Event, event_id)
        assert event is not None, event_id
        keys = {event_id: list(event.public_keys or [])}
        timezone = event.timezone
    ticket = None
    with db.session() as s:
        if read.kind is CodeKind.TOKEN and read.token is not None:
            ticket = s.get(Ticket, read.token.ticket_id)
        elif read.kind is CodeKind.PLAIN:
            ticket = s.scalars(select(Ticket).where(Ticket.qr_code_data == read.text)).first()
        if ticket is not None:
            attendee = s.get(Attendee, ticket.attendee_id) if ticket.attendee_id else None
            order = s.get(Order, ticket.order_id) if ticket.order_id else None
    facts = ttype = None
    revoked: dict[int, str] = {}
    history: list[PastScan] = []
    ticket_id = ticket.id if ticket else (read.token.ticket_id if read.token else None)
    if ticket is not None:
        facts = TicketFacts(
            id=ticket.id, event_id=ticket.event_id, ticket_number=ticket.ticket_number,
            status=ticket.status, token_serial=ticket.token_serial, qr_code_data=ticket.qr_code_data,
            ticket_type_id=ticket.ticket_type_id, valid_from=ticket.valid_from, valid_until=ticket.valid_until,
            attendee_name=attendee.full_name if attendee else None,
            order_number=order.order_number if order else None, notes=attendee.notes if attendee else None,
        )  # fmt: skip
    type_id = (
        ticket.ticket_type_id if ticket else (read.token.ticket_type_id if read.token else None)
    )
    if type_id:
        with db.session() as s:
            tt = s.get(TicketType, type_id)
            if tt is not None:
                ttype = TicketTypeFacts(
                    tt.id,
                    tt.name,
                    tt.tier,
                    tt.entry_starts_at,
                    tt.entry_ends_at,
                    tuple(tt.allowed_gates or ()),
                    tt.allow_reentry,
                )
    if ticket_id:
        with db.session() as s:
            revoked = {
                r.token_serial: r.reason
                for r in s.scalars(select(RevokedToken).where(RevokedToken.ticket_id == ticket_id))
            }
        with db.session() as s:
            history = [
                PastScan(
                    c.id,
                    c.scanned_at,
                    c.direction,
                    c.verdict,
                    c.kind,
                    c.gate,
                    c.device_id,
                    None,
                    c.annuls_checkin_id,
                )
                for c in s.scalars(select(Checkin).where(Checkin.ticket_id == ticket_id))
            ]
    snap = Snapshot(
        ticket=facts, ticket_type=ttype, revoked_serials=revoked, history=history, event_keys=keys
    )
    ctx = ScanContext(
        event_id=event_id,
        gate=gate,
        direction="in",
        now=now,
        timezone=timezone,
        checkin_id=new_id(),
    )
    result = decide(read, snap, ctx)
    with db.session() as s:
        row = Checkin(
            id=result.checkin_id,
            event_id=event_id,
            ticket_id=result.ticket_id,
            device_id=device,
            gate=gate,
            direction="in",
            method="qr",
            scanned_at=now,
            verdict=result.verdict.value,
            offline=True,
            raw_code=code[:200],
        )
        s.add(row)
        outbox.record(s, row, "insert")
    return result.verdict.value


def verdict_only(db: Database, event_id: str, gate: str, code: str) -> str:
    """Reads + engine, no write: the part of a scan that is ours rather than the disk's."""
    read = read_code(code)
    with db.session() as s:
        snap, timezone = load_snapshot(s, read, event_id)
    ctx = ScanContext(event_id=event_id, gate=gate, direction="in", now=utcnow(), timezone=timezone)
    return decide(read, snap, ctx).verdict.value


def fsync_floor(folder: Path, n: int) -> list[float]:
    """Bare INSERT + COMMIT with WAL and synchronous=FULL: what this disk allows at best."""
    import sqlite3

    path = folder / "floor.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY, payload TEXT)")
        out = []
        for _ in range(n):
            start = time.perf_counter()
            conn.execute("BEGIN")
            conn.execute("INSERT INTO t VALUES (?, ?)", (new_id(), "x" * 200))
            conn.execute("COMMIT")
            out.append((time.perf_counter() - start) * 1000)
        return out
    finally:
        conn.close()


# --- search workload ------------------------------------------------------------------------


def typed_queries(db: Database, event_id: str, rng: random.Random, people: int = 60) -> list[str]:
    """What door staff type, one letter at a time: names, companies, order/ticket numbers."""
    with db.session() as s:
        rows = s.execute(
            select(
                Attendee.first_name,
                Attendee.last_name,
                Attendee.company,
                Ticket.ticket_number,
                Order.order_number,
            )
            .join(Ticket, Ticket.attendee_id == Attendee.id)
            .join(Order, Order.id == Ticket.order_id)
            .where(Ticket.event_id == event_id)
        ).all()
    sample = rng.sample(rows, min(people, len(rows)))
    queries: list[str] = []
    for first, last, company, ticket_number, order_number in sample:
        target = rng.choice(
            [last, first, f"{first} {last}", company or last, order_number, ticket_number[-6:]]
        )
        for length in range(2, min(6, len(target)) + 1):
            queries.append(target[:length])
    return queries


_NAIVE_SEARCH = text(
    "SELECT t.id FROM tickets t JOIN attendees a ON a.id = t.attendee_id "
    "LEFT JOIN orders o ON o.id = t.order_id WHERE t.event_id = :event AND ("
    "a.first_name || ' ' || a.last_name LIKE :p OR a.email LIKE :p OR a.company LIKE :p "
    "OR t.ticket_number LIKE :p OR o.order_number LIKE :p) LIMIT 50"
)


def naive_search(db: Database, event_id: str, query: str) -> int:
    with db.session() as s:
        return len(s.execute(_NAIVE_SEARCH, {"event": event_id, "p": f"%{query}%"}).all())


# --- the command ----------------------------------------------------------------------------


# What encryption at rest may cost (the issue's goal): durable scan p99 within 1.2x of plain.
ENCRYPTION_GOALS = {"scan_p99_ratio": 1.2}
ENCRYPTED_CHOICES = ("no", "yes", "both")


def run_bench(
    tickets: int,
    scans: int,
    seed: int = 11,
    folder: Path | None = None,
    log: Callable[[str], None] = print,
    encrypted: str = "no",
) -> dict:
    """The benchmark on a plain replica ("no"), an encrypted one ("yes": SQLCipher with a
    throwaway raw key, as the app's own replica), or both in this run ("both": the encrypted
    figures, with the plain ones under "plain" and the ratios under "encryption")."""
    if encrypted not in ENCRYPTED_CHOICES:
        raise ValueError(f"encrypted must be one of {ENCRYPTED_CHOICES}, not {encrypted!r}")
    if encrypted != "both":
        key = secrets.token_bytes(32) if encrypted == "yes" else None
        return _run_one(tickets, scans, seed, folder, log, key)
    log("Plain replica:")
    plain = _run_one(tickets, scans, seed, folder, log, None)
    log("Encrypted replica (SQLCipher, raw 256-bit key):")
    result = _run_one(tickets, scans, seed, folder, log, secrets.token_bytes(32))
    result["plain"] = plain
    result["encryption"] = encryption_cost(plain, result)
    return result


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


def encryption_cost(plain: dict, encrypted: dict) -> dict:
    """Encrypted over plain for the figures the issue names, and whether the goal is met."""
    cost: dict[str, Any] = {
        "scan_p50_ratio": _ratio(encrypted["scan"]["p50"], plain["scan"]["p50"]),
        "scan_p99_ratio": _ratio(encrypted["scan"]["p99"], plain["scan"]["p99"]),
        "search_p95_ratio": _ratio(encrypted["search"]["p95"], plain["search"]["p95"]),
        "build_ratio": _ratio(encrypted["build_seconds"], plain["build_seconds"]),
        "goals": ENCRYPTION_GOALS,
    }
    p99 = cost["scan_p99_ratio"]
    cost["met"] = p99 is not None and p99 <= ENCRYPTION_GOALS["scan_p99_ratio"]
    return cost


def _run_one(
    tickets: int,
    scans: int,
    seed: int,
    folder: Path | None,
    log: Callable[[str], None],
    key: bytes | None,
) -> dict:
    from app.store.demo import seed_demo

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="showdesk-bench-", dir=folder) as tmp:
        path = Path(tmp) / "bench.sqlite"
        db = open_database(path, key=key, encrypt=key is not None)
        try:
            log(f"Building a {tickets:,}-ticket demo event in {path} ...")
            started = time.perf_counter()
            event_id = seed_demo(db, tickets=tickets, seed=seed)
            build_s = time.perf_counter() - started
            db.engine.dispose()  # the door's connections, with the engine's own pragmas
            log(f"  built in {build_s:.1f} s")
            with db.session() as s:
                device = device_id(s)
            codes = scan_codes(db, event_id, scans, rng)
            service = CheckinService(db, event_id, device, gate="North door")
            service.scan(codes[0][1])  # warm-up: caches, compiled statements, page cache
            log(f"Scanning {len(codes):,} codes (verdict + durable write each) ...")
            ours = [_timed(partial(service.scan, c)) for _k, c in codes]
            by_kind: dict[str, list[float]] = {}
            for (kind, _c), ms in zip(codes, ours, strict=True):
                by_kind.setdefault(kind, []).append(ms)
            reads = [
                _timed(partial(verdict_only, db, event_id, "North door", c)) for _k, c in codes
            ]
            floor = fsync_floor(Path(tmp), min(len(codes), 500))
            n_naive = min(len(codes), max(200, len(codes) // 4))
            log(f"Baseline scans ({n_naive:,}) ...")
            naive = [
                _timed(partial(naive_scan, db, event_id, device, "North door", c))
                for _k, c in codes[:n_naive]
            ]
            queries = typed_queries(db, event_id, rng)
            log(f"Search as you type: {len(queries):,} keystrokes ...")
            with db.session() as s:
                search_tickets(s, event_id, "warm")
                search_ms = [_timed(partial(search_tickets, s, event_id, q)) for q in queries]
            n_naive_q = min(len(queries), 60)
            naive_search_ms = [
                _timed(partial(naive_search, db, event_id, q)) for q in queries[:n_naive_q]
            ]
        finally:
            db.close()
    return {
        "tickets": tickets,
        "encrypted": key is not None,
        "build_seconds": round(build_s, 2),
        "scan": _percentiles(ours),
        "scan_by_kind": {k: _percentiles(v) for k, v in sorted(by_kind.items())},
        "scan_baseline": _percentiles(naive),
        "verdict_only": _percentiles(reads),
        "fsync_floor": _percentiles(floor),
        "search": _percentiles(search_ms),
        "search_baseline": _percentiles(naive_search_ms),
        "targets": {"scan_p99_ms": 2.0, "search_p95_ms": 50.0},
    }


def lookup_table(result: dict) -> str:
    def row(label: str, p: dict) -> tuple:
        return (label, p["n"], p["p50"], p["p95"], p["p99"])

    rows = [row("scan: verdict + durable write (target p99 <= 2 ms)", result["scan"])]
    rows += [row(f"  {kind}", p) for kind, p in result["scan_by_kind"].items()]
    rows += [
        row("  of which ours: reads + engine, no write", result["verdict_only"]),
        row("  disk floor: bare INSERT+COMMIT, WAL, synchronous=FULL", result["fsync_floor"]),
        row("baseline scan: ORM objects, one transaction per read", result["scan_baseline"]),
        row("search as you type: FTS5 (target p95 <= 50 ms)", result["search"]),
        row("baseline search: LIKE '%text%' on joined columns", result["search_baseline"]),
    ]
    kind = "encrypted (SQLCipher)" if result.get("encrypted") else "plain"
    table = format_table(
        ("measure", "n", "p50 ms", "p95 ms", "p99 ms"),
        rows,
        title=f"Demo event with {result['tickets']:,} tickets, {kind} replica, built in "
        f"{result['build_seconds']:.1f} s (target < 10 s at 100k)\n",
    )
    if "plain" not in result:
        return table
    return f"{lookup_table(result['plain'])}\n\n{table}\n\n{encryption_table(result)}"


def encryption_table(result: dict) -> str:
    """Encrypted beside plain, from the same run, with the goal."""
    plain, cost = result["plain"], result["encryption"]
    goal = cost["goals"]["scan_p99_ratio"]

    def row(label: str, figure: str, pct: str, ratio: float | None, target: str) -> tuple:
        return (label, plain[figure][pct], result[figure][pct], ratio, target)

    rows = [
        row("scan p50 (ms)", "scan", "p50", cost["scan_p50_ratio"], ""),
        row("scan p99 (ms)", "scan", "p99", cost["scan_p99_ratio"], f"<= {goal}x"),
        row("search as you type p95 (ms)", "search", "p95", cost["search_p95_ratio"], ""),
        (
            "demo event build (s)",
            plain["build_seconds"],
            result["build_seconds"],
            cost["build_ratio"],
            "",
        ),
    ]
    return format_table(
        ("measure", "plain", "encrypted", "ratio", "goal"),
        rows,
        title="Encryption at rest, same run",
        notes=[f"durable scan p99 within {goal}x of plain: {'met' if cost['met'] else 'MISSED'}"],
    )
