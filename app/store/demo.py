"""The demo event: a believable fashion-week evening show, live today, in a fresh replica.

Everything is baseline data (``server_version = 0``): as if pulled from the server, so no
outbox rows are written. Times are computed from the moment of seeding, in the venue's
timezone, so doors are open and entry windows include "now" whenever the demo is created.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
import time
import unicodedata
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.text import SPECIAL_LETTERS
from app.domain.tokens import issue_token, public_key_of
from app.store.db import Database, set_meta
from app.store.models import (
    Attendee,
    Base,
    CallTime,
    Checkin,
    Designer,
    Device,
    Event,
    EventSigningKey,
    Look,
    Model,
    Order,
    Organization,
    Person,
    RevokedToken,
    RunwayAppearance,
    RunwaySegment,
    RunwayShow,
    Staff,
    Ticket,
    TicketType,
    Venue,
)
from app.store.replica_writer import insert_rows
from app.store.search import search_triggers_paused

MAX_TICKETS = 100_000
TIMEZONE = "Europe/Paris"
LOCALES = [
    "fr_FR",
    "it_IT",
    "en_GB",
    "en_US",
    "de_DE",
    "es_ES",
    "pt_BR",
    "sv_SE",
    "da_DK",
    "pl_PL",
    "nl_NL",
    "tr_TR",
]

# name, tier, price, share of tickets, gates (empty: every gate), re-entry, opens/closes (h from now)
TIERS = [
    ("General Admission", "general", "85.00", 0.53, ["North door", "South door"], False, "#8A8F98"),
    ("Premium Seating", "premium", "240.00", 0.20, ["North door", "South door"], True, "#3B82F6"),
    ("VIP Front Row", "vip", "650.00", 0.08, [], True, "#C9A227"),
    ("Press & Media", "press", "0.00", 0.07, ["Press desk"], True, "#10B981"),
    ("Guest List (Comp)", "comp", "0.00", 0.10, ["North door", "VIP entrance"], False, "#A855F7"),
    ("Afterparty Only", "general", "60.00", 0.02, ["South door"], False, "#F97316"),
]
GATES = ["North door", "South door", "VIP entrance", "Press desk"]
COMPANIES = [
    "Vogue Paris",
    "Harper's Bazaar",
    "Elle Italia",
    "Numéro",
    "i-D",
    "Dazed",
    "WWD",
    "Business of Fashion",
    "Galeries Lafayette",
    "Le Bon Marché",
    "Selfridges",
    "Net-a-Porter",
    "Mytheresa",
    "SSENSE",
    "LVMH",
    "Kering",
    "Chanel",
    "Hermès",
    "Prada Group",
    "Zalando",
    "Condé Nast",
    "IMG Models",
    "Elite Model Management",
    "Studio Müller & Søn",
    "Atelier Núñez",
    "Björk Creative",
    "Łódź Textile Lab",
    "Maison Ørsted",
]
DESIGNERS = [
    ("Aurèle Martin", "Maison Aurèle", "FR"),
    ("Giulia Ferretti", "Ferretti Studio", "IT"),
    ("Kenji Watanabe", "WTNB", "JP"),
    ("Amara Okafor", "Okafor Atelier", "NG"),
    ("Søren Lindqvist", "Lindqvist", "DK"),
    ("Lucía Barrios", "Barrios Madrid", "ES"),
]
COLLECTION_WORDS = [
    "Linen",
    "Organza",
    "Tailored",
    "Silk",
    "Denim",
    "Velvet",
    "Sheer",
    "Knit",
    "Leather",
    "Tulle",
]
GARMENTS = [
    "trench",
    "slip dress",
    "suit",
    "gown",
    "jumpsuit",
    "coat",
    "bustier",
    "cape",
    "kaftan",
    "blazer",
]
SEGMENTS = [
    ("Opening — Daywear", "Air — 'Sexy Boy' (extended intro)", 12),
    ("Eveningwear", "Massive Attack — 'Teardrop' (live strings)", 16),
    ("Finale", "Daft Punk — 'Veridis Quo'", 8),
]
AGENCIES = [
    "IMG Models",
    "Elite Paris",
    "Viva Model Management",
    "Women Management",
    "Next Models",
    "Premier",
]
CREW = [
    ("hair", "Hair stylist", 8),
    ("makeup", "Make-up artist", 8),
    ("dressers", "Dresser", 10),
    ("crew", "Stage manager", 1),
    ("crew", "Show producer", 1),
    ("crew", "Lighting", 2),
    ("crew", "Sound", 1),
    ("crew", "Runner", 2),
]
NOTES = [
    "Wheelchair user — use the ramp by the South door",
    "VIP host: call Marta on arrival",
    "Guest of the designer — seat in front row B",
    "Photographer: allowed in the pit",
    "Allergic to nuts (afterparty catering)",
    "Needs a plus-one wristband",
]
APPEARANCE_STATUSES = ["pending", "fitted", "dressed", "ready"]


class DemoExists(Exception):
    """The target database already holds data and --force was not given."""


_SPECIAL_TABLE = str.maketrans(dict[str, str | int | None](SPECIAL_LETTERS))


def _ascii(text: str) -> str:
    text = text.translate(_SPECIAL_TABLE)
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if ch.isascii() and (ch.isalnum() or ch in ".-")).lower()


class _Ids:
    """Deterministic version-4 UUIDs (same seed, same ids), fast."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def __call__(self) -> str:
        n = self.rng.getrandbits(128)
        n = (n & ~(0xF000 << 64) | (0x4000 << 64)) & ~(0xC000 << 48) | (0x8000 << 48)
        h = f"{n:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _local(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).astimezone(UTC)


def _name_pools(seed: int) -> tuple[list[str], list[str]]:
    from faker import Faker

    firsts: list[str] = []
    lasts: list[str] = []
    for i, locale in enumerate(LOCALES):
        fake = Faker(locale)
        fake.seed_instance(seed * 100 + i)
        firsts += list(dict.fromkeys(fake.first_name() for _ in range(120)))
        lasts += list(dict.fromkeys(fake.last_name() for _ in range(120)))
    return firsts, lasts


def seed_demo(db: Database, tickets: int = 2000, seed: int = 7) -> str:
    """Fill an empty replica with the demo event; returns its id. Fast: bulk inserts."""
    tickets = max(1, min(int(tickets), MAX_TICKETS))
    rng = random.Random(seed)
    new_id = _Ids(rng)
    zone = ZoneInfo(TIMEZONE)
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.astimezone(zone).date()
    starts_at = _local(today, 20, 0, zone)
    doors_open_at = min(_local(today, 18, 30, zone), now - timedelta(hours=1))
    ends_at = max(_local(today, 23, 30, zone), now + timedelta(hours=4))
    general_call_at = (now - timedelta(minutes=60)).replace(second=0)
    general_call_at -= timedelta(minutes=general_call_at.minute % 15)
    base = {"server_version": 0, "updated_at": now}

    with db.session() as s:
        # A bigger page cache: random UUID keys touch index pages all over the file.
        # Sized so a 100k-ticket transaction never spills dirty pages to disk mid-way.
        cache_kib = 65536 + tickets * 4
        s.connection().exec_driver_sql(f"PRAGMA cache_size=-{cache_kib}")
        # Generated rows are consistent by construction; per-row parent lookups are skipped
        # (a no-op if a transaction is already open) and switched back on below.
        s.connection().exec_driver_sql("PRAGMA foreign_keys=OFF")
        raw = cast(sqlite3.Connection, s.connection().connection.driver_connection)
        org_id, venue_id, event_id = new_id(), new_id(), new_id()
        private_key = _seed_key(rng)
        public_key = public_key_of(private_key)
        _bulk(
            s,
            Organization,
            [{**base, "id": org_id, "name": "Maison Aurèle Group", "slug": "maison-aurele"}],
        )
        _bulk(
            s,
            Venue,
            [
                {
                    **base,
                    "id": venue_id,
                    "organization_id": org_id,
                    "name": "Le Grand Hangar",
                    "address": "12 quai de la Seine",
                    "city": "Paris",
                    "country": "FR",
                    "timezone": TIMEZONE,
                    "capacity": max(1200, tickets),
                }
            ],
        )
        _bulk(
            s,
            Event,
            [
                {
                    **base,
                    "id": event_id,
                    "organization_id": org_id,
                    "venue_id": venue_id,
                    "name": "Maison Aurèle — Spring/Summer 27 Show",
                    "slug": f"aurele-ss27-{today.isoformat()}",
                    "status": "published",
                    "timezone": TIMEZONE,
                    "starts_at": starts_at,
                    "ends_at": ends_at,
                    "doors_open_at": doors_open_at,
                    "general_call_at": general_call_at,
                    "public_keys": [public_key],
                }
            ],
        )
        _bulk(s, EventSigningKey, [{"event_id": event_id, "private_key": private_key}])
        type_rows = _ticket_types(event_id, base, new_id, now, doors_open_at, ends_at)
        _bulk(s, TicketType, type_rows)
        devices = _devices(s, org_id, base, new_id, now)
        staff_rows = _staff(s, org_id, event_id, base, new_id)
        door_staff = [r["id"] for r in staff_rows if r["role"] == "door"]
        # each kiosk's scans were made by one door staff member (the audit trail's demo)
        by_device = {d["id"]: door_staff[i % len(door_staff)] for i, d in enumerate(devices)}
        ticket_rows = _tickets(
            s, rng, new_id, seed, event_id, private_key, type_rows, tickets, base, now
        )
        _checkins(s, rng, new_id, event_id, ticket_rows, type_rows, devices, base, now, by_device)
        _runway(s, rng, new_id, event_id, base, starts_at, general_call_at, now)
        set_meta(s, "event_id", event_id)
    # The same connection, now outside the transaction: restore its settings, then
    # planner statistics for the fresh tables.
    raw.execute("PRAGMA cache_size=-2000")
    raw.execute("PRAGMA foreign_keys=ON")
    raw.execute("ANALYZE")
    raw.commit()
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return event_id


def _bulk(s: Session, model: type[Base], rows: list[dict]) -> None:
    """One executemany of fresh rows, through the replica's writer (``replica_writer``)."""
    insert_rows(s, model, rows)


def _seed_key(rng: random.Random) -> str:
    import base64

    return base64.b64encode(bytes(rng.getrandbits(8) for _ in range(32))).decode("ascii")


def _ticket_types(event_id, base, new_id, now, doors_open_at, ends_at) -> list[dict]:
    rows = []
    for name, tier, price, _share, gates, reentry, color in TIERS:
        opens, closes = doors_open_at, ends_at
        if tier == "press":
            opens = doors_open_at - timedelta(hours=1)
        if name.startswith("Afterparty"):
            opens = ends_at - timedelta(minutes=30)  # not yet valid during the show
            closes = ends_at + timedelta(hours=4)
        rows.append(
            {
                **base,
                "id": new_id(),
                "event_id": event_id,
                "name": name,
                "tier": tier,
                "price": Decimal(price),
                "currency": "EUR",
                "sale_starts_at": now - timedelta(days=60),
                "sale_ends_at": ends_at,
                "entry_starts_at": opens,
                "entry_ends_at": closes,
                "allowed_gates": gates,
                "allow_reentry": reentry,
                "color": color,
            }
        )
    return rows


def _devices(s: Session, org_id, base, new_id, now) -> list[dict]:
    rows = [
        {
            **base,
            "id": new_id(),
            "organization_id": org_id,
            "name": f"Kiosk {i + 1}",
            "gate": gate,
            "kind": "kiosk",
            "registered_at": now - timedelta(days=2),
            "last_seen_at": now,
        }
        for i, gate in enumerate(GATES)
    ]
    _bulk(s, Device, rows)
    return rows


# The demo staff's PINs (documented in the README): one per role, hashed once, here, with
# app.store.staff.PIN_HASHER, so seeding never spends ~0.1 s a hash.
DEMO_PINS = {"door": "2468", "producer": "1357", "organizer": "3579", "admin": "8024"}
DEMO_PIN_HASHES = {
    "door": "$argon2id$v=19$m=49152,t=2,p=1$OT3D/IzML931YaNNzWxZaQ$7iaiQUAr/XSkOAmKI8r97I1mzleADQwGKhZhpJRfamQ",
    "producer": "$argon2id$v=19$m=49152,t=2,p=1$FC2zbDhGC//f+FQmmSgVLA$ft+ZGqRGBaVFl1bNtUVVI4v0DjtuudroE1jHWLgaRe4",
    "organizer": "$argon2id$v=19$m=49152,t=2,p=1$EDkVFTuH6zfJaJ5lnmSH+g$r/E1zdrDg5DGYT8pvqmejEl6usREH2w/lj7vTglb2iY",
    "admin": "$argon2id$v=19$m=49152,t=2,p=1$TIj7EIkXGyXFRdIofiijog$G8abhVjyLUOUcy0Nj91QOOszc9NtiZVbcnmKtjQt3Rw",
}  # fmt: skip


def _demo_badge_code(staff_id: str) -> str:
    """A demo badge code: 32 hex digits derived from the row's id (the same seed gives the same
    badges; real badges come from ``staff.new_badge_code``)."""
    return hashlib.sha256(f"showdesk-demo-badge:{staff_id}".encode()).hexdigest()[:32]


def _staff(s: Session, org_id, event_id, base, new_id) -> list[dict]:
    """The demo staff (one PIN per role, ``DEMO_PINS``); returns their rows."""
    people = [
        ("Camille Dubois", "door"),
        ("Youssef Benali", "door"),
        ("Ingrid Halvorsen", "door"),
        ("Marta Rossi", "producer"),
        ("Hélène Moreau", "organizer"),
        ("Tomás Ferreira", "admin"),
    ]
    rows = []
    for name, role in people:
        staff_id = new_id()
        rows.append(
            {
                **base,
                "id": staff_id,
                "organization_id": org_id,
                "event_id": event_id,
                "name": name,
                "email": f"{_ascii(name).replace(' ', '.')}@aurele.example",
                "role": role,
                "pin_hash": DEMO_PIN_HASHES[role],
                "badge_code": _demo_badge_code(staff_id),
                "disabled_at": None,
            }
        )
    for row in rows:
        row["email"] = row["email"].replace("..", ".")
    _bulk(s, Staff, rows)
    return rows


def _pick_type(rng: random.Random, type_rows: list[dict]) -> dict:
    roll = rng.random()
    total = 0.0
    for row, spec in zip(type_rows, TIERS, strict=True):
        total += spec[3]
        if roll < total:
            return row
    return type_rows[0]


def _tickets(
    s, rng, new_id, seed, event_id, private_key, type_rows, count, base, now
) -> list[dict]:
    firsts, lasts = _name_pools(seed)
    domains = [
        "gmail.com",
        "outlook.com",
        "yahoo.fr",
        "gmx.de",
        "libero.it",
        "icloud.com",
        "proton.me",
        "web.de",
    ]
    orders: list[dict] = []
    attendees: list[dict] = []
    tickets: list[dict] = []
    revoked: list[dict] = []
    legacy_every = 400  # about 0.25% plain legacy codes, at least a few
    number = 0
    while number < count:
        order_id = new_id()
        size = min(count - number, rng.choice((1, 1, 1, 2, 2, 3, 4)))
        roll = rng.random()
        status = "cancelled" if roll < 0.03 else "refunded" if roll < 0.05 else "valid"
        ttype = _pick_type(rng, type_rows)
        buyer_first, buyer_last = rng.choice(firsts), rng.choice(lasts)
        company = rng.choice(COMPANIES) if rng.random() < 0.35 else None
        order_total = Decimal(0)
        for _ in range(size):
            number += 1
            first = (
                buyer_first
                if not tickets or tickets[-1]["order_id"] != order_id
                else rng.choice(firsts)
            )
            last = buyer_last if rng.random() < 0.7 else rng.choice(lasts)
            attendee_id = new_id()
            email = f"{_ascii(first)}.{_ascii(last)}{rng.randint(1, 99) if rng.random() < 0.4 else ''}@{rng.choice(domains)}"
            attendees.append(
                {
                    **base,
                    "id": attendee_id,
                    "event_id": event_id,
                    "first_name": first,
                    "last_name": last,
                    "email": email,
                    "phone": f"+33 6 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
                    "company": company if rng.random() < 0.8 else None,
                    "notes": rng.choice(NOTES) if rng.random() < 0.006 else None,
                }
            )
            ticket_id = new_id()
            ticket_number = f"FW26-{number:06d}"
            t_status = status
            serial = 1
            if status == "valid" and rng.random() < 0.01:
                t_status, serial = "transferred", 2
                revoked.append(
                    {
                        **base,
                        "id": new_id(),
                        "event_id": event_id,
                        "ticket_id": ticket_id,
                        "token_serial": 1,
                        "reason": "transferred",
                        "revoked_at": now - timedelta(days=rng.randint(1, 10)),
                    }
                )
            elif status != "valid":
                revoked.append(
                    {
                        **base,
                        "id": new_id(),
                        "event_id": event_id,
                        "ticket_id": ticket_id,
                        "token_serial": 1,
                        "reason": status,
                        "revoked_at": now - timedelta(days=rng.randint(1, 20)),
                    }
                )
            tickets.append(
                {
                    **base,
                    "id": ticket_id,
                    "event_id": event_id,
                    "ticket_type_id": ttype["id"],
                    "attendee_id": attendee_id,
                    "order_id": order_id,
                    "ticket_number": ticket_number,
                    "qr_code_data": ticket_number if number % legacy_every == 11 else None,
                    "token_serial": serial,
                    "status": t_status,
                    "valid_from": None,
                    "valid_until": None,
                }
            )
            order_total += ttype["price"]
        orders.append(
            {
                **base,
                "id": order_id,
                "event_id": event_id,
                "order_number": f"AUR-{100000 + len(orders) * 7 + rng.randint(0, 6)}",
                "buyer_name": f"{buyer_first} {buyer_last}",
                "buyer_email": attendees[-size]["email"],
                "status": {"valid": "paid"}.get(status, status),
                "total": order_total,
                "currency": "EUR",
                "created_at": now
                - timedelta(days=rng.randint(1, 45), minutes=rng.randint(0, 1440)),
            }
        )
    # Signing runs in worker processes while this one writes orders and attendees.
    with (
        _indexes_paused(s, ("orders", "attendees", "tickets")),
        search_triggers_paused(s),
        _Signer(tickets, private_key, event_id) as signer,
    ):
        # Inserting in primary-key order keeps B-tree inserts at the end of the table.
        for rows, model in ((orders, Order), (attendees, Attendee)):
            for chunk in _chunks(sorted(rows, key=lambda r: r["id"]), 20000):
                _bulk(s, model, chunk)
        signer.finish()
        for chunk in _chunks(sorted(tickets, key=lambda r: r["id"]), 20000):
            _bulk(s, Ticket, chunk)
    if revoked:
        _bulk(s, RevokedToken, revoked)
    return tickets


def _sign_one(args: tuple[str, str, str, str, int]) -> str:
    private_key, ticket_id, event_id, type_id, serial = args
    return issue_token(
        private_key, ticket_id=ticket_id, event_id=event_id, ticket_type_id=type_id, serial=serial
    )


class _Signer:
    """Signs the tickets' tokens: in two worker processes for big events, else right here."""

    PARALLEL_FROM = 20000

    def __init__(self, tickets: list[dict], private_key: str, event_id: str) -> None:
        self.tickets = [t for t in tickets if t["qr_code_data"] is None]
        self.jobs = [
            (private_key, t["id"], event_id, t["ticket_type_id"], t["token_serial"])
            for t in self.tickets
        ]
        self.pool: Executor | None = None
        self.results: Iterator[str] | None = None

    def __enter__(self) -> _Signer:
        if len(self.jobs) >= self.PARALLEL_FROM:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            try:
                # spawn, not fork: the caller may be a threaded Qt app.
                self.pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"))
                self.results = self.pool.map(_sign_one, self.jobs, chunksize=2500)
            except (OSError, RuntimeError):
                self.pool = None
        return self

    def finish(self) -> None:
        codes = None
        if self.results is not None:
            try:
                codes = list(self.results)
            except Exception:  # a broken pool: sign here instead
                codes = None
        if codes is None:
            codes = [_sign_one(job) for job in self.jobs]
        for ticket, code in zip(self.tickets, codes, strict=True):
            ticket["qr_code_data"] = code

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def _indexes_paused(s: Session, tables: tuple[str, ...]) -> Iterator[None]:
    """Drop the secondary indexes of ``tables`` during a bulk load, then build them once
    (sorting once beats inserting 100,000 keys at random places). Unique constraints stay."""
    conn = s.connection()
    marks = ", ".join("?" for _ in tables)
    indexes = conn.exec_driver_sql(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({marks})",
        tuple(tables),
    ).all()
    for name, _sql in indexes:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        for _name, sql in indexes:
            conn.exec_driver_sql(sql)


def _chunks(rows: list[dict], size: int) -> Iterable[list[dict]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def _checkins(
    s, rng, new_id, event_id, tickets, type_rows, devices, base, now, by_device=None
) -> None:
    """A few admissions in the last hour, some exits and refusals, so the door looks busy."""
    types = {t["id"]: t for t in type_rows}
    admissible = [
        t
        for t in tickets
        if t["status"] in ("valid", "transferred")
        and types[t["ticket_type_id"]]["entry_starts_at"] <= now
    ]
    n = min(len(admissible), max(5, len(tickets) // 25))
    chosen = rng.sample(admissible, n)
    rows = []
    for t in chosen:
        gates = types[t["ticket_type_id"]]["allowed_gates"] or GATES
        device = rng.choice([d for d in devices if d["gate"] in gates] or devices)
        at = now - timedelta(seconds=rng.randint(60, 3600))
        rows.append(_checkin_row(base, new_id, event_id, t, device, at, "in", "admitted"))
        if rng.random() < 0.08:
            rows.append(
                _checkin_row(
                    base,
                    new_id,
                    event_id,
                    t,
                    device,
                    at + timedelta(minutes=rng.randint(5, 40)),
                    "out",
                    "exit_recorded",
                )
            )
        elif rng.random() < 0.03:
            rows.append(
                _checkin_row(
                    base,
                    new_id,
                    event_id,
                    t,
                    rng.choice(devices),
                    at + timedelta(minutes=rng.randint(1, 20)),
                    "in",
                    "already_admitted",
                )
            )
    for _ in range(max(1, n // 40)):
        device = rng.choice(devices)
        rows.append(
            {
                **_checkin_row(
                    base,
                    new_id,
                    event_id,
                    None,
                    device,
                    now - timedelta(seconds=rng.randint(60, 3600)),
                    "in",
                    "unknown",
                ),
                "raw_code": f"FW25-{rng.randint(0, 999999):06d}",
            }
        )
    rows = [r for r in rows if r["scanned_at"] <= now]
    for row in rows:
        row["staff_id"] = (by_device or {}).get(row["device_id"])
    _bulk(s, Checkin, rows)


def _checkin_row(base, new_id, event_id, ticket, device, at, direction, verdict) -> dict:
    return {
        **base,
        "id": new_id(),
        "event_id": event_id,
        "ticket_id": ticket["id"] if ticket else None,
        "device_id": device["id"],
        "gate": device["gate"],
        "direction": direction,
        "method": "qr",
        "kind": "scan",
        "scanned_at": at,
        "verdict": verdict,
        "offline": False,
        "raw_code": (ticket["qr_code_data"][:200] if ticket else None),
        "annuls_checkin_id": None,
        "reason": None,
        "staff_name": None,
        "double_entry": False,
    }


def _order_keys(n: int) -> list[str]:
    try:
        from app.domain.order_keys import keys_between

        return keys_between(None, None, n)
    except ImportError:
        alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        return [
            f"a{alphabet[i]}" if i < 62 else f"b{alphabet[i // 62]}{alphabet[i % 62]}"
            for i in range(n)
        ]


def _runway(s, rng, new_id, event_id, base, starts_at, general_call_at, now) -> None:
    from faker import Faker

    fake = Faker(["fr_FR", "en_GB", "pt_BR", "sv_SE", "it_IT", "nl_NL"])
    fake.seed_instance(rng.randint(0, 10**6))
    show_id = new_id()
    _bulk(
        s,
        RunwayShow,
        [
            {
                **base,
                "id": show_id,
                "event_id": event_id,
                "name": "Maison Aurèle SS27 — Runway",
                "starts_at": starts_at + timedelta(minutes=30),
                "status": "planned",
                "actual_started_at": None,
                "walk_interval_s": 30,
                "quick_change_min_looks": 3,
                "quick_change_min_seconds": 120,
            }
        ],
    )
    designers = [
        {**base, "id": new_id(), "event_id": event_id, "name": n, "brand": b, "country": c}
        for n, b, c in DESIGNERS
    ]
    _bulk(s, Designer, designers)
    models = []
    for _ in range(30):
        models.append(
            {
                **base,
                "id": new_id(),
                "event_id": event_id,
                "first_name": fake.first_name_female(),
                "last_name": fake.last_name(),
                "agency": rng.choice(AGENCIES),
                "phone": fake.phone_number()[:50],
                "photo_path": None,
                "deleted_at": None,
            }
        )
    _bulk(s, Model, models)
    looks: list[dict[str, Any]] = []
    for d in designers:
        for _i in range(6):
            looks.append(
                {
                    **base,
                    "id": new_id(),
                    "event_id": event_id,
                    "designer_id": d["id"],
                    "collection": f"{d['brand']} SS27",
                    "title": f"Look {len(looks) + 1}: {rng.choice(COLLECTION_WORDS)} {rng.choice(GARMENTS)}",
                    "description": None,
                    "photo_path": None,
                }
            )
    _bulk(s, Look, looks)
    # 36 walks by 30 models: six walk twice, some of them close together (quick changes).
    order = list(range(30))
    rng.shuffle(order)
    sequence = [models[i]["id"] for i in order]
    for repeater, gap in zip((0, 3, 7, 12, 20, 25), (2, 3, 8, 10, 12, 15), strict=True):
        first = sequence.index(models[repeater]["id"])
        sequence.insert(min(first + gap, len(sequence)), models[repeater]["id"])
    segments, appearances = [], []
    look_iter = iter(looks)
    walk = 0
    seg_keys = _order_keys(len(SEGMENTS))
    for (name, cue, n), key in zip(SEGMENTS, seg_keys, strict=True):
        seg_id = new_id()
        segments.append(
            {
                **base,
                "id": seg_id,
                "show_id": show_id,
                "name": name,
                "order_key": key,
                "music_cue": cue,
                "walk_interval_s": None,
            }
        )
        for app_key in _order_keys(n):
            look = next(look_iter)
            appearances.append(
                {
                    **base,
                    "id": new_id(),
                    "segment_id": seg_id,
                    "look_id": look["id"],
                    "model_id": sequence[walk],
                    "order_key": app_key,
                    "is_opening": walk == 0,
                    "is_closing": walk == len(sequence) - 1,
                    "status": rng.choice(APPEARANCE_STATUSES),
                    "notes": None,
                    "walked_at": None,
                }
            )
            walk += 1
    _bulk(s, RunwaySegment, segments)
    _bulk(s, RunwayAppearance, appearances)
    _people(s, rng, new_id, fake, event_id, models, base, general_call_at, now)


def _people(s, rng, new_id, fake, event_id, models, base, general_call_at, now) -> None:
    people, calls = [], []

    def add(full_name, role, department, agency=None, model_id=None, phone=None) -> None:
        pid = new_id()
        people.append(
            {
                **base,
                "id": pid,
                "event_id": event_id,
                "full_name": full_name,
                "role": role,
                "department": department,
                "agency": agency,
                "phone": phone or fake.phone_number()[:50],
                "email": f"{_ascii(full_name).replace(' ', '.')}@crew.example",
                "model_id": model_id,
                "badge_code": f"SDB.{pid.replace('-', '')[:12].upper()}",
            }
        )
        absolute = rng.random() < 0.4
        offset = (
            rng.choice((0, 0, 15, 30, 45, 60, 90, 120))
            if department != "crew"
            else rng.choice((-60, -30, 0))
        )
        call_at = general_call_at + timedelta(minutes=offset)
        confirmed = rng.random() < 0.6
        arrived = call_at < now and rng.random() < 0.5
        calls.append(
            {
                **base,
                "id": new_id(),
                "event_id": event_id,
                "person_id": pid,
                "call_at": call_at if absolute else None,
                "offset_minutes": None if absolute else offset,
                "location": {
                    "models": "Hair & make-up",
                    "hair": "Hair & make-up",
                    "makeup": "Hair & make-up",
                    "dressers": "Backstage rails",
                    "crew": "Production office",
                }[department],
                "notes": None,
                "confirmed_at": now - timedelta(hours=rng.randint(2, 30))
                if confirmed or arrived
                else None,
                "arrived_at": min(now, call_at + timedelta(minutes=rng.randint(-15, 10)))
                if arrived
                else None,
                "no_show": False,
            }
        )

    for m in models:
        add(
            f"{m['first_name']} {m['last_name']}",
            "Model",
            "models",
            m["agency"],
            m["id"],
            m["phone"],
        )
    for department, role, n in CREW:
        for _ in range(n):
            add(fake.name(), role, department)
    _bulk(s, Person, people)
    _bulk(s, CallTime, calls)


# --- the database file ---------------------------------------------------------------------


def _has_data(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    import sqlite3

    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if "events" not in tables:
                return bool(tables - {"alembic_version"})
            return conn.execute("SELECT count(*) FROM events").fetchone()[0] > 0
    except sqlite3.DatabaseError:
        return True  # unreadable: never overwrite without --force


def remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def create_demo(path: Path, tickets: int = 2000, seed: int = 7, force: bool = False) -> dict:
    """Create the demo database file at ``path``; returns a summary."""
    from app.store.db import open_database

    path = Path(path).expanduser()
    if _has_data(path):
        if not force:
            raise DemoExists(f"{path} already holds data. Use --force to replace it.")
        remove_database(path)
    started = time.perf_counter()
    db = open_database(path)
    try:
        event_id = seed_demo(db, tickets=tickets, seed=seed)
        with db.session() as s:
            count = s.scalar(select(func.count()).select_from(Ticket))
            name = s.scalar(select(Event.name).where(Event.id == event_id))
    finally:
        db.close()
    return {
        "db": str(path),
        "event_id": event_id,
        "event": name,
        "tickets": count,
        "seconds": round(time.perf_counter() - started, 2),
    }
