"""LazyProcessPool: the api's pool for a request's CPU-bound checks."""

from __future__ import annotations

import os
from concurrent.futures.process import BrokenProcessPool

import pytest

from coop_platform.processes import LazyProcessPool


def _pid_and_square(n: int) -> tuple[int, int]:
    return os.getpid(), n * n


def _die(_: int) -> None:
    os._exit(3)  # a worker killed mid-check (out of memory, a signal)


def _fail(n: int) -> None:
    raise ValueError(f"item {n} is bad")


@pytest.fixture
def pool():
    pool = LazyProcessPool(2)
    yield pool
    pool.shutdown()


def test_the_pool_starts_only_when_first_used_and_answers_in_order_from_other_processes(pool):
    assert pool._pool is None
    answers = pool.map(_pid_and_square, range(20))
    assert [square for _, square in answers] == [n * n for n in range(20)]
    assert os.getpid() not in {pid for pid, _ in answers}
    assert pool._pool is not None


def test_one_process_checks_in_the_calling_thread_without_a_pool():
    pool = LazyProcessPool(1)
    assert pool.map(_pid_and_square, [3]) == [(os.getpid(), 9)]
    assert pool._pool is None


def test_zero_processes_means_one_per_core():
    assert LazyProcessPool(0).processes == (os.cpu_count() or 1)


def test_a_workers_exception_reaches_the_caller_and_the_pool_keeps_serving(pool):
    with pytest.raises(ValueError, match="item 1 is bad"):
        pool.map(_fail, [1])
    assert [square for _, square in pool.map(_pid_and_square, [4])] == [16]


def test_a_dead_worker_fails_that_call_and_the_next_call_gets_a_fresh_pool(pool):
    with pytest.raises(BrokenProcessPool):
        pool.map(_die, [1, 2])
    assert pool._pool is None
    assert [square for _, square in pool.map(_pid_and_square, [5, 6])] == [25, 36]
