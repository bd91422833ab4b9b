"""`make run`: every service's api and worker on this machine, SQLite files under var/,
the machine's RabbitMQ (each service with its own user, `coop broker setup` in development
mode). Ctrl-C stops them all cleanly."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time

from coop_platform.amqp import broker_reachable, vhost_of, with_credentials
from coop_platform.registry import services as installed_services


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def available_services() -> list[str]:
    """Installed services (entry points `coop.services`) whose package ships both entrypoints."""
    return [name for name, spec in installed_services().items()
            if _has_module(f"{spec.package}.entrypoints.grpc_api") and _has_module(f"{spec.package}.entrypoints.worker")]


def ports_of(service: str) -> tuple[int, int, int]:
    """(grpc, api metrics, worker metrics): the manifest's, unless COOP_DEVRUN_PORTS (a JSON
    object of service -> three ports) moves them, as the tests of `make run` do."""
    moved = json.loads(os.environ.get("COOP_DEVRUN_PORTS") or "{}")
    if service in moved:
        return tuple(moved[service])  # type: ignore[return-value]
    spec = installed_services()[service]
    return spec.grpc_port, spec.api_metrics_port, spec.worker_metrics_port


def broker_urls(amqp_url: str, services: list[str]) -> dict[str, str]:
    """Each service's own broker URL: `coop broker setup` in development mode (its user, with
    the permissions it has in production) on the broker of COOP_AMQP_URL. Where rabbitmqctl
    cannot do that, every service keeps COOP_AMQP_URL, and one line says so."""
    from subprocess import SubprocessError

    from coop_platform import broker

    known = [s for s in services if s in broker.SUBSCRIPTIONS]
    try:
        passwords = broker.setup(vhost_of(amqp_url), known, dev=True)
    except (OSError, SubprocessError, broker.BrokerAdminError) as exc:
        print(f"RabbitMQ users not set up ({str(exc).splitlines()[0][:200]}); every service connects as "
              "COOP_AMQP_URL's user. `coop broker setup --dev` does it where rabbitmqctl works.", file=sys.stderr)
        return {s: amqp_url for s in services}
    return {s: with_credentials(amqp_url, s, passwords[s]) if s in passwords else amqp_url for s in services}


def main() -> int:
    # `make run` is a development machine: the development signing key is trusted (`coop token`).
    os.environ.setdefault("COOP_DEV_MODE", "1")
    # One line per process (where it listens); the JSON logs show warnings and errors only,
    # unless COOP_LOG_LEVEL asks for more.
    os.environ.setdefault("COOP_LOG_LEVEL", "WARNING")
    amqp_url = os.environ.get("COOP_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    if not broker_reachable(amqp_url):
        print(f"RabbitMQ is not reachable at {amqp_url.rsplit('@', 1)[-1]}: start it with "
              "`rabbitmq-server -detached` (or set COOP_AMQP_URL) and run `make run` again.",
              file=sys.stderr)
        return 1
    services = available_services()
    urls = broker_urls(amqp_url, services)
    procs: list[tuple[str, subprocess.Popen]] = []
    for service in services:
        grpc_port, api_metrics, worker_metrics = ports_of(service)
        for role, metrics in (("grpc_api", api_metrics), ("worker", worker_metrics)):
            # Each process gets its own ports explicitly: an exported COOP_GRPC_PORT must not
            # make every service's api bind the same port. Each service speaks to the broker
            # as its own user.
            env = {**os.environ, "COOP_GRPC_PORT": str(grpc_port), "COOP_METRICS_PORT": str(metrics),
                   "COOP_AMQP_URL": urls[service]}
            procs.append((f"{service} {role}", subprocess.Popen(
                [sys.executable, "-m", f"{installed_services()[service].package}.entrypoints.{role}"], env=env)))
    print("coopgov is starting; Ctrl-C stops everything. Admin CLI: .venv/bin/coop --help", flush=True)

    stopping = False
    died: list[str] = []

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping:
        for name, proc in procs:
            if proc.poll() is not None:
                print(f"{name} exited with {proc.returncode}; stopping the others", file=sys.stderr)
                died.append(name)
                stopping = True
        time.sleep(0.3)
    for _, proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 25
    for name, proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop in time; killing it", file=sys.stderr)
            proc.kill()
    if died:  # a service that stopped by itself is a failure, even if the rest stopped cleanly
        print(f"coopgov stopped because {', '.join(died)} exited.", file=sys.stderr)
        return 1
    print("coopgov stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
