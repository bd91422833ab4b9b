"""coop_platform.batching.Coalescer: concurrent calls served in batches, each result and each
error delivered to its own caller, no call lost or run twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from coop_platform.batching import Coalescer


class Refused(Exception):
    pass


class Recorder:
    """run_batch that doubles numbers, refuses negatives and can be made to fail or stall."""

    def __init__(self, delay: float = 0.0) -> None:
        self.batches: list[list[int]] = []
        self.delay = delay
        self.fail_batches_with: set[int] = set()  # a batch containing one of these raises as a whole
        self.lock = threading.Lock()

    def __call__(self, items: Sequence[int]) -> list[int | BaseException]:
        with self.lock:
            self.batches.append(list(items))
        if self.delay:
            time.sleep(self.delay)
        if self.fail_batches_with & set(items):
            raise RuntimeError(f"batch with {sorted(self.fail_batches_with & set(items))} failed")
        return [Refused(f"{x} refused") if x < 0 else 2 * x for x in items]


def submit_all(coalescer: Coalescer, items: list[int]) -> dict[int, object]:
    out: dict[int, object] = {}
    start = threading.Barrier(len(items))

    def one(x: int) -> None:
        start.wait()
        try:
            out[x] = coalescer.submit(x)
        except BaseException as exc:  # noqa: BLE001
            out[x] = exc

    threads = [threading.Thread(target=one, args=(x,)) for x in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a caller never returned"
    return out


def test_a_lone_call_runs_in_a_batch_of_one():
    run = Recorder()
    assert Coalescer("t_lone", run).submit(21) == 42
    assert run.batches == [[21]]


def test_concurrent_calls_share_batches_and_each_gets_its_own_result():
    run = Recorder(delay=0.02)
    out = submit_all(Coalescer("t_share", run), list(range(1, 41)))
    assert out == {x: 2 * x for x in range(1, 41)}
    served = sorted(x for batch in run.batches for x in batch)
    assert served == list(range(1, 41))  # every call exactly once
    assert len(run.batches) < 40 and max(len(b) for b in run.batches) > 1


def test_batches_never_exceed_max_batch():
    run = Recorder(delay=0.01)
    out = submit_all(Coalescer("t_max", run, max_batch=4), list(range(1, 30)))
    assert out == {x: 2 * x for x in range(1, 30)}
    assert max(len(b) for b in run.batches) <= 4


def test_a_refused_item_fails_only_its_own_caller():
    run = Recorder(delay=0.02)
    out = submit_all(Coalescer("t_refuse", run), [1, 2, -3, 4, -5, 6])
    assert isinstance(out[-3], Refused) and isinstance(out[-5], Refused)
    assert {x: out[x] for x in (1, 2, 4, 6)} == {1: 2, 2: 4, 4: 8, 6: 12}


def test_a_failing_batch_is_rerun_item_by_item_so_only_the_culprit_sees_the_error():
    run = Recorder(delay=0.02)
    run.fail_batches_with = {7}
    out = submit_all(Coalescer("t_fail", run), [5, 6, 7, 8, 9])
    assert isinstance(out[7], RuntimeError) and "7" in str(out[7])
    assert {x: out[x] for x in (5, 6, 8, 9)} == {5: 10, 6: 12, 8: 16, 9: 18}
    alone = [b for b in run.batches if b == [7]]
    assert alone, "the culprit was retried alone"


def test_a_result_count_mismatch_is_an_error_not_a_silent_loss():
    coalescer = Coalescer("t_mismatch", lambda items: [])
    with pytest.raises(RuntimeError, match="0 results for 1 items"):
        coalescer.submit(1)


def test_the_lead_passes_on_so_no_caller_is_kept_serving_others_under_endless_load():
    run = Recorder(delay=0.002)
    coalescer = Coalescer("t_lead", run, max_batch=2)
    stop = threading.Event()
    completed = [0] * 6

    def load(k: int) -> None:
        n = 1000 * (k + 1)
        while not stop.is_set():
            assert coalescer.submit(n) == 2 * n
            completed[k] += 1
            n += 1

    pressure = [threading.Thread(target=load, args=(k,), daemon=True) for k in range(6)]
    for t in pressure:
        t.start()
    time.sleep(0.5)
    stop.set()
    for t in pressure:
        t.join(timeout=10)
    # a leader that kept draining while others keep submitting would be stuck on its first call
    assert min(completed) >= 5, completed


def test_max_batch_must_be_positive():
    with pytest.raises(ValueError):
        Coalescer("t_bad", lambda items: items, max_batch=0)
