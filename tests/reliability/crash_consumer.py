"""A consumer that dies mid-message (run as a subprocess by test_consumer_faults).

It takes one message from a queue without acknowledging it and handles it with
coop_platform.inbox.process_once, whose effect inserts a row into effect_log. Then it is
killed with SIGKILL either inside the transaction after the effect's write (before_commit)
or after the commit but before the ack (after_commit). RabbitMQ redelivers the message
when the connection dies.

usage: python crash_consumer.py <database url> <amqp url> <queue> before_commit|after_commit
"""

import json
import os
import signal
import sys
import time
from datetime import UTC, datetime

from kombu import Connection, Queue
from sqlalchemy import text

from coop_platform.db import make_engine, make_session_factory
from coop_platform.inbox import process_once
from coop_platform.unit_of_work import UnitOfWork

CONSUMER = "reliability.crashing-consumer"


def die(stage: str) -> None:
    print(f"dying {stage}", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> int:
    database_url, amqp_url, queue_name, moment = sys.argv[1:5]
    sessions = make_session_factory(make_engine(database_url, pool_size=1))

    def effect(uow, envelope):
        uow.session.execute(text("INSERT INTO effect_log (event_id, applied_at) VALUES (:id, :at)"),
                            {"id": envelope["id"], "at": datetime.now(UTC)})
        uow.session.flush()
        if moment == "before_commit":
            die("after the effect's write, before the commit")

    with Connection(amqp_url) as conn:
        queue = Queue(queue_name, channel=conn.default_channel)
        deadline = time.monotonic() + 30
        message = None
        while message is None and time.monotonic() < deadline:
            message = queue.get(no_ack=False)
            if message is None:
                time.sleep(0.05)
        if message is None:
            print("no message arrived", flush=True)
            return 2
        applied = process_once(lambda: UnitOfWork(sessions, "reliability"), CONSUMER,
                               json.loads(message.body), effect)
        print(f"applied={applied}", flush=True)
        die("after the commit, before the ack")
    return 3


if __name__ == "__main__":
    sys.exit(main())
