"""A process pool an api starts on first use, for the few CPU-bound checks one request carries.

grpcio answers each call on a thread of one interpreter, so a check of minutes (a mixer's proof of
shuffle, a trustee's 375,321 decryption proofs) would use one core whatever the machine has. The
pool's workers are *spawned*, never forked: forking a process whose grpcio threads are running is
unsupported (grpc/grpc doc/fork_support.md), and a spawned worker holds none of the parent's
sockets or locks. It starts only when the first such check arrives, so an api that never gets
one spends no memory on it.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import threading
import weakref
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

CGROUP = Path("/sys/fs/cgroup")


def available_cores(cgroup: Path = CGROUP) -> int:
    """The cores this process may use: its CPU affinity, capped by its container's CPU limit
    (a cgroup quota, rounded up), at least 1. os.cpu_count() counts the machine's: in a container
    limited to one CPU on a 16-core host it would start 16 workers that share one core."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    quota = _cgroup_quota(cgroup)
    if quota is not None:
        cores = min(cores, max(1, math.ceil(quota)))
    return max(1, cores)


def _cgroup_quota(cgroup: Path) -> float | None:
    """CPUs of the cgroup's quota: v2 cpu.max ("max 100000" or "150000 100000"), else v1
    cpu.cfs_quota_us / cpu.cfs_period_us (-1: none). None without a quota or where unreadable."""
    try:
        quota, period = (cgroup / "cpu.max").read_text().split()
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota_us = int((cgroup / "cpu" / "cpu.cfs_quota_us").read_text())
        period_us = int((cgroup / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota_us / period_us if quota_us > 0 and period_us > 0 else None


class LazyProcessPool:
    """`map` over `processes` spawned workers (0: one per available core; 1: in the calling thread)."""

    def __init__(self, processes: int = 0) -> None:
        self.processes = processes if processes > 0 else available_cores()
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        _POOLS.add(self)

    def map(self, fn: Callable[..., Any], *iterables: Iterable[Any]) -> list[Any]:
        """fn over the items, in order, the results gathered (a worker's exception is raised)."""
        if self.processes == 1:
            return list(map(fn, *iterables))
        pool = self._started()
        try:
            return list(pool.map(fn, *iterables))
        except BrokenProcessPool:
            self._discard(pool)  # a worker died (killed, out of memory): the next call starts afresh
            raise

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(cancel_futures=True)

    def terminate(self) -> None:
        """Stop now: cancel what waits and end the workers mid-check, whose callers get
        BrokenProcessPool. For a stopping api whose calls are over: without it the interpreter's
        exit would wait for a running check (minutes) before the process could end."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is None:
            return
        workers = list((pool._processes or {}).values())  # no public way before Python 3.14's terminate_workers
        pool.shutdown(wait=False, cancel_futures=True)
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.join(timeout=5)

    def _started(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"))
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)


_POOLS: weakref.WeakSet[LazyProcessPool] = weakref.WeakSet()


def terminate_pools() -> None:
    """Terminate every pool of this process (serve_forever, once the server has stopped)."""
    for pool in list(_POOLS):
        pool.terminate()
