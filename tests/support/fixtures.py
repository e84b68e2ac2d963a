"""Pytest fixtures shared across test folders (real PostgreSQL, RPC gateway).

Loaded for the whole suite by `pytest_plugins` in tests/conftest.py, so every test folder
can use them without importing anything:

- ``pg_server``    (session) a running PostgreSQL (tests.support.pg.PgServer) whose
                   ``showdesk_template`` database has ``migrations/supabase`` applied;
- ``supabase_db``  (function) a fresh database cloned from that template
                   (tests.support.pg.SupabaseDB: ``dsn``, ``connect()``, ``as_claims()``,
                   ``create_org()``, ``create_device()``, ``create_tickets()``, ``claims()``,
                   ``jwt()``); dropped after the test;
- ``gateway``      (function) a PostgREST/GoTrue-compatible HTTP gateway in front of
                   ``supabase_db`` (tests.support.gateway.Gateway: ``url``, ``anon_key``,
                   ``service_key``, ``create_user()``, ``rpc()``).

Tests that use them should be marked ``@pytest.mark.postgres``. If PostgreSQL is not
installed the fixtures fail with a sentence saying so.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.pg import PgServer, PostgresUnavailable, SupabaseDB


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = PgServer()
    try:
        server.start()
        server.create_template()
    except PostgresUnavailable as exc:
        server.stop()
        pytest.fail(str(exc), pytrace=False)
    except Exception:
        server.stop()
        raise
    yield server
    server.stop()


@pytest.fixture
def supabase_db(pg_server: PgServer) -> Iterator[SupabaseDB]:
    db = SupabaseDB(pg_server, pg_server.create_database())
    yield db
    db.close()
    pg_server.drop_database(db.name)


@pytest.fixture
def gateway(supabase_db: SupabaseDB):
    from tests.support.gateway import Gateway

    gw = Gateway(supabase_db)
    gw.start()
    yield gw
    gw.stop()
