"""The end-to-end platform, two ways (DESIGN section 4; issue 2 section 5).

The tests in this directory are written once against a `platform` fixture that is
parametrized:

- ``compose``: docker-compose.yml (profile ``full``) brought up by pytest-docker. It needs a
  Docker engine; where ``docker info`` fails (as on the build machines and in CI) this variant
  is skipped, and only this one.
- ``local``: the processes `make run` starts, on this machine's RabbitMQ with SQLite files in
  a temporary COOP_DATA_DIR. The membership api and worker are started as ServiceProcess
  exactly as coop_cli.devrun starts them (same modules, same COOP_* variables) but on
  free ports instead of devrun's fixed 50051/9101/9201: those would clash with a developer's
  running `make run` or another test session on the same machine. devrun itself (start,
  Ctrl-C, no orphans, RabbitMQ down) is covered in test_make_run.py.

`elections_platform` is the same two ways with the elections api and worker as well (the
election flow through RabbitMQ). Locally it runs on a RabbitMQ vhost of its own: the elections
worker projects every member.* event on its broker, so a shared vhost would mix in the members
(and the competing consumers) of any other session; and its worker's timer ticks every
second (COOP_ELECTIONS_TICK_SECONDS) so that elections can open and close seconds ahead.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from kombu import Connection, Queue

from coop_platform.healthcheck import check
from coop_platform.registry import services as installed_services
from coop_testkit import (
    AMQP_URL,
    REPO_ROOT,
    ServiceProcess,
    bound_queue,
    free_port,
    scratch_vhost,
    wait_for_health,
    wait_until,
)

# The queue nameko declares for MembershipWorker.on_share_paid (worker entrypoint module; not
# imported here because it monkey-patches the process with eventlet, DESIGN D1).
SHARE_PAID_QUEUE = "evt-billing-share.paid--membership.on_share_paid"
# Likewise the elections worker's queue for member.admitted (ElectionsWorker.on_member_admitted).
ELECTIONS_MEMBER_ADMITTED_QUEUE = "evt-membership-member.admitted--elections.on_member_admitted"
COMPOSE_PROFILE = "full"
# The elections worker's timer interval: 1 s for the local processes; docker-compose.yml passes
# the same variable to the elections-worker container (default 15 s, the production value).
LOCAL_ELECTIONS_TICK_SECONDS = 1.0


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
    metrics_text: Callable[[str], str]  # "api" | "worker" -> membership's Prometheus exposition text
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    targets: dict[str, str] = field(default_factory=dict)  # service -> gRPC host:port
    elections_tick_seconds: float = 15.0  # how late the elections worker may open, close, build rolls


def _http_get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as reply:  # noqa: S310 - local test endpoint
        return reply.read().decode()


def queue_consumers(amqp_url: str, queue: str) -> int:
    """How many consumers a worker's handler queue has (0 if it does not exist)."""
    try:
        with Connection(amqp_url, connect_timeout=3) as conn:
            _, _, consumers = Queue(queue, channel=conn.default_channel).queue_declare(passive=True)
            return int(consumers)
    except Exception:  # noqa: BLE001 - not declared yet
        return 0


def share_paid_consumers(amqp_url: str) -> int:
    """How many consumers the membership worker's share.paid queue has (0 if it does not exist)."""
    return queue_consumers(amqp_url, SHARE_PAID_QUEUE)


@pytest.fixture(scope="module", params=["compose", "local"])
def platform(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    if request.param == "compose":
        yield from _compose_platform(request)
    else:
        yield from _local_platform(tmp_path_factory)


@pytest.fixture(scope="module", params=["compose", "local"])
def elections_platform(request: pytest.FixtureRequest,
                       tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """Membership and elections (api and worker each), talking through RabbitMQ."""
    services = ("membership", "elections")
    if request.param == "compose":
        yield from _compose_platform(request, services)
    else:
        with scratch_vhost("coop-e2e") as amqp_url:
            yield from _local_platform(tmp_path_factory, services, amqp_url=amqp_url,
                                       extra_env={"COOP_ELECTIONS_TICK_SECONDS": str(LOCAL_ELECTIONS_TICK_SECONDS)})


@pytest.fixture(scope="module")
def all_services_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """Membership, billing and elections (api and worker each) as `make run` starts them, on a
    broker vhost of their own."""
    with scratch_vhost("coop-e2e") as amqp_url:
        yield from _local_platform(tmp_path_factory, ("membership", "billing", "elections"), amqp_url=amqp_url)


def _compose_platform(request: pytest.FixtureRequest,
                      service_names: tuple[str, ...] = ("membership",)) -> Iterator[Platform]:
    if not docker_engine_available():
        pytest.skip("no Docker engine (`docker info` fails): the Compose run of the end-to-end tests "
                    "needs one; the same tests run against local processes (the [local] variant)")
    services = request.getfixturevalue("docker_services")
    ip = request.getfixturevalue("docker_ip")
    targets = {name: f"{ip}:{services.port_for(f'{name}-api', installed_services()[name].grpc_port)}" for name in service_names}
    grpc_target = targets["membership"]
    # no guest user there: RabbitMQ loads coop broker definitions with an administrator of the env file
    admin = f"{os.environ.get('RABBITMQ_ADMIN_USER', 'coop-admin')}:{os.environ.get('RABBITMQ_ADMIN_PASSWORD', '')}"
    amqp_url = f"amqp://{admin}@{ip}:{services.port_for('rabbitmq', 5672)}/"
    for target in targets.values():
        services.wait_until_responsive(check=lambda t=target: check(t, timeout=2), timeout=600, pause=2)
    services.wait_until_responsive(check=lambda: share_paid_consumers(amqp_url) > 0, timeout=300, pause=2)
    if "elections" in service_names:
        services.wait_until_responsive(
            check=lambda: queue_consumers(amqp_url, ELECTIONS_MEMBER_ADMITTED_QUEUE) > 0, timeout=300, pause=2)
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
                   metrics_text, targets=targets,
                   elections_tick_seconds=float(os.environ.get("COOP_ELECTIONS_TICK_SECONDS") or 15))


def _local_platform(tmp_path_factory: pytest.TempPathFactory, service_names: tuple[str, ...] = ("membership",),
                    *, amqp_url: str = AMQP_URL, extra_env: dict[str, str] | None = None) -> Iterator[Platform]:
    data_dir: Path = tmp_path_factory.mktemp("coop-data")
    common = {
        "COOP_DATA_DIR": str(data_dir),   # SQLite files there, as `make run` does under var/
        "COOP_DATABASE_URL": "",          # empty = unset: never inherit a database from the caller
        "COOP_AMQP_URL": amqp_url,
        "COOP_DEV_MODE": "1",         # the development signing key (tests' tokens)
        **(extra_env or {}),
    }
    grpc_ports: dict[str, int] = {}
    metrics_ports: dict[str, int] = {}
    processes: dict[str, ServiceProcess] = {}
    for name in service_names:
        grpc_ports[name] = free_port()
        # membership keeps its historical log and process names ("api", "worker")
        prefix = "" if name == "membership" else f"{name}-"
        for role, module in (("api", "grpc_api"), ("worker", "worker")):
            metrics_ports[prefix + role] = free_port()
            env = {**common, "COOP_GRPC_PORT": str(grpc_ports[name]),
                   "COOP_METRICS_PORT": str(metrics_ports[prefix + role])}
            processes[prefix + role] = ServiceProcess(f"coop_{name}.entrypoints.{module}", env,
                                                      data_dir / f"{prefix}{role}.log")
    for proc in processes.values():
        proc.start()
    try:
        for name in service_names:
            prefix = "" if name == "membership" else f"{name}-"
            wait_for_health(grpc_ports[name], timeout=60, proc=processes[prefix + "api"])
            worker = processes[prefix + "worker"]

            def worker_ready(worker: ServiceProcess = worker) -> bool:
                if worker.proc.poll() is not None:
                    raise RuntimeError(f"{worker.module} exited early:\n{worker.log()[-4000:]}")
                return "worker: consuming" in worker.log()

            wait_until(worker_ready, timeout=60, interval=0.1, message=f"the {name} worker consuming")
        metrics_urls = {role: f"http://127.0.0.1:{port}/metrics" for role, port in metrics_ports.items()}
        yield Platform("local", f"127.0.0.1:{grpc_ports['membership']}", amqp_url,
                       lambda role: _http_get(metrics_urls[role]), processes,
                       targets={name: f"127.0.0.1:{port}" for name, port in grpc_ports.items()},
                       elections_tick_seconds=float((extra_env or {}).get("COOP_ELECTIONS_TICK_SECONDS") or 15))
    finally:
        codes = {name: p.stop(sig=15, timeout=30) for name, p in processes.items()}
        bad = {name: code for name, code in codes.items() if code not in (0, -15)}
        logs = "\n".join(f"--- {name}\n{p.log()[-2000:]}" for name, p in processes.items() if name in bad)
        assert not bad, f"unclean stop {bad}:\n{logs}"


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


@pytest.fixture
def elections_events(elections_platform: Platform) -> Iterator[EventTap]:
    """A subscriber's queue bound to elections.events (every routing key), deleted afterwards."""
    with bound_queue("elections", "#", amqp_url=elections_platform.amqp_url) as queue:
        yield EventTap(queue, elections_platform.amqp_url)
