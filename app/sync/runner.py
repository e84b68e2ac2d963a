"""Running sync in the background: a pull every few seconds, a push right after a local change.

APScheduler's BackgroundScheduler holds one job, ``sync``, which always runs the next sync
(push then pull) at a chosen time: ``pull_interval`` after a success, an exponential backoff
with jitter after a failure, or ``push_debounce`` after :meth:`SyncRunner.poke`. One sync at a
time: a trigger that arrives during a sync makes exactly one more run afterwards.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler

from app.store.retention import purge_personal_data
from app.store.types import utcnow
from app.sync import revocation
from app.sync.backends import DeviceRevoked, SyncError
from app.sync.engine import SyncEngine, SyncReport, jitter
from app.sync.status import SyncStatus

log = logging.getLogger(__name__)

BACKOFF_START = 1.0
BACKOFF_CAP = 60.0
JOB_ID = "sync"
PURGE_EVERY_S = 3600.0

Listener = Callable[[SyncStatus], None]
ChangeListener = Callable[[set[str]], None]


class SyncRunner:
    def __init__(
        self,
        engine: SyncEngine,
        pull_interval: float = 5.0,
        push_debounce: float = 0.3,
        *,
        export_dir: Path | None = None,
    ) -> None:
        self.engine = engine
        # where a revoked kiosk seals what it could not upload: beside its replica
        self.export_dir = export_dir or Path(engine.db.path).parent / "unsent"
        self.retirement = revocation.read_retirement(engine.db)
        self.pull_interval = pull_interval
        self.push_debounce = push_debounce
        self.failures = 0
        self._listeners: list[Listener] = []
        self._change_listeners: list[ChangeListener] = []
        self._run_lock = threading.Lock()
        self._again = threading.Event()
        self._state_lock = threading.Lock()
        self._next_at: datetime | None = None
        self._scheduler = BackgroundScheduler(timezone="UTC")
        self._stopped = False
        self.syncing = False
        self._last_purge: float | None = None

    # --- listeners -----------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """``listener(status)`` after every sync, on the runner's thread."""
        self._listeners.append(listener)

    def add_change_listener(self, listener: ChangeListener) -> None:
        """``listener(tables)`` when a pull changed rows, on the runner's thread."""
        self._change_listeners.append(listener)

    def _publish(self, report: SyncReport | None = None) -> None:
        try:
            status = self.engine.status()
        except Exception:  # noqa: BLE001 - a status read must not stop sync
            log.exception("reading sync status failed")
            return
        status.syncing = self.syncing
        status.revoked = self.retirement
        for listener in list(self._listeners):
            try:
                listener(status)
            except Exception:  # noqa: BLE001
                log.exception("sync status listener failed")
        tables = report.changed_tables if report else set()
        if report and (report.push.conflict or report.push.rejected):
            tables |= {"outbox", "sync_conflicts"}
        if tables:
            for on_change in list(self._change_listeners):
                try:
                    on_change(tables)
                except Exception:  # noqa: BLE001
                    log.exception("sync change listener failed")

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        if self.retirement is not None:  # removed earlier: never sync again, say why
            log.warning("state revoked earlier: sync stays off")
            self._stopped = True
            self._publish()
            return
        self._scheduler.start()
        self._schedule(0)

    def stop(self) -> None:
        self._stopped = True
        try:
            self._scheduler.shutdown(wait=False)
        except Exception:  # noqa: BLE001 - not started
            pass
        with self._run_lock:  # let a running sync finish its transaction
            pass
        self.engine.backend.close()

    def _schedule(self, delay: float, *, earlier_only: bool = False) -> None:
        if self._stopped:
            return
        when = utcnow() + timedelta(seconds=max(0.0, delay))
        with self._state_lock:
            if earlier_only and self._next_at is not None and self._next_at <= when:
                return
            self._next_at = when
            self._scheduler.add_job(
                self._run,
                "date",
                run_date=when,
                id=JOB_ID,
                replace_existing=True,
                misfire_grace_time=None,
                coalesce=True,
                max_instances=1,
            )

    # --- triggers ------------------------------------------------------------------------

    def poke(self) -> None:
        """A local change was made: push soon (debounced), unless the server is unreachable
        and we are backing off."""
        if self.syncing:
            self._again.set()
            return
        if self.failures:
            return
        self._schedule(self.push_debounce, earlier_only=True)

    def sync_now(self) -> None:
        """The person asked for it: try now, even while backing off."""
        if self.syncing:
            self._again.set()
            return
        self._schedule(0)

    def run_once(self) -> SyncReport | None:
        """One sync on the caller's thread (used by ``showdesk sync --once`` and tests)."""
        return self._sync()

    # --- the job -------------------------------------------------------------------------

    def _run(self) -> None:
        with self._state_lock:
            self._next_at = None
        self._sync()
        while self._again.is_set() and not self._stopped:
            self._again.clear()
            self._sync()
        if self.failures:
            delay = jitter(min(BACKOFF_CAP, BACKOFF_START * 2 ** (self.failures - 1)))
        else:
            delay = self.pull_interval
        self._schedule(delay, earlier_only=True)

    def _sync(self) -> SyncReport | None:
        if not self._run_lock.acquire(blocking=False):
            self._again.set()
            return None
        report = None
        try:
            if self._stopped:
                return None
            self.syncing = True
            was_online = self.engine.online
            started = time.perf_counter()
            try:
                report = self.engine.sync_once()
                self.failures = 0
                self._forget_old_personal_data()
            except DeviceRevoked as exc:
                self._retire(exc)
                self._publish()  # the last word: what the kiosk shows from now on
                return None
            except SyncError as exc:
                self.failures += 1
                # A cheap probe tells "no internet" from "the server answered but refused".
                if self.failures == 1 and not exc.transient:
                    try:
                        self.engine.probe()
                    except Exception:  # noqa: BLE001 - the probe is only a hint
                        self.engine.online = False
                    self.engine.last_error = str(exc)
            except Exception as exc:  # noqa: BLE001 - a bug must not stop background sync
                log.exception("sync failed")
                self.failures += 1
                self.engine.last_error = f"Sync stopped by an internal error: {exc}"
                self.engine.online = False
            self._log_round(report, was_online, started)
            self.syncing = False
            # published under the lock: once stop() returns, no listener is called again
            if not self._stopped:
                self._publish(report)
        finally:
            self.syncing = False
            self._run_lock.release()
        return report

    def _forget_old_personal_data(self) -> None:
        """At most hourly, after a good round: finished events' attendees are forgotten here
        (app/store/retention.py; the number of days is the one the app stored at start)."""
        now = time.monotonic()
        if self._last_purge is not None and now - self._last_purge < PURGE_EVERY_S:
            return
        self._last_purge = now
        try:
            purge_personal_data(self.engine.db)
        except Exception:  # noqa: BLE001 - forgetting fails alone; the next round retries
            log.exception("retention purge failed")
            self._last_purge = None

    def _log_round(
        self, report: SyncReport | None, was_online: bool | None, started: float
    ) -> None:
        """One line per sync round, and one more when online/offline changed."""
        ms = (time.perf_counter() - started) * 1000
        online = self.engine.online
        if report is not None:
            push, pull = report.push, report.pull
            log.info(
                "sync ok pushed=%d applied=%d duplicate=%d conflict=%d rejected=%d pulled=%d "
                "deleted=%d pages=%d online=%s ms=%.0f",
                push.applied + push.duplicate + push.conflict + push.rejected,
                push.applied,
                push.duplicate,
                push.conflict,
                push.rejected,
                pull.upserted,
                pull.deleted,
                pull.pages,
                _online_word(online),
                ms,
            )
        else:
            log.warning(
                "sync failed online=%s failures=%d ms=%.0f error=%s",
                _online_word(online),
                self.failures,
                ms,
                self.engine.last_error,
            )
        if online is not None and online != was_online:
            log.log(
                logging.INFO if online else logging.WARNING,
                "state %s -> %s",
                _online_word(was_online, "online", "offline", "starting"),
                _online_word(online, "online", "offline"),
            )

    def _retire(self, exc: DeviceRevoked) -> None:
        """The server removed this device: stop for good, seal the outbox, wipe the replica."""
        self._stopped = True
        try:
            self._scheduler.shutdown(wait=False)
        except Exception:  # noqa: BLE001 - not started (run_once)
            pass
        self.engine.online = False
        self.engine.last_error = str(exc)
        self.retirement = revocation.retire(
            self.engine.db,
            message=str(exc),
            organization=exc.organization,
            revoked_at=exc.revoked_at,
            recovery_key=exc.recovery_key,
            export_dir=self.export_dir,
            device_id=self.engine.device_id,
        )


def _online_word(
    online: bool | None, yes: str = "yes", no: str = "no", unknown: str = "unknown"
) -> str:
    return unknown if online is None else yes if online else no


def build_backend(config, device_id: str | None = None):
    """The backend named in the settings, or None for an offline-only device; on a kiosk
    joined to a venue hub, the hub and that backend together (app/sync/hub/routing.py).

    Raises SyncError with a sentence when the settings are incomplete.
    """
    server = _server_backend(config, device_id)
    if not getattr(config, "hub_login", None):
        return server
    from app.sync.hub.routing import RoutedBackend

    return RoutedBackend(hub_backend(config), server)


def hub_backend(config):
    """This kiosk's venue-hub backend from its settings and its secret store."""
    from app.secrets import HUB_PASSWORD, SecretStore, SecretsUnavailable
    from app.sync.hub.join import HubBackend, HubCredential

    try:
        password = SecretStore.default().get(HUB_PASSWORD)
    except SecretsUnavailable as exc:
        raise SyncError(
            f"This kiosk's venue-hub login cannot be read: {exc}", transient=True, code="secrets"
        ) from exc
    addresses = tuple(a.strip() for a in (config.hub_addresses or "").split(",") if a.strip())
    if not password or not addresses or config.hub_certificate is None:
        raise SyncError(
            "This kiosk is set up for a venue hub, but its hub login is incomplete: join the "
            "hub again with a new code ('showdesk hub join').",
            transient=False,
        )
    return HubBackend(
        HubCredential(
            addresses=addresses,
            port=config.hub_port,
            login=config.hub_login,
            password=password,
            certificate=config.hub_certificate,
            event_id=config.event_id or "",
            role=config.device_role or "door",
        )
    )


def _server_backend(config, device_id: str | None = None):
    import json

    from app.sync.backends import PostgresBackend, SupabaseBackend

    kind = (config.backend or "none").strip().lower()
    if kind == "none":
        return None
    if (getattr(config, "auth", None) or "password").strip().lower() == "enrolled":
        return _enrolled_backend(config, kind)
    if kind == "postgres":
        if not config.postgres_dsn:
            raise SyncError(
                "Sync is set to 'postgres' but no postgres_dsn is configured.", transient=False
            )
        claims: dict = {}
        raw = getattr(config, "postgres_claims", None)
        if raw:
            try:
                claims = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise SyncError(
                    f"The postgres_claims setting is not valid JSON ({exc}).", transient=False
                ) from exc
        claims.setdefault("role", config.postgres_role)
        if device_id:
            claims.setdefault("device_id", device_id)
        return PostgresBackend(config.postgres_dsn, config.postgres_role, claims)
    if kind == "supabase":
        if not (config.supabase_url and config.supabase_key):
            raise SyncError(
                "Sync is set to 'supabase' but supabase_url or supabase_key is missing.",
                transient=False,
            )
        return SupabaseBackend(
            config.supabase_url,
            config.supabase_key,
            config.supabase_email,
            config.supabase_password,
        )
    raise SyncError(
        f"Unknown sync backend '{config.backend}': use none, supabase or postgres.", transient=False
    )


def _enrolled_backend(config, kind: str):
    """An enrolled device's backend: its own credential from the secret store (a Supabase
    refresh token, rotated and stored back at every refresh; or the auth user of its claims
    over a direct database connection). SyncError with a sentence when it cannot be had."""
    from app.secrets import DEVICE_CREDENTIAL, SecretStore, SecretsUnavailable
    from app.sync.backends import KioskSupabaseBackend, PostgresBackend
    from app.sync.enrolment import postgres_claims

    store = SecretStore.default()
    try:
        credential = store.get(DEVICE_CREDENTIAL)
    except SecretsUnavailable as exc:
        raise SyncError(
            f"This kiosk's credential cannot be read: {exc}", transient=True, code="secrets"
        ) from exc
    if not credential:
        raise SyncError(
            "This device is set up as enrolled, but its credential is missing from the secret "
            "store: enrol it again with a new code from the organizer ('showdesk enrol join').",
            transient=False,
        )
    if kind == "postgres":
        if not config.postgres_dsn:
            raise SyncError(
                "Sync is set to 'postgres' but no postgres_dsn is configured.", transient=False
            )
        return PostgresBackend(config.postgres_dsn, "authenticated", postgres_claims(credential))
    if kind == "supabase":
        if not (config.supabase_url and config.supabase_key):
            raise SyncError(
                "Sync is set to 'supabase' but supabase_url or supabase_key is missing.",
                transient=False,
            )

        def keep(token: str) -> None:
            try:
                store.set(DEVICE_CREDENTIAL, token)
            except SecretsUnavailable:
                # Supabase still answers the previous token until the new one is used, so
                # the next start signs in with the stored one and gets this one again.
                log.warning("the rotated device credential could not be stored")

        return KioskSupabaseBackend(
            config.supabase_url, config.supabase_key, credential, on_refresh_token=keep
        )
    raise SyncError(
        f"Unknown sync backend '{config.backend}': use none, supabase or postgres.", transient=False
    )


def build_runner(config, db, event_id: str, device_id: str) -> SyncRunner | None:
    backend = build_backend(config, device_id)
    if backend is None:
        return None
    engine = SyncEngine(db, backend, event_id, device_id)
    runner = SyncRunner(
        engine,
        pull_interval=config.pull_interval_seconds,
        push_debounce=config.push_debounce_seconds,
    )
    listen = getattr(backend, "listen", None)
    if listen is not None:
        listen(runner.sync_now)  # another door's scan on the hub: pull now
    return runner
