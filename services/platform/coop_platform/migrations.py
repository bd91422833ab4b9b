"""Alembic, one history per service, applied by `coop migrate <service>` and at process start."""

from __future__ import annotations

import logging

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Engine, MetaData, pool

from coop_platform.db import is_sqlite, make_engine

log = logging.getLogger(__name__)


def alembic_config(service: str, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", f"coop_{service}:migrations")
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(service: str, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service, database_url), revision)


def downgrade(service: str, database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(service, database_url), revision)


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's migrations/env.py (online mode only: we always have a database)."""
    url = context.config.get_main_option("sqlalchemy.url")
    engine: Engine = make_engine(url) if is_sqlite(url) else make_engine(url, pool_size=1)
    if not is_sqlite(url):
        engine.pool = pool.NullPool(engine.pool._creator)  # one-shot connections
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=is_sqlite(url),
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
