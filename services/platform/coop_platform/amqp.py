"""RabbitMQ adapter (kombu): event exchanges, confirmed publishing, dead-lettering.

Topology (DESIGN D3/D4):
- "<service>.events": durable topic exchange, routing key = event name;
- consumer queues are durable quorum queues with x-delivery-limit, so RabbitMQ
  counts redeliveries and dead-letters a poison message through "coop.dlx"
  into "<queue>.dlq" after the limit.
"""

from __future__ import annotations

import socket
import time
from urllib.parse import urlparse

from kombu import Connection, Exchange, Queue

DLX_NAME = "coop.dlx"


def topic_exchange(name: str) -> Exchange:
    return Exchange(name, type="topic", durable=True, delivery_mode=2)


def event_exchange(service: str) -> Exchange:
    """"<service>.events": where a service publishes and subscribers bind their queues."""
    return topic_exchange(f"{service}.events")


def dead_letter_exchange() -> Exchange:
    return Exchange(DLX_NAME, type="direct", durable=True)


def consumer_queue_arguments(queue_name: str, max_deliveries: int) -> dict[str, object]:
    return {
        "x-queue-type": "quorum",
        "x-delivery-limit": max(0, max_deliveries - 1),  # redeliveries allowed after the first
        "x-dead-letter-exchange": DLX_NAME,
        "x-dead-letter-routing-key": f"{queue_name}.dlq",
    }


def dead_letter_queue(queue_name: str) -> Queue:
    return Queue(
        f"{queue_name}.dlq", exchange=dead_letter_exchange(), routing_key=f"{queue_name}.dlq",
        durable=True,
    )


def declare_consumer_queue(
    connection: Connection, queue_name: str, source_service: str, routing_key: str,
    max_deliveries: int = 5,
) -> Queue:
    """Declare a durable, dead-lettered queue bound to a service's events (also for subscribers)."""
    channel = connection.default_channel
    dead_letter_queue(queue_name)(channel).declare()
    queue = Queue(
        queue_name, exchange=event_exchange(source_service), routing_key=routing_key, durable=True,
        queue_arguments=consumer_queue_arguments(queue_name, max_deliveries),
    )
    queue(channel).declare()
    return queue


class ConfirmingPublisher:
    """Publishes persistent messages and reports only what RabbitMQ confirmed.

    `publish_many` sends a whole batch, then waits for the broker's confirms (publisher
    confirms, possibly "multiple" acks) and returns how many leading messages were confirmed:
    one network round trip per batch instead of per message. Nothing unconfirmed is ever
    reported as sent; a timeout or a broken connection raises.
    """

    def __init__(self, amqp_url: str, connect_timeout: float = 3.0, confirm_timeout: float = 10.0) -> None:
        self.connection = Connection(amqp_url, connect_timeout=connect_timeout)
        self.connection.ensure_connection(max_retries=1)
        self.channel = self.connection.channel()
        self.channel.confirm_select()
        self.confirm_timeout = confirm_timeout
        self._published = 0  # delivery tags on this channel start at 1 after confirm.select
        self._acked_upto = 0
        self._acked_beyond: set[int] = set()
        self._nacked: int | None = None
        self.channel.events["basic_ack"].add(self._on_ack)
        self.channel.events["basic_nack"].add(self._on_nack)
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

    def _declare(self, exchange: str) -> None:
        if exchange not in self._declared:
            topic_exchange(exchange)(self.channel).declare()
            self._declared.add(exchange)

    def publish_many(self, messages: list[tuple[str, str, str, str, str | None]]) -> int:
        """Publish (exchange, routing_key, body, message_id, correlation_id) tuples; returns the
        count of leading messages the broker confirmed (all of them, unless it raises)."""
        first_tag = self._published + 1
        for exchange, routing_key, body, message_id, correlation_id in messages:
            self._declare(exchange)
            message = self.channel.prepare_message(
                body, content_type="application/json", content_encoding="utf-8",
                properties={"delivery_mode": 2, "message_id": message_id,
                            "correlation_id": correlation_id},
            )
            self.channel.basic_publish(message, exchange=exchange, routing_key=routing_key)
            self._published += 1
        last_tag = self._published
        deadline = time.monotonic() + self.confirm_timeout
        while self._acked_upto < last_tag and self._nacked is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no publisher confirm within {self.confirm_timeout}s")
            self.connection.drain_events(timeout=remaining)
        if self._nacked is not None:
            confirmed = max(0, min(self._acked_upto, self._nacked - 1) - first_tag + 1)
            raise MessageRefused(f"broker refused message {self._nacked - first_tag + 1} of the batch",
                                 confirmed=confirmed)
        return len(messages)

    def publish(self, exchange: str, routing_key: str, body: str, message_id: str,
                correlation_id: str | None) -> None:
        self.publish_many([(exchange, routing_key, body, message_id, correlation_id)])

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


def broker_reachable(amqp_url: str, timeout: float = 2.0) -> bool:
    """TCP-level check used by `make run` to give one clear line when RabbitMQ is down."""
    parsed = urlparse(amqp_url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 5672), timeout):
            return True
    except OSError:
        return False


def dead_letter_count(broker: Connection | str, queue_name: str) -> int:
    """Messages parked in "<queue_name>.dlq"; pass an open Connection to reuse it."""
    if isinstance(broker, str):
        with Connection(broker, connect_timeout=3) as conn:
            return dead_letter_count(conn, queue_name)
    _, count, _ = dead_letter_queue(queue_name)(broker.default_channel).queue_declare(passive=True)
    return int(count)
