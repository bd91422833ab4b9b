"""RabbitMQ adapter (kombu): event exchanges, confirmed publishing, dead-lettering.

Topology (DESIGN D3/D4):
- "<service>.events": durable topic exchange, routing key = event name;
- consumer queues are durable quorum queues with x-delivery-limit, so RabbitMQ
  counts redeliveries and dead-letters a poison message through "coop.dlx"
  into "<queue>.dlq" after the limit.
"""

from __future__ import annotations

import socket
from urllib.parse import urlparse

from kombu import Connection, Exchange, Producer, Queue

DLX_NAME = "coop.dlx"


def event_exchange(service: str) -> Exchange:
    return Exchange(f"{service}.events", type="topic", durable=True, delivery_mode=2)


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
    """Publishes persistent messages and returns only once RabbitMQ confirmed each one."""

    def __init__(self, amqp_url: str, connect_timeout: float = 3.0) -> None:
        self.connection = Connection(
            amqp_url, connect_timeout=connect_timeout,
            transport_options={"confirm_publish": True},
        )
        self.connection.ensure_connection(max_retries=1)
        self.channel = self.connection.channel()
        self.producer = Producer(self.channel)
        self._declared: set[str] = set()

    def publish(self, exchange: str, routing_key: str, body: str, message_id: str,
                correlation_id: str | None) -> None:
        if exchange not in self._declared:
            Exchange(exchange, type="topic", durable=True)(self.channel).declare()
            self._declared.add(exchange)
        self.producer.publish(
            body,
            exchange=exchange,
            routing_key=routing_key,
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,
            message_id=message_id,
            correlation_id=correlation_id,
            retry=False,
        )

    def close(self) -> None:
        try:
            self.channel.close()
        finally:
            self.connection.release()


def broker_reachable(amqp_url: str, timeout: float = 2.0) -> bool:
    """TCP-level check used by `make run` to give one clear line when RabbitMQ is down."""
    parsed = urlparse(amqp_url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 5672), timeout):
            return True
    except OSError:
        return False


def dead_letter_count(amqp_url: str, queue_name: str) -> int:
    with Connection(amqp_url, connect_timeout=3) as conn:
        q = dead_letter_queue(queue_name)(conn.default_channel)
        _, count, _ = q.queue_declare(passive=True)
        return int(count)
