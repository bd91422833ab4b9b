"""A worker started before RabbitMQ waits for it (COOP_BROKER_WAIT_SECONDS), then starts and
consumes; one that waited in vain, or whose credentials the broker refuses, exits 1 with one
line saying why, not with a traceback per event handler (as it did)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from urllib.parse import urlparse

import eventlet
import pytest

from coop_testkit import AMQP_URL, free_port, scratch_vhost

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *[".."] * 4))


def worker_env(tmp_path, amqp_url: str, wait_seconds: float) -> dict[str, str]:
    return {**os.environ, "COOP_DATA_DIR": str(tmp_path), "COOP_DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}",
            "COOP_AMQP_URL": amqp_url, "COOP_METRICS_PORT": "0", "COOP_DEV_MODE": "1",
            "COOP_BROKER_WAIT_SECONDS": str(wait_seconds)}


@pytest.fixture
def vhost_url():
    """A vhost of the test's own: the worker meets no other test's leftover events (their
    handlers' failures would log tracebacks of their own)."""
    with scratch_vhost("coop-broker-wait") as url:
        yield url


def broker_url_on(vhost_url: str, port: int, password: str | None = None) -> str:
    """`vhost_url` (its user and vhost) through 127.0.0.1:`port`."""
    url = urlparse(vhost_url)
    user = url.username or "guest"
    return f"amqp://{user}:{password or url.password or 'guest'}@127.0.0.1:{port}{url.path or '/'}"


def start_worker(tmp_path, amqp_url: str, wait_seconds: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "coop_membership.entrypoints.worker"], cwd=REPO_ROOT,
                            env=worker_env(tmp_path, amqp_url, wait_seconds), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


class BrokerProxy:
    """127.0.0.1:`listen_port` forwarding to the real broker once `open()` is called (green
    threads); `close()` stops them all and closes every socket, leaving no reader behind."""

    def __init__(self, listen_port: int) -> None:
        self.port = listen_port
        self.server: socket.socket | None = None
        self.sockets: list[socket.socket] = []
        self.threads: list = []

    def open(self) -> None:
        target = urlparse(AMQP_URL)
        self.server = socket.create_server(("127.0.0.1", self.port))

        def pipe(src: socket.socket, dst: socket.socket) -> None:
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except (OSError, EOFError):  # eventlet says EOFError on a socket closed under it
                pass

        def accept() -> None:
            while True:
                client, _ = self.server.accept()
                upstream = socket.create_connection((target.hostname or "127.0.0.1", target.port or 5672))
                self.sockets += [client, upstream]
                self.threads += [eventlet.spawn(pipe, client, upstream), eventlet.spawn(pipe, upstream, client)]

        self.threads.append(eventlet.spawn(accept))

    def close(self) -> None:
        for thread in self.threads:
            thread.kill()
        for s in [*self.sockets, *([self.server] if self.server else [])]:
            s.close()


def finish(proc: subprocess.Popen, timeout: float) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


@pytest.mark.rabbitmq
def test_a_worker_started_before_the_broker_waits_then_consumes(tmp_path, vhost_url):
    port = free_port()
    proc = start_worker(tmp_path, broker_url_on(vhost_url, port), wait_seconds=120)
    proxy = BrokerProxy(port)
    try:
        eventlet.sleep(4)  # the worker has met a refused connection by now
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        proxy.open()
        deadline = time.monotonic() + 90
        line = ""
        while "consuming from" not in line and time.monotonic() < deadline and proc.poll() is None:
            line = proc.stdout.readline()
        assert "membership worker: consuming from" in line, line
    finally:
        proc.terminate()
        code, _, err = finish(proc, 60)
        proxy.close()
    assert "unreachable" in err  # it said once that it was waiting
    assert "Traceback" not in err, err[-3000:]


@pytest.mark.rabbitmq
@pytest.mark.parametrize("case", ["unreachable", "bad credentials"])
def test_a_worker_that_cannot_reach_the_broker_exits_1_with_one_line(tmp_path, vhost_url, case):
    url = broker_url_on(vhost_url, free_port()) if case == "unreachable" else broker_url_on(
        vhost_url, urlparse(AMQP_URL).port or 5672, password="not-the-password")
    code, _, err = finish(start_worker(tmp_path, url, wait_seconds=2), 120)
    assert code == 1, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    said = [line for line in err.splitlines() if line.startswith("membership worker: ")]
    assert len(said) == 1, err[-3000:]
    assert ("unreachable after 2 s" in said[0]) if case == "unreachable" else ("refused our credentials" in said[0])
