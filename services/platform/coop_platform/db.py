"""Engines, sessions and the unit of work, for SQLite (laptop) and PostgreSQL (deployments)."""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from coop_platform.envelope import make_envelope


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
    connect_args = server_timeouts(url, statement_timeout_ms)
    engine = _server_engine(url, echo, pool_size, connect_args=connect_args)
    # Reads get a pool of their own, in autocommit mode for good: switching a pooled connection
    # to autocommit and back on every read cost more than the read (UnitOfWork.read_only).
    reads = _server_engine(url, echo, max(2, pool_size // 2), isolation_level="AUTOCOMMIT",
                           pool_reset_on_return=None,  # autocommit leaves nothing to roll back
                           connect_args=connect_args)
    _READ_ENGINES[engine] = reads
    event.listen(engine, "engine_disposed", lambda _conn: reads.dispose())
    return engine


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


#: engine -> its read-only twin (same database, autocommit pool), for UnitOfWork.read_only
_READ_ENGINES: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


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
        # close() detaches every object without expiring it (objects read in this unit stay
        # readable) and ends the transaction, so anything not committed is rolled back; an ORM
        # rollback() first would also restore the session's snapshot, work thrown away here.
        self.session.close()

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for a query side (CQRS): autocommit, from the read pool, and no Session,
        so a lookup by key pays for neither the ORM nor a transaction. Use it instead of
        entering the unit (`with uow.reading() as conn:`); it writes nothing."""
        engine = self._session_factory.kw["bind"]  # type: ignore[attr-defined]
        reads = _READ_ENGINES.get(engine)
        with (reads or engine).connect() as conn:
            yield conn if reads is not None else conn.execution_options(isolation_level="AUTOCOMMIT")

    def read_only(self) -> UnitOfWork:
        """Run this unit's queries outside a transaction: a read needs no BEGIN/ROLLBACK round
        trips (nor, on SQLite, the write lock). Call it before the first query."""
        reads = _READ_ENGINES.get(self.session.get_bind())
        if reads is not None:
            self.session.bind = reads
        else:
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

    def forget_published_events(self, subject: str) -> int:
        """Delete this service's already-published events about `subject` (an erased member):
        see coop_platform.outbox.delete_published_about."""
        from coop_platform.outbox import delete_published_about

        return delete_published_about(self.session, subject)

    def emit(self, name: str, message: Any, *, subject: str | None = None,
             correlation_id: str | None = None) -> str:
        """Queue an event (a protobuf message); it reaches the outbox in this unit's commit.
        correlation_id: the request's, when this thread serves another caller's request (a
        group-commit batch); by default the current one."""
        envelope = make_envelope(self.source, name, message, subject=subject, correlation_id=correlation_id)
        self._pending_events.append(envelope)
        return envelope["id"]
