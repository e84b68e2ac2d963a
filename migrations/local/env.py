"""Alembic environment for the local SQLite replica.

The app runs migrations itself on start (app.store.db.upgrade_schema), passing its connection.
"""

from alembic import context
from sqlalchemy import create_engine

from app.store.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url") or "sqlite:///showdesk-dev.sqlite"
    engine = create_engine(url)
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
