"""Test helpers shared by every service's tests: real PostgreSQL databases, real RabbitMQ
queues, service processes started like `make run` does, and a TCP proxy that can cut
the broker off. Imported only by tests."""

from __future__ import annotations

import contextlib
import os
import select
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from kombu import Connection, Queue

from coop_domain.clock import local_date, utcnow
from coop_platform.amqp import event_exchange

PG_ADMIN_URL = os.environ.get("COOP_TEST_PG_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
#: The broker of the tests. `make test` (scripts/test.sh) puts it on a vhost of its own
#: ("coop-test"), so that the events and poison messages of a test run never reach the queues
#: of a `make run` on the same machine (its durable queues live on "/").
AMQP_URL = os.environ.get("COOP_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
TEST_VHOST = "coop-test"
REPO_ROOT = Path(__file__).resolve().parents[3]


_HANDED_OUT: set[int] = set()
_HANDED_OUT_LOCK = threading.Lock()


def free_port() -> int:
    """A port free on 127.0.0.1 now, and never one this process handed out before: the kernel
    may give a just-closed port again, and two of a Compose stack's host ports picked in a row
    then collide when Docker binds them ("port is already allocated")."""
    with _HANDED_OUT_LOCK:
        while True:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            if port not in _HANDED_OUT:
                _HANDED_OUT.add(port)
                return port


@contextlib.contextmanager
def postgres_database(prefix: str = "coop_test", *, template_url: str | None = None) -> Iterator[str]:
    """A brand-new PostgreSQL database (a copy of `template_url`'s when given), dropped
    afterwards; yields its SQLAlchemy URL."""
    from sqlalchemy import create_engine, text

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    create = f'CREATE DATABASE "{name}"'
    if template_url:
        create += f' TEMPLATE "{template_url.rsplit("/", 1)[1]}"'
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    for attempt in range(50):  # a template must have no session left; backends exit asynchronously
        try:
            with admin.connect() as conn:
                conn.execute(text(create))
            break
        except Exception:
            if not template_url or attempt == 49:
                raise
            time.sleep(0.2)
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def bound_queue(source_service: str, routing_key: str = "#", amqp_url: str = AMQP_URL) -> Iterator[Queue]:
    """A temporary queue bound to "<source_service>.events" (how a subscriber listens)."""
    name = f"test-{source_service}-{uuid.uuid4().hex[:8]}"
    with Connection(amqp_url) as conn:
        exchange = event_exchange(source_service)
        exchange(conn.default_channel).declare()
        queue = Queue(name, exchange=exchange, routing_key=routing_key, durable=True, auto_delete=False)
        queue(conn.default_channel).declare()
        try:
            yield queue
        finally:
            with contextlib.suppress(Exception):
                queue(conn.default_channel).delete()


def drain(queue: Queue, *, expect: int, timeout: float = 15.0, amqp_url: str = AMQP_URL) -> list[dict]:
    """Collect at least `expect` messages (or all that arrive before the timeout)."""
    import json

    got: list[dict] = []
    deadline = time.monotonic() + timeout
    with Connection(amqp_url) as conn:
        bound = queue(conn.default_channel)
        while time.monotonic() < deadline and len(got) < expect:
            message = bound.get(no_ack=True)
            if message is None:
                time.sleep(0.02)
                continue
            got.append(json.loads(message.body))
    return got


@dataclass
class ServiceProcess:
    """An api or worker process started the way `make run` starts it."""

    module: str
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen | None = None

    def start(self) -> ServiceProcess:
        self.log_file = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.module], env={**os.environ, **self.env},
            stdout=self.log_file, stderr=subprocess.STDOUT, cwd=REPO_ROOT,
        )
        return self

    def stop(self, sig: int = 15, timeout: float = 30) -> int | None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if hasattr(self, "log_file"):
            self.log_file.close()
        return self.proc.returncode if self.proc else None

    def kill(self) -> None:
        self.stop(sig=9)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def wait_for_health(port: int, timeout: float = 60.0, proc: ServiceProcess | None = None) -> None:
    from coop_platform.healthcheck import check

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check(f"127.0.0.1:{port}", timeout=1.0):
            return
        if proc and proc.proc and proc.proc.poll() is not None:
            raise RuntimeError(f"{proc.module} exited early:\n{proc.log()[-4000:]}")
        time.sleep(0.2)
    raise TimeoutError(f"gRPC health on {port} not SERVING after {timeout}s")


def wait_until(predicate, timeout: float = 15.0, interval: float = 0.05, message: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"{message} not met within {timeout}s")


def bearer(subject: str, *roles: str, tenant: str = "coop", ttl: int = 3600, **claims: object) -> list[tuple[str, str]]:
    """gRPC metadata with a development token (services in development mode accept it);
    `claims` go to coop_platform.auth.issue_token (audience, issuer, private_key, omit...)."""
    from coop_platform.auth import issue_token

    # A stack outside development mode (the Compose tests) trusts a throw-away issuer instead:
    # its key, issuer and key id are then in these variables (tests/e2e/conftest.py).
    key_file = os.environ.get("COOP_TEST_TOKEN_KEY_FILE")
    if key_file and "private_key" not in claims:
        from cryptography.hazmat.primitives import serialization

        claims = {"private_key": serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None),
                  "issuer": os.environ["COOP_TEST_TOKEN_ISSUER"], "key_id": os.environ["COOP_TEST_TOKEN_KID"],
                  **claims}
    token = issue_token(subject, roles, tenant=tenant, ttl_seconds=ttl, **claims)  # type: ignore[arg-type]
    return [("authorization", f"Bearer {token}")]


def bad_tokens() -> dict[str, list[tuple[str, str]]]:
    """gRPC metadata that every service must refuse with UNAUTHENTICATED, by what is wrong with
    it: each would pass if the check it names were missing (the hardening issue, point 2)."""
    import jwt
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from coop_platform.auth import issue_token
    from coop_platform.trust import DEV_ISSUER, DEV_KEY_ID

    stranger = Ed25519PrivateKey.generate()
    now = int(time.time())
    claims = {"sub": "admin-1", "tenant": "coop", "roles": ["admin"], "iat": now, "exp": now + 600,
              "iss": DEV_ISSUER, "aud": "coop-membership"}

    def md(token: str, scheme: str = "Bearer") -> list[tuple[str, str]]:
        return [("authorization", f"{scheme} {token}")]

    def dev(**kw: object) -> list[tuple[str, str]]:
        return md(issue_token("admin-1", ["admin"], **kw))  # type: ignore[arg-type]

    return {
        "expired": dev(now=now - 7200, ttl_seconds=600),
        "garbage": md("this.is.not-a-jwt"),
        "wrong-scheme": md(issue_token("admin-1", ["admin"]), scheme="Basic"),
        "empty-bearer": [("authorization", "Bearer ")],
        "forged-with-another-key": dev(private_key=stranger, key_id=DEV_KEY_ID),
        "untrusted-issuer": dev(issuer="https://id.attacker.example", private_key=stranger, key_id="k1"),
        "shared-secret-hs256": md(jwt.encode(claims, "a-shared-secret-long-enough-0123456789", algorithm="HS256",
                                             headers={"kid": DEV_KEY_ID})),
        "unsigned": md(jwt.encode(claims, None, algorithm="none")),
        "no-tenant": dev(omit=("tenant",)),
        "no-audience": dev(omit=("aud",)),
        "another-audience": dev(audience="coop-somewhere-else"),
        "no-issued-at": dev(omit=("iat",)),
        "no-expiry": dev(omit=("exp",)),
        "lifetime-over-maximum": dev(ttl_seconds=30 * 24 * 3600),
        "not-valid-yet": dev(extra_claims={"nbf": now + 3600}),
        "issued-in-the-future": dev(now=now + 3600),
        "audience-not-text": dev(extra_claims={"aud": {"coop-membership": True}}),
        "expiry-not-a-number": dev(extra_claims={"exp": "tomorrow"}),
        "not-three-parts": md(issue_token("admin-1", ["admin"]) + ".extra"),
    }


@dataclass
class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; `cut()` drops every connection and refuses new
    ones until `restore()`: the broker becomes unreachable without touching RabbitMQ itself."""

    target_host: str = "127.0.0.1"
    target_port: int = 5672
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        self._open = threading.Event()
        self._open.set()
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.1)
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        """AMQP_URL (user, vhost) through the proxy."""
        from urllib.parse import urlparse

        base = urlparse(AMQP_URL)
        credentials = base.netloc.rpartition("@")[0]
        return base._replace(netloc=f"{credentials}@127.0.0.1:{self.port}" if credentials
                             else f"127.0.0.1:{self.port}").geturl()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self._open.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection((self.target_host, self.target_port), timeout=3)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        sockets = [a, b]
        try:
            while not self._stop.is_set():
                readable, _, _ = select.select(sockets, [], [], 0.2)
                for s in readable:
                    data = s.recv(65536)
                    if not data:
                        return
                    (b if s is a else a).sendall(data)
        except OSError:
            return
        finally:
            for s in sockets:
                with contextlib.suppress(OSError):
                    s.close()

    def cut(self) -> None:
        self._open.clear()
        with self._lock:
            for s in self._conns:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
            self._conns.clear()

    def restore(self) -> None:
        self._open.set()

    def close(self) -> None:
        self._stop.set()
        self.cut()
        self._listener.close()


def _rabbitmqctl(*args: str, timeout: float = 60) -> str:
    return subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=timeout,
                          check=True).stdout


def ensure_vhost(name: str) -> str:
    """The AMQP URL of vhost `name` on the local broker, created (with the user's permissions)
    if it does not exist yet. Raises OSError or SubprocessError without rabbitmqctl."""
    from urllib.parse import urlparse

    base = urlparse(AMQP_URL)
    if name not in _rabbitmqctl("list_vhosts").split():
        _rabbitmqctl("add_vhost", name)
    _rabbitmqctl("set_permissions", "-p", name, base.username or "guest", ".*", ".*", ".*")
    return base._replace(path=f"/{name}").geturl()


@contextlib.contextmanager
def scratch_vhost(prefix: str = "coop-test") -> Iterator[str]:
    """An AMQP URL on a brand-new RabbitMQ vhost of the local broker, deleted afterwards with
    everything in it: the processes of a test then meet no queue, backlog or consumer of
    another session sharing the broker. Needs rabbitmqctl (the local broker); without it,
    yields AMQP_URL (the shared "/" vhost)."""
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    try:
        url = ensure_vhost(name)
    except (OSError, subprocess.SubprocessError):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            _rabbitmqctl("delete_vhost", name)
        yield AMQP_URL
        return
    try:
        yield url
    finally:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            _rabbitmqctl("delete_vhost", name)


def delete_queues_matching(*fragments: str, amqp_url: str = AMQP_URL) -> list[str]:
    """Delete broker queues whose names contain every fragment (e.g. a service's handler
    queues before a test starts its worker, so no backlog from earlier tests is in the way).
    Lists queues with rabbitmqctl (the local broker, in the URL's vhost); does nothing where it
    is not available."""
    from urllib.parse import unquote, urlparse

    vhost = unquote(urlparse(amqp_url).path[1:]) or "/"
    try:
        listed = subprocess.run(["rabbitmqctl", "list_queues", "-p", vhost, "name", "-q", "--no-table-headers"],
                                capture_output=True, text=True, timeout=60, check=True).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return []
    doomed = [name for name in listed if all(f in name for f in fragments)]
    with Connection(amqp_url) as conn:
        for name in doomed:
            with contextlib.suppress(Exception):
                conn.default_channel.queue_delete(name)
    return doomed


def cooperative_today() -> date:
    """Today where the services count days (the cooperative's time zone, Brussels), not on the test
    machine's clock: from 23:00 to midnight UTC in winter the two differ, and a test would too."""
    return local_date(utcnow())
