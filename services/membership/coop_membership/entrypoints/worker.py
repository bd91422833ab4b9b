"""The membership worker process: nameko (eventlet) for the bus; the only module that imports it."""

import eventlet

eventlet.monkey_patch()  # noqa: E402 - must precede every other import (DESIGN D1/D2)

from typing import Any  # noqa: E402

from coop_membership import SERVICE_NAME  # noqa: E402
from coop_membership.adapters.repository import MembershipUnitOfWork  # noqa: E402
from coop_membership.service_layer import services  # noqa: E402
from coop_platform.inbox import process_once  # noqa: E402
from coop_platform.worker import (  # noqa: E402
    HandlerMetrics,
    OutboxRelayRunner,
    WorkerResources,
    coop_event_handler,
)

resources = WorkerResources(SERVICE_NAME, MembershipUnitOfWork)
settings, engine, uow_factory = resources.settings, resources.engine, resources.uow_factory

SHARE_PAID_QUEUE = "evt-billing-share.paid--membership.on_share_paid"


class MembershipWorker:
    """Consumes billing's share.paid and relays the membership outbox."""

    name = SERVICE_NAME
    metrics = HandlerMetrics()
    relay = OutboxRelayRunner(engine, settings)

    @coop_event_handler("billing", "share.paid", max_deliveries=5)
    def on_share_paid(self, envelope: dict[str, Any]) -> None:
        process_once(uow_factory, "membership.on_share_paid", envelope, services.apply_share_paid_event)


def main() -> None:
    resources.run(MembershipWorker)


if __name__ == "__main__":
    main()
