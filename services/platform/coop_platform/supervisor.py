"""The api process around the gRPC server: signals, several processes sharing one port, and
garbage-collector tuning. Kept apart from the server bootstrap so each reads on its own."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from typing import Any

from coop_platform.config import Settings

log = logging.getLogger(__name__)

API_CHILD_ENV = "COOP_API_CHILD"


def is_api_child() -> bool:
    """Whether this process is one of several api processes sharing the port."""
    return bool(os.environ.get(API_CHILD_ENV))


#: Seconds a stopping api process may take (draining calls included) before it exits anyway.
SHUTDOWN_DEADLINE_ENV = "COOP_SHUTDOWN_DEADLINE_SECONDS"
DEFAULT_SHUTDOWN_DEADLINE = 15.0


def stop_signals() -> threading.Event:
    """Handle SIGTERM and SIGINT from now on: the event is set on either. Installed before the
    server starts, so that a signal during start-up asks for the same orderly stop instead of
    interrupting start-up half-way and leaving the server's threads running."""
    done = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("signal %s: draining gRPC calls", signum)
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return done


def wait_for_signal(done: threading.Event | None = None) -> None:
    """Block until a stop is asked, then bound the shutdown that follows: a step that hangs (a
    call that never ends, a stuck thread) must not keep the process alive; after
    COOP_SHUTDOWN_DEADLINE_SECONDS (15) it exits with status 1 and says so."""
    (done or stop_signals()).wait()
    try:
        deadline = float(os.environ.get(SHUTDOWN_DEADLINE_ENV) or DEFAULT_SHUTDOWN_DEADLINE)
    except ValueError:
        deadline = DEFAULT_SHUTDOWN_DEADLINE
    timer = threading.Timer(deadline, _give_up, args=(deadline,))
    timer.daemon = True
    timer.start()


def _give_up(deadline: float) -> None:
    log.error("shutdown did not finish within %.0f s: exiting now", deadline)
    for handler in logging.getLogger().handlers:
        handler.flush()
    os._exit(1)


def supervise(settings: Settings, stop: threading.Event | None = None) -> None:
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

    metrics_dir = tempfile.mkdtemp(prefix=f"coop-{settings.service_name}-metrics-")
    env = {**os.environ, API_CHILD_ENV: "1", "PROMETHEUS_MULTIPROC_DIR": metrics_dir, "COOP_METRICS_PORT": "0"}
    children = [subprocess.Popen(sys.orig_argv, env=env) for _ in range(settings.api_processes)]
    if settings.metrics_port:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=metrics_dir)
        start_http_server(settings.metrics_port, addr=settings.metrics_host, registry=registry)
    print(f"{settings.service_name} api: {len(children)} processes on {settings.grpc_host}:{settings.grpc_port}, "
          f"metrics on :{settings.metrics_port}/metrics", flush=True)
    wait_for_signal(stop)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(12)  # each child bounds its own shutdown (wait_for_signal); this one too
        except subprocess.TimeoutExpired:
            child.kill()
        mark_process_dead(child.pid, metrics_dir)
    shutil.rmtree(metrics_dir, ignore_errors=True)



def tune_gc(thresholds: str) -> tuple[int, ...]:
    """Keep Python's cycle collector out of the latency tail (it was most of the p99 of a
    write under load): objects alive after start-up move to the permanent generation, which
    collections no longer scan, and collections run less often. `thresholds` is
    "gen0,gen1,gen2" (COOP_GC_THRESHOLDS); empty keeps Python's own. Returns those in force."""
    import gc

    gc.collect()
    gc.freeze()
    if thresholds.strip():
        try:
            values = tuple(int(x) for x in thresholds.split(","))
            if len(values) != 3 or values[0] < 1 or min(values) < 0:
                raise ValueError
        except ValueError as exc:
            raise ValueError(f"COOP_GC_THRESHOLDS must be three counts 'gen0,gen1,gen2', not {thresholds!r}") from exc
        gc.set_threshold(*values)
    return gc.get_threshold()


