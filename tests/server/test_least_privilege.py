"""Least privilege (0015): the checks of Supabase's database linter (splinter), run on Showdesk's
schemas — on the migrated database, and on one whose owner had Supabase's default privileges and
the "Using custom schemas" grants in place before and after 0001-0014 ran."""

from __future__ import annotations

import re

import psycopg
import pytest

from tests.support.pg import PgServer, SupabaseDB, migration_files

pytestmark = pytest.mark.postgres

SCHEMAS = ["showdesk", "showdesk_private"]

REPLICATED = [
    "organizations", "venues", "events", "ticket_types", "orders", "attendees", "tickets",
    "revoked_tokens", "checkins", "runway_shows", "runway_segments", "designers", "models",
    "looks", "runway_appearances", "people", "call_times", "devices", "staff",
]  # fmt: skip

# What authenticated may do on each table of schema showdesk (anything else: nothing).
AUTHENTICATED_TABLES = {
    **{t: {"SELECT", "INSERT", "UPDATE", "DELETE"} for t in REPLICATED},
    "sync_changes": {"SELECT"},
    "sync_moved_out": {"SELECT"},
    "sync_settings": {"SELECT"},
    "sync_mutations": {"SELECT", "INSERT"},
}

# SECURITY DEFINER functions authenticated may execute, each needed as the caller; 0015 says
# why for its own, a later migration for what it adds.
CORE_DEFINERS = {
    "showdesk.register_device(text,text)",
    "showdesk.server_info()",
    "showdesk_private.whoami()",
    "showdesk_private.my_event_ids()",
}
AUTHENTICATED_DEFINERS = CORE_DEFINERS | {
    # 0016: the check-in reference checks of the INSERT/UPDATE policies
    "showdesk_private.checkin_ticket_ok(uuid,uuid)",
    "showdesk_private.checkin_annuls_ok(uuid,uuid,uuid)",
    "showdesk_private.checkin_device_ok(uuid)",
    # 0022: the staff reference check of check-ins, arrivals and lineup edits
    "showdesk_private.staff_ref_ok(uuid,uuid)",
    # 0021: enrolment; each checks the caller's role and organization itself
    "showdesk.create_enrolment(uuid,text,text,text)",
    "showdesk.revoke_enrolment(uuid)",
    "showdesk.enrol(text)",
    # 0024: the relayed device's role, read from device_bindings (relay_push checks its caller)
    "showdesk_private.relay_role(uuid,uuid,text,text)",
}

API_WRAPPERS = {
    "showdesk_sync_pull(uuid,text,integer)",
    "showdesk_sync_push(uuid,jsonb)",
    "showdesk_register_device(text,text)",
    "showdesk_server_info()",
    "showdesk_create_enrolment(uuid,text,text,text)",
    "showdesk_revoke_enrolment(uuid)",
    "showdesk_enrol(text)",
    "showdesk_relay_push(uuid,jsonb,text)",
}

TABLE_PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"]


def rows(conn: psycopg.Connection, sql: str, params=None) -> list[tuple]:
    return conn.execute(sql, params).fetchall()


# --- the rules ---------------------------------------------------------------------------------


def rls_disabled(conn) -> list[str]:
    """rls_disabled_in_public, for Showdesk's schemas: every table has Row Level Security."""
    return [
        r[0]
        for r in rows(
            conn,
            "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = ANY (%s) AND c.relkind IN ('r', 'p') AND NOT c.relrowsecurity",
            (SCHEMAS,),
        )
    ]


def _strip_literals(text: str) -> str:
    return re.sub(r"'(?:[^']|'')*'", "''", text)


def _calls_outside_initplan(expr: str, columns: set[str]) -> list[str]:
    """Calls of auth.*, current_setting or a Showdesk helper that run once per row: not inside a
    FROM-less ``(SELECT ...)`` (which the planner makes an initplan, run once per statement) and
    not depending on the row (no column of the table among their arguments)."""
    text = _strip_literals(expr)
    closing: dict[int, int] = {}
    opened: list[int] = []
    for i, ch in enumerate(text):
        if ch == "(":
            opened.append(i)
        elif ch == ")" and opened:
            closing[opened.pop()] = i
    found = []
    for m in re.finditer(r"\b(?:(?:auth|showdesk_private|showdesk)\.\w+|current_setting)\(", text):
        wrapped = any(
            start < m.start() < stop
            and text[start + 1 : stop].lstrip().upper().startswith("SELECT")
            and not re.search(r"\bFROM\b", text[start + 1 : stop], re.IGNORECASE)
            for start, stop in closing.items()
        )
        if wrapped:
            continue
        args = text[m.end() : closing.get(m.end() - 1, len(text))]
        names = set(re.findall(r"(?<![:\w])([a-z_][a-z0-9_]*)\b(?!\s*[.(])", args))
        if names & columns:
            continue  # per row by nature: it looks something up for this row
        found.append(m.group(0) + args + ")")
    return found


def policies_without_initplan(conn) -> list[str]:
    """auth_rls_initplan: the caller's identity is computed once per statement, not per row."""
    found = []
    for table, policy, qual, check, relid in rows(
        conn,
        "SELECT p.tablename, p.policyname, p.qual, p.with_check, c.oid FROM pg_policies p"
        " JOIN pg_namespace n ON n.nspname = p.schemaname"
        " JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = p.tablename"
        " WHERE p.schemaname = ANY (%s)",
        (SCHEMAS,),
    ):
        columns = {
            r[0]
            for r in rows(
                conn,
                "SELECT attname FROM pg_attribute WHERE attrelid = %s AND attnum > 0",
                (relid,),
            )
        }
        for expr in (qual, check):
            for call in _calls_outside_initplan(expr or "", columns):
                found.append(f"{table}.{policy}: {call}")
    return found


def mutable_search_path(conn) -> list[str]:
    """function_search_path_mutable: every function of Showdesk fixes its search_path."""
    return [
        r[0]
        for r in rows(
            conn,
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE (n.nspname = ANY (%s) OR (n.nspname = 'public' AND p.proname LIKE 'showdesk\\_%%'))"
            " AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search\\_path=%%')",
            (SCHEMAS,),
        )
    ]


def unindexed_foreign_keys(conn) -> list[str]:
    """unindexed_foreign_keys: a valid, non-partial index led by the key's columns."""
    return [
        f"{r[0]}.{r[1]}"
        for r in rows(
            conn,
            "SELECT k.conrelid::regclass::text, k.conname FROM pg_constraint k"
            " JOIN pg_namespace n ON n.oid = k.connamespace"
            " WHERE k.contype = 'f' AND n.nspname = ANY (%s)"
            " AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = k.conrelid"
            "   AND i.indisvalid AND i.indpred IS NULL"
            "   AND (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(k.conkey)]"
            "       @> k.conkey"
            "   AND cardinality(k.conkey) <= i.indnkeyatts"
            "   AND (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(k.conkey)]"
            "       <@ k.conkey)",
            (SCHEMAS,),
        )
    ]


def multiple_permissive_policies(conn) -> list[str]:
    """multiple_permissive_policies: at most one permissive policy per role, command and table."""
    return [
        f"{r[0]} {r[1]} {r[2]}: {r[3]}"
        for r in rows(
            conn,
            "SELECT c.oid::regclass::text, r.rolname, cmd.name, string_agg(p.polname, ', ')"
            " FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " CROSS JOIN (VALUES ('anon'), ('authenticated'), ('service_role')) AS r(rolname)"
            " CROSS JOIN (VALUES ('r', 'SELECT'), ('a', 'INSERT'), ('w', 'UPDATE'), ('d', 'DELETE'))"
            "   AS cmd(code, name)"
            " WHERE n.nspname = ANY (%s) AND p.polpermissive"
            " AND (p.polcmd = cmd.code OR p.polcmd = '*')"
            " AND (0 = ANY (p.polroles) OR r.rolname::regrole = ANY (p.polroles))"
            " GROUP BY 1, 2, 3 HAVING count(*) > 1",
            (SCHEMAS,),
        )
    ]


def security_definer_views(conn) -> list[str]:
    """security_definer_view: a view of Showdesk runs with the caller's rights."""
    return [
        r[0]
        for r in rows(
            conn,
            "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = ANY (%s) AND c.relkind = 'v'"
            " AND NOT coalesce(c.reloptions @> ARRAY['security_invoker=true'], false)",
            (SCHEMAS,),
        )
    ]


def definer_functions_in_public(conn) -> list[str]:
    """No SECURITY DEFINER function in public, the schema the API exposes."""
    return [
        r[0]
        for r in rows(
            conn,
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = 'public' AND p.prosecdef",
        )
    ]


def authenticated_table_extras(conn) -> list[str]:
    """authenticated holds no TRUNCATE, TRIGGER or REFERENCES, and only the design's privileges."""
    found = []
    for table, schema, relname, kind in rows(
        conn,
        "SELECT c.oid::regclass::text, n.nspname, c.relname, c.relkind FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = ANY (%s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')",
        (SCHEMAS,),
    ):
        if kind == "S":
            held = {
                p
                for p in ("USAGE", "SELECT", "UPDATE")
                if conn.execute(
                    "SELECT has_sequence_privilege('authenticated', %s::regclass, %s)", (table, p)
                ).fetchone()[0]
            }
            want: set[str] = set()
        else:
            held = {
                p
                for p in TABLE_PRIVILEGES
                if conn.execute(
                    "SELECT has_table_privilege('authenticated', %s::regclass, %s)", (table, p)
                ).fetchone()[0]
            }
            want = AUTHENTICATED_TABLES.get(relname, set()) if schema == "showdesk" else set()
            if conn.execute(
                "SELECT has_any_column_privilege('authenticated', %s::regclass,"
                " 'SELECT, INSERT, UPDATE, REFERENCES')",
                (table,),
            ).fetchone()[0] and not (held & {"SELECT", "INSERT", "UPDATE", "REFERENCES"}):
                held.add("column privileges")
        if held - want:
            found.append(f"{table}: {', '.join(sorted(held - want))}")
    return found


def anon_privileges(conn) -> list[str]:
    """anon (the public API key) holds nothing at all in Showdesk's schemas."""
    found = []
    for schema in SCHEMAS:
        for p in ("USAGE", "CREATE"):
            if conn.execute("SELECT has_schema_privilege('anon', %s, %s)", (schema, p)).fetchone()[
                0
            ]:
                found.append(f"schema {schema}: {p}")
    for table, kind in rows(
        conn,
        "SELECT c.oid::regclass::text, c.relkind FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = ANY (%s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')",
        (SCHEMAS,),
    ):
        if kind == "S":
            checks = [("has_sequence_privilege", p) for p in ("USAGE", "SELECT", "UPDATE")]
        else:
            checks = [("has_table_privilege", p) for p in TABLE_PRIVILEGES]
            checks.append(("has_any_column_privilege", "SELECT, INSERT, UPDATE, REFERENCES"))
        for fn, p in checks:
            if conn.execute(f"SELECT {fn}('anon', %s::regclass, %s)", (table, p)).fetchone()[0]:
                found.append(f"{table}: {p}")
    found += [
        f"{r[0]}: EXECUTE"
        for r in rows(
            conn,
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE (n.nspname = ANY (%s) OR (n.nspname = 'public' AND p.proname LIKE 'showdesk\\_%%'))"
            " AND has_function_privilege('anon', p.oid, 'EXECUTE')",
            (SCHEMAS,),
        )
    ]
    return found


def authenticated_definers(conn) -> set[str]:
    """SECURITY DEFINER functions authenticated may execute (splinter 0029, in our schemas)."""
    return {
        r[0]
        for r in rows(
            conn,
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = ANY (%s) AND p.prosecdef"
            " AND has_function_privilege('authenticated', p.oid, 'EXECUTE')",
            (SCHEMAS,),
        )
    }


def findings(conn) -> dict[str, list[str]]:
    """Every rule's findings; all empty on a well-kept database."""
    return {
        "rls_disabled": rls_disabled(conn),
        "auth_rls_initplan": policies_without_initplan(conn),
        "function_search_path_mutable": mutable_search_path(conn),
        "unindexed_foreign_keys": unindexed_foreign_keys(conn),
        "multiple_permissive_policies": multiple_permissive_policies(conn),
        "security_definer_view": security_definer_views(conn),
        "security_definer_in_public": definer_functions_in_public(conn),
        "authenticated_extra_privileges": authenticated_table_extras(conn),
        "anon_privileges": anon_privileges(conn),
        "authenticated_security_definer_unlisted": sorted(
            authenticated_definers(conn) - AUTHENTICATED_DEFINERS
        ),
    }


@pytest.fixture
def conn(supabase_db: SupabaseDB):
    with supabase_db.server.connect(supabase_db.name) as c:
        yield c


# --- the migrated database ---------------------------------------------------------------------


def test_every_showdesk_table_has_rls(conn):
    assert rls_disabled(conn) == []


def test_policies_compute_the_caller_once_per_statement(conn):
    assert policies_without_initplan(conn) == []


def test_the_initplan_check_catches_a_per_row_call():
    columns = {"event_id", "show_id"}
    assert _calls_outside_initplan(
        "(event_id = ANY (showdesk_private.my_event_ids()))", columns
    ) == ["showdesk_private.my_event_ids()"]
    assert _calls_outside_initplan("(auth.uid() = id)", columns) == ["auth.uid()"]
    # a subquery with a FROM is run per row (a subplan), not once
    assert _calls_outside_initplan(
        "(EXISTS ( SELECT 1 FROM showdesk.events r"
        " WHERE (r.organization_id = showdesk_private.my_org())))",
        columns,
    ) == ["showdesk_private.my_org()"]
    assert (
        _calls_outside_initplan(
            "(( SELECT showdesk_private.can('x'::text, 'read'::text) AS can)"
            " AND (showdesk_private.show_event_id(show_id) = ANY"
            " (( SELECT showdesk_private.my_event_ids() AS my_event_ids)::uuid[]))"
            " AND (( SELECT (showdesk_private.can('x'::text, 'insert'::text)"
            " OR showdesk_private.can('x'::text, 'write'::text))))"
            " AND (showdesk_private.segment_event_id(runway_appearances.show_id) IS NOT NULL)",
            columns,
        )
        == []
    )


def test_no_function_has_a_mutable_search_path(conn):
    assert mutable_search_path(conn) == []


def test_every_foreign_key_has_an_index(conn):
    assert unindexed_foreign_keys(conn) == []


def test_one_permissive_policy_per_role_and_command(conn):
    assert multiple_permissive_policies(conn) == []


def test_no_security_definer_view_or_public_function(conn):
    assert security_definer_views(conn) == []
    assert definer_functions_in_public(conn) == []
    wrappers = rows(
        conn,
        "SELECT p.oid::regprocedure::text, p.prosecdef FROM pg_proc p"
        " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'",
    )
    assert {name for name, _ in wrappers} == API_WRAPPERS
    assert not any(definer for _, definer in wrappers)


def test_authenticated_has_only_what_the_design_needs(conn):
    assert authenticated_table_extras(conn) == []
    for table, want in AUTHENTICATED_TABLES.items():
        held = {
            p
            for p in TABLE_PRIVILEGES
            if conn.execute(
                "SELECT has_table_privilege('authenticated', %s::regclass, %s)",
                (f"showdesk.{table}", p),
            ).fetchone()[0]
        }
        assert held == want, table
    assert not conn.execute(
        "SELECT has_table_privilege('authenticated', 'showdesk.bridge_errors', 'SELECT')"
    ).fetchone()[0]


def test_security_definer_functions_callable_by_authenticated_are_the_listed_ones(conn):
    callable_ = authenticated_definers(conn)
    assert CORE_DEFINERS <= callable_ <= AUTHENTICATED_DEFINERS


def test_anon_has_nothing(conn):
    assert anon_privileges(conn) == []
    for fn in API_WRAPPERS:
        assert conn.execute(
            "SELECT has_function_privilege('authenticated', %s, 'EXECUTE')", (f"public.{fn}",)
        ).fetchone()[0]


def test_service_role_keeps_everything(conn):
    for table, kind in rows(
        conn,
        "SELECT c.oid::regclass::text, c.relkind FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = ANY (%s) AND c.relkind IN ('r', 'S')",
        (SCHEMAS,),
    ):
        privileges = ("USAGE", "SELECT", "UPDATE") if kind == "S" else TABLE_PRIVILEGES
        fn = "has_sequence_privilege" if kind == "S" else "has_table_privilege"
        for p in privileges:
            assert conn.execute(
                f"SELECT {fn}('service_role', %s::regclass, %s)", (table, p)
            ).fetchone()[0], (table, p)


# --- a project that granted too much -----------------------------------------------------------

# What a Supabase project has before Showdesk arrives: the platform's default privileges in public
# (for the role that runs migrations), plus what its "Using custom schemas" guide tells an owner
# who wants a schema in the API — applied here to Showdesk's schemas, before their objects exist.
SUPABASE_DEFAULTS = """
CREATE SCHEMA IF NOT EXISTS showdesk;
CREATE SCHEMA IF NOT EXISTS showdesk_private;
GRANT USAGE ON SCHEMA showdesk, showdesk_private TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA showdesk, showdesk_private
  GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA showdesk, showdesk_private
  GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA showdesk, showdesk_private
  GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
"""

# ... and the guide's one-off grants on what exists, run once the tables are there.
CUSTOM_SCHEMA_GRANTS = """
GRANT ALL ON ALL TABLES IN SCHEMA showdesk, showdesk_private TO anon, authenticated;
GRANT ALL ON ALL SEQUENCES IN SCHEMA showdesk, showdesk_private TO anon, authenticated;
GRANT ALL ON ALL ROUTINES IN SCHEMA showdesk, showdesk_private TO anon, authenticated;
GRANT SELECT (id, name) ON showdesk.organizations TO anon;
"""


def _apply(conn: psycopg.Connection, files) -> None:
    for path in files:
        conn.execute(path.read_text())


MIGRATOR = "showdesk_test_migrator"


def test_a_project_with_supabase_default_privileges_ends_up_least_privileged(pg_server: PgServer):
    """0001-0014 run by a role (not a superuser, like Supabase's postgres) whose default
    privileges hand everything to the API roles; then 0015 on, and all of it once more."""
    files = migration_files()
    before = [p for p in files if p.name < "0015_"]
    rest = [p for p in files if p.name >= "0015_"]
    assert rest and rest[0].name.startswith("0015_")
    name = pg_server.create_database(template=None)
    try:
        with pg_server.connect() as admin:
            admin.execute(
                f"DO $$ BEGIN IF to_regrole('{MIGRATOR}') IS NULL THEN"
                f" CREATE ROLE {MIGRATOR} LOGIN; END IF; END $$"
            )
            admin.execute(f'ALTER DATABASE "{name}" OWNER TO {MIGRATOR}')
        with psycopg.connect(
            pg_server.dsn(name).replace(f"user={pg_server.superuser}", f"user={MIGRATOR}"),
            autocommit=True,
        ) as conn:
            assert conn.execute(
                "SELECT NOT rolsuper FROM pg_roles WHERE rolname = current_user"
            ).fetchone()[0]
            _apply(conn, before[:1])  # 0001: the roles and schemas, where missing
            conn.execute(SUPABASE_DEFAULTS)
            _apply(conn, before[1:])
            conn.execute(CUSTOM_SCHEMA_GRANTS)
            over = findings(conn)
            # the simulation does over-grant: anon reaches tables, authenticated may TRUNCATE
            assert over["anon_privileges"] and over["authenticated_extra_privileges"]
            assert any("TRUNCATE" in f for f in over["authenticated_extra_privileges"])
            assert over["authenticated_security_definer_unlisted"]

            notices: list[str] = []
            conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
            _apply(conn, rest)
            assert any(n.startswith("Showdesk 0015: privileges revoked") for n in notices)
            assert findings(conn) == {rule: [] for rule in over}
            assert CORE_DEFINERS <= authenticated_definers(conn) <= AUTHENTICATED_DEFINERS

            # re-applied under the same defaults, everything stays as tight
            _apply(conn, files)
            assert findings(conn) == {rule: [] for rule in over}
    finally:
        pg_server.drop_database(name)
        with pg_server.connect() as admin:
            admin.execute(f"DROP ROLE IF EXISTS {MIGRATOR}")
