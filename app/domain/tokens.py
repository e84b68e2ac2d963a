"""Signed ticket tokens: what a ticket's QR code carries.

Text form: ``SD1.`` + base32 (RFC 4648, upper case, no padding) of::

    version   1 byte   (1)
    flags     1 byte   bit 0: valid_from present, bit 1: valid_until present
    ticket    16 bytes ticket UUID
    event     16 bytes event UUID
    type      16 bytes ticket type UUID (full id: a kiosk that has not synced the ticket
                       still finds the tier, entry window and gates of its type)
    serial    4 bytes  token serial, big-endian (bumped when a ticket is re-issued)
    [from]    4 bytes  valid-from, unsigned epoch seconds
    [until]   4 bytes  valid-until, unsigned epoch seconds
    signature 64 bytes Ed25519 over b"SD1" + all bytes above

Every character is in QR's alphanumeric set, so the code stays small (about 190 characters,
QR version 9 at level M). ``parse_token`` raises only ``TokenError`` whatever it is given.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

VERSION = 1
PREFIX = "SD1."
_DOMAIN = b"SD1"
_HEAD = struct.Struct(">BB16s16s16sI")
_SIG_LEN = 64
_MAX_TEXT = 400  # a longer text cannot be one of our tokens
_FLAG_FROM = 1
_FLAG_UNTIL = 2
_PREFIX_RE = re.compile(r"^SD(\d{1,3})\.", re.IGNORECASE)
_B32_RE = re.compile(r"^[A-Z2-7]+$")


class TokenErrorKind(StrEnum):
    NOT_A_TOKEN = "not_a_token"  # some other code: try a legacy lookup
    MALFORMED = "malformed"  # looks like ours but is truncated, altered or garbled
    BAD_SIGNATURE = "bad_signature"  # well formed, but no listed key signed it
    UNSUPPORTED_VERSION = "unsupported_version"  # from a newer Showdesk


class TokenError(Exception):
    """Why a text is not a valid token; ``kind`` says which way it failed."""

    def __init__(self, kind: TokenErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class ParsedToken:
    version: int
    ticket_id: str
    event_id: str
    ticket_type_id: str
    serial: int
    valid_from: datetime | None
    valid_until: datetime | None
    signed: bytes  # the bytes the signature covers
    signature: bytes
    verified: bool  # True when checked against a key passed to parse_token

    def verify(self, public_keys: Iterable[str | bytes]) -> bool:
        """True when one of ``public_keys`` (base64 text or raw 32 bytes) signed this token."""
        return _verify(self.signed, self.signature, public_keys)


# --- base32 -----------------------------------------------------------------------------


def b32encode(data: bytes) -> str:
    """RFC 4648 base32, upper case, without padding."""
    return base64.b32encode(data).decode("ascii").rstrip("=")


def b32decode(text: str) -> bytes:
    """Inverse of ``b32encode``; ValueError on text it never produces (bad length, tail bits)."""
    try:
        data = base64.b32decode(text + "=" * (-len(text) % 8))
    except binascii.Error as exc:
        raise ValueError(str(exc)) from None
    if b32encode(data) != text:
        raise ValueError("non-canonical base32")
    return data


# --- keys -----------------------------------------------------------------------------------


def generate_keypair() -> tuple[str, str]:
    """A new event key pair as (private seed, public key), both base64 of raw 32 bytes."""
    private = Ed25519PrivateKey.generate()
    return _b64_private(private), public_key_of(_b64_private(private))


def public_key_of(private_key_b64: str) -> str:
    public = _private(private_key_b64).public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def _b64_private(private: Ed25519PrivateKey) -> str:
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return base64.b64encode(raw).decode("ascii")


@lru_cache(maxsize=64)
def _private(private_key_b64: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_key_b64))


@lru_cache(maxsize=256)
def _public(key: str | bytes) -> Ed25519PublicKey | None:
    try:
        raw = key if isinstance(key, bytes) else base64.b64decode(key, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, TypeError, binascii.Error):
        return None  # an unusable key in the list verifies nothing


def _verify(signed: bytes, signature: bytes, public_keys: Iterable[str | bytes]) -> bool:
    for key in public_keys:
        public = _public(key) if isinstance(key, str | bytes) else None
        if public is None:
            continue
        try:
            public.verify(signature, signed)
            return True
        except InvalidSignature:
            continue
    return False


# --- issue ----------------------------------------------------------------------------------


def _epoch(value: datetime | None) -> int:
    if value is None:
        return 0
    if value.tzinfo is None:
        raise ValueError("token validity times must be timezone-aware")
    return max(0, min(int(value.timestamp()), 0xFFFFFFFF))


def issue_token(
    private_key_b64: str,
    *,
    ticket_id: str,
    event_id: str,
    ticket_type_id: str,
    serial: int = 1,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> str:
    """The QR text of a ticket, signed with the event's private key."""
    if not 0 <= serial <= 0xFFFFFFFF:
        raise ValueError("token serial out of range")
    flags = (_FLAG_FROM if valid_from else 0) | (_FLAG_UNTIL if valid_until else 0)
    body = _HEAD.pack(
        VERSION,
        flags,
        uuid.UUID(ticket_id).bytes,
        uuid.UUID(event_id).bytes,
        uuid.UUID(ticket_type_id).bytes,
        serial,
    )
    if valid_from:
        body += struct.pack(">I", _epoch(valid_from))
    if valid_until:
        body += struct.pack(">I", _epoch(valid_until))
    signature = _private(private_key_b64).sign(_DOMAIN + body)
    return PREFIX + b32encode(body + signature)


encode_token = issue_token


# --- parse ----------------------------------------------------------------------------------


def looks_like_token(text: str) -> bool:
    """True when ``text`` claims to be one of our tokens (any version)."""
    return bool(_PREFIX_RE.match(text.strip()))


def parse_token(text: str | bytes, public_keys: Iterable[str | bytes] | None = None) -> ParsedToken:
    """Parse (and, given keys, verify) a token. Raises TokenError and nothing else.

    Without ``public_keys`` the result is structurally valid but ``verified`` is False.
    """
    try:
        return _parse(text, public_keys)
    except TokenError:
        raise
    except Exception as exc:  # defensive: no input may escape as another exception
        raise TokenError(TokenErrorKind.MALFORMED, "The code could not be decoded.") from exc


def _parse(text: str | bytes, public_keys: Iterable[str | bytes] | None) -> ParsedToken:
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise TokenError(TokenErrorKind.NOT_A_TOKEN, "Not text.") from None
    if not isinstance(text, str):
        raise TokenError(TokenErrorKind.NOT_A_TOKEN, "Not text.")
    text = text.strip()
    match = _PREFIX_RE.match(text)
    if not match:
        raise TokenError(TokenErrorKind.NOT_A_TOKEN, "Not a Showdesk ticket token.")
    if match.group(1) != str(VERSION):
        raise TokenError(
            TokenErrorKind.UNSUPPORTED_VERSION,
            f"Ticket format {match.group(1)} is newer than this Showdesk understands.",
        )
    if len(text) > _MAX_TEXT:
        raise TokenError(TokenErrorKind.MALFORMED, "The code is too long to be a ticket.")
    body_text = text[match.end() :].upper()
    if not _B32_RE.match(body_text):
        raise TokenError(TokenErrorKind.MALFORMED, "The code has characters a ticket never has.")
    try:
        raw = b32decode(body_text)  # rejects non-canonical trailing bits too
    except ValueError:
        raise TokenError(TokenErrorKind.MALFORMED, "The code is cut short or garbled.") from None
    if len(raw) < _HEAD.size + _SIG_LEN:
        raise TokenError(TokenErrorKind.MALFORMED, "The code is cut short.")
    version, flags, ticket, event, ticket_type, serial = _HEAD.unpack_from(raw)
    if version != VERSION or flags & ~(_FLAG_FROM | _FLAG_UNTIL):
        raise TokenError(TokenErrorKind.MALFORMED, "The code's header is damaged.")
    offset = _HEAD.size
    times: list[datetime | None] = []
    for flag in (_FLAG_FROM, _FLAG_UNTIL):
        if flags & flag:
            if len(raw) < offset + 4:
                raise TokenError(TokenErrorKind.MALFORMED, "The code is cut short.")
            (seconds,) = struct.unpack_from(">I", raw, offset)
            times.append(datetime.fromtimestamp(seconds, UTC))
            offset += 4
        else:
            times.append(None)
    if len(raw) != offset + _SIG_LEN:
        raise TokenError(TokenErrorKind.MALFORMED, "The code has the wrong length.")
    signed = _DOMAIN + raw[:offset]
    signature = raw[offset:]
    verified = False
    if public_keys is not None:
        if not _verify(signed, signature, public_keys):
            raise TokenError(TokenErrorKind.BAD_SIGNATURE, "The code's signature does not match.")
        verified = True
    return ParsedToken(
        version=version,
        ticket_id=str(uuid.UUID(bytes=ticket)),
        event_id=str(uuid.UUID(bytes=event)),
        ticket_type_id=str(uuid.UUID(bytes=ticket_type)),
        serial=serial,
        valid_from=times[0],
        valid_until=times[1],
        signed=signed,
        signature=signature,
        verified=verified,
    )
