"""SQLAlchemy models of the local replica (one SQLite file per installation).

Every replicated table carries two sync columns:
- ``server_version``: the server's change number of the row as last pulled (None: never seen
  by the server, i.e. born here and not yet pulled back);
- ``updated_at``: when the row last changed, on whichever side changed it.

Local-only tables (``local_meta``, ``outbox``, ``sync_conflicts``) are never replicated.
The table and column names follow the platform's schema documents (see DESIGN.md "Data").
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from app.store.types import JSONText, Money, UTCDateTime, new_id, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    # Every model here maps one Table (DeclarativeBase types it as any FromClause).
    __table__: ClassVar[Table]


class Synced:
    """Columns every replicated row has."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    server_version: Mapped[int | None] = mapped_column(BigInteger, default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


# --- organisation, venue, event -------------------------------------------------------------


class Organization(Synced, Base):
    __tablename__ = "organizations"
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(100))


class Venue(Synced, Base):
    __tablename__ = "venues"
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    capacity: Mapped[int | None] = mapped_column(Integer)


class Event(Synced, Base):
    __tablename__ = "events"
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    venue_id: Mapped[str | None] = mapped_column(ForeignKey("venues.id"))
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="published")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    doors_open_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    general_call_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Ed25519 public keys (base64, raw 32 bytes) that sign this event's ticket tokens.
    # A list so keys can be rotated: tokens signed by any listed key verify.
    public_keys: Mapped[list] = mapped_column(JSONText, default=list)
    # Days after ends_at at which kiosks forget this event's attendee personal data, set by the
    # organizer (app/store/retention.py); None: each kiosk's own setting (default 7).
    retention_days: Mapped[int | None] = mapped_column(Integer)
    # What a door does while cut off from both the venue hub and the server: "lenient" (or
    # None) admits on its own verdict, flagged; "strict" holds the guest for a staff member.
    offline_policy: Mapped[str | None] = mapped_column(String)

    venue: Mapped[Venue | None] = relationship()


class EventSigningKey(Base):
    """Private signing keys: only on a machine that issues tickets (demo, admin). Never synced."""

    __tablename__ = "event_signing_keys"
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), primary_key=True)
    private_key: Mapped[str] = mapped_column(String(100))  # base64 raw 32-byte Ed25519 seed


# --- tickets ------------------------------------------------------------------------------


class TicketType(Synced, Base):
    __tablename__ = "ticket_types"
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(String(20))  # general, premium, vip, press, comp, staff…
    price: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    quantity: Mapped[int | None] = mapped_column(Integer)
    sale_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sale_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    entry_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    entry_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Gate names this tier may enter by; empty means every gate.
    allowed_gates: Mapped[list] = mapped_column(JSONText, default=list)
    allow_reentry: Mapped[bool] = mapped_column(Boolean, default=True)
    color: Mapped[str | None] = mapped_column(String(9))


class Order(Synced, Base):
    __tablename__ = "orders"
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    order_number: Mapped[str] = mapped_column(String(40), index=True)
    buyer_name: Mapped[str | None] = mapped_column(String(200))
    buyer_email: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="paid")
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Attendee(Synced, Base):
    __tablename__ = "attendees"
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    company: Mapped[str | None] = mapped_column(String(200))
    # Attention notes shown at the door ("wheelchair user", "VIP host: call Marta").
    notes: Mapped[str | None] = mapped_column(Text)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Ticket(Synced, Base):
    __tablename__ = "tickets"
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    ticket_type_id: Mapped[str] = mapped_column(ForeignKey("ticket_types.id"))
    attendee_id: Mapped[str | None] = mapped_column(ForeignKey("attendees.id"), index=True)
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"), index=True)
    ticket_number: Mapped[str] = mapped_column(String(40), index=True)
    # The exact text of the ticket's QR code: a signed token, or a legacy plain code.
    qr_code_data: Mapped[str] = mapped_column(String(400), unique=True)
    # Serial of the current token; bumped (and the old one revoked) on transfer or re-issue.
    token_serial: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default="valid")
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket_type: Mapped[TicketType] = relationship()
    attendee: Mapped[Attendee | None] = relationship()
    order: Mapped[Order | None] = relationship()


class RevokedToken(Synced, Base):
    """A ticket token that must no longer admit (cancelled, refunded, transferred, re-issued)."""

    __tablename__ = "revoked_tokens"
    __table_args__ = (UniqueConstraint("ticket_id", "token_serial"),)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    ticket_id: Mapped[str] = mapped_column(String(36))
    token_serial: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(20))
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Checkin(Synced, Base):
    """Append-only log of scans. Rows are inserted, never updated by the door.

    An annulment (undo of an admission) is itself a row with ``kind='annul'`` that points at
    the admission it undoes. ``double_entry`` is set by sync when a ticket turns out to have
    been admitted by two devices while they were offline.
    """

    __tablename__ = "checkins"
    __table_args__ = (Index("ix_checkins_ticket_scanned", "ticket_id", "scanned_at"),)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    ticket_id: Mapped[str | None] = mapped_column(String(36))
    device_id: Mapped[str] = mapped_column(String(36))
    gate: Mapped[str] = mapped_column(String(60), default="Main")
    direction: Mapped[str] = mapped_column(String(3), default="in")  # in / out
    method: Mapped[str] = mapped_column(String(10), default="qr")  # qr / manual / nfc
    kind: Mapped[str] = mapped_column(String(10), default="scan")  # scan / annul
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    verdict: Mapped[str] = mapped_column(String(24))
    offline: Mapped[bool] = mapped_column(Boolean, default=True)
    # What was read, sanitised and cut short (hostile payloads never reach the log whole).
    raw_code: Mapped[str | None] = mapped_column(String(200))
    annuls_checkin_id: Mapped[str | None] = mapped_column(String(36))
    reason: Mapped[str | None] = mapped_column(String(300))
    staff_name: Mapped[str | None] = mapped_column(String(100))
    double_entry: Mapped[bool] = mapped_column(Boolean, default=False)
    # scanned_at on the server's clock (the kiosk's measured offset taken off) and how far it
    # can be off, in seconds; both None when the offset was not known (app.store.clock).
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    corrected_uncertainty_s: Mapped[float | None] = mapped_column(Float)
    # The staff member signed in at the kiosk (app.store.staff), None when no one was. No
    # foreign key, like ticket_id and device_id: a scan is never refused for a missing row.
    staff_id: Mapped[str | None] = mapped_column(String(36))


# --- backstage ----------------------------------------------------------------------------


class RunwayShow(Synced, Base):
    __tablename__ = "runway_shows"
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="planned")  # planned/live/finished
    actual_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    walk_interval_s: Mapped[int] = mapped_column(Integer, default=30)
    quick_change_min_looks: Mapped[int] = mapped_column(Integer, default=3)
    quick_change_min_seconds: Mapped[int] = mapped_column(Integer, default=120)


class RunwaySegment(Synced, Base):
    __tablename__ = "runway_segments"
    show_id: Mapped[str] = mapped_column(ForeignKey("runway_shows.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    order_key: Mapped[str] = mapped_column(String(64))
    music_cue: Mapped[str | None] = mapped_column(String(200))
    walk_interval_s: Mapped[int | None] = mapped_column(Integer)


class Designer(Synced, Base):
    __tablename__ = "designers"
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    brand: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))


class Model(Synced, Base):
    """A runway model (the person who walks), not an ORM model."""

    __tablename__ = "models"
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    agency: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    photo_path: Mapped[str | None] = mapped_column(String(300))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Look(Synced, Base):
    __tablename__ = "looks"
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    designer_id: Mapped[str | None] = mapped_column(ForeignKey("designers.id"))
    collection: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    photo_path: Mapped[str | None] = mapped_column(String(300))


class RunwayAppearance(Synced, Base):
    """One look walked by one model at one place in a segment's walk order."""

    __tablename__ = "runway_appearances"
    segment_id: Mapped[str] = mapped_column(ForeignKey("runway_segments.id"), index=True)
    look_id: Mapped[str] = mapped_column(ForeignKey("looks.id"))
    model_id: Mapped[str | None] = mapped_column(ForeignKey("models.id"))
    # Fractional-index order key: a move rewrites only the moved row.
    order_key: Mapped[str] = mapped_column(String(64))
    is_opening: Mapped[bool] = mapped_column(Boolean, default=False)
    is_closing: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    notes: Mapped[str | None] = mapped_column(Text)
    walked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The staff member of the last edit (move, status, model, look, notes); no foreign key.
    edited_by_staff_id: Mapped[str | None] = mapped_column(String(36))


class Person(Synced, Base):
    """Crew and talent on the call sheet."""

    __tablename__ = "people"
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(100))
    department: Mapped[str] = mapped_column(String(30))  # models, hair, makeup, dressers, crew
    agency: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(200))
    model_id: Mapped[str | None] = mapped_column(ForeignKey("models.id"))
    badge_code: Mapped[str | None] = mapped_column(String(200), unique=True)


class CallTime(Synced, Base):
    __tablename__ = "call_times"
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    # Either an absolute time, or an offset in minutes from the event's general call.
    call_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offset_minutes: Mapped[int | None] = mapped_column(Integer)
    location: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who recorded the arrival that stands (the earliest); no foreign key.
    arrived_by_staff_id: Mapped[str | None] = mapped_column(String(36))
    no_show: Mapped[bool] = mapped_column(Boolean, default=False)

    person: Mapped[Person] = relationship()


# --- devices and staff --------------------------------------------------------------------


class Device(Synced, Base):
    __tablename__ = "devices"
    organization_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(100))
    gate: Mapped[str | None] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20), default="kiosk")
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Staff(Synced, Base):
    __tablename__ = "staff"
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    event_id: Mapped[str | None] = mapped_column(ForeignKey("events.id"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # door, producer, organizer, admin
    # An Argon2id PHC string only (the server refuses anything else); None: no PIN set.
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    # What the staff badge's QR carries (``SDS1:<badge_code>``): 32 hex digits, unique in the
    # organization on the server; None only for rows from a server older than 0022.
    badge_code: Mapped[str | None] = mapped_column(String(64), index=True)
    # Set centrally by an organizer: this person cannot sign in (checked offline too).
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# --- local-only bookkeeping ---------------------------------------------------------------


class LocalMeta(Base):
    """Key/value facts about this installation: device id, current event, sync cursors."""

    __tablename__ = "local_meta"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class OutboxEntry(Base):
    """A local change waiting to be pushed. Written in the same transaction as the change.

    ``seq`` orders the queue. ``state`` is ``pending`` until the server answers, then the row
    is deleted (applied / duplicate / conflict, after the conflict is recorded) or kept as
    ``dead`` (rejected: shown to an organizer, who retries or discards it).
    """

    __tablename__ = "outbox"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mutation_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_id)
    table_name: Mapped[str] = mapped_column(String(40))
    row_id: Mapped[str] = mapped_column(String(36), index=True)
    op: Mapped[str] = mapped_column(String(10))  # insert / update / delete
    payload: Mapped[dict] = mapped_column(JSONText)
    # server_version of the row this edit was based on (None for inserts).
    base_version: Mapped[int | None] = mapped_column(BigInteger)
    schema_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict | None] = mapped_column(JSONText)


class SyncConflict(Base):
    """A local edit that lost to the server's version: kept so the loser is shown, not lost."""

    __tablename__ = "sync_conflicts"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    table_name: Mapped[str] = mapped_column(String(40))
    row_id: Mapped[str] = mapped_column(String(36))
    mutation_id: Mapped[str] = mapped_column(String(36))
    local_payload: Mapped[dict] = mapped_column(JSONText)
    server_payload: Mapped[dict | None] = mapped_column(JSONText)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


REPLICATED_TABLES: tuple[type[Base], ...] = (
    Organization,
    Venue,
    Event,
    TicketType,
    Order,
    Attendee,
    Ticket,
    RevokedToken,
    Checkin,
    RunwayShow,
    RunwaySegment,
    Designer,
    Model,
    Look,
    RunwayAppearance,
    Person,
    CallTime,
    Device,
    Staff,
)
"""Replicated tables in dependency order (parents before children)."""

MODEL_BY_TABLE: dict[str, type[Base]] = {m.__tablename__: m for m in REPLICATED_TABLES}
