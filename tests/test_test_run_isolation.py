"""`make test` must not disturb a `make run` on the same machine: its RabbitMQ traffic goes to a
vhost of its own (scripts/test.sh), never to "/" where `make run` keeps its durable queues."""

from __future__ import annotations

import os
from urllib.parse import urlparse

import pytest

from coop_testkit import AMQP_URL, TEST_VHOST


def test_make_test_talks_to_rabbitmq_on_a_vhost_of_its_own_and_so_does_every_process_it_starts():
    if "COOP_TEST_AMQP_URL" not in os.environ:
        pytest.skip("pytest run by hand on the shared vhost; scripts/test.sh (make test) sets the test vhost")
    assert urlparse(AMQP_URL).path == f"/{TEST_VHOST}"
    assert os.environ["COOP_AMQP_URL"] == AMQP_URL
