"""The platform's nameko pieces (coop_platform.worker) against the real RabbitMQ and PostgreSQL,
in their own eventlet-patched pytest process (DESIGN D1):
.venv/bin/pytest services/platform/tests/worker

Retry delays are short here (COOP_EVENT_RETRY_DELAYS, COOP_EVENT_RETRY_MAX_SECONDS are read
when a container starts), so that a give-up happens within seconds."""

import eventlet

eventlet.monkey_patch()  # noqa: E402 - before the tests import anything that uses sockets

import os  # noqa: E402

os.environ["COOP_EVENT_RETRY_DELAYS"] = "0.2,0.4"
os.environ["COOP_EVENT_RETRY_MAX_SECONDS"] = "1.5"

from coop_platform.worker import make_psycopg2_green  # noqa: E402

make_psycopg2_green()
