"""Group commit in the application: concurrent calls served by one batch.

A write that must serialise on a hot row (a gapless number, a counter) and wait for its own
commit to reach disk caps throughput at one transaction per lock hold and disk flush. A
`Coalescer` lets the threads of an api process share that cost: the calls that arrive while
a batch is running wait, and the next batch takes them all (up to `max_batch`) through one
call of `run_batch`, i.e. one transaction, one lock hold and one flush for all of them.

No extra thread: the first caller to find nothing running leads, runs batches until its own
item is done, then hands the lead to the oldest waiting caller. A leader's wait is therefore
bounded by its own batch plus the one before it, never by the load that follows.

`run_batch(items)` returns one result per item, in order; a result that is an exception is
raised to that item's caller only (a refusal of one item must not fail the others). If
`run_batch` itself raises, each item of that batch is run alone so that the error reaches
only the caller(s) it belongs to.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from coop_platform.metrics import BATCH_SIZE

T = TypeVar("T")
R = TypeVar("R")


def run_alone(run_batch: Callable[[Sequence[T]], Sequence[R | BaseException]], item: T) -> R:
    """Run one item through a batch function outside any coalescer (a CLI, a test, a single
    path): its result, or its refusal raised."""
    result = run_batch([item])[0]
    if isinstance(result, BaseException):
        raise result
    return result


class _Call(Generic[T, R]):
    __slots__ = ("item", "result", "error", "done", "wake", "lead")

    def __init__(self, item: T) -> None:
        self.item = item
        self.result: R | None = None
        self.error: BaseException | None = None
        self.done = False
        self.lead = False
        # a bare lock as a one-shot signal: released once (done, or made the leader) and acquired
        # once by the waiting caller; cheaper than threading.Event's Condition on this hot path
        self.wake = threading.Lock()
        self.wake.acquire()


class Coalescer(Generic[T, R]):
    """Serve concurrent `submit(item)` calls in batches through `run_batch` (see module doc)."""

    def __init__(self, name: str, run_batch: Callable[[Sequence[T]], Sequence[R | BaseException]], *,
                 max_batch: int = 64) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.name = name
        self._run_batch = run_batch
        self._max_batch = max_batch
        self._mutex = threading.Lock()
        self._waiting: deque[_Call[T, R]] = deque()
        self._leading = False
        self._sizes = BATCH_SIZE.labels(name)

    def submit(self, item: T) -> R:
        """Run `item` in the next batch and return its result (or raise its error)."""
        call: _Call[T, R] = _Call(item)
        with self._mutex:
            self._waiting.append(call)
            if not self._leading:
                self._leading = call.lead = True
        while not call.done:
            if call.lead:
                self._lead(call)
            else:
                call.wake.acquire()
        if call.error is not None:
            raise call.error
        return call.result  # type: ignore[return-value]

    def _lead(self, me: _Call[T, R]) -> None:
        """Run batches until `me` is done, then pass the lead to the oldest waiting call."""
        while not me.done:
            with self._mutex:
                batch = [self._waiting.popleft() for _ in range(min(self._max_batch, len(self._waiting)))]
            self._run(batch)
        with self._mutex:
            me.lead = False
            if self._waiting:
                heir = self._waiting[0]
                heir.lead = True
                heir.wake.release()
            else:
                self._leading = False

    def _run(self, batch: list[_Call[T, R]]) -> None:
        self._sizes.observe(len(batch))
        try:
            results = self._run_batch([c.item for c in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{self.name}: run_batch returned {len(results)} results for {len(batch)} items")
        except BaseException as exc:  # noqa: BLE001 - routed to the callers below
            if len(batch) == 1:
                results = [exc]
            else:  # find whose error it is: each item alone
                for call in batch:
                    self._run([call])
                return
        for call, result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                call.error = result
            else:
                call.result = result
            call.done = True
            if not call.lead:
                call.wake.release()
