"""Broker setup (hardening point 5): one RabbitMQ user per service, permissions that let it write
only to its own exchanges and read only its own queues, and the shared topology (alternate
exchanges, retention policies) — all as one RabbitMQ definitions document.

The same document serves everywhere:
- `make run` / `coop broker setup`: imported into the local broker with `rabbitmqctl
  import_definitions` (COOP_RABBITMQCTL may name another command, e.g. `docker compose exec -T
  rabbitmq rabbitmqctl`);
- Compose and Kubernetes: `coop broker definitions` writes it, with the passwords of the
  environment (secrets) hashed, and RabbitMQ loads it when it starts (deploy/rabbitmq/).

Permissions of service S (RabbitMQ regexes on resource names; configure = declare/delete,
write = publish and bind a queue, read = consume and bind from an exchange):
- configure: S.events, S.retry, S.dlx and S's handler queues (with their .dlq, .delay-<ms>ms);
- write: the same (publishing to S.events; parking retries and dead letters);
- read: S's handler queues, S.retry and S.dlx (to bind to them), and the "<source>.events"
  exchanges of the services S consumes (to bind its queues there) and nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shlex
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from coop_platform.amqp import (
    dead_letter_exchange_name,
    event_exchange_name,
    handler_queue_pattern,
    retry_exchange_name,
    unroutable_name,
)
from coop_platform.delivery import DeliverySettings

#: Whose events each service's workers consume (their handlers' source services). A test in
#: each worker test directory keeps this in step with the handlers.
SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    "membership": ("billing",),
    "billing": ("membership",),
    "elections": ("membership",),
    # election.results_published (mandates) and member events (category, good standing)
    "board": ("elections", "membership"),
    # what members hear about (billing, elections, board) and whom to tell (membership's recipients)
    "notifications": ("billing", "board", "elections", "membership"),
}
#: Services set up when none are named.
DEFAULT_SERVICES = tuple(SUBSCRIPTIONS)
RETENTION_POLICY = "coop-parked-messages"
DEV_PASSWORD_PREFIX = "coop-dev-"


def password_variable(service: str) -> str:
    """The environment variable holding a service's broker password: MEMBERSHIP_AMQP_PASSWORD."""
    return f"{service.upper()}_AMQP_PASSWORD"


def dev_mode() -> bool:
    return os.environ.get("COOP_DEV_MODE", "") == "1"


def service_password(service: str, *, dev: bool) -> str:
    """The service's password from the environment; in development mode a known default."""
    value = os.environ.get(password_variable(service), "")
    if value:
        return value
    if dev:
        return DEV_PASSWORD_PREFIX + service
    raise SystemExit(f"{password_variable(service)} is not set: each service's broker password comes from "
                     "the environment (a secret); COOP_DEV_MODE=1 uses development passwords")


def hash_password(password: str, salt: bytes | None = None) -> str:
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password))."""
    salt = salt if salt is not None else os.urandom(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode("utf-8")).digest()).decode("ascii")


@dataclass(frozen=True)
class Permissions:
    configure: str
    write: str
    read: str


def service_permissions(service: str, sources: Iterable[str]) -> Permissions:
    """What service's user may touch (see the module docstring)."""
    own = rf"{re.escape(service)}\.(events|retry|dlx)|{handler_queue_pattern(service)}"
    readable = [rf"{re.escape(service)}\.(retry|dlx)", handler_queue_pattern(service),
                *(re.escape(event_exchange_name(source)) for source in sorted(set(sources)))]
    return Permissions(configure=f"^({own})$", write=f"^({own})$", read=f"^({'|'.join(readable)})$")


def definitions(vhost: str, services: Iterable[str], passwords: dict[str, str], *,
                settings: DeliverySettings | None = None, admin: tuple[str, str] | None = None) -> dict[str, Any]:
    """The RabbitMQ definitions document: vhost, users (salted hashes, never the passwords),
    permissions, exchanges, the unroutable queues, and the policies."""
    settings = settings or DeliverySettings.from_env()
    services = list(dict.fromkeys(services))
    unknown = [s for s in services if s not in SUBSCRIPTIONS]
    if unknown:
        raise SystemExit(f"unknown service(s) {', '.join(unknown)}; known: {', '.join(SUBSCRIPTIONS)}")
    users: list[dict[str, Any]] = []
    permissions: list[dict[str, Any]] = []
    if admin is not None:
        users.append(_user(admin[0], admin[1], ["administrator"]))
        permissions.append({"user": admin[0], "vhost": vhost, "configure": ".*", "write": ".*", "read": ".*"})
    exchanges: dict[str, str] = {}
    queues: list[dict[str, Any]] = []
    bindings: list[dict[str, Any]] = []
    policies: list[dict[str, Any]] = []
    for service in services:
        users.append(_user(service, passwords[service], []))
        rights = service_permissions(service, SUBSCRIPTIONS[service])
        permissions.append({"user": service, "vhost": vhost, "configure": rights.configure,
                            "write": rights.write, "read": rights.read})
        exchanges[event_exchange_name(service)] = "topic"
        exchanges[retry_exchange_name(service)] = "direct"
        exchanges[dead_letter_exchange_name(service)] = "direct"
        exchanges[unroutable_name(service)] = "fanout"
        for source in SUBSCRIPTIONS[service]:  # a consumer binds to them even if the source runs elsewhere
            exchanges.setdefault(event_exchange_name(source), "topic")
        queues.append({"name": unroutable_name(service), "vhost": vhost, "durable": True,
                       "auto_delete": False, "arguments": {}})
        bindings.append({"source": unroutable_name(service), "vhost": vhost, "destination": unroutable_name(service),
                         "destination_type": "queue", "routing_key": "", "arguments": {}})
        policies.append({"vhost": vhost, "name": f"coop-{service}-alternate-exchange",
                         "pattern": f"^{re.escape(event_exchange_name(service))}$", "apply-to": "exchanges",
                         "definition": {"alternate-exchange": unroutable_name(service)}, "priority": 10})
    policies.append({"vhost": vhost, "name": RETENTION_POLICY, "pattern": r"\.(dlq|unroutable)$",
                     "apply-to": "queues", "definition": {"message-ttl": settings.dead_letter_ttl_ms},
                     "priority": 10})
    return {
        "users": users,
        "vhosts": [{"name": vhost}],
        "permissions": permissions,
        "exchanges": [{"name": name, "vhost": vhost, "type": kind, "durable": True, "auto_delete": False,
                       "internal": False, "arguments": {}} for name, kind in exchanges.items()],
        "queues": queues,
        "bindings": bindings,
        "policies": policies,
    }


def _user(name: str, password: str, tags: list[str]) -> dict[str, Any]:
    return {"name": name, "password_hash": hash_password(password),
            "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": tags}


def rabbitmqctl_command() -> list[str]:
    """COOP_RABBITMQCTL (default `rabbitmqctl`): how to reach the broker's CLI, e.g.
    `docker compose exec -T rabbitmq rabbitmqctl` or `kubectl exec -i rabbitmq-0 -- rabbitmqctl`."""
    return shlex.split(os.environ.get("COOP_RABBITMQCTL") or "rabbitmqctl")


def rabbitmqctl(*args: str, stdin: str | None = None, timeout: float = 120) -> str:
    done = subprocess.run([*rabbitmqctl_command(), "-q", *args], input=stdin, capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        raise BrokerAdminError(f"rabbitmqctl {' '.join(args[:1])} failed ({done.returncode}): "
                               f"{(done.stderr or done.stdout).strip()[:500]}")
    return done.stdout


class BrokerAdminError(Exception):
    """rabbitmqctl could not do what was asked (not installed, not allowed, refused)."""


def import_definitions(document: dict[str, Any]) -> None:
    """Apply a definitions document to the broker (additive: nothing it does not name changes)."""
    rabbitmqctl("import_definitions", stdin=json.dumps(document))


def setup(vhost: str, services: Iterable[str], *, dev: bool, settings: DeliverySettings | None = None) -> dict[str, str]:
    """Create the vhost, each service's user with its permissions, the exchanges, unroutable
    queues and policies on the local broker. Returns each service's password (needed by
    `make run` to give each process its own URL)."""
    services = list(services)
    passwords = {service: service_password(service, dev=dev) for service in services}
    import_definitions(definitions(vhost, services, passwords, settings=settings))
    return passwords


@dataclass(frozen=True)
class QueueInfo:
    name: str
    messages: int
    consumers: int


def list_queues(vhost: str) -> list[QueueInfo]:
    listed = json.loads(rabbitmqctl("list_queues", "-p", vhost, "name", "messages", "consumers",
                                    "--formatter", "json") or "[]")
    return sorted((QueueInfo(q["name"], int(q.get("messages") or 0), int(q.get("consumers") or 0))
                   for q in listed), key=lambda q: q.name)
