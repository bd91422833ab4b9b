"""Shared pieces of the benchmarks: statistics, the membership processes, the broker vhost,
result files and the printed table."""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from coop_testkit import (
    AMQP_URL,
    REPO_ROOT,
    ServiceProcess,
    delete_queues_matching,
    free_port,
    scratch_vhost,
    wait_for_health,
)

RESULTS_DIR = REPO_ROOT / "bench" / "results"
BENCH_VHOST = "coopbench"
PY = sys.executable


# -- statistics -------------------------------------------------------------------------------

def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(q / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summarize_ms(values_ms: list[float]) -> dict[str, float]:
    s = sorted(values_ms)
    if not s:
        return {"count": 0}
    return {
        "count": len(s),
        "p50_ms": round(percentile(s, 50), 3),
        "p90_ms": round(percentile(s, 90), 3),
        "p99_ms": round(percentile(s, 99), 3),
        "max_ms": round(s[-1], 3),
        "mean_ms": round(sum(s) / len(s), 3),
    }


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(x) for x in handle.read().split()]
    except OSError:
        pass
    return found


def process_cpu_seconds(pid: int) -> float:
    """user + system CPU seconds of a process and its live descendants (Linux /proc), 0.0 when
    unavailable (an api with COOP_API_PROCESSES > 1 works in its children)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0
    return own + sum(process_cpu_seconds(child) for child in _children(pid))


class CpuMeter:
    """CPU cores used by some processes between start() and stop()."""

    def __init__(self, **pids: int) -> None:
        self.pids = {k: v for k, v in pids.items() if v}

    def start(self) -> CpuMeter:
        self._t0 = time.monotonic()
        self._c0 = {k: process_cpu_seconds(p) for k, p in self.pids.items()}
        return self

    def stop(self) -> dict[str, float]:
        wall = time.monotonic() - self._t0
        return {f"{k}_cpu_cores": round((process_cpu_seconds(p) - self._c0[k]) / wall, 3)
                for k, p in self.pids.items()}


# -- environment -------------------------------------------------------------------------------

def machine_info() -> dict[str, object]:
    info: dict[str, object] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg_at_start": os.getloadavg(),
    }
    with contextlib.suppress(Exception):
        info["git_commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
            text=True, timeout=5).stdout.strip()
    return info


@contextlib.contextmanager
def bench_broker(requested: str | None) -> Iterator[tuple[str, str]]:
    """(AMQP URL, note) for one benchmark: a brand-new vhost, deleted afterwards with all it
    holds. A vhost shared between benchmarks kept the queues the billing and elections workers
    bind to membership.events, and every later registration was then stored twice more by the
    broker (two million messages had piled up). Falls back to "/" without rabbitmqctl."""
    if requested:
        yield requested, "given with --amqp-url"
        return
    with scratch_vhost(BENCH_VHOST) as url:
        if url == AMQP_URL:
            yield url, "vhost / (rabbitmqctl unavailable)"
            return
        vhost = urlparse(url).path[1:]
        # as `make run` and every deployment have it: alternate exchanges, retention policies
        from coop_platform import broker

        broker.setup(vhost, broker.DEFAULT_SERVICES, dev=True)
        yield url, f"vhost {vhost}, new for this benchmark, with the platform's broker set-up"


def psycopg_dsn(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+psycopg2://", "postgresql://", 1)


# -- the membership service as in production: an api and a worker process ---------------------

@dataclass
class Membership:
    port: int
    env: dict[str, str]
    api: ServiceProcess
    worker: ServiceProcess | None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"


def service_env(database_url: str, amqp_url: str, port: int) -> dict[str, str]:
    return {
        "COOP_DATABASE_URL": database_url,
        "COOP_AMQP_URL": amqp_url,
        "COOP_GRPC_PORT": str(port),
        "COOP_METRICS_PORT": "0",
        "COOP_DEV_MODE": "1",
    }


def _wait_for_log(proc: ServiceProcess, marker: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker in proc.log():
            return
        if proc.proc and proc.proc.poll() is not None:
            raise RuntimeError(f"{proc.module} exited early:\n{proc.log()[-4000:]}")
        time.sleep(0.2)
    raise TimeoutError(f"{proc.module} did not print {marker!r} within {timeout}s")


@contextlib.contextmanager
def membership_processes(database_url: str, amqp_url: str, log_dir: Path, name: str,
                         *, worker: bool = True, api_processes: int = 1) -> Iterator[Membership]:
    """Start the api (it migrates the fresh database), wait for gRPC health, then the worker."""
    port = free_port()
    env = service_env(database_url, amqp_url, port) | {"COOP_API_PROCESSES": str(api_processes)}
    api = ServiceProcess("coop_membership.entrypoints.grpc_api", env, log_dir / f"{name}-api.log").start()
    wrk: ServiceProcess | None = None
    try:
        wait_for_health(port, timeout=90, proc=api)
        if worker:
            delete_queues_matching("--membership.", amqp_url=amqp_url)  # no backlog from other benchmarks
            wrk = ServiceProcess("coop_membership.entrypoints.worker", env,
                                 log_dir / f"{name}-worker.log").start()
            _wait_for_log(wrk, "worker: consuming", timeout=90)
        yield Membership(port, env, api, wrk)
    finally:
        if wrk:
            wrk.stop()
        api.stop()


@dataclass
class ApiAndWorker:
    """A service's api and worker processes, as in production."""

    port: int
    api: ServiceProcess
    worker: ServiceProcess

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"


@contextlib.contextmanager
def api_and_worker(package: str, env: dict[str, str], log_dir: Path, name: str) -> Iterator[ApiAndWorker]:
    """`package`'s api on env's COOP_GRPC_PORT (it migrates the fresh database), then its worker
    once the api is healthy; both stopped afterwards."""
    port = int(env["COOP_GRPC_PORT"])
    api = ServiceProcess(f"{package}.entrypoints.grpc_api", env, log_dir / f"{name}-api.log").start()
    worker: ServiceProcess | None = None
    try:
        wait_for_health(port, timeout=90, proc=api)
        worker = ServiceProcess(f"{package}.entrypoints.worker", env, log_dir / f"{name}-worker.log").start()
        _wait_for_log(worker, "worker: consuming", timeout=90)
        yield ApiAndWorker(port, api, worker)
    finally:
        if worker:
            worker.stop()
        api.stop()


def wait_outbox_drained(dsn: str, timeout: float = 180.0) -> float:
    """Seconds until no outbox row is pending (the worker relayed everything)."""
    import psycopg2

    started = time.monotonic()
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            while time.monotonic() - started < timeout:
                cur.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                if cur.fetchone()[0] == 0:
                    return time.monotonic() - started
                time.sleep(0.25)
    finally:
        conn.close()
    raise TimeoutError(f"outbox still pending after {timeout}s")


def run_json_process(args: list[str], *, timeout: float, log_path: Path | None = None,
                     env: dict[str, str] | None = None) -> dict:
    """Run `python -m ...` in its own process; it prints one JSON object as its last stdout line."""
    proc = subprocess.run([PY, *args], capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT,
                          env={**os.environ, **(env or {})})
    if log_path is not None:
        log_path.write_text(proc.stderr)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_load(argvs: list[list[str]], log_paths: list[Path], *, timeout: float, measure_from: float,
             meter: CpuMeter, env: dict[str, str] | None = None) -> tuple[list[dict], dict]:
    """Run load-generating processes in parallel (run_json_process); the meter covers the
    servers' CPU from `measure_from` until every process has ended. (outputs, cpu)."""
    import concurrent.futures as cf

    with cf.ThreadPoolExecutor(len(argvs)) as pool:
        futures = [pool.submit(run_json_process, argv, timeout=timeout, log_path=path, env=env)
                   for argv, path in zip(argvs, log_paths, strict=True)]
        time.sleep(max(0.0, measure_from - time.time()))
        meter.start()
        outs = [f.result() for f in futures]
        return outs, meter.stop()


# -- closed-loop clients ------------------------------------------------------------------------

#: A client thread's work: `open(n)` gives thread n its call (one RPC on its own channel, raising
#: grpc.RpcError when refused) and what closes its channel.
ClientFactory = Callable[[int], tuple[Callable[[], object], Callable[[], None]]]


def closed_loop(open_client: ClientFactory, threads: int, *, start: float, warmup: float,
                duration: float) -> dict:
    """`threads` clients calling in a closed loop from `start` (wall clock, to align processes);
    calls completed inside [start + warmup, start + warmup + duration) are recorded. The JSON a
    load-generator process prints: latencies (ms), error counts by status code, the window."""
    import grpc

    t_measure, t_end = start + warmup, start + warmup + duration
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: dict[str, int] = {}
    lock = threading.Lock()
    ready = threading.Barrier(threads + 1)

    def client(n: int) -> None:
        call, close = open_client(n)
        mine = latencies[n]
        ready.wait()
        while time.time() < start:
            time.sleep(0.001)
        while True:
            t0, w0 = time.perf_counter(), time.time()
            try:
                call()
                failed = None
            except grpc.RpcError as exc:
                failed = exc.code().name
            elapsed = time.perf_counter() - t0
            done = w0 + elapsed
            if done >= t_end:
                break
            if done >= t_measure:
                if failed:
                    with lock:
                        errors[failed] = errors.get(failed, 0) + 1
                else:
                    mine.append(elapsed * 1000.0)
        close()

    workers = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(threads)]
    for t in workers:
        t.start()
    ready.wait()
    for t in workers:
        t.join(max(0.0, start - time.time()) + warmup + duration + 120)
    flat = [x for per in latencies for x in per]
    return {"latencies_ms": [round(x, 4) for x in flat], "errors": errors, "window": [t_measure, t_end],
            "threads": threads}


# -- results -----------------------------------------------------------------------------------

@dataclass
class Check:
    benchmark: str
    metric: str
    value: float | int | str
    unit: str
    target: str = ""
    ok: bool | None = None  # None: informative row, no target

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else ("PASS" if self.ok else "MISS")


def fmt(value: float | int | str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return f"{value:,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def render_table(checks: list[Check]) -> str:
    header = ["benchmark", "metric", "value", "target", "result"]
    rows = [[c.benchmark, c.metric, f"{fmt(c.value)} {c.unit}".strip(), c.target, c.verdict] for c in checks]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)) + " |"

    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    return "\n".join(out)


def write_json(name: str, payload: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, sort_keys=False, default=str) + "\n")
    return path
