"""The notifications worker process: nameko (eventlet) for the bus and the clock; the only
module that imports it. Consumes membership's events into the recipients projection, elections'
election.voted into the projection of who voted (the reminder's re-check), every event of
adapters/event_map.py into delivery rows (one handler each, made from adapters/events_in.CONSUMED),
and relays the outbox. Its delivery timer claims due e-mail rows and sends them (service_layer/
delivery.py); its bounce timer reads the bounce mailbox; its gauge timer reads the queue depth and the oldest pending legal notice."""

import coop_platform.green  # noqa: F401 - first: eventlet's patching, quietly (DESIGN D1/D2)

# isort: split

import functools  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

from nameko.timer import timer  # noqa: E402

from coop_domain.clock import utcnow  # noqa: E402
from coop_notifications import SERVICE_NAME  # noqa: E402
from coop_notifications.adapters.events_in import CONSUMED, effect_for  # noqa: E402
from coop_notifications.adapters.unit_of_work import SqlNotificationsUnitOfWork  # noqa: E402
from coop_notifications.entrypoints import metrics  # noqa: E402
from coop_notifications.entrypoints.mail_config import mail_settings  # noqa: E402
from coop_notifications.service_layer.delivery import MailSettings, deliver_batch, process_bounces  # noqa: E402
from coop_notifications.service_layer.digests import run_digests  # noqa: E402
from coop_notifications.service_layer.handlers import ProjectionRolls  # noqa: E402
from coop_platform.config import seconds_setting  # noqa: E402
from coop_platform.inbox import InboxItem, inbox_coalescer  # noqa: E402
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
#: the handlers' events, group-committed: up to MAX_WORKERS of them in flight share a transaction
inbox = inbox_coalescer(uow_factory)
MAX_WORKERS = 64
log = logging.getLogger(__name__)


def tick_seconds(value: str | None = None) -> float:
    """How often the delivery timer runs (COOP_NOTIFICATIONS_TICK_SECONDS, default 2 s); each
    tick sends batches until nothing is due."""
    return seconds_setting("COOP_NOTIFICATIONS_TICK_SECONDS", 2.0, low=0.05, high=600.0, value=value)


class MailAdapters:
    """The renderer, the sender (COOP_SMTP_URL's relay or the .eml sink) and the bounce mailbox
    (COOP_BOUNCE_IMAP_URL, None when unset), made on first use so that importing this module
    for its tests reads no mail setting."""

    def __init__(self) -> None:
        self._made: tuple[Any, Any, MailSettings] | None = None

    def get(self) -> tuple[Any, Any, MailSettings]:
        if self._made is None:
            from dataclasses import replace

            from coop_notifications.adapters import bounces, smtp, templates

            settings = replace(mail_settings(), return_path=bounces.verp_address)
            self._made = (templates.render, smtp.sender_from_env(), settings)
        return self._made

    def bounce_mailbox(self) -> Any:
        return self._bounce_reader

    @functools.cached_property
    def _bounce_reader(self) -> Any:
        from coop_notifications.adapters import bounces

        return bounces.reader_from_env()


mail = MailAdapters()
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
TICK_SECONDS = tick_seconds()
BOUNCE_POLL_SECONDS = seconds_setting("COOP_BOUNCE_POLL_SECONDS", 60.0, low=0.05, high=600.0)


def handler_name(event: str) -> str:
    return "on_" + event.replace(".", "_")


class NotificationsWorker:
    """Recipients from membership, notices from every mapped event, the outbox relay."""

    name = SERVICE_NAME
    metrics = HandlerMetrics()
    relay = OutboxRelayRunner(engine, settings)

    def _apply(self, consumer: str, envelope: dict[str, Any], effect: Any) -> None:
        inbox.submit(InboxItem(f"{SERVICE_NAME}.{consumer}", envelope, effect))

    @timer(interval=TICK_SECONDS)
    def deliver(self) -> int:
        """Send batches of due e-mail until none is due (legal notices first)."""
        render, sender, settings = mail.get()
        sent = 0
        while True:
            result = deliver_batch(uow_factory, sender, render, rolls, settings, WORKER_ID, now,
                                   on_outcome=metrics.count_outcome)
            metrics.TEMPLATE_ERRORS.inc(result.template_errors)
            sent += result.claimed
            if result.claimed < settings.batch_size:
                return sent

    @timer(interval=BOUNCE_POLL_SECONDS)
    def bounces(self) -> int:
        """Read the bounce mailbox (when COOP_BOUNCE_IMAP_URL names one): a permanent failure
        bounces its delivery and suppresses the address."""
        mailbox = mail.bounce_mailbox()
        if mailbox is None:
            return 0
        try:
            result = process_bounces(uow_factory, mailbox, now, on_outcome=metrics.count_outcome)
        except OSError as exc:  # the mailbox is down: the reports wait there for the next poll
            log.warning("bounce mailbox unreachable: %s: %s", type(exc).__name__, exc)
            return 0
        return result.bounced

    @timer(interval=60)
    def digests(self) -> int:
        """Gather each member's digestible notices of the period that ended into one digest."""
        return run_digests(uow_factory, now())

    @timer(interval=15)
    def gauges(self) -> dict[str, float]:
        return metrics.refresh_gauges(uow_factory(), now())


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
    mail_settings()  # refuse to start without what the links need (COOP_UNSUBSCRIBE_SECRET)
    resources.run(NotificationsWorker, max_workers=MAX_WORKERS)


if __name__ == "__main__":
    main()
