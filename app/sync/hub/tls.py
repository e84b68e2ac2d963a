"""The hub's self-signed certificate, its fingerprint, and reading a hub's certificate to pin it.

Kiosks do not trust certificate authorities here: a kiosk learns the SHA-256 fingerprint of
the hub's certificate from the join QR (or the last 8 hex digits of a typed code), reads the
certificate the hub presents, compares, and from then on connects with libpq's
``sslmode=verify-ca`` and that one certificate as the only root: any other certificate (a
swapped hub, a man-in-the-middle) fails the handshake.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import socket
import ssl
import struct
from pathlib import Path

SSL_REQUEST = struct.pack("!ii", 8, 80877103)  # PostgreSQL's "SSLRequest" packet


class CertificateMismatch(Exception):
    """The hub presented a certificate other than the pinned one. ``str()`` is a sentence."""


def make_certificate(cert_path: Path, key_path: Path, common_name: str) -> str:
    """A new EC P-256 key and a self-signed CA certificate (10 years); returns its fingerprint."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        # its own root: libpq's verify-ca accepts it as the trust anchor
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return fingerprint(cert.public_bytes(serialization.Encoding.DER))


def fingerprint(der: bytes) -> str:
    """SHA-256 of a DER certificate, lower-case hex."""
    return hashlib.sha256(der).hexdigest()


def pem_fingerprint(pem_path: Path) -> str:
    return fingerprint(ssl.PEM_cert_to_DER_cert(pem_path.read_text()))


def read_certificate(host: str, port: int, timeout: float = 5.0) -> bytes:
    """The DER certificate a PostgreSQL server at host:port presents (nothing verified).

    OSError when it cannot be reached or does not speak TLS.
    """
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(SSL_REQUEST)
        answer = sock.recv(1)
        if answer != b"S":
            raise OSError("something answers there, but it is not a venue hub")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # read only; the fingerprint is the check
        with context.wrap_socket(sock) as tls:
            der = tls.getpeercert(binary_form=True)
    if not der:
        raise OSError("something answers there, but it is not a venue hub")
    return der


def pin_certificate(host: str, port: int, expected: str, out: Path, timeout: float = 5.0) -> None:
    """Read the hub's certificate, check it against ``expected`` (a full fingerprint or its
    last 8 or more hex digits) and write it to ``out`` as the kiosk's only trusted root."""
    der = read_certificate(host, port, timeout)
    got = fingerprint(der)
    want = expected.strip().lower().replace(":", "")
    if len(want) < 8 or not got.endswith(want):
        raise CertificateMismatch(
            f"The hub at {host}:{port} presented a different certificate than the join code "
            "names. This may be an impostor on the network: not joining."
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(ssl.DER_cert_to_PEM_cert(der))
