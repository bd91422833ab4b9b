"""The membership worker process: nameko (eventlet) for the bus; the only module that imports it."""

import eventlet

eventlet.monkey_patch()  # noqa: E402 - must precede every other import (DESIGN D1/D2)

from functools import cache  # noqa: E402
from typing import Any  # noqa: E402

from coop_membership import SERVICE_NAME  # noqa: E402
from coop_membership.adapters.repository import MembershipUnitOfWork  # noqa: E402
from coop_membership.service_layer import services  # noqa: E402
from coop_platform.config import Settings, load_settings  # noqa: E402
from coop_platform.db import make_engine, make_session_factory  # noqa: E402
from coop_platform.inbox import process_once  # noqa: E402
from coop_platform.logs import configure_logging  # noqa: E402
from coop_platform.migrations import upgrade  # noqa: E402
from coop_platform.worker import (  # noqa: E402
    HandlerMetrics,
    OutboxRelayRunner,
    coop_event_handler,
    run_worker,
)

SHARE_PAID_QUEUE = "evt-billing-share.paid--membership.on_share_paid"


@cache
def settings() -> Settings:
    return load_settings(SERVICE_NAME, "worker")


@cache
def engine():
    return make_engine(settings().database_url, pool_size=10)


def uow_factory() -> MembershipUnitOfWork:
    return MembershipUnitOfWork(make_session_factory(engine()))


class MembershipWorker:
    """Consumes billing's share.paid and relays the membership outbox."""

    name = SERVICE_NAME
    metrics = HandlerMetrics()
    relay = OutboxRelayRunner(engine, settings, lambda: [SHARE_PAID_QUEUE])

    @coop_event_handler("billing", "share.paid", max_deliveries=5)
    def on_share_paid(self, envelope: dict[str, Any]) -> None:
        process_once(uow_factory, "membership.on_share_paid", envelope, services.apply_share_paid_event)


def main() -> None:
    configure_logging(SERVICE_NAME, settings().log_level)
    upgrade(SERVICE_NAME, settings().database_url)
    run_worker(MembershipWorker, settings())


if __name__ == "__main__":
    main()
