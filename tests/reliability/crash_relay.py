"""A relay that dies between publish and mark (run as a subprocess by test_outbox_relay_faults).

It runs one real OutboxRelay pass against PostgreSQL and RabbitMQ: every pending row of the
batch is published and confirmed, then, instead of the UPDATE that marks them sent, the
process is killed with SIGKILL while it still holds its transaction and row locks.

usage: python crash_relay.py <database url> <amqp url>
"""

import os
import signal
import sys

from coop_platform.amqp import ConfirmingPublisher
from coop_platform.db import make_engine
from coop_platform.outbox import OutboxRelay


def die_before_mark(self, conn, outcome):  # noqa: ARG001 - same signature as _mark
    done = len(outcome.sent)
    print(f"published {done} of {done + len(outcome.quarantined) + len(outcome.failed)}; dying before mark",
          flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> int:
    database_url, amqp_url = sys.argv[1:3]
    OutboxRelay._mark = die_before_mark
    relay = OutboxRelay(make_engine(database_url, pool_size=1), lambda: ConfirmingPublisher(amqp_url))
    relay.run_once()
    print("the relay was expected to die before marking", flush=True)
    return 3


if __name__ == "__main__":
    sys.exit(main())
