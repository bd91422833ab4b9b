"""Billing nameko worker tests: their own pytest process (DESIGN D1), real RabbitMQ and PostgreSQL."""

import eventlet

eventlet.monkey_patch()  # noqa: E402 - before anything imports socket or threading

import contextlib  # noqa: E402
import os  # noqa: E402

import pytest  # noqa: E402

from coop_platform.migrations import upgrade  # noqa: E402
from coop_testkit import AMQP_URL, postgres_database  # noqa: E402

_db = contextlib.ExitStack()
DATABASE_URL = _db.enter_context(postgres_database("coop_billing_worker"))
os.environ["COOP_DATABASE_URL"] = DATABASE_URL  # read once by the worker module's cached settings()
os.environ["COOP_AMQP_URL"] = AMQP_URL
os.environ["COOP_METRICS_PORT"] = "0"
upgrade("billing", DATABASE_URL)


def pytest_unconfigure(config):
    from coop_billing.entrypoints import worker

    worker.engine().dispose()
    _db.close()


@pytest.fixture(scope="session")
def running_worker():
    from nameko.containers import ServiceContainer

    from coop_billing.entrypoints import worker
    from coop_platform.worker import make_psycopg2_green, nameko_config

    make_psycopg2_green()
    container = ServiceContainer(worker.BillingWorker, nameko_config(worker.settings()))
    container.start()
    try:
        yield container
    finally:
        container.stop()
        # the broker is shared: leave no consumerless durable queue filling up behind the tests
        from kombu import Connection

        with Connection(AMQP_URL) as conn:
            for name in worker.QUEUES:
                for queue in (name, f"{name}.dlq"):
                    with contextlib.suppress(Exception):
                        conn.channel().queue_delete(queue)
