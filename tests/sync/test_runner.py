"""The background runner: push right after a scan, pull on a timer, back off while offline."""

from __future__ import annotations

import time

import pytest

from app.store.models import Checkin
from app.sync.runner import SyncRunner
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres


def _wait(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def test_scan_at_a_reaches_b_and_b_says_already_admitted(world):
    a = world.kiosk("Kiosk A", "North")
    b = world.kiosk("Kiosk B", "South")
    runners = [SyncRunner(k.engine, pull_interval=0.5, push_debounce=0.1) for k in (a, b)]
    seen = []
    runners[1].add_listener(seen.append)
    for runner in runners:
        runner.start()
    try:
        _wait(lambda: a.codes() and b.codes())
        code = a.codes()[0]
        first = a.door().scan(code)
        runners[0].poke()

        def arrived() -> bool:
            with b.db.session() as session:
                return session.get(Checkin, first.checkin_id) is not None

        _wait(arrived)
        assert b.door().scan(code).verdict == "already_admitted"
        assert seen and seen[-1].online is True
    finally:
        for runner in runners:
            runner.stop()


def test_backs_off_while_unreachable_and_recovers(world):
    proxy = TcpProxy("127.0.0.1", world.sdb.server.port)
    try:
        dsn = world.sdb.dsn.replace(f"port={world.sdb.server.port}", f"port={proxy.port}")
        kiosk = world.kiosk("Kiosk 1", dsn=dsn)
        runner = SyncRunner(kiosk.engine, pull_interval=0.3, push_debounce=0.05)
        statuses = []
        runner.add_listener(statuses.append)
        runner.start()
        _wait(lambda: kiosk.codes())
        proxy.set("refuse")
        proxy.drop_all()
        scan = kiosk.door().scan(kiosk.codes()[0])
        runner.poke()
        _wait(lambda: runner.failures >= 2)
        assert statuses[-1].online is False
        assert "No internet — 1 check-in waiting to upload" in statuses[-1].summary()
        attempts = proxy.connections
        time.sleep(1.0)  # backing off: far fewer attempts than the 0.3 s timer would make
        assert proxy.connections - attempts <= 4
        proxy.set("pass")
        runner.sync_now()
        _wait(lambda: runner.failures == 0 and kiosk.pending() == 0)
        assert [str(r["id"]) for r in world.server_checkins()] == [scan.checkin_id]
        runner.stop()
    finally:
        proxy.stop()
