"""A service's database: engines and sessions for SQLite (laptop) and PostgreSQL (deployments).

The unit of work that uses them is in coop_platform.unit_of_work."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def is_sqlite(url_or_engine: str | Engine) -> bool:
    url = url_or_engine.url if isinstance(url_or_engine, Engine) else make_url(url_or_engine)
    return url.get_backend_name() == "sqlite"


def make_engine(url: str, *, pool_size: int = 20, echo: bool = False,
                statement_timeout_ms: int | None = None) -> Engine:
    """An engine tuned for many short transactions from threads (api) or green threads (worker).

    SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE so that the api and worker
    processes can both write without "database is locked" on lock upgrades. PostgreSQL
    connections get a connect timeout and a statement timeout (`server_timeouts`);
    `statement_timeout_ms` overrides the setting (0: none, as migrations run).
    """
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False},
            hide_parameters=True,  # values in an error's text may be personal data
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
    return _server_engine(url, echo, pool_size, connect_args=server_timeouts(url, statement_timeout_ms))


#: Defaults of COOP_DB_CONNECT_TIMEOUT_SECONDS and COOP_DB_STATEMENT_TIMEOUT_MS.
DEFAULT_CONNECT_TIMEOUT_SECONDS = 5
DEFAULT_STATEMENT_TIMEOUT_MS = 30_000


def _setting(name: str, default: int) -> int:
    raw = os.environ.get(name) or str(default)
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ValueError(f"{name} must be a whole number >= 0 (0: no limit), not {raw!r}")
    return value


def server_timeouts(url: str, statement_timeout_ms: int | None = None) -> dict[str, Any]:
    """libpq connection parameters that bound how long a process waits for PostgreSQL.

    connect_timeout (COOP_DB_CONNECT_TIMEOUT_SECONDS, default 5; libpq waits at least 2 s):
    a database host that does not answer fails the call with UNAVAILABLE and turns the health
    NOT_SERVING instead of hanging a thread, or the health watcher, for good.
    statement_timeout (COOP_DB_STATEMENT_TIMEOUT_MS, default 30000; 0: none): the server cancels
    a statement (lock waits included) that runs longer; its transaction rolls back and the
    call fails with UNAVAILABLE, so a stuck lock cannot hold every api thread. Both go in the
    startup packet: no round trip per connection. Options already in the URL are kept.
    """
    connect = _setting("COOP_DB_CONNECT_TIMEOUT_SECONDS", DEFAULT_CONNECT_TIMEOUT_SECONDS)
    statement = (_setting("COOP_DB_STATEMENT_TIMEOUT_MS", DEFAULT_STATEMENT_TIMEOUT_MS)
                 if statement_timeout_ms is None else statement_timeout_ms)
    query = make_url(url).query
    given = query.get("options") or ""
    options = " ".join(filter(None, [given if isinstance(given, str) else " ".join(given),
                                     f"-c statement_timeout={statement}"]))
    return {"options": options} if "connect_timeout" in query else {"connect_timeout": connect, "options": options}


def _server_engine(url: str, echo: bool, pool_size: int, **options: Any) -> Engine:
    return create_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        # No pre-ping: it costs a round trip per checkout. A connection broken by a database
        # restart fails one call with UNAVAILABLE and SQLAlchemy then recycles the whole pool.
        pool_pre_ping=False,
        pool_recycle=1800,
        hide_parameters=True,  # an error's text must not carry voter ids, ballots or personal data
        **options,
    )


def multirow_values(rows: int, columns: int = 0, *, row: str = "") -> str:
    """The VALUES list of a multi-row statement sent with `exec_driver_sql` (psycopg2's `%s`
    style): `rows` copies of `row`, or of a row of `columns` plain placeholders. Built once per
    shape by its callers: compiling a Core insert per batch cost as much as running it."""
    row = row or "(" + ", ".join(["%s"] * columns) + ")"
    return ", ".join([row] * rows)


def _drop_reads_on_disconnect(context: Any, reads: Engine) -> None:
    """A disconnect seen on the write pool (the health check's ping after a database restart)
    also drops the read pool's connections, which the same restart broke: once health says
    SERVING again, a read does not fail on a dead pooled connection (it used to, once)."""
    if context.is_disconnect:
        reads.pool.dispose()


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


class Database:
    """One service's database: the write engine, the read engine and the session factory.

    On PostgreSQL, reads get a pool of their own, in autocommit mode for good: switching a
    pooled connection to autocommit and back on every read cost more than the read. SQLite has
    one engine; its reads ask for autocommit per connection.
    """

    def __init__(self, engine: Engine, read_engine: Engine | None = None) -> None:
        self.engine = engine
        self.read_engine = read_engine
        self.sessions = make_session_factory(engine)

    @classmethod
    def open(cls, url: str, *, pool_size: int = 20, echo: bool = False,
             statement_timeout_ms: int | None = None) -> Database:
        engine = make_engine(url, pool_size=pool_size, echo=echo, statement_timeout_ms=statement_timeout_ms)
        if is_sqlite(url):
            return cls(engine)
        reads = _server_engine(url, echo, max(2, pool_size // 2), isolation_level="AUTOCOMMIT",
                               pool_reset_on_return=None,  # autocommit leaves nothing to roll back
                               connect_args=server_timeouts(url, statement_timeout_ms))
        event.listen(engine, "engine_disposed", lambda _conn: reads.dispose())  # one owner: the engine
        event.listen(engine, "handle_error", lambda context: _drop_reads_on_disconnect(context, reads))
        return cls(engine, reads)

    @classmethod
    def of(cls, source: Database | sessionmaker[Session] | Engine) -> Database:
        """A Database for what older callers hand over: a session factory or an engine."""
        if isinstance(source, Database):
            return source
        if isinstance(source, Engine):
            return cls(source)
        database = cls(source.kw["bind"])
        database.sessions = source
        return database

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for a query side: autocommit, from the read pool where there is one."""
        if self.read_engine is not None:
            with self.read_engine.connect() as conn:
                yield conn
        else:
            with self.engine.connect() as conn:
                yield conn.execution_options(isolation_level="AUTOCOMMIT")

    def read_only(self, session: Session) -> None:
        """Run `session`'s queries outside a transaction; call it before its first query."""
        if self.read_engine is not None:
            session.bind = self.read_engine
        else:
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not None:
            self.read_engine.dispose()
