"""The elections worker process: nameko (eventlet) for the bus and the clock; the only module
that imports it. Consumes membership events (member.admitted, member.updated,
member.status_changed, share.paid, member.erased) into the local projection of members in good
standing (an erasure also empties the member's candidacy statements),
runs the timers that open, remind and close elections, starts the finishing of encrypted
tallies k trustees have decrypted (entrypoints/finish_tallies.py, a process of its own), and
relays the outbox."""

import coop_platform.green  # noqa: F401 - first: eventlet's patching, quietly (DESIGN D1/D2)

# isort: split

import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import timedelta  # noqa: E402
from typing import Any  # noqa: E402

from nameko.timer import timer  # noqa: E402

from coop_domain.clock import utcnow  # noqa: E402
from coop_elections import SERVICE_NAME  # noqa: E402
from coop_elections.adapters.events_in import apply_member_event  # noqa: E402
from coop_elections.adapters.unit_of_work import SqlElectionsUnitOfWork  # noqa: E402
from coop_elections.service_layer.timers import ready_tallies, run_timers  # noqa: E402
from coop_platform.config import seconds_setting  # noqa: E402
from coop_platform.inbox import process_once  # noqa: E402
from coop_platform.worker import (  # noqa: E402
    HandlerMetrics,
    OutboxRelayRunner,
    WorkerResources,
    coop_event_handler,
)

resources = WorkerResources(SERVICE_NAME, SqlElectionsUnitOfWork)
settings, engine, uow_factory = resources.settings, resources.engine, resources.uow_factory

CONSUMED = {
    "member.admitted": "on_member_admitted",
    "member.updated": "on_member_updated",
    "member.status_changed": "on_member_status_changed",
    "share.paid": "on_share_paid",
    "member.erased": "on_member_erased",
}


def tick_seconds(value: str | None = None) -> float:
    """How often the timer runs (COOP_ELECTIONS_TICK_SECONDS, default 15 s). Elections open and
    close at most one tick late, and our cooperative's rolls are built in the last three ticks
    before their cut-off. Shorter ticks serve end-to-end tests with windows seconds long."""
    return seconds_setting("COOP_ELECTIONS_TICK_SECONDS", 15.0, value=value)


TICK_SECONDS = tick_seconds()
CLOSING_SOON_LEAD = timedelta(hours=24)
now = utcnow  # the worker's clock (tests move it)


class TallyFinisher:
    """Starts `python -m coop_elections.entrypoints.finish_tallies` when a tally is ready and no
    such process is running: its minutes of CPU stay out of this eventlet process. A process
    that fails leaves the tally ready; the next one starts after a pause that doubles with each
    failure in a row (FIRST_PAUSE to MAX_PAUSE seconds), so a tally that cannot be finished does
    not restart minutes of work every tick. Its log says why."""

    command = (sys.executable, "-m", "coop_elections.entrypoints.finish_tallies")
    FIRST_PAUSE, MAX_PAUSE = 60.0, 1800.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.process: subprocess.Popen | None = None
        self.clock = clock
        self.failures = 0
        self.not_before = 0.0

    def start_if_ready(self, uow: Any) -> int:
        if self.process is not None:
            code = self.process.poll()
            if code is None:
                return 0  # still finishing
            self.process = None
            self.failures = self.failures + 1 if code else 0
            if code:
                self.not_before = self.clock() + min(self.MAX_PAUSE, self.FIRST_PAUSE * 2 ** (self.failures - 1))
        if self.clock() < self.not_before or not ready_tallies(uow):
            return 0
        self.process = subprocess.Popen(self.command)  # inherits the COOP_* settings and stderr
        return 1


finisher = TallyFinisher()


class ElectionsWorker:
    """Membership projection, election timers and the outbox relay."""

    name = SERVICE_NAME
    metrics = HandlerMetrics()
    relay = OutboxRelayRunner(engine, settings)

    def _apply(self, consumer: str, envelope: dict[str, Any]) -> None:
        process_once(uow_factory, f"{SERVICE_NAME}.{consumer}", envelope, apply_member_event)

    @coop_event_handler("membership", "member.admitted", max_deliveries=5)
    def on_member_admitted(self, envelope: dict[str, Any]) -> None:
        self._apply("on_member_admitted", envelope)

    @coop_event_handler("membership", "member.updated", max_deliveries=5)
    def on_member_updated(self, envelope: dict[str, Any]) -> None:  # a new category (permanent staff...)
        self._apply("on_member_updated", envelope)

    @coop_event_handler("membership", "member.status_changed", max_deliveries=5)
    def on_member_status_changed(self, envelope: dict[str, Any]) -> None:
        self._apply("on_member_status_changed", envelope)

    @coop_event_handler("membership", "share.paid", max_deliveries=5)
    def on_share_paid(self, envelope: dict[str, Any]) -> None:
        self._apply("on_share_paid", envelope)

    @coop_event_handler("membership", "member.erased", max_deliveries=5)
    def on_member_erased(self, envelope: dict[str, Any]) -> None:  # statements emptied, id kept
        self._apply("on_member_erased", envelope)

    @timer(interval=TICK_SECONDS)
    def tick(self) -> dict[str, int]:
        """Open, remind (election.closing_soon) and close/publish whatever is due; start
        finishing the ready encrypted tallies."""
        done = run_timers(uow_factory(), now(), CLOSING_SOON_LEAD, roll_lead=timedelta(seconds=3 * TICK_SECONDS))
        done["tally_finishers_started"] = finisher.start_if_ready(uow_factory())
        return done


def main() -> None:
    resources.run(ElectionsWorker)


if __name__ == "__main__":
    main()
