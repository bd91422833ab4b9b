"""The end-to-end platform, two ways (DESIGN section 4; issue 2 section 5).

The tests in this directory are written once against a `platform` fixture that is
parametrized:

- ``compose``: docker-compose.yml (profile ``full``) brought up by pytest-docker. It needs a
  Docker engine; where ``docker info`` fails (as on the build machines and in CI) this variant
  is skipped, and only this one.
- ``local``: the processes `make run` starts, on this machine's RabbitMQ with SQLite files in
  a temporary COOP_DATA_DIR. The membership api and worker are started as ServiceProcess
  exactly as coop_platform.devrun starts them (same modules, same COOP_* variables) but on
  free ports instead of devrun's fixed 50051/9101/9201: those would clash with a developer's
  running `make run` or another test session on the same machine. devrun itself (start,
  Ctrl-C, no orphans, RabbitMQ down) is covered in test_make_run.py.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from kombu import Connection, Queue

from coop_platform.config import DEV_JWT_SECRET
from coop_platform.healthcheck import check
from coop_platform.testing import (
    AMQP_URL,
    REPO_ROOT,
    ServiceProcess,
    bound_queue,
    free_port,
    wait_for_health,
    wait_until,
)

# The queue nameko declares for MembershipWorker.on_share_paid (worker entrypoint module; not
# imported here because it monkey-patches the process with eventlet, DESIGN D1).
SHARE_PAID_QUEUE = "evt-billing-share.paid--membership.on_share_paid"
COMPOSE_PROFILE = "full"


def docker_engine_available() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


# -- pytest-docker configuration (used only by the compose variant) ---------------------------

@pytest.fixture(scope="session")
def docker_compose_file() -> str:
    return str(REPO_ROOT / "docker-compose.yml")


@pytest.fixture(scope="session")
def docker_compose_command() -> str:
    # every subcommand (up, port, exec, down) then addresses the same profile
    return f"docker compose --profile {COMPOSE_PROFILE}"


@pytest.fixture(scope="session")
def docker_setup() -> list[str]:
    # not --wait: the one-shot *-migrate containers exit by design
    return ["up --build -d"]


@pytest.fixture(scope="session")
def docker_cleanup() -> list[str]:
    return ["down -v"]


# -- the platform under test ------------------------------------------------------------------

@dataclass
class Platform:
    kind: str
    grpc_target: str
    amqp_url: str
    jwt_secret: str
    metrics_text: Callable[[str], str]  # "api" | "worker" -> Prometheus exposition text
    processes: dict[str, ServiceProcess] = field(default_factory=dict)


def _http_get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as reply:  # noqa: S310 - local test endpoint
        return reply.read().decode()


def share_paid_consumers(amqp_url: str) -> int:
    """How many consumers the membership worker's share.paid queue has (0 if it does not exist)."""
    try:
        with Connection(amqp_url, connect_timeout=3) as conn:
            _, _, consumers = Queue(SHARE_PAID_QUEUE, channel=conn.default_channel).queue_declare(passive=True)
            return int(consumers)
    except Exception:  # noqa: BLE001 - not declared yet
        return 0


@pytest.fixture(scope="module", params=["compose", "local"])
def platform(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    if request.param == "compose":
        yield from _compose_platform(request)
    else:
        yield from _local_platform(tmp_path_factory)


def _compose_platform(request: pytest.FixtureRequest) -> Iterator[Platform]:
    if not docker_engine_available():
        pytest.skip("no Docker engine (`docker info` fails): the Compose run of the end-to-end tests "
                    "needs one; the same tests run against local processes (platform[local])")
    services = request.getfixturevalue("docker_services")
    ip = request.getfixturevalue("docker_ip")
    grpc_target = f"{ip}:{services.port_for('membership-api', 50051)}"
    amqp_url = f"amqp://guest:guest@{ip}:{services.port_for('rabbitmq', 5672)}/"
    services.wait_until_responsive(check=lambda: check(grpc_target, timeout=2), timeout=600, pause=2)
    services.wait_until_responsive(check=lambda: share_paid_consumers(amqp_url) > 0, timeout=300, pause=2)
    compose = shlex.split(request.getfixturevalue("docker_compose_command"))
    compose += ["-f", request.getfixturevalue("docker_compose_file"),
                "-p", request.getfixturevalue("docker_compose_project_name")]
    metrics_ports = {"api": ("membership-api", 9101), "worker": ("membership-worker", 9201)}

    def metrics_text(role: str) -> str:
        service, port = metrics_ports[role]
        script = f"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:{port}/metrics').read().decode())"
        return subprocess.run([*compose, "exec", "-T", service, "python", "-c", script],
                              capture_output=True, text=True, check=True, timeout=60).stdout

    yield Platform("compose", grpc_target, amqp_url,
                   os.environ.get("COOP_JWT_SECRET") or DEV_JWT_SECRET, metrics_text)


def _local_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data_dir: Path = tmp_path_factory.mktemp("coop-data")
    grpc_port, api_metrics, worker_metrics = free_port(), free_port(), free_port()
    secret = f"e2e-{uuid.uuid4().hex}"
    common = {
        "COOP_DATA_DIR": str(data_dir),   # SQLite files there, as `make run` does under var/
        "COOP_DATABASE_URL": "",          # empty = unset: never inherit a database from the caller
        "COOP_AMQP_URL": AMQP_URL,
        "COOP_JWT_SECRET": secret,
        "COOP_GRPC_PORT": str(grpc_port),
    }
    api = ServiceProcess("coop_membership.entrypoints.grpc_api",
                         {**common, "COOP_METRICS_PORT": str(api_metrics)}, data_dir / "api.log")
    worker = ServiceProcess("coop_membership.entrypoints.worker",
                            {**common, "COOP_METRICS_PORT": str(worker_metrics)}, data_dir / "worker.log")
    api.start()
    worker.start()
    try:
        wait_for_health(grpc_port, timeout=60, proc=api)

        def worker_ready() -> bool:
            if worker.proc.poll() is not None:
                raise RuntimeError(f"the worker exited early:\n{worker.log()[-4000:]}")
            return "worker: consuming" in worker.log()

        wait_until(worker_ready, timeout=60, interval=0.1, message="the membership worker consuming")
        metrics_urls = {"api": f"http://127.0.0.1:{api_metrics}/metrics",
                        "worker": f"http://127.0.0.1:{worker_metrics}/metrics"}
        yield Platform("local", f"127.0.0.1:{grpc_port}", AMQP_URL, secret,
                       lambda role: _http_get(metrics_urls[role]), {"api": api, "worker": worker})
    finally:
        codes = {name: p.stop(sig=15, timeout=30) for name, p in (("api", api), ("worker", worker))}
        bad = {name: code for name, code in codes.items() if code not in (0, -15)}
        assert not bad, f"unclean stop {bad}:\n{api.log()[-2000:]}\n{worker.log()[-2000:]}"


@dataclass
class EventTap:
    """Consumes a test queue bound to "<service>.events", keeping what it saw."""

    queue: Queue
    amqp_url: str
    seen: list[dict[str, Any]] = field(default_factory=list)

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30.0) -> dict[str, Any]:
        """The first event (envelope plus "_amqp" message properties) matching `predicate`."""
        for event in self.seen:
            if predicate(event):
                return event
        deadline = time.monotonic() + timeout
        with Connection(self.amqp_url) as conn:
            bound = self.queue(conn.default_channel)
            while time.monotonic() < deadline:
                message = bound.get(no_ack=True)
                if message is None:
                    time.sleep(0.02)
                    continue
                event = json.loads(message.body)
                event["_amqp"] = dict(message.properties)
                self.seen.append(event)
                if predicate(event):
                    return event
        raise AssertionError(f"no matching event within {timeout}s; saw {[e.get('type') for e in self.seen]}")


@pytest.fixture
def membership_events(platform: Platform) -> Iterator[EventTap]:
    """A subscriber's queue bound to membership.events (every routing key), deleted afterwards."""
    with bound_queue("membership", "#", amqp_url=platform.amqp_url) as queue:
        yield EventTap(queue, platform.amqp_url)


@pytest.fixture
def grpc_channel(platform: Platform) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(platform.grpc_target) as chan:
        yield chan
