"""`coop broker`, `coop dlq` and `coop outbox`: the operator's commands for event delivery
(about 420 lines of argument parsing and printing, one family of commands).

- `coop broker setup|definitions`: each service's RabbitMQ user, permissions and the shared
  topology (coop_platform.broker);
- `coop dlq list|show|replay|purge`: what the workers gave up on or refused, and what nobody
  was bound to (queues "*.dlq" and "<service>.unroutable");
- `coop outbox quarantined|release`: outbox rows the relay set aside.

They talk to the broker as an administrator (COOP_BROKER_ADMIN_URL, default COOP_AMQP_URL),
list queues with rabbitmqctl (COOP_RABBITMQCTL), and read a service's outbox in its database
(COOP_DATABASE_URL, or the service's default), like `coop migrate`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from coop_platform import broker, delivery
from coop_platform.amqp import (
    ConfirmingPublisher,
    Unroutable,
    consumer_queue_of,
    copy_of,
    queue_owner,
    retry_exchange_name,
    vhost_of,
)

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
#: Headers of a failed attempt that a replay clears: the replayed event starts afresh.
_RETRY_STATE = (delivery.HEADER_ATTEMPT, delivery.HEADER_FIRST_FAILED_AT,
                delivery.HEADER_DEAD_LETTER_REASON, delivery.HEADER_DEAD_LETTERED_AT)


def admin_url() -> str:
    return os.environ.get("COOP_BROKER_ADMIN_URL") or os.environ.get("COOP_AMQP_URL") or DEFAULT_AMQP_URL


def is_parked_queue(name: str) -> bool:
    """Dead-letter queues and the queues of the alternate exchanges."""
    return name.endswith(".dlq") or name.endswith(".unroutable")


# ------------------------------------------------------------------------------ dead letters

@dataclass(frozen=True)
class Parked:
    """One message of a dead-letter or unroutable queue, as `show` describes it."""

    message_id: str
    headers: dict[str, Any]
    exchange: str
    routing_key: str
    body: str

    @property
    def envelope(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@contextmanager
def _unacked(amqp_url: str, queue: str) -> Iterator[Any]:
    """A channel whose messages got and not acknowledged go back to the queue at the end."""
    from kombu import Connection

    with Connection(amqp_url, connect_timeout=5) as conn:
        channel = conn.channel()
        try:
            channel.queue_declare(queue, passive=True)
            yield conn, channel
        finally:
            channel.close()  # unacknowledged messages return to the queue, in their order


def _messages(channel: Any, queue: str) -> Iterator[Any]:
    while (message := channel.basic_get(queue, no_ack=False)) is not None:
        yield message


def _parked(message: Any) -> Parked:
    body = message.body.decode("utf-8", "replace") if isinstance(message.body, bytes) else str(message.body)
    return Parked(str(message.properties.get("message_id") or ""), dict(message.headers or {}),
                  message.delivery_info.get("exchange", ""), message.delivery_info.get("routing_key", ""), body)


def peek(amqp_url: str, queue: str, limit: int = 10) -> list[Parked]:
    """The first `limit` messages of a queue, left where they are."""
    found: list[Parked] = []
    with _unacked(amqp_url, queue) as (_, channel):
        for message in _messages(channel, queue):
            found.append(_parked(message))
            if len(found) >= limit:
                break
    return found


def replay_target(queue: str, message: Any) -> tuple[str, str]:
    """Where a parked message goes back to: a dead letter to its handler's queue through the
    owning service's retry exchange (a subscriber's own queue through the default exchange);
    an unroutable event to the exchange and routing key it was published with."""
    if queue.endswith(".unroutable"):
        return message.delivery_info.get("exchange", ""), message.delivery_info.get("routing_key", "")
    consumer = consumer_queue_of(queue.removesuffix(".dlq"))
    owner = queue_owner(consumer)
    return (retry_exchange_name(owner), consumer) if owner else ("", consumer)


def replay_headers(message: Any) -> dict[str, Any]:
    """The message's headers for a fresh start: the retry state cleared, the origin kept (from
    our headers, or where the broker says the message was first published), the replay noted."""
    headers = {k: v for k, v in dict(message.headers or {}).items() if k not in _RETRY_STATE}
    if delivery.HEADER_ORIGIN_EXCHANGE not in headers:
        deaths = headers.get("x-death") or [{}]
        first = deaths[-1] if isinstance(deaths, list) and deaths else {}
        exchange = headers.get("x-first-death-exchange") or first.get("exchange")
        routing_keys = first.get("routing-keys") or [message.delivery_info.get("routing_key", "")]
        if exchange is not None:
            headers[delivery.HEADER_ORIGIN_EXCHANGE] = exchange
            headers[delivery.HEADER_ORIGIN_ROUTING_KEY] = routing_keys[0]
    headers[delivery.HEADER_REPLAYED_AT] = datetime.now(UTC).isoformat()
    headers[delivery.HEADER_REPLAY_COUNT] = int(headers.get(delivery.HEADER_REPLAY_COUNT) or 0) + 1
    return headers


def replay(amqp_url: str, queue: str, *, ids: set[str] | None = None, limit: int | None = None) -> tuple[int, int]:
    """Put parked messages (all, or those whose message id is in `ids`) back where they came
    from, each removed from `queue` only after the broker confirmed its copy. Returns
    (replayed, left in the queue among those looked at)."""
    replayed = skipped = 0
    with _unacked(amqp_url, queue) as (conn, channel):
        publisher = ConfirmingPublisher(conn.as_uri(include_password=True), declare_exchanges=False)
        try:
            for message in _messages(channel, queue):
                if ids is not None and message.properties.get("message_id") not in ids:
                    skipped += 1
                    continue
                exchange, routing_key = replay_target(queue, message)
                out = copy_of(message, exchange, routing_key, retry_exchange=None)
                publisher.publish_many([out._replace(headers=replay_headers(message))])
                if publisher.unroutable:
                    raise Unroutable(f"nothing takes messages on {exchange or '(default exchange)'!r} with "
                                     f"routing key {routing_key!r}: is the consumer's queue there?")
                channel.basic_ack(message.delivery_tag)
                replayed += 1
                if limit is not None and replayed >= limit:
                    break
        finally:
            publisher.close()
    return replayed, skipped


def purge(amqp_url: str, queue: str) -> int:
    from kombu import Connection

    with Connection(amqp_url, connect_timeout=5) as conn, conn.channel() as channel:
        channel.queue_declare(queue, passive=True)
        return int(channel.queue_purge(queue) or 0)


def _describe(index: int, parked: Parked, full: bool) -> str:
    h = parked.headers
    envelope = parked.envelope
    lines = [f"[{index}] message {parked.message_id or '(no id)'}"]
    if isinstance(envelope, dict):
        lines.append(f"    event:          {envelope.get('type')}  subject {envelope.get('subject')}  "
                     f"time {envelope.get('time')}")
    reason = h.get(delivery.HEADER_DEAD_LETTER_REASON)
    deaths = h.get("x-death") or []
    if not reason and deaths:
        reason = f"broker: {deaths[0].get('reason')} in {deaths[0].get('queue')}"
    if not reason and parked.exchange and not parked.exchange.endswith(".dlx"):
        reason = "no queue was bound for it (alternate exchange)"
    lines.append(f"    reason:         {reason or 'unknown'}")
    if delivery.HEADER_ATTEMPT in h:
        first = h.get(delivery.HEADER_FIRST_FAILED_AT)
        first_text = datetime.fromtimestamp(float(first), UTC).isoformat() if first else "?"
        lines.append(f"    attempts:       {h[delivery.HEADER_ATTEMPT]} (first failed {first_text})")
    if delivery.HEADER_LAST_ERROR in h:
        lines.append(f"    last error:     {h[delivery.HEADER_LAST_ERROR]}")
    origin = h.get(delivery.HEADER_ORIGIN_EXCHANGE) or (parked.exchange if reason and "alternate" in reason else None)
    if origin is not None:
        key = h.get(delivery.HEADER_ORIGIN_ROUTING_KEY) or parked.routing_key
        lines.append(f"    came through:   {origin or '(default exchange)'} / {key}")
    if delivery.HEADER_DEAD_LETTERED_AT in h:
        lines.append(f"    dead-lettered:  {h[delivery.HEADER_DEAD_LETTERED_AT]}")
    if delivery.HEADER_REPLAY_COUNT in h:
        lines.append(f"    replayed:       {h[delivery.HEADER_REPLAY_COUNT]} time(s), last {h.get(delivery.HEADER_REPLAYED_AT)}")
    body = json.dumps(envelope, indent=2, sort_keys=True) if envelope is not None else parked.body
    if not full and len(body) > 2000:
        body = body[:2000] + f"\n... ({len(body)} characters; --full shows all)"
    lines.append("    " + body.replace("\n", "\n    "))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------- commands

def _dlq_list(args: argparse.Namespace) -> int:
    vhost = args.vhost or vhost_of(admin_url())
    queues = [q for q in broker.list_queues(vhost) if is_parked_queue(q.name)]
    if not args.all:
        queues = [q for q in queues if q.messages]
    if not queues:
        print(f"no parked messages on vhost {vhost}" if not args.all else f"no parked queues on vhost {vhost}")
        return 0
    width = max(len(q.name) for q in queues)
    print(f"{'queue':<{width}}  messages  replays into")
    for q in queues:
        into = (f"{q.name.removesuffix('.unroutable')}.events (its routing keys)" if q.name.endswith(".unroutable")
                else consumer_queue_of(q.name.removesuffix(".dlq")))
        print(f"{q.name:<{width}}  {q.messages:>8}  {into}")
    return 0


def _dlq_show(args: argparse.Namespace) -> int:
    found = peek(admin_url(), args.queue, args.limit)
    if not found:
        print(f"{args.queue} is empty")
    for index, parked in enumerate(found, 1):
        print(_describe(index, parked, args.full))
    return 0


def _dlq_replay(args: argparse.Namespace) -> int:
    if not args.all and not args.ids:
        print("say which messages: message ids, or --all", file=sys.stderr)
        return 2
    replayed, left = replay(admin_url(), args.queue, ids=set(args.ids) if args.ids else None, limit=args.limit)
    print(f"replayed {replayed} message(s) from {args.queue}" + (f"; {left} left there" if left else ""))
    if args.ids and replayed < len(set(args.ids)):
        print(f"{len(set(args.ids)) - replayed} of the given ids were not found", file=sys.stderr)
        return 1
    return 0


def _dlq_purge(args: argparse.Namespace) -> int:
    if not args.yes:
        print(f"this deletes every message of {args.queue}; add --yes to do it", file=sys.stderr)
        return 2
    print(f"deleted {purge(admin_url(), args.queue)} message(s) from {args.queue}")
    return 0


def _services(names: list[str]) -> list[str]:
    """The services named, else COOP_BROKER_SERVICES (space separated), else all of them."""
    return names or os.environ.get("COOP_BROKER_SERVICES", "").split() or list(broker.DEFAULT_SERVICES)


def _broker_setup(args: argparse.Namespace) -> int:
    dev = args.dev or broker.dev_mode()
    vhost = args.vhost or vhost_of(admin_url())
    services = _services(args.services)
    broker.setup(vhost, services, dev=dev)
    for service in services:
        print(f"{service}: user {service!r} on vhost {vhost!r}, writes {service}.events, reads "
              f"{', '.join(f'{s}.events' for s in broker.SUBSCRIPTIONS[service]) or 'nothing else'}"
              + (" (development password)" if dev and not os.environ.get(broker.password_variable(service)) else ""))
    print("exchanges, alternate exchanges (<service>.unroutable) and retention policy set")
    return 0


def _broker_definitions(args: argparse.Namespace) -> int:
    dev = args.dev or broker.dev_mode()
    services = _services(args.services)
    passwords = {s: broker.service_password(s, dev=dev) for s in services}
    admin = None
    if args.admin_user:
        password = _env_any("RABBITMQ_ADMIN_PASSWORD", "RABBITMQ_DEFAULT_PASS") or (
            broker.DEV_PASSWORD_PREFIX + "admin" if dev else "")
        if not password:
            print("RABBITMQ_ADMIN_PASSWORD is not set", file=sys.stderr)
            return 2
        admin = (args.admin_user, password)
    document = json.dumps(broker.definitions(args.vhost or "/", services, passwords, admin=admin), indent=2)
    if args.output:
        # salted hashes only; the broker (another user) reads the file
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(document + "\n")
        os.chmod(args.output, 0o644)
        print(f"wrote {args.output}: users {', '.join(([args.admin_user] if admin else []) + services)}")
    else:
        print(document)
    return 0


def _env_any(*names: str) -> str:
    """The first of these environment variables that is set (the administrator's name and
    password are RABBITMQ_ADMIN_* in our env files, RABBITMQ_DEFAULT_* in the broker's image)."""
    return next((os.environ[n] for n in names if os.environ.get(n)), "")


def _outbox_engine(service: str) -> Any:
    from coop_platform.config import load_settings
    from coop_platform.db import make_engine

    return make_engine(load_settings(service, "worker").database_url, pool_size=1)


def _outbox_quarantined(args: argparse.Namespace) -> int:
    from coop_platform.outbox import quarantined_rows

    for service in _services(args.services):
        engine = _outbox_engine(service)
        try:
            rows = quarantined_rows(engine, args.limit)
        finally:
            engine.dispose()
        print(f"{service}: {len(rows)} quarantined row(s)" + (" shown (--limit)" if len(rows) >= args.limit else ""))
        for row in rows:
            print(f"  seq {row.seq}  event {row.event_id}  {row.exchange} {row.routing_key}  "
                  f"written {row.created_at:%Y-%m-%d %H:%M:%S}  quarantined {row.quarantined_at:%Y-%m-%d %H:%M:%S}  "
                  f"attempts {row.attempts}\n    {row.last_error}")
    return 0


def _outbox_release(args: argparse.Namespace) -> int:
    from coop_platform.outbox import release_quarantined

    if not args.all and not args.seqs:
        print("say which rows: their seq numbers (coop outbox quarantined), or --all", file=sys.stderr)
        return 2
    engine = _outbox_engine(args.service)
    try:
        released = release_quarantined(engine, None if args.all else args.seqs)
    finally:
        engine.dispose()
    print(f"{args.service}: released {released} row(s); the relay publishes them next")
    return 0 if args.all or released == len(set(args.seqs)) else 1


def add_parser(sub: Any) -> None:
    services_help = f"services (default: COOP_BROKER_SERVICES, else {' '.join(broker.DEFAULT_SERVICES)})"
    p = sub.add_parser("broker", help="RabbitMQ users, permissions and topology of the services",
                       description="Each service gets its own RabbitMQ user that may write only to its own "
                       "exchanges and read only its own queues; passwords come from <SERVICE>_AMQP_PASSWORD.")
    broker_sub = p.add_subparsers(dest="broker_command", required=True)
    q = broker_sub.add_parser("setup", help="create vhost, users, permissions, exchanges and policies "
                              "on the broker (rabbitmqctl import_definitions)")
    q.add_argument("services", nargs="*", help=services_help)
    q.add_argument("--vhost", help="default: the vhost of COOP_BROKER_ADMIN_URL / COOP_AMQP_URL")
    q.add_argument("--dev", action="store_true", help="development passwords for the services whose "
                   "<SERVICE>_AMQP_PASSWORD is unset (also with COOP_DEV_MODE=1)")
    q.set_defaults(func=_broker_setup)
    q = broker_sub.add_parser("definitions", help="print (or write) the same as a RabbitMQ definitions "
                              "file, for a broker that loads it at start (Compose, Kubernetes)")
    q.add_argument("services", nargs="*", help=services_help)
    q.add_argument("--vhost", default="/")
    q.add_argument("--dev", action="store_true", help="development passwords where unset")
    q.add_argument("--admin-user", default=_env_any("RABBITMQ_ADMIN_USER", "RABBITMQ_DEFAULT_USER") or None,
                   help="also an administrator with RABBITMQ_ADMIN_PASSWORD (or RABBITMQ_DEFAULT_PASS): a broker "
                   "that loads definitions at start creates no default user; default RABBITMQ_ADMIN_USER "
                   "(or RABBITMQ_DEFAULT_USER)")
    q.add_argument("--output", help="file to write (default: standard output)")
    q.set_defaults(func=_broker_definitions)

    p = sub.add_parser("dlq", help="dead-letter and unroutable queues: list, show, replay, purge",
                       description="Messages the workers gave up on (retries exhausted) or refused land in "
                       "'<handler queue>.dlq'; events no queue was bound to in '<service>.unroutable'. Both keep "
                       "them for COOP_DEAD_LETTER_RETENTION_DAYS. Talks to the broker as COOP_BROKER_ADMIN_URL.")
    dlq_sub = p.add_subparsers(dest="dlq_command", required=True)
    q = dlq_sub.add_parser("list", help="parked queues and how many messages each holds")
    q.add_argument("--vhost", help="default: the vhost of COOP_BROKER_ADMIN_URL / COOP_AMQP_URL")
    q.add_argument("--all", action="store_true", help="also the empty ones")
    q.set_defaults(func=_dlq_list)
    q = dlq_sub.add_parser("show", help="print messages of a queue (envelope, why it is there, its "
                           "attempts and last error) without taking them out")
    q.add_argument("queue")
    q.add_argument("--limit", type=int, default=10, help="how many, from the oldest (default 10)")
    q.add_argument("--full", action="store_true", help="whole envelopes, however long")
    q.set_defaults(func=_dlq_show)
    q = dlq_sub.add_parser("replay", help="send messages back: a dead letter to its handler's queue "
                           "(retried afresh), an unroutable event to its exchange (bind a queue first)")
    q.add_argument("queue")
    q.add_argument("ids", nargs="*", metavar="MESSAGE_ID", help="the messages to replay (their event ids)")
    q.add_argument("--all", action="store_true", help="every message of the queue")
    q.add_argument("--limit", type=int, help="at most this many")
    q.set_defaults(func=_dlq_replay)
    q = dlq_sub.add_parser("purge", help="delete every message of a queue")
    q.add_argument("queue")
    q.add_argument("--yes", action="store_true", help="really")
    q.set_defaults(func=_dlq_purge)

    p = sub.add_parser("outbox", help="outbox rows the relay quarantined: list and release",
                       description="The relay quarantines a row the broker refuses alone while the rows "
                       "after it go through; it keeps the row with its error until it is released here.")
    outbox_sub = p.add_subparsers(dest="outbox_command", required=True)
    q = outbox_sub.add_parser("quarantined", help="list quarantined rows with their error")
    q.add_argument("services", nargs="*", help=services_help)
    q.add_argument("--limit", type=int, default=100)
    q.set_defaults(func=_outbox_quarantined)
    q = outbox_sub.add_parser("release", help="put quarantined rows back in line for the relay")
    q.add_argument("service")
    q.add_argument("seqs", nargs="*", type=int, metavar="SEQ", help="rows to release (their seq)")
    q.add_argument("--all", action="store_true", help="every quarantined row of the service")
    q.set_defaults(func=_outbox_release)


def main(argv: list[str] | None = None) -> int:
    """These commands alone (the `coop` entry point adds them to its own)."""
    parser = argparse.ArgumentParser(prog="coop")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
