"""Signed ticket tokens: what a ticket's QR code carries.

Two text forms, both read; new tickets get version 2.

Version 2 (issued now): ``SD2.`` + the bytes below as one big-endian number written in base 44,
the digits being QR's alphanumeric characters without the space
(``0-9 A-Z $ % * + - . / :``), so the whole code goes in the QR alphanumeric mode at 5.5 bits a
character, and a code's length tells its byte count::

    head      1-5 bytes  LEB128 varint of serial << 2 | flags (flags bit 0: valid_from
                         present, bit 1: valid_until present); serial bumped on re-issue
    ticket    16 bytes   ticket UUID
    event     16 bytes   event UUID
    type      16 bytes   ticket type UUID (full id: a kiosk that has not synced the ticket
                         still finds the tier, entry window and gates of its type)
    [from]    4 bytes    valid-from, unsigned epoch seconds
    [until]   4 bytes    valid-until, unsigned epoch seconds
    signature 64 bytes   Ed25519 over b"SD2" + all bytes above

Version 1 (codes already issued): ``SD1.`` + base32 (RFC 4648, upper case, no padding) of
version (1 byte, 1), flags (1 byte), the three UUIDs, serial (4 bytes), the optional times and
the Ed25519 signature over b"SD1" + those bytes.

Same key, same Ed25519 signature (64 bytes) in both. Each QR alphanumeric character costs
5.5 bits of the code; a base-44 digit carries 5.46 of them where a base32 one carries 5, and
the varint head saves 4 bytes of fixed-width header: a ticket with at most one of valid-from / valid-until is 170-176 characters, QR version 7 at
level M, where version 1 took 193-200 (version 8); with both it is 182 (206), version 8 either
way. No space in the alphabet: a code must survive being trimmed.
``parse_token`` raises only ``TokenError`` whatever it is given.
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

VERSION = 2  # what issue_token writes
VERSIONS = (1, 2)  # what parse_token reads
PREFIX = f"SD{VERSION}."
PREFIX_V1 = "SD1."
_DOMAIN = {1: b"SD1", 2: b"SD2"}
_HEAD = struct.Struct(">BB16s16s16sI")  # version 1
_IDS = struct.Struct(">16s16s16s")  # version 2, after the varint head
_SIG_LEN = 64
_MAX_TEXT = 400  # a longer text cannot be one of our tokens
_FLAG_FROM = 1
_FLAG_UNTIL = 2
_PREFIX_RE = re.compile(r"^SD(\d{1,3})\.", re.IGNORECASE)
_B32_RE = re.compile(r"^[A-Z2-7]+$")
# QR's alphanumeric characters in the order of their QR values, less the space.
B44_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ$%*+-./:"
_B44_VALUE = {c: i for i, c in enumerate(B44_ALPHABET)}
_B44_RE = re.compile(r"^[0-9A-Z$%*+\-./:]+$")
_QR_ALNUM_RE = re.compile(r"^[0-9A-Z $%*+\-./:]+$")  # the body of a version not known yet


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


def _b44_lengths(max_bytes: int) -> list[int]:
    """[n] -> the fewest base-44 digits that hold any n bytes (256**n - 1)."""
    lengths, length, top = [0], 0, 1
    for n in range(1, max_bytes + 1):
        while top < 256**n:
            top *= 44
            length += 1
        lengths.append(length)
    return lengths


_B44_LENGTH = _b44_lengths(_MAX_TEXT * 3 // 4)  # more bytes than _MAX_TEXT characters hold
# A code's length tells its byte count (one more byte always needs at least one more digit).
_B44_BYTES = {length: n for n, length in enumerate(_B44_LENGTH) if n}


def b44encode(data: bytes) -> str:
    """``data`` as one big-endian number in base 44, in as many digits as any such number of
    bytes needs (so the length gives the byte count back)."""
    if len(data) >= len(_B44_LENGTH):
        raise ValueError("too many bytes for a ticket code")
    value = int.from_bytes(data, "big")
    digits = []
    for _ in range(_B44_LENGTH[len(data)]):
        value, digit = divmod(value, 44)
        digits.append(B44_ALPHABET[digit])
    return "".join(reversed(digits))


def b44decode(text: str) -> bytes:
    """Inverse of ``b44encode``; ValueError on text it never produces (length, range, chars)."""
    n_bytes = _B44_BYTES.get(len(text))
    if n_bytes is None:
        raise ValueError("not the length of a base-44 code")
    value = 0
    for ch in text:
        digit = _B44_VALUE.get(ch)
        if digit is None:
            raise ValueError(f"{ch!r} is not a base-44 digit")
        value = value * 44 + digit
    if value >= 256**n_bytes:
        raise ValueError("non-canonical base-44")
    return value.to_bytes(n_bytes, "big")


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _read_varint(raw: bytes, limit: int = 5) -> tuple[int, int]:
    """(value, bytes used) of a minimal LEB128 varint at the start of ``raw``."""
    value = 0
    for i, byte in enumerate(raw[:limit]):
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if i and byte == 0:
                raise ValueError("non-minimal varint")
            return value, i + 1
    raise ValueError("varint too long or cut short")


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
    version: int = VERSION,
) -> str:
    """The QR text of a ticket, signed with the event's private key.

    ``version=1`` writes the older, longer form (for kiosks not yet updated to read 2)."""
    if not 0 <= serial <= 0xFFFFFFFF:
        raise ValueError("token serial out of range")
    if version not in VERSIONS:
        raise ValueError(f"token version {version} is not one Showdesk writes")
    flags = (_FLAG_FROM if valid_from else 0) | (_FLAG_UNTIL if valid_until else 0)
    ids = (uuid.UUID(ticket_id).bytes, uuid.UUID(event_id).bytes, uuid.UUID(ticket_type_id).bytes)
    if version == 1:
        body = _HEAD.pack(1, flags, *ids, serial)
    else:
        body = _varint(serial << 2 | flags) + _IDS.pack(*ids)
    if valid_from:
        body += struct.pack(">I", _epoch(valid_from))
    if valid_until:
        body += struct.pack(">I", _epoch(valid_until))
    signature = _private(private_key_b64).sign(_DOMAIN[version] + body)
    if version == 1:
        return PREFIX_V1 + b32encode(body + signature)
    return PREFIX + b44encode(body + signature)


encode_token = issue_token


# --- parse ----------------------------------------------------------------------------------


def looks_like_token(text: str) -> bool:
    """True when ``text`` claims to be one of our tokens (any version)."""
    return bool(_PREFIX_RE.match(text.strip()))


def looks_like_ticket_code(text: str) -> bool:
    """True when ``text`` has the shape of a signed ticket code, old (``SD1.`` + base32) or
    new (``SD2.`` + base 44), or of a later version (``SDn.`` + QR alphanumeric characters):
    what a scanner typing a code delivers, valid or not (a damaged or forged code is still a
    scan, and the door says so). Upper or lower case; surrounding whitespace ignored. A
    person's name or a search never has this shape. Cheap: no decoding, no signature."""
    if not isinstance(text, str):
        return False
    text = text.strip()
    if len(text) > _MAX_TEXT:
        return False
    match = _PREFIX_RE.match(text)
    if not match:
        return False
    body = text[match.end() :].upper()
    if not body:
        return False
    version = match.group(1)
    if version == "1":
        return bool(_B32_RE.match(body))
    if version == "2":
        return bool(_B44_RE.match(body))
    return bool(_QR_ALNUM_RE.match(body))


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
    if match.group(1) not in {str(v) for v in VERSIONS}:
        raise TokenError(
            TokenErrorKind.UNSUPPORTED_VERSION,
            f"Ticket format {match.group(1)} is newer than this Showdesk understands.",
        )
    if len(text) > _MAX_TEXT:
        raise TokenError(TokenErrorKind.MALFORMED, "The code is too long to be a ticket.")
    version = int(match.group(1))
    body_text = text[match.end() :].upper()
    if not (_B32_RE if version == 1 else _B44_RE).match(body_text):
        raise TokenError(TokenErrorKind.MALFORMED, "The code has characters a ticket never has.")
    try:
        # Both reject non-canonical text (trailing bits, out-of-range numbers).
        raw = b32decode(body_text) if version == 1 else b44decode(body_text)
    except ValueError:
        raise TokenError(TokenErrorKind.MALFORMED, "The code is cut short or garbled.") from None
    if version == 1:
        if len(raw) < _HEAD.size + _SIG_LEN:
            raise TokenError(TokenErrorKind.MALFORMED, "The code is cut short.")
        head_version, flags, ticket, event, ticket_type, serial = _HEAD.unpack_from(raw)
        if head_version != 1:
            raise TokenError(TokenErrorKind.MALFORMED, "The code's header is damaged.")
        offset = _HEAD.size
    else:
        try:
            head, offset = _read_varint(raw)
        except ValueError:
            raise TokenError(TokenErrorKind.MALFORMED, "The code's header is damaged.") from None
        flags, serial = head & 3, head >> 2
        if serial > 0xFFFFFFFF:
            raise TokenError(TokenErrorKind.MALFORMED, "The code's header is damaged.")
        if len(raw) < offset + _IDS.size + _SIG_LEN:
            raise TokenError(TokenErrorKind.MALFORMED, "The code is cut short.")
        ticket, event, ticket_type = _IDS.unpack_from(raw, offset)
        offset += _IDS.size
    if flags & ~(_FLAG_FROM | _FLAG_UNTIL):
        raise TokenError(TokenErrorKind.MALFORMED, "The code's header is damaged.")
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
    signed = _DOMAIN[version] + raw[:offset]
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
