"""The one writer of the replica's rows in bulk: pulled pages, full resyncs, demo seeding.

Callers decide *what* is written: the sync engine which pulled rows apply now, which wait
behind queued edits, and when a full resync sweeps; the demo which rows to generate. This
module decides *how* they become SQLite rows, and owns the conversion of every column:

- from the wire (JSON from the server: ISO text times, money as text or number) to Python
  values (``from_wire``, the constructor kwargs of an ORM row);
- from Python values to what SQLite stores (each column type's bind processor);
- from the wire straight to what SQLite stores (the two composed, cached for the values bulk
  rows share, such as timestamps), for pulled pages, without building ORM objects.

Writes are executemany's straight to the driver, one per column set: ``upsert_wire_rows``
(insert or replace by id, a column missing from the wire row is left alone on update),
``delete_rows``, ``delete_missing`` (the sweep at the end of a full resync),
``stamp_server_versions`` (a push the server answered) and ``insert_rows`` (a fresh bulk load
of rows built in Python). None of them commits: the caller's transaction holds the page and
its cursor together.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter
from typing import Any

from sqlalchemy import Boolean, Column, Table, bindparam, delete, inspect, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from app.store.models import MODEL_BY_TABLE, REPLICATED_TABLES, Base
from app.store.types import Money, UTCDateTime, parse_utc

SYNC_ONLY_COLUMNS = frozenset({"server_version"})
"""Columns the server's change number fills, never a wire row."""

CHUNK = 500  # ids per ``IN (...)`` statement
_DIALECT = sqlite.dialect()
_CACHE_LIMIT = 65536  # distinct times remembered (bulk rows share their timestamps)
_TIME = UTCDateTime()

Convert = Callable[[Any], Any]
WireRow = Mapping[str, Any]


# --- one column's conversions ---------------------------------------------------------------


def _parse_time(value: Any) -> Any:
    return parse_utc(value) if isinstance(value, str) else value


def _parse_money(value: Any) -> Decimal:
    return Decimal(str(value))


def _parse_bool(value: Any) -> bool:
    return bool(value)


def _wire_parser(column: Column[Any]) -> Convert | None:
    """Wire value -> Python value, for the columns whose JSON form differs."""
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return _parse_time
    if isinstance(kind, Money):
        return _parse_money
    if isinstance(kind, Boolean):
        return _parse_bool
    return None


_MISSING = object()


def _cached(convert: Convert) -> Convert:
    """``convert`` remembering its answers (bulk rows share timestamps). For time columns
    only: their values are hashable, and equal ones store equal text."""
    cache: dict[Any, Any] = {}

    def run(value: Any) -> Any:
        found = cache.get(value, _MISSING)
        if found is _MISSING:
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            found = cache[value] = convert(value)
        return found

    return run


def _time_text(value: Any) -> str | None:
    return _TIME.process_bind_param(_parse_time(value), None)


# One cache for every time column: wire text -> stored text, and datetime -> stored text
# (rows share their timestamps across columns: created_at is often updated_at).
_wire_time = _cached(_time_text)
"""Wire time -> stored text: the column type's own formatting, without its wrappers."""
_store_time = _cached(_TIME.bind_processor(_DIALECT) or _time_text)
"""Python datetime -> stored text (the column type's bind processor)."""


def _wire_bool(value: Any) -> int:
    """Wire boolean -> stored integer (what the Boolean type stores for ``bool(value)``)."""
    return 1 if value else 0


@dataclass(frozen=True)
class _Field:
    key: str
    name: str
    parse: Convert | None  # wire -> Python
    store: Convert | None  # Python -> SQLite
    wire: Convert | None  # wire -> SQLite
    default: Any  # a ColumnDefault with a Python-side value, else None
    nullable: bool


def _field(column: Column[Any]) -> _Field:
    parse = _wire_parser(column)
    store: Convert | None = column.type.bind_processor(_DIALECT)
    wire: Convert | None
    if isinstance(column.type, UTCDateTime):
        # The hot path of a pull, cached (equal instants store equal text). Money is not
        # cached: Decimal("1.5") == Decimal("1.50"), yet each keeps its own digits.
        store, wire = _store_time, _wire_time
    elif isinstance(column.type, Boolean):
        wire = _wire_bool
    elif parse is not None and store is not None:
        composed_parse, composed_store = parse, store
        wire = lambda value: composed_store(composed_parse(value))  # noqa: E731
    else:
        wire = store or parse
    default = column.default if getattr(column.default, "is_scalar", False) else None
    if default is None and getattr(column.default, "is_callable", False):
        default = column.default
    return _Field(
        key=column.key,
        name=column.name,
        parse=parse,
        store=store,
        wire=wire,
        default=default,
        nullable=bool(column.nullable),
    )


def _default_value(default: Any) -> Any:
    return default.arg(None) if default.is_callable else default.arg


# --- one table's writer -----------------------------------------------------------------------


class _TableWriter:
    """Converts rows of one model to SQLite values and writes them with cached statements."""

    def __init__(self, model: type[Base]) -> None:
        self.model = model
        self.table: Table = model.__table__
        self.fields = [_field(column) for column in inspect(model).columns]
        self.by_key = {f.key: f for f in self.fields}
        self.wire_fields = [f for f in self.fields if f.key not in SYNC_ONLY_COLUMNS]
        # The usual wire row carries every column: one fixed key tuple, converters by position.
        self._wire_keys = tuple(f.key for f in self.wire_fields)
        self._wire_key_set = frozenset(self._wire_keys)
        self._wire_all_keys = (*self._wire_keys, "server_version")
        self._wire_typed = [(i, f.wire) for i, f in enumerate(self.wire_fields) if f.wire]
        self._upsert_sql: dict[tuple[str, ...], str] = {}

    # wire rows

    def from_wire(self, data: WireRow) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in self.fields:
            if f.key not in data:
                continue
            value = data[f.key]
            if value is not None and f.parse is not None:
                value = f.parse(value)
            out[f.key] = value
        return out

    def wire_values(self, row: WireRow, version: int | None) -> tuple[tuple[str, ...], tuple]:
        """The stored values of a wire row and its server version, and which columns they are.
        A column missing from the row is left out (an upsert keeps its value), unless it is
        NOT NULL with a default, which a new row needs (and an existing one then gets too:
        the server always sends whole rows)."""
        if self._wire_key_set <= row.keys():
            values = [row[key] for key in self._wire_keys]
            for i, convert in self._wire_typed:
                if values[i] is not None:
                    values[i] = convert(values[i])
            values.append(version)
            return self._wire_all_keys, tuple(values)
        keys: list[str] = []
        found: list[Any] = []
        for f in self.wire_fields:
            if f.key in row:
                value = row[f.key]
            elif f.default is not None and not f.nullable:
                value = _default_value(f.default)
            else:
                continue
            keys.append(f.key)
            found.append(value if value is None or f.wire is None else f.wire(value))
        keys.append("server_version")
        found.append(version)
        return tuple(keys), tuple(found)

    def upsert_sql(self, keys: tuple[str, ...]) -> str:
        text = self._upsert_sql.get(keys)
        if text is None:
            names = [self.by_key[k].name for k in keys]
            cols = ", ".join(f'"{n}"' for n in names)
            marks = ", ".join("?" for _ in names)
            sets = ", ".join(f'"{n}" = excluded."{n}"' for n in names if n != "id")
            text = (
                f'INSERT INTO "{self.table.name}" ({cols}) VALUES ({marks}) '
                f'ON CONFLICT ("id") DO UPDATE SET {sets}'
            )
            self._upsert_sql[keys] = text
        return text

    # Python rows

    def insert(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
        """Plain INSERT of rows holding Python values; all rows have the first row's keys.
        Columns missing from them get their Python-side default, as an ORM insert would."""
        if not rows:
            return
        given = [f for f in self.fields if f.key in rows[0]]
        filled = [f for f in self.fields if f.key not in rows[0] and f.default is not None]
        fields = given + filled
        keys = [f.key for f in given]
        values: list[tuple[Any, ...]]
        if len(keys) > 1:
            values = list(map(itemgetter(*keys), rows))
        else:
            values = [(row[keys[0]],) for row in rows]
        if filled:
            values = [(*row, *(_default_value(f.default) for f in filled)) for row in values]
        typed = [(i, f.store) for i, f in enumerate(fields) if f.store is not None]
        if typed:
            # Column by column: only the typed columns (times, money, JSON) need converting.
            columns = [list(column) for column in zip(*values, strict=True)]
            for i, store in typed:
                columns[i] = [None if v is None else store(v) for v in columns[i]]
            values = list(zip(*columns, strict=True))
        names = ", ".join(f'"{f.name}"' for f in fields)
        marks = ", ".join("?" for _ in fields)
        session.connection().exec_driver_sql(
            f'INSERT INTO "{self.table.name}" ({names}) VALUES ({marks})', values
        )


_WRITERS: dict[type[Base], _TableWriter] = {}


def _writer(model: type[Base]) -> _TableWriter:
    writer = _WRITERS.get(model)
    if writer is None:
        writer = _WRITERS[model] = _TableWriter(model)
    return writer


# --- the writes -------------------------------------------------------------------------------


def from_wire(model: type[Base], data: WireRow) -> dict[str, Any]:
    """A wire (JSON) row as constructor kwargs for ``model``; unknown keys are ignored."""
    return _writer(model).from_wire(data)


def upsert_wire_rows(
    session: Session, model: type[Base], rows: Iterable[tuple[WireRow, int | None]]
) -> int:
    """Insert-or-replace wire rows by id, each with its server version; returns how many."""
    writer = _writer(model)
    groups: dict[tuple[str, ...], list[tuple]] = {}
    count = 0
    for row, version in rows:
        keys, values = writer.wire_values(row, version)
        groups.setdefault(keys, []).append(values)
        count += 1
    conn = session.connection()
    for keys, values_list in groups.items():
        conn.exec_driver_sql(writer.upsert_sql(keys), values_list)
    return count


def delete_rows(session: Session, model: type[Base], ids: Sequence[str]) -> int:
    """Delete rows by id (ids not present are no-ops); returns how many ids were given."""
    table = model.__table__
    for start in range(0, len(ids), CHUNK):
        session.execute(delete(table).where(table.c.id.in_(ids[start : start + CHUNK])))
    return len(ids)


@dataclass
class Written:
    """What one ``write_changes`` call wrote."""

    upserted: int = 0
    deleted: int = 0
    tables: set[str] = field(default_factory=set)


def write_changes(
    session: Session,
    upserts: Mapping[str, Sequence[tuple[WireRow, int | None]]],
    deletes: Mapping[str, Sequence[str]],
) -> Written:
    """A pulled page's rows, by table name: parents before children (``REPLICATED_TABLES``)."""
    written = Written()
    for model in REPLICATED_TABLES:
        name = model.__tablename__
        if name in upserts:
            written.upserted += upsert_wire_rows(session, model, upserts[name])
            written.tables.add(name)
        if name in deletes:
            written.deleted += delete_rows(session, model, deletes[name])
            written.tables.add(name)
    return written


def write_server_state(
    session: Session, table_name: str, row_id: str, state: Mapping[str, Any]
) -> bool:
    """One row set to a server state ``{"version", "deleted", "row"}`` (a change a pull held
    back, or the row a conflict answer carried). False for a table not replicated here."""
    model = MODEL_BY_TABLE.get(table_name)
    if model is None:
        return False
    if state.get("deleted") or state.get("row") is None:
        delete_rows(session, model, [row_id])
    else:
        upsert_wire_rows(session, model, [(state["row"], state.get("version"))])
    return True


def delete_missing(session: Session, keep: Mapping[str, Collection[str]]) -> int:
    """End of a full resync: delete every replicated row whose id is not in ``keep[table]``;
    returns how many went."""
    removed = 0
    for model in REPLICATED_TABLES:
        table = model.__table__
        kept = keep.get(model.__tablename__, ())
        gone = [row_id for row_id in session.scalars(select(table.c.id)) if row_id not in kept]
        removed += delete_rows(session, model, gone)
    return removed


def stamp_server_versions(
    session: Session, table_name: str, versions: Iterable[tuple[str, int]]
) -> None:
    """Record the server version a push left each row at, without touching ``updated_at``."""
    model = MODEL_BY_TABLE.get(table_name)
    params = [{"rid": row_id, "ver": version} for row_id, version in versions]
    if model is None or not params:
        return
    table = model.__table__
    # updated_at named explicitly: its onupdate default would stamp a time the server's row
    # does not have (a no-op push brings no new row to overwrite it)
    session.connection().execute(
        update(table)
        .where(table.c.id == bindparam("rid"))
        .values(server_version=bindparam("ver"), updated_at=table.c.updated_at),
        params,
    )


def insert_rows(session: Session, model: type[Base], rows: Sequence[Mapping[str, Any]]) -> None:
    """A bulk load of new rows built in Python (datetimes, Decimals, lists): one executemany,
    values converted once per column by its type. Every row has the first row's keys."""
    _writer(model).insert(session, rows)
