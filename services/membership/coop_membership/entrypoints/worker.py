"""The membership worker process: nameko (eventlet) for the bus; the only module that imports it."""

import coop_platform.green  # noqa: F401 - first: eventlet's patching, quietly (DESIGN D1/D2)

# isort: split

from functools import partial  # noqa: E402
from typing import Any  # noqa: E402

from coop_domain.principal import system_principal  # noqa: E402
from coop_membership import SERVICE_NAME  # noqa: E402
from coop_membership.adapters import events_in  # noqa: E402
from coop_membership.adapters.unit_of_work import SqlMembershipUnitOfWork  # noqa: E402
from coop_membership.entrypoints.settings import member_languages  # noqa: E402
from coop_membership.service_layer import handlers  # noqa: E402
from coop_platform.inbox import process_once  # noqa: E402
from coop_platform.worker import (  # noqa: E402
    HandlerMetrics,
    OutboxRelayRunner,
    WorkerResources,
    coop_event_handler,
)

resources = WorkerResources(SERVICE_NAME, partial(SqlMembershipUnitOfWork, languages=member_languages()))
settings, engine, uow_factory = resources.settings, resources.engine, resources.uow_factory

SHARE_FEE_PAID_QUEUE = "evt-billing-share_fee.paid--membership.on_share_fee_paid"
#: billing's event under its name before the rename (share_fee.paid), read for one version
SHARE_PAID_QUEUE = "evt-billing-share.paid--membership.on_share_paid"
#: one inbox consumer for both names: an event is paid once whichever queue brings it
SHARE_FEE_CONSUMER = "membership.on_share_paid"
ACTING_AS = system_principal(SERVICE_NAME)


def record_share_fee_paid(envelope: dict[str, Any]) -> bool:
    """Billing's share-fee payment, parsed at the edge into a typed fact and applied at most once
    per event id; False for a duplicate."""
    fact = events_in.share_fee_paid(envelope)
    return process_once(uow_factory, SHARE_FEE_CONSUMER, envelope,
                        lambda uow, _: handlers.record_share_fee_paid(uow, ACTING_AS, fact))


class MembershipWorker:
    """Consumes billing's share_fee.paid (and its old name share.paid); relays the outbox."""

    name = SERVICE_NAME
    metrics = HandlerMetrics()
    relay = OutboxRelayRunner(engine, settings)

    @coop_event_handler("billing", "share_fee.paid", max_deliveries=5)
    def on_share_fee_paid(self, envelope: dict[str, Any]) -> None:
        record_share_fee_paid(envelope)

    @coop_event_handler("billing", "share.paid", max_deliveries=5)
    def on_share_paid(self, envelope: dict[str, Any]) -> None:
        record_share_fee_paid(envelope)


def main() -> None:
    resources.run(MembershipWorker)


if __name__ == "__main__":
    main()
