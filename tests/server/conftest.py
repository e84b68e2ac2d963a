"""Server-side sync tests run against the real PostgreSQL the suite starts.

The fixtures (pg_server, supabase_db, gateway) come from tests/support/fixtures.py, which the
root conftest loads for every folder.
"""
