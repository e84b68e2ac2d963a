"""``showdesk bench hub``: doors seeing each other's scans through the venue hub, and the same
doors through the server, in one run on this machine.

- a throwaway PostgreSQL plays the server (Supabase), with the event seeded server-side;
- a real venue hub (app.sync.hub.server.Hub: its own PostgreSQL with TLS) and its relay;
- ``doors`` kiosks (real replicas, real runners with default settings), each joined to the hub
  with a join code and scanning one guest per second: for every scan, the time until the next
  door's replica has it (then that door says ALREADY ADMITTED), p50 and p95; the hub's CPU
  (its PostgreSQL processes and the relay thread) over that load;
- a kiosk that was offline for an hour with ``catch_up`` scans joins and syncs: seconds;
- the baseline: the same doors and the same catch-up straight against the server.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.bench.stats import format_table, load_average
from app.bench.sync import claims_for, queue_scans, replica, seed_server
from app.domain.stats import percentile
from app.store.checkin_service import CheckinService
from app.store.models import Checkin, OutboxEntry, Ticket
from app.sync.backends import PostgresBackend
from app.sync.engine import SyncEngine
from app.sync.hub.join import HubBackend, join_hub
from app.sync.hub.relay import Relay
from app.sync.hub.routing import RoutedBackend
from app.sync.hub.server import Hub, parse_join
from app.sync.localpg import SUPABASE_MIGRATIONS, apply_sql_dir, free_port, temporary_postgres
from app.sync.runner import SyncRunner

TARGETS = {"a_to_b_p95_s": 2.0, "catch_up_s": 10.0}


def _devices(dsn: str, org: str, n: int, prefix: str) -> list[str]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True, options="-c search_path=showdesk") as conn:
        return [
            str(
                _one(
                    conn.execute(
                        "insert into devices (organization_id, name, gate) values (%s, %s, %s)"
                        " returning id",
                        (org, f"{prefix} {i + 1}", f"Gate {i + 1}"),
                    )
                )[0]
            )
            for i in range(n)
        ]


def _one(cursor: Any) -> tuple:
    row = cursor.fetchone()
    assert row is not None, "the query returned no row"
    return row


class HubCpu:
    """CPU seconds of the hub's PostgreSQL (postmaster, its children, the children it reaped)."""

    def __init__(self, datadir: Path) -> None:
        self.postmaster = int((datadir / "postmaster.pid").read_text().splitlines()[0])
        self.tick = os.sysconf("SC_CLK_TCK")

    def seconds(self) -> float:
        total = 0.0
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parent, utime, stime = int(fields[1]), int(fields[11]), int(fields[12])
            if int(pid) == self.postmaster:
                total += utime + stime + int(fields[13]) + int(fields[14])
            elif parent == self.postmaster:
                total += utime + stime
        return total / self.tick


class RelayLoop:
    """The hub's relay on a thread, with the CPU time that thread used."""

    def __init__(self, relay: Relay, interval: float) -> None:
        self.relay, self.interval = relay, interval
        self.cpu = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-relay", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.thread_time()
            self.relay.run_once()
            self.cpu += time.thread_time() - started
            self._stop.wait(self.interval)

    def start(self) -> RelayLoop:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def doors_a_to_b(
    dbs: list[Any],
    devices: list[str],
    event: str,
    make_backend: Callable[[int], Any],
    seconds: float,
    listen: bool,
    codes: list[str],
    scanners: int | None = None,
) -> list[float]:
    """The first ``scanners`` doors (default: all) each scan one new guest (from ``codes``)
    per second for ``seconds``; for each scan, the seconds until the next door's replica has
    it (with ``scanners=1`` and two doors: door B idle, as when only A has a queue)."""
    runners = []
    for i, db in enumerate(dbs):
        backend = make_backend(i)
        runner = SyncRunner(SyncEngine(db, backend, event, devices[i]))
        if listen:
            backend.listen(runner.sync_now)
        runner.start()
        runners.append(runner)
    doors = [
        CheckinService(db, event, devices[i], gate=f"Gate {i + 1}") for i, db in enumerate(dbs)
    ]
    codes = list(codes)
    waiting: dict[int, dict[str, float]] = {i: {} for i in range(len(dbs))}
    lock = threading.Lock()
    samples: list[float] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set() or any(waiting.values()):
            for i, db in enumerate(dbs):
                with lock:
                    ids = list(waiting[i])
                if not ids:
                    continue
                with db.session() as session:
                    arrived = set(session.scalars(select(Checkin.id).where(Checkin.id.in_(ids))))
                now = time.monotonic()
                with lock:
                    for checkin_id in arrived:
                        samples.append(now - waiting[i].pop(checkin_id))
            if done.is_set() and time.monotonic() > deadline:
                break
            time.sleep(0.02)

    deadline = float("inf")
    watcher = threading.Thread(target=watch, name="bench-watch", daemon=True)
    try:
        time.sleep(1.0)
        watcher.start()
        started = time.monotonic()
        tick = 0
        while time.monotonic() - started < seconds:
            for i, door in enumerate(doors[: scanners or len(doors)]):
                if not codes:
                    break  # (the caller gives enough for the time; a slow machine is no error)
                code = codes.pop()
                result = door.scan(code)
                if result.verdict == "admitted" and result.checkin_id:
                    with lock:
                        waiting[(i + 1) % len(doors)][result.checkin_id] = time.monotonic()
                runners[i].poke()
                time.sleep(1.0 / len(doors) * 0.5)
            tick += 1
            time.sleep(max(0.0, started + tick - time.monotonic()))
        deadline = time.monotonic() + 30
        done.set()
        watcher.join(timeout=40)
    finally:
        for runner in runners:
            runner.stop()
    return samples


def catch_up(db, backend: Any, event: str, device: str) -> float:
    """Seconds for one kiosk to push its whole queue and pull what it missed."""
    engine = SyncEngine(db, backend, event, device)
    started = time.perf_counter()
    while True:
        engine.sync_once()
        with db.session() as session:
            pending = session.scalar(
                select(OutboxEntry.seq).where(OutboxEntry.state == "pending").limit(1)
            )
        if pending is None:
            break
    elapsed = time.perf_counter() - started
    backend.close()
    return elapsed


def _offline_hour(db, event: str, device: str, n: int) -> None:
    queue_scans(db, event, device, n, ago=3600.0)


def run_bench(
    tickets: int = 20_000,
    doors: int = 8,
    seconds: float = 30.0,
    catch_up_scans: int = 2000,
    say: Callable[[str], None] = print,
    idle_seconds: float = 15.0,
) -> dict[str, Any]:
    results: dict[str, Any] = {"tickets": tickets, "doors": doors, "seconds": seconds}
    folder = Path(tempfile.mkdtemp(prefix="showdesk-bench-hub-"))
    os.chmod(folder, 0o755)  # the hub's PostgreSQL runs as 'postgres' when this runs as root
    server = temporary_postgres()
    hub: Hub | None = None
    relay_loop: RelayLoop | None = None
    try:
        server.start()
        import psycopg

        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            conn.execute("create database bench")
        dsn = server.dsn("bench")
        apply_sql_dir(dsn, SUPABASE_MIGRATIONS)
        ids = seed_server(dsn, tickets)
        org, event = ids["org"], ids["event"]
        hub_device, late_hub, late_server = _devices(dsn, org, 3, "Bench extra")
        hub_doors = _devices(dsn, org, doors, "Hub door")
        server_doors = _devices(dsn, org, doors, "Server door")

        started = time.perf_counter()
        hub = Hub(folder / "hub", free_port(), listen="127.0.0.1").start()
        hub.configure(org, event, hub_device)
        results["hub_start_s"] = round(time.perf_counter() - started, 2)
        upstream = PostgresBackend(dsn, "authenticated", claims_for(org, hub_device))
        relay = Relay(hub, upstream, event)
        started = time.perf_counter()
        relay.run_once()
        results["hub_first_relay_s"] = round(time.perf_counter() - started, 2)
        say(
            f"hub started in {results['hub_start_s']} s, event relayed in "
            f"{results['hub_first_relay_s']} s"
        )

        credentials = []
        for i, device in enumerate([*hub_doors, late_hub]):
            code = hub.create_join_code("door", ["127.0.0.1"])
            credentials.append(
                join_hub(
                    parse_join(code.payload), device, f"Door {i + 1}", folder / f"{device}.pem"
                )
            )

        def hub_backend(i: int) -> RoutedBackend:
            return RoutedBackend(HubBackend(credentials[i]))

        def server_backend(i: int) -> PostgresBackend:
            return PostgresBackend(dsn, "authenticated", claims_for(org, server_doors[i]))

        hub_dbs = [replica(folder, f"hub-door-{i}", event, d) for i, d in enumerate(hub_doors)]
        server_dbs = [
            replica(folder, f"server-door-{i}", event, d) for i, d in enumerate(server_doors)
        ]
        for dbs, devices, make in (
            (hub_dbs, hub_doors, hub_backend),
            (server_dbs, server_doors, server_backend),
        ):
            for i, db in enumerate(dbs):
                SyncEngine(db, make(i), event, devices[i]).sync_once()
        say(f"{doors} doors on the hub and {doors} on the server have the event")
        with hub_dbs[0].session() as session:
            codes = list(
                session.scalars(select(Ticket.qr_code_data).order_by(Ticket.ticket_number))
            )
        idle_n = int(idle_seconds + 2)
        if len(codes) < 2 * int(seconds + 2) * doors + 2 * idle_n:
            raise ValueError("not enough tickets for that many doors and seconds: raise --tickets")

        relay_loop = RelayLoop(relay, 2.0).start()
        cpu = HubCpu(hub.pg.datadir)
        cpu_start, wall_start = cpu.seconds(), time.monotonic()
        relay_cpu_start = relay_loop.cpu
        say(f"through the hub: {doors} doors x 1 guest/s for {seconds:.0f} s ...")
        per_phase = int(seconds + 2) * doors
        hub_samples = doors_a_to_b(
            hub_dbs, hub_doors, event, hub_backend, seconds, True, codes[:per_phase]
        )
        wall = time.monotonic() - wall_start
        results["hub_cpu_pct"] = round(100 * (cpu.seconds() - cpu_start) / wall, 1)
        results["relay_cpu_pct"] = round(100 * (relay_loop.cpu - relay_cpu_start) / wall, 1)
        results["hub"] = _figures(hub_samples)
        say(f"through the server: {doors} doors x 1 guest/s for {seconds:.0f} s ...")
        server_samples = doors_a_to_b(
            server_dbs, server_doors, event, server_backend, seconds, False, codes[per_phase:]
        )
        results["server"] = _figures(server_samples)

        say(f"an idle door B: door A alone scans 1 guest/s for {idle_seconds:.0f} s ...")
        idle_codes = codes[2 * per_phase :]
        idle_hub = doors_a_to_b(
            hub_dbs[:2],
            hub_doors[:2],
            event,
            hub_backend,
            idle_seconds,
            True,
            idle_codes[:idle_n],
            1,
        )
        idle_server = doors_a_to_b(
            server_dbs[:2],
            server_doors[:2],
            event,
            server_backend,
            idle_seconds,
            False,
            idle_codes[idle_n : 2 * idle_n],
            1,
        )
        results["hub"]["idle_scans"] = len(idle_hub)
        results["server"]["idle_scans"] = len(idle_server)
        results["hub"]["idle_b_p95_s"] = _figures(idle_hub).get("a_to_b_p95_s")
        results["server"]["idle_b_p95_s"] = _figures(idle_server).get("a_to_b_p95_s")
        results["hub"]["idle_b_p50_s"] = _figures(idle_hub).get("a_to_b_p50_s")
        results["server"]["idle_b_p50_s"] = _figures(idle_server).get("a_to_b_p50_s")

        say(f"catch-up: {catch_up_scans:,} scans queued an hour ago ...")
        late_db = replica(folder, "late-hub", event, late_hub)
        SyncEngine(late_db, hub_backend(len(hub_doors)), event, late_hub).sync_once()
        _offline_hour(late_db, event, late_hub, catch_up_scans)
        results["hub"]["catch_up_s"] = round(
            catch_up(late_db, hub_backend(len(hub_doors)), event, late_hub), 2
        )
        late_db_server = replica(folder, "late-server", event, late_server)
        engine = SyncEngine(
            late_db_server,
            PostgresBackend(dsn, "authenticated", claims_for(org, late_server)),
            event,
            late_server,
        )
        engine.sync_once()
        _offline_hour(late_db_server, event, late_server, catch_up_scans)
        results["server"]["catch_up_s"] = round(
            catch_up(
                late_db_server,
                PostgresBackend(dsn, "authenticated", claims_for(org, late_server)),
                event,
                late_server,
            ),
            2,
        )
        relay_loop.stop()
        relay_loop = None
        started = time.perf_counter()
        while hub.status()["waiting"]:
            relay.run_once()
        results["relay_drain_s"] = round(time.perf_counter() - started, 2)
        with psycopg.connect(dsn, autocommit=True, options="-c search_path=showdesk") as conn:
            server_rows = _one(
                conn.execute(
                    "select count(*), count(distinct id) from checkins"
                    " where device_id = any(%s::uuid[])",
                    ([*hub_doors, late_hub],),
                )
            )
        with hub.connect() as conn:
            hub_rows = _one(
                conn.execute(
                    "select count(*) from showdesk.checkins where device_id = any(%s::uuid[])",
                    ([*hub_doors, late_hub],),
                )
            )[0]
        results["exactly_once"] = bool(server_rows[0] == server_rows[1] == hub_rows)
        results["relayed_checkins"] = server_rows[0]
        results["load"] = load_average()
        for db in [*hub_dbs, *server_dbs, late_db, late_db_server]:
            db.close()
        upstream.close()
        return results
    finally:
        if relay_loop is not None:
            relay_loop.stop()
        if hub is not None:
            hub.stop()
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _figures(samples: list[float]) -> dict[str, Any]:
    if not samples:
        return {"scans": 0}
    return {
        "scans": len(samples),
        "a_to_b_p50_s": round(percentile(samples, 50), 2),
        "a_to_b_p95_s": round(percentile(samples, 95), 2),
        "a_to_b_max_s": round(max(samples), 2),
    }


def hub_table(r: dict[str, Any]) -> str:
    hub, server = r.get("hub", {}), r.get("server", {})
    rows = [
        ("A -> B p50 (s)", hub.get("a_to_b_p50_s"), server.get("a_to_b_p50_s"), None),
        (
            "A -> B p95 (s)",
            hub.get("a_to_b_p95_s"),
            server.get("a_to_b_p95_s"),
            f"<= {TARGETS['a_to_b_p95_s']}",
        ),
        ("A -> B max (s)", hub.get("a_to_b_max_s"), server.get("a_to_b_max_s"), None),
        ("scans measured", hub.get("scans"), server.get("scans"), None),
        ("A -> idle B p50 (s)", hub.get("idle_b_p50_s"), server.get("idle_b_p50_s"), None),
        (
            "A -> idle B p95 (s)",
            hub.get("idle_b_p95_s"),
            server.get("idle_b_p95_s"),
            f"<= {TARGETS['a_to_b_p95_s']}",
        ),
        (
            "catch-up, 2,000 scans (s)",
            hub.get("catch_up_s"),
            server.get("catch_up_s"),
            f"<= {TARGETS['catch_up_s']}",
        ),
    ]
    notes = [
        f"{r['doors']} doors scanning 1 guest/s each for {r['seconds']:.0f} s; hub database "
        f"CPU {r.get('hub_cpu_pct')}% of one core, relay thread {r.get('relay_cpu_pct')}%",
        f"hub start {r.get('hub_start_s')} s, first relay of {r['tickets']:,} tickets "
        f"{r.get('hub_first_relay_s')} s; relay drained the rest in {r.get('relay_drain_s')} s; "
        f"{r.get('relayed_checkins')} check-ins at the server, exactly once: "
        f"{'yes' if r.get('exactly_once') else 'NO'}",
        f"load average: {r.get('load') or 'unknown'}",
    ]
    return format_table(
        ["", "venue hub", "server (baseline)", "target"],
        rows,
        title="showdesk bench hub",
        notes=notes,
    )
