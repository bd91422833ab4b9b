"""A worker process built from the platform's nameko pieces (run as a subprocess by
test_consumer_db_outage): one CoopEventHandler on membership's member.admitted whose effect, a
row in effect_log, is applied through the inbox in the consumer's PostgreSQL database.

usage: python -m tests.reliability.retry_worker   (COOP_DATABASE_URL, COOP_AMQP_URL, COOP_METRICS_PORT,
                                 RETRY_WORKER_SERVICE: the service name, hence the queue's)
"""

import eventlet

eventlet.monkey_patch()  # noqa: E402 - before anything else (DESIGN D1/D2)

import os  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

from sqlalchemy import text  # noqa: E402

from coop_platform.config import Settings  # noqa: E402
from coop_platform.db import make_engine, make_session_factory  # noqa: E402
from coop_platform.inbox import process_once  # noqa: E402
from coop_platform.logs import configure_logging  # noqa: E402
from coop_platform.unit_of_work import UnitOfWork  # noqa: E402
from coop_platform.worker import HandlerMetrics, coop_event_handler, make_psycopg2_green, run_worker  # noqa: E402

SERVICE = os.environ["RETRY_WORKER_SERVICE"]
make_psycopg2_green()
ENGINE = make_engine(os.environ["COOP_DATABASE_URL"], pool_size=5)
SESSIONS = make_session_factory(ENGINE)


def record_effect(uow, envelope):
    uow.session.execute(text("INSERT INTO effect_log (event_id, applied_at) VALUES (:id, :at)"),
                        {"id": envelope["id"], "at": datetime.now(UTC)})


class RetryWorker:
    name = SERVICE
    metrics = HandlerMetrics()

    @coop_event_handler("membership", "member.admitted")
    def on_member_admitted(self, envelope):
        process_once(lambda: UnitOfWork(SESSIONS, SERVICE), f"{SERVICE}.on_member_admitted", envelope, record_effect)


if __name__ == "__main__":
    configure_logging(SERVICE, "INFO")
    run_worker(RetryWorker, Settings(service_name=SERVICE, database_url=os.environ["COOP_DATABASE_URL"],
                                     amqp_url=os.environ["COOP_AMQP_URL"],
                                     metrics_port=int(os.environ["COOP_METRICS_PORT"])))
