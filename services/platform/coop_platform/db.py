"""Engines, sessions and the unit of work, for SQLite (laptop) and PostgreSQL (deployments)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from coop_platform.envelope import make_envelope


def is_sqlite(url_or_engine: str | Engine) -> bool:
    url = url_or_engine.url if isinstance(url_or_engine, Engine) else make_url(url_or_engine)
    return url.get_backend_name() == "sqlite"


def make_engine(url: str, *, pool_size: int = 20, echo: bool = False) -> Engine:
    """An engine tuned for many short transactions from threads (api) or green threads (worker).

    SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE so that the api and worker
    processes can both write without "database is locked" on lock upgrades.
    """
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False}
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        # No pre-ping: it costs a round trip per checkout. A connection broken by a database
        # restart fails one call with UNAVAILABLE and SQLAlchemy then recycles the whole pool.
        pool_pre_ping=False,
        pool_recycle=1800,
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def database_reachable(engine: Engine) -> bool:
    """Cheap liveness probe used by the gRPC health service."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not serving"
        return False


class UnitOfWork:
    """One transaction: the rows a command writes and the events it emits commit together.

    Services subclass it to attach repositories in ``_open``. Events go through
    :meth:`emit` into the outbox table of the same transaction (DESIGN D3).
    """

    def __init__(self, session_factory: Callable[[], Session], source: str) -> None:
        self._session_factory = session_factory
        self.source = source
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        self._pending_events: list[dict[str, Any]] = []
        self._open()
        return self

    def _open(self) -> None:
        """Hook for subclasses: build repositories on self.session."""

    def __exit__(self, *exc: object) -> None:
        try:
            # Detach first so objects read in this unit stay readable (a rollback would expire them);
            # anything not committed is discarded by the rollback.
            self.session.expunge_all()
            self.session.rollback()
        finally:
            self.session.close()

    def read_only(self) -> UnitOfWork:
        """Run this unit's queries outside a transaction: a read needs no BEGIN/ROLLBACK round
        trips (nor, on SQLite, the write lock). Call it before the first query."""
        self.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        return self

    def commit(self) -> None:
        """Write the buffered events into the outbox (one statement) and commit with the rows."""
        if self._pending_events:
            from coop_platform.outbox import add_many_to_outbox

            add_many_to_outbox(self.session, self.source, self._pending_events)
            self._pending_events = []
        self.session.commit()

    def rollback(self) -> None:
        self._pending_events = []
        self.session.rollback()

    def emit(self, name: str, message: Any, *, subject: str | None = None,
             correlation_id: str | None = None) -> str:
        """Queue an event (a protobuf message); it reaches the outbox in this unit's commit.
        correlation_id: the request's, when this thread serves another caller's request (a
        group-commit batch); by default the current one."""
        envelope = make_envelope(self.source, name, message, subject=subject, correlation_id=correlation_id)
        self._pending_events.append(envelope)
        return envelope["id"]
