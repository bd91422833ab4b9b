"""The billing worker process: nameko (eventlet) for the bus; the only module that imports it."""

import coop_platform.green  # noqa: F401 - first: eventlet's patching, quietly (DESIGN D1/D2)

# isort: split

from typing import Any  # noqa: E402

from coop_billing import SERVICE_NAME  # noqa: E402
from coop_billing.adapters.unit_of_work import SqlBillingUnitOfWork  # noqa: E402
from coop_billing.entrypoints.membership_events import handle  # noqa: E402
from coop_platform.worker import (  # noqa: E402
    HandlerMetrics,
    OutboxRelayRunner,
    WorkerResources,
    coop_event_handler,
)

resources = WorkerResources(SERVICE_NAME, SqlBillingUnitOfWork)
settings, engine, uow_factory = resources.settings, resources.engine, resources.uow_factory

# nameko names an event handler's queue "evt-<source>-<event>--<service>.<method>"
QUEUES = [
    "evt-membership-member.admitted--billing.on_member_admitted",
    "evt-membership-member.updated--billing.on_member_updated",
    "evt-membership-member.status_changed--billing.on_member_status_changed",
    "evt-membership-share.paid--billing.on_share_paid",
    "evt-membership-member.erased--billing.on_member_erased",
]


class BillingWorker:
    """Keeps the member projection (standing, names until erasure), bills the share on admission,
    relays the outbox (and, like every worker, purges expired outbox rows and idempotency keys)."""

    name = SERVICE_NAME
    metrics = HandlerMetrics()
    relay = OutboxRelayRunner(engine, settings)

    @coop_event_handler("membership", "member.admitted", max_deliveries=5)
    def on_member_admitted(self, envelope: dict[str, Any]) -> None:
        handle(uow_factory, "member.admitted", envelope)

    @coop_event_handler("membership", "member.updated", max_deliveries=5)
    def on_member_updated(self, envelope: dict[str, Any]) -> None:
        handle(uow_factory, "member.updated", envelope)

    @coop_event_handler("membership", "member.status_changed", max_deliveries=5)
    def on_member_status_changed(self, envelope: dict[str, Any]) -> None:
        handle(uow_factory, "member.status_changed", envelope)

    @coop_event_handler("membership", "share.paid", max_deliveries=5)
    def on_share_paid(self, envelope: dict[str, Any]) -> None:
        handle(uow_factory, "share.paid", envelope)

    @coop_event_handler("membership", "member.erased", max_deliveries=5)
    def on_member_erased(self, envelope: dict[str, Any]) -> None:
        handle(uow_factory, "member.erased", envelope)


def main() -> None:
    resources.run(BillingWorker)


if __name__ == "__main__":
    main()
