"""`make run` (= `python -m coop_cli.devrun`) as a user meets it (issue 2 section 4): it
starts every service's api and worker, stops them all cleanly on Ctrl-C or SIGTERM leaving no
process behind, and refuses to start with one clear line when RabbitMQ is unreachable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from coop_cli.devrun import available_services
from coop_platform.amqp import vhost_of
from coop_platform.broker import rabbitmqctl
from coop_platform.healthcheck import check
from coop_testkit import AMQP_URL, REPO_ROOT, free_port, wait_until

# devrun exactly as `make run` runs it, except that COOP_DEVRUN_PORTS moves its ports to free
# ones so the test cannot clash with a developer's running `make run` or a parallel test session.
DEVRUN_ON_FREE_PORTS = "import sys; from coop_cli.devrun import main; sys.exit(main())"


def _children(pid: int) -> dict[int, str]:
    """Direct children of `pid` (from /proc), with their command lines."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
            if ppid == pid:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
    return found


def _alive(pid: int, cmdline: str) -> bool:
    """Still running (not a zombie) and still the same program (pids may be reused)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        same = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode() == cmdline
    except OSError:
        return False
    return same and stat[stat.rindex(")") + 2] != "Z"


def _responds(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:  # noqa: S310 - local test endpoint
            return reply.status == 200
    except OSError:
        return False


@pytest.mark.rabbitmq
@pytest.mark.parametrize("stop_with", ["ctrl_c", "sigterm"])
def test_make_run_serves_every_service_then_stops_cleanly_leaving_no_process(stop_with, tmp_path):
    services = available_services()
    assert "membership" in services
    ports = {s: (free_port(), free_port(), free_port()) for s in services}
    env = {**os.environ, "COOP_DATA_DIR": str(tmp_path), "COOP_DATABASE_URL": "", "COOP_AMQP_URL": AMQP_URL,
           "COOP_DEVRUN_PORTS": json.dumps(ports)}
    log_path = tmp_path / "devrun.log"
    with open(log_path, "wb") as log:
        # its own process group, so that "Ctrl-C" can go to the whole group as a terminal sends it
        proc = subprocess.Popen([sys.executable, "-c", DEVRUN_ON_FREE_PORTS], env=env, cwd=REPO_ROOT,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def serving() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"make run exited early ({proc.returncode}):\n{log_path.read_text()[-4000:]}")
            return all(check(f"127.0.0.1:{ports[s][0]}", timeout=1) for s in services) and all(
                _responds(f"http://127.0.0.1:{port}/metrics") for s in services for port in ports[s][1:])

        wait_until(serving, timeout=90, interval=0.3, message="every api SERVING and every /metrics up")
        children = _children(proc.pid)
        assert len(children) == 2 * len(services), children
        # make run gave each service its own broker user (coop broker setup, development mode)
        vhost = vhost_of(AMQP_URL)
        wait_until(lambda: set(services) <= set(rabbitmqctl("list_connections", "-p", vhost, "user",
                                                            "--no-table-headers").split()),
                   timeout=30, message="every service connected to RabbitMQ as its own user")
        # a worker serves /metrics before its consumers start, and says so only once they have:
        # wait for every process's line rather than racing the last one to print
        announced = [f"{s} api: gRPC on 127.0.0.1:{ports[s][0]}" for s in services] + [
            f"{s} worker: consuming from" for s in services]
        wait_until(lambda: all(line in log_path.read_text() for line in announced), timeout=30,
                   message="every api and worker announced itself")
        text = log_path.read_text()
        # quiet: no third-party deprecation warning, and one plain line per process; the rest are
        # JSON logs of warnings and errors (here: the test vhost's leftover events of other tests)
        assert "DeprecationWarning" not in text, text[:3000]
        plain = [line for line in text.splitlines() if line.strip() and not line.startswith("{")]
        assert len(plain) == 1 + 2 * len(services), plain

        if stop_with == "ctrl_c":
            os.killpg(proc.pid, signal.SIGINT)
            sent = signal.SIGINT
        else:
            proc.send_signal(signal.SIGTERM)
            sent = signal.SIGTERM
        returncode = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    text = log_path.read_text()
    assert returncode in (0, -sent), text[-4000:]
    assert "coopgov stopped." in text
    assert "did not stop in time" not in text
    assert "exited with" not in text, "no service may die before the stop was asked"
    orphans = {pid: cmd for pid, cmd in children.items() if _alive(pid, cmd)}
    assert not orphans, f"processes left behind: {orphans}"


def test_make_run_with_rabbitmq_unreachable_exits_nonzero_with_one_clear_line(tmp_path):
    closed_port = free_port()  # nothing listens there
    env = {**os.environ, "COOP_AMQP_URL": f"amqp://guest:guest@127.0.0.1:{closed_port}/",
           "COOP_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "coop_cli.devrun"], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "RabbitMQ" in lines[0] and f"127.0.0.1:{closed_port}" in lines[0]
    assert "rabbitmq-server" in lines[0], "the line must say how to start RabbitMQ"
    assert not any(tmp_path.iterdir()), "nothing may be started or created"


@pytest.mark.rabbitmq
def test_make_run_stops_everything_and_exits_nonzero_naming_the_service_that_died(tmp_path):
    import socket

    ports = {s: (free_port(), free_port(), free_port()) for s in available_services()}
    env = {**os.environ, "COOP_DATA_DIR": str(tmp_path), "COOP_DATABASE_URL": "", "COOP_AMQP_URL": AMQP_URL,
           "COOP_DEVRUN_PORTS": json.dumps(ports)}
    # the membership api cannot bind its gRPC port: it exits, and with it the whole platform
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports["membership"][0]))
        taken.listen()
        done = subprocess.run([sys.executable, "-c", DEVRUN_ON_FREE_PORTS], env=env, cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output[-4000:]
    assert "membership grpc_api exited with" in output
    assert "coopgov stopped because membership grpc_api exited." in output
    assert "did not stop in time" not in output
