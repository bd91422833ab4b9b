"""RabbitMQ adapter (kombu): exchanges and queues, confirmed publishing, retries, dead letters.

One module (about 500 lines) on purpose: the topology it declares and the publisher and retry
routing that rely on it must change together; split, each half would state the other's rules.

Topology of a service S (DESIGN D3/D4; hardening points 5 and 6):

- "S.events": durable topic exchange, routing key = event name. Only S's broker user may write
  to it, so the exchange an event arrives through says who published it. Events nobody is
  bound to go to its alternate exchange "S.unroutable" (a broker policy, `coop broker setup`)
  and wait in the queue of that name;
- each event handler of S consumes its own durable quorum queue Q, bound to the source's
  "<source>.events" (routing key = event name) and to S's "S.retry" (routing key = Q);
- "S.retry" (direct): a failed event is parked in the delay queue "Q.delay-<ms>ms" of its
  retry level, whose message TTL dead-letters it back into Q through "S.retry";
- "S.dlx" (direct): the dead-letter queue "Q.dlq" is bound to it. The worker parks there what it
  gives up or refuses; the broker parks there what kept killing its consumer (Q's
  x-delivery-limit).

Only S (and an administrator) may write to S.events, S.retry and S.dlx, and only S may read
its queues (coop_platform.broker gives each service a user with those permissions).
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import time
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple
from urllib.parse import urlparse

from amqp.exceptions import AccessRefused, NotFound, PreconditionFailed
from kombu import Connection, Exchange, Queue, binding

from coop_platform import delivery

log = logging.getLogger(__name__)

#: The dead-letter exchange of `declare_consumer_queue` (subscribers outside the platform).
DLX_NAME = "coop.dlx"
#: AMQP short strings (correlation id, message id...) hold at most 255 bytes.
SHORTSTR_MAX_BYTES = 255


# ------------------------------------------------------------------------------------ names

def event_exchange_name(service: str) -> str:
    return f"{service}.events"


def retry_exchange_name(service: str) -> str:
    return f"{service}.retry"


def dead_letter_exchange_name(service: str) -> str:
    return f"{service}.dlx"


def unroutable_name(service: str) -> str:
    """The alternate exchange of "<service>.events", and the queue that keeps what it gets."""
    return f"{service}.unroutable"


def dead_letter_queue_name(queue_name: str) -> str:
    return f"{queue_name}.dlq"


def delay_queue_name(queue_name: str, delay_seconds: float) -> str:
    return f"{queue_name}.delay-{delay_ms(delay_seconds)}ms"


def delay_ms(delay_seconds: float) -> int:
    return max(1, round(delay_seconds * 1000))


def handler_queue_pattern(service: str) -> str:
    """Regex (unanchored) of the queues of a service's event handlers: nameko names them
    "evt-<source>-<event>--<service>.<method>"; ours add ".dlq", ".delay-<ms>ms" and, while a
    queue is recreated, ".migrating" and ".migrating-lock". Source and event names have no
    hyphen, so one service's pattern never matches another's queue."""
    return rf"evt-[a-z0-9_]+-[a-z0-9_.]+--{re.escape(service)}\.[A-Za-z0-9_]+(\.[a-z0-9-]+)?"


_OWNER = re.compile("^" + handler_queue_pattern("SERVICE").replace("SERVICE", "(?P<service>[a-z0-9_]+)") + "$")


def queue_owner(queue_name: str) -> str | None:
    """The service whose handler consumes a queue (of any suffix), from its name."""
    match = _OWNER.match(queue_name)
    return match["service"] if match else None


def consumer_queue_of(queue_name: str) -> str:
    """The handler queue a dead-letter or delay queue belongs to."""
    return re.sub(r"\.(dlq|delay-[0-9]+ms|migrating|migrating-lock)$", "", queue_name)


# -------------------------------------------------------------------------------- exchanges

def topic_exchange(name: str, **kwargs: Any) -> Exchange:
    return Exchange(name, type="topic", durable=True, delivery_mode=2, **kwargs)


def direct_exchange(name: str, **kwargs: Any) -> Exchange:
    return Exchange(name, type="direct", durable=True, delivery_mode=2, **kwargs)


def event_exchange(service: str) -> Exchange:
    """"<service>.events": where a service publishes and subscribers bind their queues."""
    return topic_exchange(event_exchange_name(service))


def dead_letter_exchange() -> Exchange:
    return Exchange(DLX_NAME, type="direct", durable=True)


# ------------------------------------------------------------------- a service's consumers

def consumer_queue_arguments(queue_name: str, max_deliveries: int,
                             dead_letter_exchange_: str = DLX_NAME) -> dict[str, object]:
    """Arguments of a consumer queue: quorum, and dead-lettered by the broker after
    `max_deliveries` deliveries that were never answered (a consumer that keeps dying on it)."""
    return {
        "x-queue-type": "quorum",
        "x-delivery-limit": max(0, max_deliveries - 1),  # redeliveries allowed after the first
        "x-dead-letter-exchange": dead_letter_exchange_,
        "x-dead-letter-routing-key": dead_letter_queue_name(queue_name),
    }


class HandlerQueues:
    """The queues of one event handler of `service`: its consumer queue, delay queues and
    dead-letter queue, with their exchanges."""

    def __init__(self, service: str, queue_name: str, source_service: str, event_name: str,
                 max_deliveries: int = 5,
                 retry_delays: Iterable[float] = delivery.DEFAULT_RETRY_DELAYS) -> None:
        self.service = service
        self.name = queue_name
        self.source_service = source_service
        self.event_name = event_name
        self.max_deliveries = max_deliveries
        self.retry_delays = tuple(dict.fromkeys(retry_delays))
        self.retry_exchange = direct_exchange(retry_exchange_name(service))
        self.dead_letter_exchange = direct_exchange(dead_letter_exchange_name(service))
        # A service's user may not (re)declare another service's exchange: only bind to it.
        self.source_exchange = topic_exchange(event_exchange_name(source_service), no_declare=True)

    @property
    def dead_letter_queue_name(self) -> str:
        return dead_letter_queue_name(self.name)

    def consumer_queue(self) -> Queue:
        arguments = {
            **consumer_queue_arguments(self.name, self.max_deliveries, self.dead_letter_exchange.name),
            # dead-lettered messages leave Q only once the DLQ has them
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }
        return Queue(self.name, durable=True, queue_arguments=arguments, bindings=[
            binding(self.source_exchange, routing_key=self.event_name),
            binding(self.retry_exchange, routing_key=self.name),
        ])

    def delay_queue(self, delay_seconds: float) -> Queue:
        name = delay_queue_name(self.name, delay_seconds)
        return Queue(name, exchange=self.retry_exchange, routing_key=name, durable=True, queue_arguments={
            "x-queue-type": "quorum",
            "x-message-ttl": delay_ms(delay_seconds),
            "x-dead-letter-exchange": self.retry_exchange.name,
            "x-dead-letter-routing-key": self.name,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        })

    def dead_letter_queue(self) -> Queue:
        return Queue(self.dead_letter_queue_name, exchange=self.dead_letter_exchange,
                     routing_key=self.dead_letter_queue_name, durable=True)

    def declare(self, connection: Connection) -> Queue:
        """Declare everything the handler needs and return its consumer queue. A consumer
        queue left by an older version with other arguments is recreated, its messages kept."""
        ensure_exchange(connection, self.source_exchange)
        with connection.channel() as channel:
            self.retry_exchange(channel).declare()
            self.dead_letter_exchange(channel).declare()
            self.dead_letter_queue()(channel).declare()
            for delay in self.retry_delays:
                self.delay_queue(delay)(channel).declare()
        queue = self.consumer_queue()
        try:
            with connection.channel() as channel:
                queue(channel).declare()
        except PreconditionFailed:
            moved = migrate_queue(connection, queue, self)
            log.warning("recreated queue %s with its new arguments; %d messages kept", self.name, moved)
        return queue


def ensure_exchange(connection: Connection, exchange: Exchange) -> None:
    """Make sure an exchange this process only binds to exists: a service's user may not
    declare another service's exchange, so it is created by `coop broker setup` (or here, by a
    user allowed to, as in development)."""
    try:
        with connection.channel() as channel:
            channel.exchange_declare(exchange.name, exchange.type, passive=True)
        return
    except NotFound:
        pass
    try:
        with connection.channel() as channel:
            Exchange(exchange.name, type=exchange.type, durable=True)(channel).declare()
    except AccessRefused as exc:
        raise RuntimeError(f"exchange {exchange.name!r} does not exist and this broker user may not "
                           "create it: run `coop broker setup`") from exc


def migrate_queue(connection: Connection, queue: Queue, handler: HandlerQueues) -> int:
    """Recreate `queue`, which exists with other arguments, keeping its messages.

    A holding queue bound like the old one takes new events from now on; the old queue's
    messages move there, the old queue is deleted and declared anew, and everything moves
    back through the retry exchange. A copy may arrive twice (consumers deduplicate); none is
    lost. An exclusive lock queue keeps two processes from migrating the same queue at once
    (the second gets RESOURCE_LOCKED and its consumer retries later)."""
    holding_name = f"{queue.name}.migrating"
    lock = Queue(f"{queue.name}.migrating-lock", exclusive=True, auto_delete=True)
    holding = Queue(holding_name, durable=True, queue_arguments={"x-queue-type": "quorum"}, bindings=[
        binding(handler.source_exchange, routing_key=handler.event_name),
        binding(handler.retry_exchange, routing_key=holding_name),
    ])
    with connection.channel() as channel:
        lock(channel).declare()
        holding(channel).declare()
        moved = move_messages(connection, queue.name, handler.retry_exchange.name, holding_name,
                              retry_exchange=handler.retry_exchange.name)
        channel.queue_delete(queue.name)
        queue(channel).declare()
        move_messages(connection, holding_name, handler.retry_exchange.name, queue.name,
                      retry_exchange=handler.retry_exchange.name)
        channel.queue_delete(holding_name)
        channel.queue_delete(lock.name)
    return moved


def move_messages(connection: Connection, from_queue: str, exchange: str, routing_key: str, *,
                  retry_exchange: str | None = None) -> int:
    """Move messages from a queue to an exchange, each acknowledged only after the broker
    confirmed its copy. A message that did not come through `retry_exchange` gets its origin
    (exchange, routing key) recorded in its headers, so that a consumer receiving it through
    its retry exchange can still check where it came from. Returns how many moved."""
    publisher = ConfirmingPublisher(connection.as_uri(include_password=True), declare_exchanges=False)
    moved = 0
    try:
        with connection.channel() as channel:
            while (message := channel.basic_get(from_queue, no_ack=False)) is not None:
                publisher.publish_many([copy_of(message, exchange, routing_key, retry_exchange)])
                if publisher.unroutable:
                    channel.basic_reject(message.delivery_tag, requeue=True)
                    raise Unroutable(f"nothing is bound to {exchange!r} with routing key {routing_key!r}")
                channel.basic_ack(message.delivery_tag)
                moved += 1
    finally:
        publisher.close()
    return moved


def copy_of(message: Any, exchange: str, routing_key: str, retry_exchange: str | None,
            extra_headers: dict[str, Any] | None = None) -> OutgoingMessage:
    """An outgoing copy of a received message (its body, ids, content type and headers)."""
    properties = dict(getattr(message, "properties", {}) or {})
    headers = dict(properties.pop("application_headers", None) or getattr(message, "headers", None) or {})
    info = message.delivery_info
    if info.get("exchange") != retry_exchange:
        headers.setdefault(delivery.HEADER_ORIGIN_EXCHANGE, info.get("exchange", ""))
        headers.setdefault(delivery.HEADER_ORIGIN_ROUTING_KEY, info.get("routing_key", ""))
    headers.update(extra_headers or {})
    return OutgoingMessage(
        exchange, routing_key, message.body, properties.get("message_id") or "",
        properties.get("correlation_id"), headers,
        content_type=properties.get("content_type") or "application/json",
        content_encoding=properties.get("content_encoding") or "utf-8",
    )


def declare_consumer_queue(
    connection: Connection, queue_name: str, source_service: str, routing_key: str,
    max_deliveries: int = 5,
) -> Queue:
    """Declare a durable quorum queue bound to a service's events, dead-lettered into
    "<queue>.dlq" through "coop.dlx" after `max_deliveries` (how a subscriber outside the
    platform can listen; see docs/events.md)."""
    channel = connection.default_channel
    Queue(dead_letter_queue_name(queue_name), exchange=dead_letter_exchange(),
          routing_key=dead_letter_queue_name(queue_name), durable=True)(channel).declare()
    queue = Queue(
        queue_name, exchange=event_exchange(source_service), routing_key=routing_key, durable=True,
        queue_arguments=consumer_queue_arguments(queue_name, max_deliveries),
    )
    queue(channel).declare()
    return queue


# ------------------------------------------------------------------------------- publishing

class OutgoingMessage(NamedTuple):
    """One persistent message to publish (the relay's rows, retries, replays)."""

    exchange: str
    routing_key: str
    body: str | bytes
    message_id: str
    correlation_id: str | None
    headers: dict[str, Any] | None = None
    content_type: str = "application/json"
    content_encoding: str = "utf-8"


class ConfirmingPublisher:
    """Publishes persistent messages and reports only what RabbitMQ confirmed.

    `publish_many` sends a whole batch, then waits for the broker's confirms (publisher
    confirms, possibly "multiple" acks) and returns how many leading messages were confirmed:
    one network round trip per batch instead of per message. Nothing unconfirmed is ever
    reported as sent; a timeout or a broken connection raises.

    Every message is published "mandatory": one that no queue would take (no binding, and no
    alternate exchange on its exchange) comes back before its confirm, and its message id is
    listed in `unroutable` after the call, instead of being confirmed and dropped.
    """

    def __init__(self, amqp_url: str, connect_timeout: float = 3.0, confirm_timeout: float = 10.0,
                 declare_exchanges: bool = True) -> None:
        self.connection = Connection(amqp_url, connect_timeout=connect_timeout)
        self.connection.ensure_connection(max_retries=1)
        self.channel = self.connection.channel()
        self.channel.confirm_select()
        self.confirm_timeout = confirm_timeout
        self.declare_exchanges = declare_exchanges
        self._published = 0  # delivery tags on this channel start at 1 after confirm.select
        self._acked_upto = 0
        self._acked_beyond: set[int] = set()
        self._nacked: int | None = None
        #: message ids the broker returned as unroutable during the last publish_many
        self.unroutable: list[str] = []
        self.channel.events["basic_ack"].add(self._on_ack)
        self.channel.events["basic_nack"].add(self._on_nack)
        self.channel.events["basic_return"].add(self._on_return)
        self._declared: set[str] = set()

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        # RabbitMQ may confirm single tags out of order; keep the contiguous confirmed prefix.
        if multiple:
            self._acked_upto = max(self._acked_upto, delivery_tag)
        else:
            self._acked_beyond.add(delivery_tag)
        while self._acked_upto + 1 in self._acked_beyond:
            self._acked_upto += 1
        self._acked_beyond = {t for t in self._acked_beyond if t > self._acked_upto}

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._nacked = delivery_tag if self._nacked is None else min(self._nacked, delivery_tag)

    def _on_return(self, exc: Exception, exchange: str, routing_key: str, message: Any) -> None:
        self.unroutable.append(str(message.properties.get("message_id") or ""))

    def _declare(self, exchange: str) -> None:
        if self.declare_exchanges and exchange and exchange not in self._declared:
            topic_exchange(exchange)(self.channel).declare()
            self._declared.add(exchange)

    def publish_many(self, messages: Sequence[OutgoingMessage | tuple]) -> int:
        """Publish (exchange, routing_key, body, message_id, correlation_id[, headers]) messages;
        returns the count of leading messages the broker confirmed (all of them, unless it
        raises: MessageRefused for a nack, with `confirmed` set)."""
        first_tag = self._published + 1
        self.unroutable = []
        try:
            for item in messages:
                out = item if isinstance(item, OutgoingMessage) else OutgoingMessage(*item)
                self._declare(out.exchange)
                properties: dict[str, Any] = {"delivery_mode": 2, "message_id": out.message_id}
                if out.correlation_id is not None:
                    properties["correlation_id"] = out.correlation_id
                message = self.channel.prepare_message(
                    out.body, content_type=out.content_type, content_encoding=out.content_encoding,
                    headers=out.headers or None, properties=properties,
                )
                self.channel.basic_publish(message, exchange=out.exchange, routing_key=out.routing_key,
                                           mandatory=True)
                self._published += 1
        except Exception as exc:
            # a message could not be sent: say how many before it the broker confirmed
            with contextlib.suppress(Exception):
                self._await_confirms(self._published)
            exc.confirmed = self._confirmed_since(first_tag)  # type: ignore[attr-defined]
            raise
        try:
            self._await_confirms(self._published)
        except Exception as exc:
            exc.confirmed = self._confirmed_since(first_tag)  # type: ignore[attr-defined]
            raise
        if self._nacked is not None:
            nacked, self._nacked = self._nacked, None
            confirmed = max(0, min(self._acked_upto, nacked - 1) - first_tag + 1)
            raise MessageRefused(f"broker refused message {nacked - first_tag + 1} of the batch",
                                 confirmed=confirmed)
        return len(messages)

    def _await_confirms(self, last_tag: int) -> None:
        deadline = time.monotonic() + self.confirm_timeout
        while self._acked_upto < last_tag and self._nacked is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no publisher confirm within {self.confirm_timeout}s")
            self.connection.drain_events(timeout=remaining)

    def _confirmed_since(self, first_tag: int) -> int:
        return max(0, min(self._acked_upto, self._published) - first_tag + 1)

    def publish(self, exchange: str, routing_key: str, body: str, message_id: str,
                correlation_id: str | None, headers: dict[str, Any] | None = None) -> None:
        self.publish_many([OutgoingMessage(exchange, routing_key, body, message_id, correlation_id, headers)])

    def close(self) -> None:
        try:
            self.channel.close()
        finally:
            self.connection.release()


class MessageRefused(Exception):
    """The broker nacked a message; `confirmed` leading messages of the batch were accepted."""

    def __init__(self, message: str, confirmed: int) -> None:
        super().__init__(message)
        self.confirmed = confirmed


class Unroutable(Exception):
    """The broker returned a message no queue would take."""


def usable_correlation_id(value: str | None) -> str | None:
    """`value` if AMQP can carry it as the correlation-id property (a short string of at most
    255 bytes), else None: the envelope keeps the full value either way."""
    if value is None or len(value.encode("utf-8", "surrogatepass")) > SHORTSTR_MAX_BYTES:
        return None
    return value


def is_connection_failure(exc: BaseException) -> bool:
    """True when `exc` says the broker (or the way to it) failed rather than one message: a
    socket error, a timeout, a closed or refused connection. A channel error, a nack, or an
    error building one message are a message's (or a setting's) fault."""
    from amqp import exceptions as amqp_errors
    from kombu.exceptions import OperationalError

    if isinstance(exc, (MessageRefused, amqp_errors.ChannelError)):
        return False
    return isinstance(exc, (OSError, amqp_errors.ConnectionError, OperationalError))


# --------------------------------------------------------------------------------- queries


def broker_reachable(amqp_url: str, timeout: float = 2.0) -> bool:
    """TCP-level check used by `make run` to give one clear line when RabbitMQ is down."""
    parsed = urlparse(amqp_url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 5672), timeout):
            return True
    except OSError:
        return False


def queue_depth(broker: Connection | str, queue_name: str) -> int | None:
    """Messages ready in a queue (None if it does not exist); pass an open Connection to reuse it."""
    if isinstance(broker, str):
        with Connection(broker, connect_timeout=3) as conn:
            return queue_depth(conn, queue_name)
    try:
        with broker.channel() as channel:
            _, count, _ = channel.queue_declare(queue_name, passive=True)
    except NotFound:
        return None
    return int(count)


def dead_letter_count(broker: Connection | str, queue_name: str) -> int:
    """Messages parked in "<queue_name>.dlq" (0 if it does not exist yet)."""
    return queue_depth(broker, dead_letter_queue_name(queue_name)) or 0


def vhost_of(amqp_url: str) -> str:
    from urllib.parse import unquote

    return unquote(urlparse(amqp_url).path[1:]) or "/"


def with_credentials(amqp_url: str, user: str, password: str) -> str:
    """`amqp_url` (host, port, vhost) for another user."""
    from urllib.parse import quote

    parsed = urlparse(amqp_url)
    host = parsed.hostname or "127.0.0.1"
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}" + (f":{parsed.port}" if parsed.port else "")
    return parsed._replace(netloc=netloc).geturl()
