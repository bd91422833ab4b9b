"""The billing worker process: nameko (eventlet) for the bus; the only module that imports it."""

import eventlet

eventlet.monkey_patch()  # noqa: E402 - must precede every other import (DESIGN D1/D2)

from functools import cache  # noqa: E402
from typing import Any  # noqa: E402

from coop_billing import SERVICE_NAME  # noqa: E402
from coop_billing.adapters.repository import BillingUnitOfWork  # noqa: E402
from coop_billing.service_layer import services  # noqa: E402
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

# nameko names an event handler's queue "evt-<source>-<event>--<service>.<method>"
QUEUES = [
    "evt-membership-member.admitted--billing.on_member_admitted",
    "evt-membership-member.updated--billing.on_member_updated",
    "evt-membership-member.status_changed--billing.on_member_status_changed",
    "evt-membership-share.paid--billing.on_share_paid",
]


@cache
def settings() -> Settings:
    return load_settings(SERVICE_NAME, "worker")


@cache
def engine():
    return make_engine(settings().database_url, pool_size=10)


@cache
def _sessions():
    return make_session_factory(engine())


def uow_factory() -> BillingUnitOfWork:
    return BillingUnitOfWork(_sessions())


class BillingWorker:
    """Keeps the member-standing projection, bills the share on admission, relays the outbox."""

    name = SERVICE_NAME
    metrics = HandlerMetrics()
    relay = OutboxRelayRunner(engine, settings, lambda: list(QUEUES))

    @coop_event_handler("membership", "member.admitted", max_deliveries=5)
    def on_member_admitted(self, envelope: dict[str, Any]) -> None:
        process_once(uow_factory, "billing.on_member_admitted", envelope, services.apply_member_admitted)

    @coop_event_handler("membership", "member.updated", max_deliveries=5)
    def on_member_updated(self, envelope: dict[str, Any]) -> None:
        process_once(uow_factory, "billing.on_member_updated", envelope, services.apply_member_updated)

    @coop_event_handler("membership", "member.status_changed", max_deliveries=5)
    def on_member_status_changed(self, envelope: dict[str, Any]) -> None:
        process_once(uow_factory, "billing.on_member_status_changed", envelope,
                     services.apply_member_status_changed)

    @coop_event_handler("membership", "share.paid", max_deliveries=5)
    def on_share_paid(self, envelope: dict[str, Any]) -> None:
        process_once(uow_factory, "billing.on_share_paid", envelope, services.apply_membership_share_paid)


def main() -> None:
    configure_logging(SERVICE_NAME, settings().log_level)
    upgrade(SERVICE_NAME, settings().database_url)
    run_worker(BillingWorker, settings())


if __name__ == "__main__":
    main()
