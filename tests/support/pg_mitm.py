"""A man-in-the-middle for PostgreSQL's TLS: terminates the client's TLS with its own
self-signed certificate, opens its own TLS to the real server, and copies bytes both ways.

What an attacker on the venue's Wi-Fi would run between a kiosk and the hub. A client that
does not pin the hub's certificate (``sslmode=require``) talks through it happily; a pinned
kiosk must refuse it.
"""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path

from app.sync.hub.tls import SSL_REQUEST, make_certificate


class PgMitm:
    def __init__(self, upstream_host: str, upstream_port: int, folder: Path) -> None:
        self.upstream = (upstream_host, upstream_port)
        cert, key = folder / "mitm-cert.pem", folder / "mitm-key.pem"
        self.fingerprint = make_certificate(cert, key, "Showdesk venue hub")  # same name
        self.server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.server_context.load_cert_chain(cert, key)
        self.client_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.client_context.check_hostname = False
        self.client_context.verify_mode = ssl.CERT_NONE
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.relayed_bytes = 0
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            if client.recv(8) != SSL_REQUEST:
                client.close()
                return
            client.sendall(b"S")
            tls_client = self.server_context.wrap_socket(client, server_side=True)
            server = socket.create_connection(self.upstream, timeout=5)
            server.sendall(SSL_REQUEST)
            if server.recv(1) != b"S":
                raise OSError("upstream refused TLS")
            tls_server = self.client_context.wrap_socket(server)
        except (OSError, ssl.SSLError):
            client.close()
            return
        for a, b in ((tls_client, tls_server), (tls_server, tls_client)):
            threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: ssl.SSLSocket, sink: ssl.SSLSocket) -> None:
        try:
            source.settimeout(None)
            while True:
                data = source.recv(65536)
                if not data:
                    break
                self.relayed_bytes += len(data)
                sink.sendall(data)
        except (OSError, ssl.SSLError):
            pass
        finally:
            for s in (source, sink):
                try:
                    s.close()
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self.listener.close()
