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


def wait_for_signal() -> None:
    done = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("signal %s: draining gRPC calls", signum)
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    done.wait()


def supervise(settings: Settings) -> None:
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
    wait_for_signal()
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(20)
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


