"""The venue hub as the real thing: `showdesk hub serve` in its own process (with its own
PostgreSQL), the internet between it and the server a TCP proxy we can cut, kiosks joining
with codes from `showdesk hub code`, one kiosk entirely through the command line. The hub is
killed mid-event (its process and its database server), restarted, moved to another folder;
every check-in reaches the server exactly once and the doors end with identical replicas."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from app.store.db import open_database, set_meta
from app.store.types import utcnow
from app.sync.engine import SyncEngine
from app.sync.hub.join import HubBackend, join_hub
from app.sync.hub.routing import RoutedBackend
from app.sync.hub.server import parse_join
from app.sync.localpg import free_port
from tests.hub.conftest import hub_folder
from tests.support.pg import PgServer
from tests.support.tcp_proxy import TcpProxy
from tests.sync.conftest import Kiosk

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWDESK_")}
    env.update(
        SHOWDESK_CONFIG_DIR=str(home / "cfg"),
        SHOWDESK_DATA_DIR=str(home / "data"),
        SHOWDESK_LOG_DIR=str(home / "log"),
        **extra,
    )
    return env


def showdesk(home: Path, *args: str, **extra: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "app", *args, "--json"],
        cwd=ROOT,
        env=_env(home, **extra),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return json.loads(done.stdout.strip().splitlines()[-1])


class HubProcess:
    """`showdesk hub serve` for the venue, its upstream through ``internet``."""

    def __init__(self, world, folder: Path, port: int, internet: TcpProxy, home: Path) -> None:
        self.world, self.folder, self.port, self.home = world, folder, port, home
        self.claims = world.sdb.claims(world.org, staff_role="organizer", device_id=world.hub)
        self.dsn = f"host=127.0.0.1 port={internet.port} dbname={world.sdb.name} user=postgres"
        self.proc: subprocess.Popen | None = None

    def start(self) -> HubProcess:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app",
                "hub",
                "serve",
                "--dir",
                str(self.folder),
                "--port",
                str(self.port),
                "--listen",
                "127.0.0.1",
                "--device",
                self.world.hub,
                "--event",
                self.world.org.event_id,
                "--interval",
                "0.5",
                "--json",
            ],
            cwd=ROOT,
            env=_env(
                self.home,
                SHOWDESK_BACKEND="postgres",
                SHOWDESK_POSTGRES_DSN=self.dsn,
                SHOWDESK_POSTGRES_CLAIMS=json.dumps(self.claims),
                SHOWDESK_DEVICE_ROLE="organizer",
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        line = self.proc.stdout.readline()
        assert line, self.proc.stderr.read()
        assert json.loads(line)["ready"]
        return self

    def code(self, role: str = "door") -> str:
        return showdesk(
            self.home,
            "hub",
            "code",
            "--dir",
            str(self.folder),
            "--port",
            str(self.port),
            "--role",
            role,
            "--address",
            "127.0.0.1",
        )["payload"]

    def crash(self) -> None:
        """The laptop dies: the hub process is killed, its database server quits at once
        (no shutdown checkpoint; crash recovery at the next start)."""
        pid_file = self.folder / "pg" / "data" / "postmaster.pid"
        postmaster = int(pid_file.read_text().splitlines()[0])
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        os.kill(postmaster, signal.SIGQUIT)
        deadline = time.monotonic() + 20
        while pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)


class World:
    def __init__(self, sdb, org, hub: str, folder: Path) -> None:
        self.sdb, self.org, self.hub, self.folder = sdb, org, hub, folder
        self.kiosks: list[Kiosk] = []

    def join(self, name: str, hub: HubProcess, *, internet: TcpProxy | None = None, clock=utcnow):
        device = self.sdb.create_device(self.org, name, name)
        db = open_database(self.folder / f"{name.replace(' ', '_')}.sqlite")
        with db.session() as session:
            set_meta(session, "device_id", device)
            set_meta(session, "event_id", self.org.event_id)
        _wait(lambda: _hub_device_known(hub.folder, hub.port, device), what="the hub to learn it")
        credential = join_hub(parse_join(hub.code()), device, name, self.folder / f"{device}.pem")
        server = None
        if internet is not None:
            from app.sync.backends import PostgresBackend

            server = PostgresBackend(
                f"host=127.0.0.1 port={internet.port} dbname={self.sdb.name} user=postgres",
                "authenticated",
                self.sdb.claims(self.org, staff_role="door", device_id=device),
                timeout=5,
            )
        engine = SyncEngine(
            db,
            RoutedBackend(HubBackend(credential), server),
            self.org.event_id,
            device,
            clock=clock,
        )
        kiosk = Kiosk(name, device, db, engine, name, clock)
        self.kiosks.append(kiosk)
        return kiosk


def _sync(kiosk: Kiosk) -> bool:
    from app.sync.backends import SyncError

    kiosk.engine.backend.hub.retry_at = 0
    try:
        kiosk.engine.sync_once()
        return True
    except SyncError:
        return False


def _wait(predicate, timeout: float = 45.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.fixture
def world(supabase_db, tmp_path):
    org = supabase_db.create_org("Maison Venue")
    supabase_db.create_tickets(org, 12)
    hub = supabase_db.create_device(org, "Organizer laptop", "Office")
    w = World(supabase_db, org, hub, tmp_path)
    yield w
    for kiosk in w.kiosks:
        kiosk.engine.backend.close()
        kiosk.db.close()


def test_a_hub_crash_mid_event_loses_nothing_and_doubles_nothing(
    world, tmp_path, pg_server: PgServer
):
    internet = TcpProxy("127.0.0.1", pg_server.port)
    folder = hub_folder()
    hub = HubProcess(world, folder / "hub", free_port(), internet, tmp_path / "hub-home").start()
    try:
        _wait(lambda: hub.code and _hub_knows_devices(hub), what="the hub's first relay")
        north = world.join("North door", hub, internet=internet)
        # the south door's clock is an hour behind; it reaches only the hub
        south = world.join("South door", hub, clock=lambda: utcnow() - timedelta(hours=1))
        assert _sync(north) and _sync(south)
        codes = north.codes()

        internet.mode = "refuse"  # the venue's internet dies
        internet.drop_all()
        for code in codes[:5]:
            assert north.door().scan(code).verdict == "admitted"
        assert _sync(north)  # to the hub only
        time.sleep(1.5)
        assert _sync(south)
        for code in codes[:5]:
            assert south.door().scan(code).verdict == "already_admitted"
        assert _sync(south)
        words = north.engine.status().route_words
        assert words.startswith("Internet: offline · Venue hub: connected")

        hub.crash()
        for code in codes[5:8]:
            assert north.door().scan(code).verdict == "admitted"
        assert not _sync(north)  # neither way answers: queued
        assert north.pending() == 3

        hub.start()
        internet.mode = "pass"
        _wait(lambda: _sync(north) and north.pending() == 0, what="north's queue")
        _wait(lambda: _sync(south) and south.pending() == 0, what="south's queue")
        expected = _local_checkin_ids(north) | _local_checkin_ids(south)
        assert len(expected) == 5 + 5 + 3
        _wait(lambda: _server_checkin_ids(world) == expected, what="the relay")
        time.sleep(1.5)  # another relay cycle or two: still nothing doubled
        assert world.sdb.scalar("select count(*) from checkins") == len(expected)
        assert world.sdb.scalar("select count(*) from sync_mutations") == len(expected)
        # each check-in from its own door, the skewed clock corrected
        rows = world.sdb.execute("select device_id, scanned_at, corrected_at from checkins")
        south_rows = [r for r in rows if str(r["device_id"]) == south.device_id]
        assert len(south_rows) == 5
        for row in south_rows:
            assert abs((row["corrected_at"] - utcnow()).total_seconds()) < 600
        _wait(
            lambda: _sync(north) and _sync(south) and north.dump() == south.dump(),
            what="identical replicas",
        )
    finally:
        hub.stop()
        internet.stop()


def _hub_knows_devices(hub: HubProcess) -> bool:
    try:
        return bool(hub.code())
    except AssertionError:
        return False


def _local_checkin_ids(kiosk: Kiosk) -> set[str]:
    from sqlalchemy import select

    from app.store.models import Checkin

    with kiosk.db.session() as session:
        return {
            str(i)
            for i in session.scalars(select(Checkin.id).where(Checkin.device_id == kiosk.device_id))
        }


def _server_checkin_ids(world) -> set[str]:
    return {str(r["id"]) for r in world.sdb.execute("select id from checkins")}


def test_the_hub_moves_to_another_laptop_and_a_command_line_kiosk_follows(
    world, tmp_path, pg_server: PgServer
):
    internet = TcpProxy("127.0.0.1", pg_server.port)
    internet.mode = "refuse"
    folder = hub_folder()
    port = free_port()
    old_home, new_home = tmp_path / "old-laptop", tmp_path / "new-laptop"
    hub = HubProcess(world, folder / "old", port, internet, old_home)
    internet.mode = "pass"
    hub.start()
    try:
        _wait(lambda: _hub_knows_devices(hub), what="the hub's first relay")
        # a kiosk driven only through the command line, in its own processes
        kiosk_home = tmp_path / "cli-kiosk"
        device = world.sdb.create_device(world.org, "CLI door", "West")
        db_path = tmp_path / "cli-kiosk.sqlite"
        db = open_database(db_path)
        with db.session() as session:
            set_meta(session, "device_id", device)
            set_meta(session, "event_id", world.org.event_id)
        db.close()
        _wait(lambda: _hub_device_known(folder / "old", port, device), what="the hub to learn it")
        env = {"SHOWDESK_EVENT_ID": world.org.event_id, "SHOWDESK_DEVICE_NAME": "CLI door"}
        joined = showdesk(kiosk_home, "hub", "join", hub.code(), "--db", str(db_path), **env)
        assert joined["role"] == "door"
        internet.mode = "refuse"
        internet.drop_all()
        synced = showdesk(kiosk_home, "--db", str(db_path), "sync", "--once", **env)
        assert synced["routes"] == "Internet: not set up · Venue hub: connected, 1 kiosk"
        tickets = world.sdb.execute("select qr_code_data from tickets order by ticket_number")
        verdict = showdesk(
            kiosk_home, "checkin", "--db", str(db_path), "--code", tickets[0]["qr_code_data"], **env
        )
        assert verdict["verdict"] == "admitted"
        showdesk(kiosk_home, "--db", str(db_path), "sync", "--once", **env)
        hub.stop()

        archive = tmp_path / "hub.tar.gz"
        showdesk(old_home, "hub", "export", "--dir", str(folder / "old"), str(archive))
        showdesk(new_home, "hub", "import", "--dir", str(folder / "new"), str(archive))
        moved = HubProcess(world, folder / "new", port, internet, new_home).start()
        try:
            verdict = showdesk(
                kiosk_home,
                "checkin",
                "--db",
                str(db_path),
                "--code",
                tickets[1]["qr_code_data"],
                **env,
            )
            assert verdict["verdict"] == "admitted"
            showdesk(kiosk_home, "--db", str(db_path), "sync", "--once", **env)
            internet.mode = "pass"
            _wait(lambda: world.sdb.scalar("select count(*) from checkins") == 2, what="relay")
            assert world.sdb.scalar("select count(distinct device_id) from checkins") == 1
            assert world.sdb.scalar("select count(*) from sync_mutations") == 2
        finally:
            moved.stop()
    finally:
        hub.stop()
        internet.stop()


def _hub_device_known(folder: Path, port: int, device: str) -> bool:
    from app.sync.hub.server import Hub

    with Hub(folder, port).connect() as conn:
        return bool(
            conn.execute("select 1 from showdesk.devices where id = %s", (device,)).fetchone()
        )
