"""A TCP proxy on loopback that misbehaves on purpose, like a venue's network.

Put it between the sync engine and the server (PostgreSQL or the RPC gateway) and switch its
mode while a test runs:
- ``"pass"``: forward both ways;
- ``"refuse"``: accept and close at once (the network is down);
- ``"blackhole"``: accept and never answer (a dead Wi-Fi: the client must time out);
- ``"cut"``: forward the request, then close the connection after ``cut_after`` bytes of the
  answer (the cable pulled mid-response);
- ``delay`` (seconds) is added before every forwarded chunk in any mode that forwards.
``cut_remaining`` limits how many connections get cut (then it goes back to passing).
"""

from __future__ import annotations

import socket
import threading
import time


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode = "pass"
        self.delay = 0.0
        self.cut_after = 64
        self.cut_remaining: int | None = None
        self.connections = 0
        self.cuts = 0
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._stopped = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True, name="tcp-proxy")
        self._thread.start()

    # --- control ----------------------------------------------------------------------------

    def set(
        self,
        mode: str,
        *,
        delay: float | None = None,
        cut_after: int | None = None,
        cut_remaining: int | None = None,
    ) -> None:
        self.mode = mode
        if delay is not None:
            self.delay = delay
        if cut_after is not None:
            self.cut_after = cut_after
        self.cut_remaining = cut_remaining

    def drop_all(self) -> None:
        """Close every open connection now (both sides see a reset)."""
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            _close(sock)

    def stop(self) -> None:
        self._stopped.set()
        _close(self._listener)
        self.drop_all()

    # --- plumbing ---------------------------------------------------------------------------

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            mode = self.mode
            if mode == "refuse":
                _close(client)
                continue
            self._track(client)
            if mode == "blackhole":
                continue  # held open, never answered, closed by drop_all/stop
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            self._track(upstream)
            cut = None
            if mode == "cut" and (self.cut_remaining is None or self.cut_remaining > 0):
                cut = self.cut_after
                if self.cut_remaining is not None:
                    self.cut_remaining -= 1
            threading.Thread(target=self._pump, args=(client, upstream, None), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, cut), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, cut_after: int | None) -> None:
        sent = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if self.delay:
                    time.sleep(self.delay)
                if cut_after is not None and sent + len(data) >= cut_after:
                    dst.sendall(data[: max(0, cut_after - sent)])
                    self.cuts += 1
                    break
                dst.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            _close(src)
            _close(dst)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
