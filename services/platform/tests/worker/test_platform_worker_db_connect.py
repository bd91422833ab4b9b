"""A worker's database connections keep COOP_DB_CONNECT_TIMEOUT_SECONDS (hardening issue, point 12):
under eventlet, psycopg2 waits through the worker's callback, where libpq's own connect timeout
does not apply, so a database host that accepted the connection and never answered held the
worker's green thread for ever."""

import socket
import threading
import time

import psycopg2
import pytest

from coop_platform.db import make_engine


@pytest.fixture
def silent_database():
    """A TCP port that accepts connections and never says a word (a hung or firewalled host)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    yield listener.getsockname()[1]
    stop.set()
    acceptor.join()  # before closing: its file descriptor may be reused by the next connection
    for conn in held:
        conn.close()
    listener.close()


def test_a_green_connection_to_a_silent_host_gives_up_after_the_connect_timeout(silent_database):
    started = time.monotonic()
    with pytest.raises(psycopg2.OperationalError, match="timeout expired"):
        psycopg2.connect(host="127.0.0.1", port=silent_database, user="postgres", dbname="postgres",
                         connect_timeout=2)
    assert time.monotonic() - started < 30  # a bound, not a speed target: it used to wait for ever


def test_the_workers_engine_passes_the_setting_to_its_connections(silent_database, monkeypatch):
    monkeypatch.setenv("COOP_DB_CONNECT_TIMEOUT_SECONDS", "2")
    engine = make_engine(f"postgresql+psycopg2://postgres@127.0.0.1:{silent_database}/postgres", pool_size=1)
    try:
        with pytest.raises(Exception, match="timeout expired"):
            engine.connect()
    finally:
        engine.dispose()


def test_green_connections_to_a_live_database_still_work():
    conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres", connect_timeout=2)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
    finally:
        conn.close()
