"""Background work for the UI: the UI thread never waits on the network, camera or a query.

- ``run_task(fn, on_done, on_error)`` runs ``fn`` on a thread pool and calls ``on_done(result)``
  (or ``on_error(exc)``) back on the main thread (MusicBrainz Picard's pattern).
- ``run_db(fn, ...)`` does the same on one serial worker, so database writes never race
  (Anki's pattern). ``fn`` receives nothing; it opens its own session.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from app.ui.qt import QCoreApplication, QObject, QThreadPool, Signal, is_alive

log = logging.getLogger(__name__)


class _Dispatcher(QObject):
    """Lives on the main thread; a queued signal carries callbacks across threads."""

    call = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.call.connect(self._run)

    def _run(self, thunk: Callable[[], None]) -> None:
        thunk()


_dispatcher: _Dispatcher | None = None
_db_executor: ThreadPoolExecutor | None = None
_pool_executor: ThreadPoolExecutor | None = None


def _get_dispatcher() -> _Dispatcher:
    global _dispatcher
    if _dispatcher is None:
        _dispatcher = _Dispatcher()
        # It may be first asked for on a worker (the call-time alert scheduler calls run_db
        # from its own thread): a QObject belongs to the thread that made it, and a queued
        # call to a thread with no event loop never runs. It must live on the main thread.
        app = QCoreApplication.instance()
        if app is not None and _dispatcher.thread() is not app.thread():
            _dispatcher.moveToThread(app.thread())
    return _dispatcher


def on_main_thread(thunk: Callable[[], None]) -> None:
    """Schedule ``thunk`` on the main (UI) thread."""
    _get_dispatcher().call.emit(thunk)


def _default_error(exc: BaseException) -> None:
    log.error("background task failed: %s", "".join(traceback.format_exception(exc)))


def _gone(callback: Callable[..., Any] | None) -> bool:
    """A bound method of a widget deleted while its work ran (a closed screen, a switched
    event): its answer has nowhere to go and is dropped."""
    owner = getattr(callback, "__self__", None)
    return isinstance(owner, QObject) and not is_alive(owner)


def _submit(
    executor: ThreadPoolExecutor,
    fn: Callable[[], Any],
    on_done: Callable[[Any], None] | None,
    on_error: Callable[[BaseException], None] | None,
) -> Future:
    dispatcher = _get_dispatcher()

    def report(exc: BaseException) -> None:
        if _gone(on_error):
            log.info("dropped the failure of work for a closed screen: %r", exc)
        else:
            (on_error or _default_error)(exc)

    def deliver(result: Any) -> None:
        if on_done is not None and not _gone(on_done):
            on_done(result)

    def finished(future: Future) -> None:
        exc = future.exception()
        if exc is not None:
            dispatcher.call.emit(lambda: report(exc))
        elif on_done is not None:
            result = future.result()
            dispatcher.call.emit(lambda: deliver(result))

    future = executor.submit(fn)
    future.add_done_callback(finished)
    return future


def run_task(
    fn: Callable[[], Any],
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
) -> Future:
    """Run ``fn`` off the UI thread; hand its result back on the UI thread."""
    global _pool_executor
    if _pool_executor is None:
        _pool_executor = ThreadPoolExecutor(
            max_workers=max(2, QThreadPool.globalInstance().maxThreadCount()),
            thread_name_prefix="showdesk-task",
        )
    return _submit(_pool_executor, fn, on_done, on_error)


def run_db(
    fn: Callable[[], Any],
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
) -> Future:
    """Run database work on the single serial DB worker."""
    global _db_executor
    if _db_executor is None:
        _db_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="showdesk-db")
    return _submit(_db_executor, fn, on_done, on_error)


def shutdown(wait: bool = True) -> None:
    """Stop the workers (at application exit, and between tests)."""
    global _db_executor, _pool_executor
    for executor in (_db_executor, _pool_executor):
        if executor is not None:
            executor.shutdown(wait=wait, cancel_futures=not wait)
    _db_executor = _pool_executor = None
