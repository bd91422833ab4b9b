"""The notifications worker process: nameko (eventlet) for the bus and the clock; the only
module that imports it. Consumes membership's events into the recipients projection, every
event of adapters/event_map.py into delivery rows (one handler each, made from the table), and
relays the outbox. Its delivery timer claims due e-mail rows and sends them (service_layer/
delivery.py); its gauge timer reads the queue depth and the oldest pending legal notice."""

import coop_platform.green  # noqa: F401 - first: eventlet's patching, quietly (DESIGN D1/D2)

# isort: split

import logging  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import timedelta  # noqa: E402
from typing import Any  # noqa: E402

from nameko.timer import timer  # noqa: E402

from coop_domain.clock import utcnow  # noqa: E402
from coop_notifications import SERVICE_NAME  # noqa: E402
from coop_notifications.adapters.events_in import CONSUMED, effect_for  # noqa: E402
from coop_notifications.adapters.unit_of_work import SqlNotificationsUnitOfWork  # noqa: E402
from coop_notifications.entrypoints import metrics  # noqa: E402
from coop_notifications.service_layer.delivery import MailSettings, deliver_batch  # noqa: E402
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
log = logging.getLogger(__name__)


def tick_seconds(value: str | None = None) -> float:
    """How often the delivery timer runs (COOP_NOTIFICATIONS_TICK_SECONDS, default 2 s); each
    tick sends batches until nothing is due."""
    text = os.environ.get("COOP_NOTIFICATIONS_TICK_SECONDS") if value is None else value
    seconds = float(text) if text else 2.0
    if not 0.05 <= seconds <= 600:
        raise ValueError(f"COOP_NOTIFICATIONS_TICK_SECONDS must be between 0.05 and 600, got {text!r}")
    return seconds


def mail_settings(env: dict[str, str] | None = None) -> MailSettings:
    """COOP_MAIL_DOMAIN (Message-IDs, return paths), COOP_PORTAL_URL, COOP_UNSUBSCRIBE_URL and
    COOP_UNSUBSCRIBE_SECRET (signs the one-click links; a development default in dev mode only),
    COOP_NOTIFICATIONS_BATCH and COOP_NOTIFICATIONS_LEASE_SECONDS."""
    env = dict(os.environ) if env is None else env
    secret = env.get("COOP_UNSUBSCRIBE_SECRET", "")
    if not secret:
        if env.get("COOP_DEV_MODE") != "1":
            raise SystemExit("COOP_UNSUBSCRIBE_SECRET is not set: it signs the one-click unsubscribe links")
        secret = "dev-unsubscribe-secret"
    portal = env.get("COOP_PORTAL_URL", "http://localhost:8080")
    return MailSettings(domain=env.get("COOP_MAIL_DOMAIN", "localhost"), portal_url=portal,
                        unsubscribe_base_url=env.get("COOP_UNSUBSCRIBE_URL", "https://localhost:8443"),
                        unsubscribe_secret=secret.encode(), batch_size=int(env.get("COOP_NOTIFICATIONS_BATCH", "200")),
                        lease=timedelta(seconds=float(env.get("COOP_NOTIFICATIONS_LEASE_SECONDS", "300"))))


class MailAdapters:
    """The renderer and the sender (the mail adapters: templates, COOP_SMTP_URL's relay or the
    .eml sink), made on first use."""

    def __init__(self) -> None:
        self._made: tuple[Any, Any, MailSettings] | None = None
        self.missing = False

    def get(self) -> tuple[Any, Any, MailSettings] | None:
        if self._made is None:
            from dataclasses import replace

            try:
                from coop_notifications.adapters import bounces, smtp, templates
            except ImportError as exc:  # built in parallel (branch n13-mail) until both are merged
                if not self.missing:
                    log.error("mail adapters missing (%s): no e-mail is sent, rows wait in the ledger", exc)
                self.missing = True
                return None

            settings = replace(mail_settings(), return_path=bounces.verp_address)
            self._made = (templates.render, smtp.sender_from_env(), settings)
        return self._made


mail = MailAdapters()
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
TICK_SECONDS = tick_seconds()


def handler_name(event: str) -> str:
    return "on_" + event.replace(".", "_")


class NotificationsWorker:
    """Recipients from membership, notices from every mapped event, the outbox relay."""

    name = SERVICE_NAME
    metrics = HandlerMetrics()
    relay = OutboxRelayRunner(engine, settings)

    def _apply(self, consumer: str, envelope: dict[str, Any], effect: Any) -> None:
        process_once(uow_factory, f"{SERVICE_NAME}.{consumer}", envelope, effect)

    @timer(interval=TICK_SECONDS)
    def deliver(self) -> int:
        """Send batches of due e-mail until none is due (legal notices first)."""
        adapters = mail.get()
        if adapters is None:
            return 0
        render, sender, settings = adapters
        sent = 0
        while True:
            result = deliver_batch(uow_factory, sender, render, rolls, settings, WORKER_ID, now,
                                   on_outcome=metrics.count_outcome)
            metrics.TEMPLATE_ERRORS.inc(result.template_errors)
            sent += result.claimed
            if result.claimed < settings.batch_size:
                return sent

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
    resources.run(NotificationsWorker)


if __name__ == "__main__":
    main()
