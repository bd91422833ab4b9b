"""CloudEvents 1.0 structured-mode JSON envelopes (DESIGN D4).

type = "coop.<service>.<name>.v1", the AMQP routing key = <name>, data = the
payload protobuf message in the proto3 JSON mapping.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
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
    data = message_to_data(message) if isinstance(message, Message) else message
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


def message_to_data(message: Message) -> dict[str, Any]:
    """The message in the proto3 JSON mapping, every field without presence printed: exactly
    json_format.MessageToDict(message, always_print_fields_with_no_presence=True), which walks
    the descriptors anew for every message (the larger part of emitting an event). Here each
    message type's fields are planned once; a type this planner does not cover goes to
    json_format whole. Tests compare both on every event type of every service."""
    return _printer(message.DESCRIPTOR)(message)


def _json_format(message: Message) -> Any:
    return json_format.MessageToDict(message, always_print_fields_with_no_presence=True)


_PRINTERS: dict[str, Callable[[Message], Any]] = {}
_FD = FieldDescriptor
_INT64 = {_FD.CPPTYPE_INT64, _FD.CPPTYPE_UINT64}
_AS_IS = {_FD.CPPTYPE_INT32, _FD.CPPTYPE_UINT32}


def _printer(descriptor: Any) -> Callable[[Message], Any]:
    printer = _PRINTERS.get(descriptor.full_name)
    if printer is None:
        if descriptor.full_name in ("google.protobuf.Timestamp", "google.protobuf.Duration",
                                    "google.protobuf.FieldMask"):
            printer = _to_json_string
        elif descriptor.file.name.startswith("google/protobuf/"):
            printer = _json_format  # wrappers, Struct, Value, Any...: json_format's own rules
        else:
            try:
                printer = _regular_printer(descriptor)
            except _NotPlanned:
                printer = _json_format
        _PRINTERS[descriptor.full_name] = printer
    return printer


def _to_json_string(message: Any) -> str:
    return message.ToJsonString()


class _NotPlanned(Exception):
    """A field kind the planner leaves to json_format (floats, closed enums)."""


def _regular_printer(descriptor: Any) -> Callable[[Message], dict[str, Any]]:
    present: list[tuple[str, str, Callable[[Any], Any]]] = []  # printed only when set
    always: list[tuple[str, str, Callable[[Any], Any]]] = []
    for field in descriptor.fields:
        if field.is_extension:
            raise _NotPlanned
        if field.type == _FD.TYPE_MESSAGE and field.message_type.GetOptions().map_entry:
            if field.message_type.fields_by_name["key"].cpp_type == _FD.CPPTYPE_BOOL:
                raise _NotPlanned  # keys print as "true"/"false"
            conv = _map_of(_value_converter(field.message_type.fields_by_name["value"]))
        elif field.is_repeated:
            conv = _list_of(_value_converter(field))
        else:
            conv = _value_converter(field)
        (present if field.has_presence else always).append((field.name, field.json_name, conv))

    def to_dict(message: Message) -> dict[str, Any]:
        data = {json_name: conv(getattr(message, name)) for name, json_name, conv in always}
        for name, json_name, conv in present:
            if message.HasField(name):
                data[json_name] = conv(getattr(message, name))
        return data

    return to_dict


def _map_of(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: {str(k): convert(v) for k, v in value.items()}


def _list_of(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: [convert(v) for v in value]


def _value_converter(field: Any) -> Callable[[Any], Any]:
    cpp = field.cpp_type
    if cpp == _FD.CPPTYPE_MESSAGE:
        message_type = field.message_type
        return lambda value: _printer(message_type)(value)
    if cpp == _FD.CPPTYPE_ENUM:
        if field.enum_type.full_name == "google.protobuf.NullValue" or field.enum_type.is_closed:
            raise _NotPlanned
        if any(v.has_options for v in field.enum_type.values):  # a json_name option on a value
            raise _NotPlanned
        names = {v.number: v.name for v in field.enum_type.values}
        return lambda value: names.get(value, value)
    if cpp == _FD.CPPTYPE_STRING:
        if field.type == _FD.TYPE_BYTES:
            return lambda value: base64.b64encode(value).decode("utf-8")
        return str
    if cpp == _FD.CPPTYPE_BOOL:
        return bool
    if cpp in _INT64:
        return str
    if cpp in _AS_IS:
        return _identity
    raise _NotPlanned  # float and double: NaN, infinities and shortest-float rules stay json_format's


def _identity(value: Any) -> Any:
    return value


def routing_key_of(envelope: dict[str, Any]) -> str:
    """"coop.membership.member.admitted.v1" -> "member.admitted"."""
    parts = envelope["type"].split(".")
    return ".".join(parts[2:-1])


def source_service_of(envelope: dict[str, Any]) -> str:
    return envelope["type"].split(".")[1]


def dumps(envelope: dict[str, Any]) -> str:
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True)


def event_time(envelope: dict[str, Any]) -> datetime:
    """When the source committed the event (CloudEvents `time`, timezone-aware; UTC when the
    text carries no zone), or now when it is missing or unreadable: the occurred-at a consumer
    puts on the typed fact it parses at its edge."""
    try:
        at = datetime.fromisoformat(str(envelope.get("time")).replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


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


def origin_refusal(envelope: Any, source_service: str, event_name: str, origin_exchange: str | None) -> str | None:
    """Why a received message must not be handled as event `event_name` of `source_service`,
    or None when it may.

    Each service's broker user may write only to its own exchange "<service>.events", so the
    exchange a message came through says who sent it; a message must also say so itself
    (source "/coop/<service>", type "coop.<service>.<event>.v<N>"). Anything else is a forgery,
    a misrouted message or not one of our envelopes, and goes to the dead-letter queue unread."""
    try:
        validate_envelope(envelope)
    except ValueError as exc:
        return str(exc)
    expected_exchange = f"{source_service}.events"
    if origin_exchange != expected_exchange:
        return f"arrived through exchange {origin_exchange!r}, not {expected_exchange!r}"
    if envelope["source"] != f"/coop/{source_service}":
        return f"source {str(envelope['source'])[:100]!r} is not '/coop/{source_service}'"
    match = _EVENT_TYPE.match(str(envelope["type"]))
    if match is None or match["service"] != source_service or match["name"] != event_name:
        return f"type {str(envelope['type'])[:100]!r} is not coop.{source_service}.{event_name}.v<N>"
    return None


_EVENT_TYPE = re.compile(r"^coop\.(?P<service>[a-z0-9_]+)\.(?P<name>[a-z0-9_.]+)\.v[1-9][0-9]*$")
