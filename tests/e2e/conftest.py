"""The end-to-end platform, two ways (DESIGN section 4; issue 2 section 5).

The tests in this directory are written once against a `platform` fixture that is
parametrized:

- ``compose``: docker-compose.yml (profile ``full``, Grafana aside) brought up once per session
  by pytest-docker with Debian's docker-compose 1.29, on the images `make images` builds, with a
  throw-away env file (random passwords, free host ports) and a test token issuer: the stack
  runs outside development mode. scripts/ensure_docker.sh installs and starts the engine; only
  where it cannot is this variant skipped, with its reason.
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

import contextlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
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

from coop_platform.healthcheck import check
from coop_platform.registry import services as installed_services

# helper modules of this directory (election_helpers.py) for the tests (import mode importlib)
sys.path.insert(0, str(Path(__file__).parent))

from board_helpers import Board  # noqa: E402
from election_helpers import Coop  # noqa: E402

from coop_testkit import (  # noqa: E402
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
# The board worker's queue for election.results_published (BoardWorker.on_election_results_published).
BOARD_ELECTION_RESULTS_QUEUE = "evt-elections-election.results_published--board.on_election_results_published"
COMPOSE_PROFILE = "full"
# The elections worker's timer interval in test_notifications_flow.py: long enough that a member
# votes between an election's opening instant and the tick that announces it (with
# election.closing_soon, at once for an election closing within 24 h), since the test plans the
# opening on the timer's phase; short enough that the election opens and closes in two minutes.
NOTIFICATIONS_ELECTIONS_TICK_SECONDS = 10.0
# The elections worker's timer interval: 1 s for the local processes; docker-compose.yml passes
# the same variable to the elections-worker container (default 15 s, the production value).
LOCAL_ELECTIONS_TICK_SECONDS = 1.0
# The board's participation settings for the end-to-end tests (test_participation_flow.py): an
# initiative's admissibility, collection and outcome windows of seconds, a worker ticking every
# second, a fixed threshold, and agendas that freeze only when the meeting starts (so that a
# meeting a minute ahead can still take a forced item). Locally and in the Compose env file;
# docker-compose.yml passes them to the board's containers (production defaults otherwise).
BOARD_PARTICIPATION_ENV = {
    "COOP_BOARD_INITIATIVE_ADMISSIBILITY_DAYS": "15s",
    "COOP_BOARD_INITIATIVE_COLLECTION_DAYS": "60s",
    "COOP_BOARD_INITIATIVE_OUTCOME_DAYS": "30s",
    "COOP_BOARD_INITIATIVE_THRESHOLD": "3",
    "COOP_BOARD_INITIATIVE_TICK_SECONDS": "1",
    "COOP_BOARD_AGENDA_FREEZE_DAYS": "0",
}


def docker_engine_available() -> bool:
    if shutil.which("docker") is None or shutil.which("docker-compose") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _no_engine_reason() -> str:
    """Why the Compose variant cannot run: scripts/ensure_docker.sh (run by `make test`, and
    here when it was not) installs and starts the engine where it can, and says why not."""
    proc = subprocess.run(["bash", str(REPO_ROOT / "scripts" / "ensure_docker.sh")],
                          capture_output=True, text=True, timeout=900)
    if proc.returncode == 0 and docker_engine_available():
        return ""
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    return lines[-1] if lines else "scripts/ensure_docker.sh failed"


# -- the Compose stack (docker-compose 1.29 through pytest-docker) ----------------------------

# Grafana is in profile full for those who can pull its image (it is not in Debian): the tests
# start every other service of the profile.
NOT_STARTED = {"grafana"}
TEST_ISSUER = "https://issuer.compose-test.invalid"
TEST_KID = "compose-test-1"
COMPOSE_TIMINGS = REPO_ROOT / "build" / "compose" / "timings.json"


@dataclass
class ComposeStack:
    """A throw-away env file (random passwords, free host ports, the images `make images`
    built), the Compose file rendered for docker-compose 1.29, and a test issuer's key."""

    folder: Path
    env_file: Path
    compose_file: Path
    env: dict[str, str]
    key_file: Path

    def base_command(self) -> list[str]:
        return ["docker-compose", "--project-directory", str(REPO_ROOT), "--env-file", str(self.env_file),
                "--profile", COMPOSE_PROFILE]

    def command(self, project: str, *args: str, file: Path | None = None) -> list[str]:
        return [*self.base_command(), "-f", str(file or self.compose_file), "-p", project, *args]

    def run(self, project: str, *args: str, timeout: float = 300, check: bool = True,
            file: Path | None = None) -> str:
        proc = subprocess.run(self.command(project, *args, file=file), capture_output=True, text=True,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"docker-compose {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")
        return proc.stdout

    def services(self, project: str, file: Path | None = None) -> list[str]:
        return [n for n in self.run(project, "config", "--services", file=file).split() if n not in NOT_STARTED]

    def container(self, project: str, service: str, file: Path | None = None) -> str:
        return self.run(project, "ps", "-q", service, file=file).strip()

    def health(self, project: str, file: Path | None = None) -> dict[str, str]:
        """service -> health ("healthy", "starting", ...), "exited <code>" for one-shots, or
        "running" without a healthcheck."""
        out: dict[str, str] = {}
        ids = self.run(project, "ps", "-q", file=file).split()
        if not ids:
            return out
        fmt = ('{{index .Config.Labels "com.docker.compose.service"}} {{.State.Status}} {{.State.ExitCode}} '
               '{{if .State.Health}}{{.State.Health.Status}}{{end}}')
        for line in subprocess.run(["docker", "inspect", "-f", fmt, *ids], capture_output=True, text=True,
                                   timeout=60).stdout.splitlines():
            name, status, code, *health = line.split()
            out[name] = health[0] if health else (f"exited {code}" if status == "exited" else status)
        return out

    def wait_healthy(self, project: str, timeout: float = 600, file: Path | None = None) -> float:
        """Wait until every api and worker is healthy, the one-shots exited 0, the rest running;
        the seconds it took."""
        started = time.monotonic()
        expected = set(self.services(project, file))
        state: dict[str, str] = {}
        while time.monotonic() - started < timeout:
            state = self.health(project, file)
            bad = {n: s for n, s in state.items() if s.startswith("exited") and s != "exited 0"}
            assert not bad, f"containers failed: {bad}\n{self.run(project, 'logs', '--tail', '40', check=False, file=file)[-6000:]}"
            if set(state) >= expected and all(s in ("healthy", "exited 0", "running") for s in state.values()):
                return time.monotonic() - started
            time.sleep(1)
        raise AssertionError(f"not healthy within {timeout}s: {state}\n"
                             f"{self.run(project, 'logs', '--tail', '40', check=False, file=file)[-6000:]}")


def _write_env(folder: Path, extra: dict[str, str]) -> dict[str, str]:
    images = REPO_ROOT / "build" / "docker" / "images.env"
    env = {line.split("=", 1)[0]: line.split("=", 1)[1] for line in images.read_text().splitlines()
           if "=" in line and not line.startswith("#")}
    # every password and secret the example env file asks for (tests/deploy checks it lists
    # exactly what Compose requires)
    example = (REPO_ROOT / "deploy" / "compose.env.example").read_text()
    for key in re.findall(r"^([A-Z][A-Z0-9_]*_(?:PASSWORD|SECRET))=", example, re.M):
        env[key] = uuid.uuid4().hex
    # never the host's own ports (its PostgreSQL and RabbitMQ, a developer's `make run`)
    for name in ("MEMBERSHIP", "BILLING", "ELECTIONS", "BOARD", "NOTIFICATIONS", "AMQP", "RABBITMQ_UI", "PROMETHEUS", "GRAFANA"):
        env[f"COOP_{name}_HOST_PORT"] = str(free_port())
    env["COOP_AUTH_DIR"] = str(folder / "auth")
    env["COOP_ELECTIONS_TICK_SECONDS"] = "1"
    env.update(BOARD_PARTICIPATION_ENV)
    env.update(extra)
    (folder / "compose.env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    (folder / "compose.env").chmod(0o600)
    return env


@pytest.fixture(scope="session")
def compose_stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> ComposeStack:
    """Skips only where no Docker engine can run; builds the images (cached: `make images`)."""
    reason = "" if docker_engine_available() else _no_engine_reason()
    if reason:
        pytest.skip(f"no Docker engine: {reason}")
    started = time.monotonic()
    build = subprocess.run(["bash", str(REPO_ROOT / "deploy" / "docker" / "build_images.sh")],
                           capture_output=True, text=True, timeout=1800)
    assert build.returncode == 0, f"make images failed:\n{build.stdout}{build.stderr}"
    _record_timing("images_seconds", time.monotonic() - started)
    folder = tmp_path_factory.mktemp("compose")
    keys = folder / "keys"
    subprocess.run([str(Path(sys.executable).parent / "coop"), "keys", "new", "--issuer", TEST_ISSUER,
                    "--tenant", "coop", "--tenant", "partner-a", "--name", "compose-test", "--kid", TEST_KID,
                    "--kind", "ec", "--out", str(keys)], check=True, capture_output=True, timeout=60)
    auth = folder / "auth"
    auth.mkdir()
    shutil.copy(keys / "compose-test.jwks.json", auth / "compose-test.jwks.json")
    (auth / "issuers.json").write_text(json.dumps({"issuers": [
        {"issuer": TEST_ISSUER, "tenants": ["coop", "partner-a"], "jwks_file": "compose-test.jwks.json"}]}))
    auth.chmod(0o755)  # the api containers run as uid 10001
    for f in auth.iterdir():
        f.chmod(0o644)
    env = _write_env(folder, {})
    rendered = {}
    for name in ("docker-compose.yml", "docker-compose.partner-elections.yml"):
        proc = subprocess.run([sys.executable, str(REPO_ROOT / "deploy" / "docker" / "compose_v1.py"),
                               str(REPO_ROOT / name), "--env-file", str(folder / "compose.env")],
                              capture_output=True, text=True, check=True, timeout=60)
        rendered[name] = folder / name
        rendered[name].write_text(proc.stdout)
    stack = ComposeStack(folder, folder / "compose.env", rendered["docker-compose.yml"], env,
                         keys / "compose-test.key.pem")

    def leave_nothing() -> None:
        # pytest-docker runs no cleanup when its setup command fails: remove what a failed `up`
        # left (a no-op for projects already down)
        for project, file in ((f"coope2e{os.getpid()}", stack.compose_file),
                              (f"coop-partner{os.getpid()}", folder / "docker-compose.partner-elections.yml")):
            stack.run(project, "down", "-v", "--remove-orphans", file=file, check=False, timeout=300)

    request.addfinalizer(leave_nothing)
    return stack


@pytest.fixture(scope="session")
def partner_compose_stack(compose_stack: ComposeStack) -> ComposeStack:
    """The partner file, with an env file of its own: other host ports, so that it may run while
    the full stack is up."""
    folder = compose_stack.folder / "partner"
    folder.mkdir()
    env = _write_env(folder, {"COOP_AUTH_DIR": str(compose_stack.folder / "auth")})
    return ComposeStack(folder, folder / "compose.env", compose_stack.folder / "docker-compose.partner-elections.yml",
                        env, compose_stack.key_file)


def _record_timing(key: str, seconds: float) -> None:
    """Figures for bench/README.md ("Compose"), kept in build/compose/timings.json."""
    COMPOSE_TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(COMPOSE_TIMINGS.read_text()) if COMPOSE_TIMINGS.exists() else {}
    data[key] = round(seconds, 1)
    COMPOSE_TIMINGS.write_text(json.dumps(data, indent=2) + "\n")


@pytest.fixture(scope="session")
def record_timing() -> Callable[[str, float], None]:
    return _record_timing


@contextlib.contextmanager
def signed_by_test_issuer(stack: ComposeStack) -> Iterator[None]:
    """coop_testkit.bearer signs with the test issuer's key while the stack is in use."""
    values = {"COOP_TEST_TOKEN_KEY_FILE": str(stack.key_file), "COOP_TEST_TOKEN_ISSUER": TEST_ISSUER,
              "COOP_TEST_TOKEN_KID": TEST_KID}
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# -- pytest-docker configuration (used only by the compose variant) ---------------------------

@pytest.fixture(scope="session")
def docker_compose_file(compose_stack: ComposeStack) -> str:
    return str(compose_stack.compose_file)


@pytest.fixture(scope="session")
def docker_compose_command(compose_stack: ComposeStack) -> str:
    # Debian's docker-compose 1.29 (no compose plugin for the docker client here); every
    # subcommand (up, port, exec, down) then addresses the same env file and profile
    return " ".join(shlex.quote(a) for a in compose_stack.base_command())


@pytest.fixture(scope="session")
def docker_compose_project_name() -> str:
    return f"coope2e{os.getpid()}"


@pytest.fixture(scope="session")
def docker_setup(compose_stack: ComposeStack, docker_compose_project_name: str) -> list[str]:
    # not --wait (not in 1.29): _compose_platform waits for every service to be healthy
    services = compose_stack.services(docker_compose_project_name)
    compose_stack.up_started = time.monotonic()  # type: ignore[attr-defined]
    return [f"up -d {' '.join(services)}"]


@pytest.fixture(scope="session")
def docker_cleanup() -> list[str]:
    return ["down -v --remove-orphans"]


@pytest.fixture(scope="session")
def compose_project(request: pytest.FixtureRequest, compose_stack: ComposeStack) -> str:
    """The full profile up (once per session) and every service healthy: the project name."""
    request.getfixturevalue("docker_services")
    project = request.getfixturevalue("docker_compose_project_name")
    compose_stack.wait_healthy(project)
    _record_timing("up_to_healthy_seconds", time.monotonic() - compose_stack.up_started)  # type: ignore[attr-defined]
    return project


# -- the platform under test ------------------------------------------------------------------

@dataclass
class Platform:
    kind: str
    grpc_target: str
    amqp_url: str
    metrics_text: Callable[[str], str]  # "api" | "worker" (membership), "board-api" | "board-worker"
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


@pytest.fixture(scope="module", params=["compose", "local"])
def board_platform(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """Membership, elections and the board (api and worker each), talking through RabbitMQ: an
    election's results create the board's mandates. Locally on a vhost of its own, as
    `elections_platform` and for the same reasons (the board worker projects member events too)."""
    services = ("membership", "elections", "board")
    if request.param == "compose":
        yield from _compose_platform(request, services)
    else:
        with scratch_vhost("coop-e2e-board") as amqp_url:
            yield from _local_platform(tmp_path_factory, services, amqp_url=amqp_url,
                                       extra_env={"COOP_ELECTIONS_TICK_SECONDS": str(LOCAL_ELECTIONS_TICK_SECONDS),
                                                  **BOARD_PARTICIPATION_ENV})


@pytest.fixture(scope="module")
def notifications_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """Membership, elections, the board and notifications (api and worker each) as `make run`
    starts them, local only (test_notifications_flow.py says why), on a vhost of their own: the
    notifications worker sends through the test Postfix and reads bounces from Dovecot
    (scripts/ensure_mail.sh, notification_helpers.mail_env); the notifications api answers
    one-click unsubscribes; the elections worker ticks every NOTIFICATIONS_ELECTIONS_TICK_SECONDS."""
    from notification_helpers import mail_env  # the templates' catalogs: only where this runs

    from coop_testkit.mailbox import mail_path

    path = mail_path()
    services = ("membership", "elections", "board", "notifications")
    with scratch_vhost("coop-e2e-notif") as amqp_url:
        yield from _local_platform(tmp_path_factory, services, amqp_url=amqp_url, extra_env={
            "COOP_ELECTIONS_TICK_SECONDS": str(NOTIFICATIONS_ELECTIONS_TICK_SECONDS),
            **mail_env(path, free_port())})


@pytest.fixture(scope="module")
def all_services_compose(request: pytest.FixtureRequest) -> Iterator[Platform]:
    """Membership, billing and elections in the Compose stack. Unlike `platform`, it does not
    make coop_testkit.bearer sign with the test issuer for the rest of the module: wrap the
    calls in `compose_tokens()`."""
    yield from _compose_platform(request, ("membership", "billing", "elections"), sign=False)


@pytest.fixture(scope="session")
def compose_tokens(compose_stack: ComposeStack) -> Callable[[], contextlib.AbstractContextManager[None]]:
    """A context manager in which coop_testkit.bearer signs with the Compose stack's issuer."""
    return lambda: signed_by_test_issuer(compose_stack)


@pytest.fixture(scope="module")
def all_services_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """Membership, billing and elections (api and worker each) as `make run` starts them, on a
    broker vhost of their own."""
    with scratch_vhost("coop-e2e") as amqp_url:
        yield from _local_platform(tmp_path_factory, ("membership", "billing", "elections"), amqp_url=amqp_url)


def _compose_platform(request: pytest.FixtureRequest, service_names: tuple[str, ...] = ("membership",),
                      *, sign: bool = True) -> Iterator[Platform]:
    stack: ComposeStack = request.getfixturevalue("compose_stack")
    project = request.getfixturevalue("compose_project")
    services = request.getfixturevalue("docker_services")
    ip = request.getfixturevalue("docker_ip")
    targets = {name: f"{ip}:{services.port_for(f'{name}-api', installed_services()[name].grpc_port)}" for name in service_names}
    grpc_target = targets["membership"]
    # no guest user there: RabbitMQ loads coop broker definitions with an administrator of the env file
    admin = f"{stack.env.get('RABBITMQ_ADMIN_USER', 'coop-admin')}:{stack.env['RABBITMQ_ADMIN_PASSWORD']}"
    amqp_url = f"amqp://{admin}@{ip}:{services.port_for('rabbitmq', 5672)}/"
    for target in targets.values():
        services.wait_until_responsive(check=lambda t=target: check(t, timeout=2), timeout=600, pause=2)
    services.wait_until_responsive(check=lambda: share_paid_consumers(amqp_url) > 0, timeout=300, pause=2)
    if "elections" in service_names:
        services.wait_until_responsive(
            check=lambda: queue_consumers(amqp_url, ELECTIONS_MEMBER_ADMITTED_QUEUE) > 0, timeout=300, pause=2)
    if "board" in service_names:
        services.wait_until_responsive(
            check=lambda: queue_consumers(amqp_url, BOARD_ELECTION_RESULTS_QUEUE) > 0, timeout=300, pause=2)
    metrics_ports = {"api": ("membership-api", 9101), "worker": ("membership-worker", 9201),
                     "board-api": ("board-api", 9104), "board-worker": ("board-worker", 9204)}

    def metrics_text(role: str) -> str:
        service, port = metrics_ports[role]
        script = f"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:{port}/metrics').read().decode())"
        return stack.run(project, "exec", "-T", service, "python", "-c", script, timeout=60)

    with signed_by_test_issuer(stack) if sign else contextlib.nullcontext():
        yield Platform("compose", grpc_target, amqp_url,
                       metrics_text, targets=targets,
                       elections_tick_seconds=float(stack.env["COOP_ELECTIONS_TICK_SECONDS"]))


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


@pytest.fixture
def coop(board_platform: Platform) -> Iterator[Coop]:
    """Membership and elections as the member portal and the admin CLI call them (board tests)."""
    with grpc.insecure_channel(board_platform.targets["membership"]) as membership, \
            grpc.insecure_channel(board_platform.targets["elections"]) as elections:
        yield Coop(board_platform, membership, elections)


@pytest.fixture
def board(board_platform: Platform) -> Iterator[Board]:
    with grpc.insecure_channel(board_platform.targets["board"]) as channel:
        yield Board(channel)


@pytest.fixture
def board_events(board_platform: Platform) -> Iterator[EventTap]:
    """A subscriber's queue bound to board.events (every routing key), deleted afterwards."""
    with bound_queue("board", "#", amqp_url=board_platform.amqp_url) as queue:
        yield EventTap(queue, board_platform.amqp_url)
