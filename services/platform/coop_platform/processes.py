"""A process pool an api starts on first use, for the few CPU-bound checks one request carries.

grpcio answers each call on a thread of one interpreter, so a check of minutes (a mixer's proof of
shuffle, a trustee's 375,321 decryption proofs) would use one core whatever the machine has. The
pool's workers are *spawned*, never forked: forking a process whose grpcio threads are running is
unsupported (grpc/grpc doc/fork_support.md), and a spawned worker holds none of the parent's
sockets or locks. It starts only when the first such check arrives, so an api that never gets
one spends no memory on it.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any


class LazyProcessPool:
    """`map` over `processes` spawned workers (0: one per core; 1: in the calling thread)."""

    def __init__(self, processes: int = 0) -> None:
        self.processes = processes if processes > 0 else (os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

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
