"""The Supabase migrations apply cleanly (twice) on a bare PostgreSQL and lock everything down."""

from __future__ import annotations

import pytest

from tests.support.pg import PgServer, apply_migrations, migration_files

pytestmark = pytest.mark.postgres


def test_migrations_are_numbered_and_ordered():
    names = [p.name for p in migration_files()]
    assert names == sorted(names)
    assert names[0].startswith("0001_") and len(names) >= 5
    assert len({n[:4] for n in names}) == len(names), "two migrations share a number"


def test_migrations_apply_twice_on_a_bare_database(pg_server: PgServer):
    name = pg_server.create_database(template=None)
    try:
        with pg_server.connect(name) as conn:
            apply_migrations(conn)
            apply_migrations(conn)  # idempotent: a re-run changes nothing and fails nowhere
            functions = {
                row[0]
                for row in conn.execute(
                    "SELECT p.oid::regprocedure::text FROM pg_proc p"
                    " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'showdesk'"
                )
            }
            assert {
                "showdesk.sync_pull(uuid,text,integer)",
                "showdesk.sync_push(uuid,jsonb)",
                "showdesk.register_device(text,text)",
            } <= functions
            policies = conn.execute(
                "SELECT count(*) FROM pg_policies WHERE schemaname = 'showdesk'"
            ).fetchone()[0]
            # a second run replaced the policies instead of adding copies: 4 per synced table,
            # sync_changes 1, sync_mutations 2, sync_settings 1, sync_moved_out 1
            assert policies == 19 * 4 + 1 + 2 + 1 + 1
    finally:
        pg_server.drop_database(name)


API_WRAPPERS = (
    "showdesk_sync_pull(uuid,text,integer)",
    "showdesk_sync_push(uuid,jsonb)",
    "showdesk_register_device(text,text)",
    "showdesk_server_info()",
    "showdesk_create_enrolment(uuid,text,text,text)",
    "showdesk_revoke_enrolment(uuid)",
    "showdesk_enrol(text)",
    "showdesk_relay_push(uuid,jsonb,text)",
)


def test_nothing_of_showdesk_is_in_public_but_the_api_wrappers(supabase_db):
    """public is the platform's schema: Showdesk adds its prefixed API functions and nothing else."""
    objects = supabase_db.execute(
        "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public'"
    )
    assert objects == []
    functions = {
        r["f"]
        for r in supabase_db.execute(
            "SELECT p.oid::regprocedure::text AS f FROM pg_proc p"
            " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"
        )
    }
    assert functions == set(API_WRAPPERS)


def test_every_showdesk_table_has_row_level_security(supabase_db):
    rows = supabase_db.execute(
        "SELECT c.relname, c.relrowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'showdesk' AND c.relkind = 'r'"
    )
    assert len(rows) >= 22
    assert [r["relname"] for r in rows if not r["relrowsecurity"]] == []


def test_anon_has_no_privilege_on_any_table_or_rpc(supabase_db):
    rows = supabase_db.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname IN ('public', 'showdesk') AND c.relkind = 'r'"
        " AND (has_table_privilege('anon', c.oid, 'SELECT') OR has_table_privilege('anon', c.oid, 'INSERT'))"
    )
    assert rows == []
    assert supabase_db.scalar("SELECT has_schema_privilege('anon', 'showdesk', 'USAGE')") is False
    for fn in API_WRAPPERS:
        assert (
            supabase_db.scalar("SELECT has_function_privilege('anon', %s, 'EXECUTE')", (fn,))
            is False
        )
        assert (
            supabase_db.scalar(
                "SELECT has_function_privilege('authenticated', %s, 'EXECUTE')", (fn,)
            )
            is True
        )


# Columns a replica never needs: the public key a revoked kiosk encrypts what it could not
# upload with (it arrives with the refusal, 0017).
SERVER_ONLY = {"devices": {"recovery_key"}}


def test_server_columns_match_the_replica_models(supabase_db):
    """Same table and column names as app/store/models.py (plus the server's version column)."""
    from app.store.models import REPLICATED_TABLES

    for model in REPLICATED_TABLES:
        local = {c.name for c in model.__table__.columns} - {"server_version"}
        server = {
            r["column_name"]
            for r in supabase_db.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'showdesk' AND table_name = %s",
                (model.__tablename__,),
            )
        }
        assert server - {"version"} - SERVER_ONLY.get(model.__tablename__, set()) == local, (
            model.__tablename__
        )


def test_migrations_apply_with_plain_psql(pg_server: PgServer):
    """The files are plain SQL: psql -f, in order, stops on no error."""
    import subprocess

    name = pg_server.create_database(template=None)
    try:
        for path in migration_files():
            done = subprocess.run(
                [
                    str(pg_server.bindir / "psql"),
                    "-X",
                    "-q",
                    "-v",
                    "ON_ERROR_STOP=1",
                    pg_server.url(name),
                    "-f",
                    str(path),
                ],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, f"{path.name}: {done.stderr}"
        assert (
            pg_server.connect(name)
            .execute("SELECT to_regprocedure('public.showdesk_sync_pull(uuid,text,integer)')")
            .fetchone()[0]
        )
    finally:
        pg_server.drop_database(name)
