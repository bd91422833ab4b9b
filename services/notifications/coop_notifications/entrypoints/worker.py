"""The notifications worker process: nameko (eventlet) for the bus and the clock; the only
module that imports it. Consumes membership's events into the recipients projection and relays
the outbox."""

import coop_platform.green  # noqa: F401 - first: eventlet's patching, quietly (DESIGN D1/D2)

# isort: split

from typing import Any  # noqa: E402

from coop_domain.clock import utcnow  # noqa: E402
from coop_notifications import SERVICE_NAME  # noqa: E402
from coop_notifications.adapters.events_in import apply_member_event  # noqa: E402
from coop_notifications.adapters.unit_of_work import SqlNotificationsUnitOfWork  # noqa: E402
from coop_platform.inbox import process_once  # noqa: E402
from coop_platform.worker import (  # noqa: E402
    HandlerMetrics,
    OutboxRelayRunner,
    WorkerResources,
    coop_event_handler,
)

resources = WorkerResources(SERVICE_NAME, SqlNotificationsUnitOfWork)
settings, engine, uow_factory = resources.settings, resources.engine, resources.uow_factory
now = utcnow  # the worker's clock (tests move it)


class NotificationsWorker:
    """Recipients from membership, the outbox relay."""

    name = SERVICE_NAME
    metrics = HandlerMetrics()
    relay = OutboxRelayRunner(engine, settings)

    def _apply(self, consumer: str, envelope: dict[str, Any], effect: Any) -> None:
        process_once(uow_factory, f"{SERVICE_NAME}.{consumer}", envelope, effect)

    # --- recipients (membership) -------------------------------------------------------------

    @coop_event_handler("membership", "member.admitted", max_deliveries=5)
    def on_member_admitted(self, envelope: dict[str, Any]) -> None:
        self._apply("on_member_admitted", envelope, apply_member_event)

    @coop_event_handler("membership", "member.updated", max_deliveries=5)
    def on_member_updated(self, envelope: dict[str, Any]) -> None:
        self._apply("on_member_updated", envelope, apply_member_event)

    @coop_event_handler("membership", "member.status_changed", max_deliveries=5)
    def on_member_status_changed(self, envelope: dict[str, Any]) -> None:
        self._apply("on_member_status_changed", envelope, apply_member_event)

    @coop_event_handler("membership", "member.erased", max_deliveries=5)
    def on_member_erased(self, envelope: dict[str, Any]) -> None:
        self._apply("on_member_erased", envelope, apply_member_event)


def main() -> None:
    resources.run(NotificationsWorker)


if __name__ == "__main__":
    main()
