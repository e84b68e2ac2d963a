"""A seeded demo replica built once per session; tests copy it instead of seeding their own."""

from __future__ import annotations

from pathlib import Path


def build_demo_template(folder: Path, *, tickets: int, seed: int) -> tuple[Path, str]:
    """Seed a demo database in ``folder``, checkpointed so a plain file copy is complete.
    Returns (path, event id)."""
    from app.store.db import open_database
    from app.store.demo import seed_demo

    path = folder / "demo.sqlite"
    db = open_database(path)
    event_id = seed_demo(db, tickets=tickets, seed=seed)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path, event_id
