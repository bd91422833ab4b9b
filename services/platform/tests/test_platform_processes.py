"""LazyProcessPool: the api's pool for a request's CPU-bound checks.

Spawned workers unpickle the mapped function by reference, and pytest imports this file in a way
they cannot (--import-mode=importlib), so the tests map standard-library functions only.
"""

from __future__ import annotations

import operator
import os
from concurrent.futures.process import BrokenProcessPool

import pytest

from coop_platform.processes import LazyProcessPool


@pytest.fixture
def pool():
    pool = LazyProcessPool(2)
    yield pool
    pool.shutdown()


def test_the_pool_starts_only_when_first_used_and_answers_in_order_from_other_processes(pool):
    assert pool._pool is None
    assert pool.map(pow, range(20), [2] * 20) == [n * n for n in range(20)]
    assert pool._pool is not None
    assert os.getpid() not in pool.map(operator.call, [os.getpid] * 4)


def test_one_process_checks_in_the_calling_thread_without_a_pool():
    pool = LazyProcessPool(1)
    assert pool.map(operator.call, [os.getpid]) == [os.getpid()]
    assert pool._pool is None


def test_zero_processes_means_one_per_core():
    assert LazyProcessPool(0).processes == (os.cpu_count() or 1)


def test_a_workers_exception_reaches_the_caller_and_the_pool_keeps_serving(pool):
    with pytest.raises(ValueError, match="invalid literal for int"):
        pool.map(int, ["not a number"])
    assert pool.map(pow, [4], [2]) == [16]


def test_a_dead_worker_fails_that_call_and_the_next_call_gets_a_fresh_pool(pool):
    with pytest.raises(BrokenProcessPool):
        pool.map(os._exit, [3, 3])  # a worker killed mid-check (out of memory, a signal)
    assert pool._pool is None
    assert pool.map(pow, [5, 6], [2, 2]) == [25, 36]
