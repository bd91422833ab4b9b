"""CloudEvents 1.0 structured-mode JSON envelopes (DESIGN D4).

type = "coop.<service>.<name>.v1", the AMQP routing key = <name>, data = the
payload protobuf message in the proto3 JSON mapping.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message

from coop_platform.logs import get_correlation_id

SPEC_VERSION = "1.0"
M = TypeVar("M", bound=Message)


def event_type(source: str, name: str, version: int = 1) -> str:
    return f"coop.{source}.{name}.v{version}"


def make_envelope(
    source: str,
    name: str,
    message: Message | dict[str, Any],
    *,
    subject: str | None = None,
    version: int = 1,
    correlation_id: str | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    data = (
        json_format.MessageToDict(message, always_print_fields_with_no_presence=True)
        if isinstance(message, Message)
        else message
    )
    return {
        "specversion": SPEC_VERSION,
        "id": event_id or str(uuid.uuid4()),
        "source": f"/coop/{source}",
        "type": event_type(source, name, version),
        "time": datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "subject": subject,
        "datacontenttype": "application/json",
        "correlationid": correlation_id or get_correlation_id() or uuid.uuid4().hex,
        "data": data,
    }


def routing_key_of(envelope: dict[str, Any]) -> str:
    """"coop.membership.member.admitted.v1" -> "member.admitted"."""
    parts = envelope["type"].split(".")
    return ".".join(parts[2:-1])


def source_service_of(envelope: dict[str, Any]) -> str:
    return envelope["type"].split(".")[1]


def dumps(envelope: dict[str, Any]) -> str:
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True)


def parse_data(envelope: dict[str, Any], message_type: type[M]) -> M:
    """Decode the data of a received envelope into its protobuf message, ignoring unknown fields
    so that additive v1 changes never break an older consumer."""
    return json_format.ParseDict(envelope.get("data") or {}, message_type(), ignore_unknown_fields=True)


def validate_envelope(envelope: Any) -> None:
    """Raise ValueError when a received message is not one of our envelopes (poison)."""
    if not isinstance(envelope, dict):
        raise ValueError("event body is not a JSON object")
    missing = [k for k in ("id", "type", "source", "specversion") if not envelope.get(k)]
    if missing:
        raise ValueError(f"event envelope lacks {', '.join(missing)}")
