"""LazyProcessPool: the api's pool for a request's CPU-bound checks.

Spawned workers unpickle the mapped function by reference, and pytest imports this file in a way
they cannot (--import-mode=importlib), so the tests map standard-library functions only.
"""

from __future__ import annotations

import operator
import os
import threading
import time
from concurrent.futures.process import BrokenProcessPool

import pytest

from coop_platform.processes import LazyProcessPool, available_cores, terminate_pools


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


def test_zero_processes_means_one_per_available_core():
    assert LazyProcessPool(0).processes == available_cores() == len(os.sched_getaffinity(0))  # no quota here


def _cgroup(tmp_path, **files: str):
    for name, text in files.items():
        path = tmp_path / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@pytest.mark.parametrize(("files", "limit"), [
    ({"cpu.max": "100000 100000\n"}, 1),  # docker run --cpus 1 (cgroup v2)
    ({"cpu.max": "150000 100000\n"}, 2),  # 1.5 CPUs: rounded up
    ({"cpu.max": "10000 100000\n"}, 1),  # a tenth of a CPU: still one worker
    ({"cpu__cpu.cfs_quota_us": "100000\n", "cpu__cpu.cfs_period_us": "100000\n"}, 1),  # cgroup v1
])
def test_a_containers_cpu_quota_caps_the_cores(tmp_path, files, limit):
    assert available_cores(_cgroup(tmp_path, **files)) == min(limit, len(os.sched_getaffinity(0)))


@pytest.mark.parametrize("files", [
    {"cpu.max": "max 100000\n"},  # no limit (cgroup v2)
    {"cpu__cpu.cfs_quota_us": "-1\n", "cpu__cpu.cfs_period_us": "100000\n"},  # no limit (cgroup v1)
    {"cpu.max": "garbled\n"},
    {},  # no cgroup files at all
])
def test_without_a_readable_quota_the_affinity_decides(tmp_path, files):
    assert available_cores(_cgroup(tmp_path, **files)) == len(os.sched_getaffinity(0))


def test_a_workers_exception_reaches_the_caller_and_the_pool_keeps_serving(pool):
    with pytest.raises(ValueError, match="invalid literal for int"):
        pool.map(int, ["not a number"])
    assert pool.map(pow, [4], [2]) == [16]


def test_a_dead_worker_fails_that_call_and_the_next_call_gets_a_fresh_pool(pool):
    with pytest.raises(BrokenProcessPool):
        pool.map(os._exit, [3, 3])  # a worker killed mid-check (out of memory, a signal)
    assert pool._pool is None
    assert pool.map(pow, [5, 6], [2, 2]) == [25, 36]


def test_terminating_ends_a_running_check_at_once_and_its_caller_gets_broken_pool():
    pool = LazyProcessPool(2)
    assert pool.map(pow, [2], [3]) == [8]  # started
    workers = list(pool._pool._processes.values())
    outcome: list[BaseException | list] = []

    def caller() -> None:
        try:
            outcome.append(pool.map(time.sleep, [600, 600]))  # a check of minutes
        except BaseException as exc:  # noqa: BLE001 - the test looks at what reached the caller
            outcome.append(exc)

    thread = threading.Thread(target=caller)
    thread.start()
    while not any(w.is_alive() for w in workers):
        time.sleep(0.05)
    time.sleep(0.5)  # the sleeps are running in the workers
    terminate_pools()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the caller still waits for the check"
    assert isinstance(outcome[0], BrokenProcessPool)
    assert not any(w.is_alive() for w in workers) and pool._pool is None
    assert pool.map(pow, [3], [2]) == [9]  # a later call would start a fresh pool
    pool.shutdown()


def test_a_call_whose_checking_worker_died_gets_unavailable_with_a_reason_not_internal():
    from coop_platform.grpc_interceptor import _status_for, transient_reason

    class Context:
        def code(self):
            return None

    code, message = _status_for(BrokenProcessPool("A child process terminated abruptly"), Context())
    assert (code, message) == ("UNAVAILABLE", "the process checking this request was lost; retry later")
    assert transient_reason(BrokenProcessPool()) == "CHECK_PROCESS_LOST"
    assert transient_reason(RuntimeError()) == "DATABASE_UNAVAILABLE"
