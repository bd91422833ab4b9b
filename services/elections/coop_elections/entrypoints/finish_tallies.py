"""Finish every encrypted tally that is ready: all mixes in, k trustees' shares stored.

    python -m coop_elections.entrypoints.finish_tallies [--processes P]

Combines k trustees' decryption shares, counts with the election's method and publishes the
results (election.results_published), as FinishTally does, for every such election, then exits
(status 0; 1 if a tally could not be finished). The elections worker starts it as a process of
its own when its tick finds a ready tally: at the cooperative's scale the combination is minutes
of CPU, which must not hold the worker's eventlet hub, and P processes (default: every core)
share it. An operator may run it by hand with the worker's COOP_* settings.
"""

from __future__ import annotations

import argparse
import logging
from concurrent.futures import ProcessPoolExecutor

from coop_domain.clock import utcnow
from coop_elections import SERVICE_NAME
from coop_elections.adapters.unit_of_work import SqlElectionsUnitOfWork
from coop_elections.service_layer.timers import finish_ready_tallies, ready_tallies
from coop_platform.config import load_settings
from coop_platform.db import Database
from coop_platform.logs import configure_logging
from coop_platform.processes import available_cores

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="finish_tallies", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=available_cores())
    args = parser.parse_args(argv)
    settings = load_settings(SERVICE_NAME, "worker")
    configure_logging(SERVICE_NAME, settings.log_level)
    database = Database.open(settings.database_url, pool_size=2)
    try:
        uow = SqlElectionsUnitOfWork(database)
        ready = ready_tallies(uow)
        if not ready:
            return 0
        log.info("finishing encrypted tallies", extra={"elections": [e for _, e in ready]})
        with ProcessPoolExecutor(max(1, args.processes)) as pool:
            finished = finish_ready_tallies(uow, utcnow(), mapper=pool.map, ready=ready)
        log.info("encrypted tallies finished", extra={"finished": finished, "ready": len(ready)})
        return 0 if finished == len(ready) else 1
    finally:
        database.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
