"""The notifications worker process: nameko (eventlet) for the bus and the clock; the only
module that imports it. Consumes membership's events into the recipients projection, every
event of adapters/event_map.py into delivery rows (one handler each, made from the table), and
relays the outbox."""

import coop_platform.green  # noqa: F401 - first: eventlet's patching, quietly (DESIGN D1/D2)

# isort: split

from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

from coop_domain.clock import utcnow  # noqa: E402
from coop_notifications import SERVICE_NAME  # noqa: E402
from coop_notifications.adapters.events_in import CONSUMED, effect_for  # noqa: E402
from coop_notifications.adapters.unit_of_work import SqlNotificationsUnitOfWork  # noqa: E402
from coop_notifications.service_layer.handlers import ProjectionRolls  # noqa: E402
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
rolls = ProjectionRolls()


def handler_name(event: str) -> str:
    return "on_" + event.replace(".", "_")


class NotificationsWorker:
    """Recipients from membership, notices from every mapped event, the outbox relay."""

    name = SERVICE_NAME
    metrics = HandlerMetrics()
    relay = OutboxRelayRunner(engine, settings)

    def _apply(self, consumer: str, envelope: dict[str, Any], effect: Any) -> None:
        process_once(uow_factory, f"{SERVICE_NAME}.{consumer}", envelope, effect)


def _handler(source: str, event: str) -> Callable[[Any, dict[str, Any]], None]:
    name = handler_name(event)
    effect = effect_for(source, event, rolls, lambda: now())

    def handle(self: NotificationsWorker, envelope: dict[str, Any]) -> None:
        self._apply(name, envelope, effect)

    handle.__name__ = handle.__qualname__ = name
    return coop_event_handler(source, event, max_deliveries=5)(handle)


for _source, _event in CONSUMED:
    assert not hasattr(NotificationsWorker, handler_name(_event)), f"two handlers named for {_event}"
    setattr(NotificationsWorker, handler_name(_event), _handler(_source, _event))


def main() -> None:
    resources.run(NotificationsWorker)


if __name__ == "__main__":
    main()
