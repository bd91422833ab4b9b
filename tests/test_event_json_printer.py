"""coop_platform.envelope.message_to_data against json_format, on every message type of every
service's protos (events and RPC messages), filled at random: the planned printer must give
exactly what json_format.MessageToDict(always_print_fields_with_no_presence=True) gives."""

from __future__ import annotations

import importlib
import math

import pytest
from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coop_platform.envelope import message_to_data


def _proto_modules() -> list[str]:
    """Every generated message module (not the gRPC stubs) of every installed service's API."""
    import pkgutil

    from coop_platform.registry import services

    found = []
    for service in services():
        package = importlib.import_module(f"coop.{service}.v1")
        found += [f"coop.{service}.v1.{m.name}" for m in pkgutil.iter_modules(package.__path__)
                  if m.name.endswith("_pb2")]
    return sorted(found)


MODULES = _proto_modules()
DESCRIPTORS = [d for m in MODULES for d in importlib.import_module(m).DESCRIPTOR.message_types_by_name.values()]
INTS = {F.TYPE_INT32: (-(2**31), 2**31 - 1), F.TYPE_SINT32: (-(2**31), 2**31 - 1), F.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
        F.TYPE_UINT32: (0, 2**32 - 1), F.TYPE_FIXED32: (0, 2**32 - 1),
        F.TYPE_INT64: (-(2**63), 2**63 - 1), F.TYPE_SINT64: (-(2**63), 2**63 - 1), F.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
        F.TYPE_UINT64: (0, 2**64 - 1), F.TYPE_FIXED64: (0, 2**64 - 1)}


def _scalar(draw, field):
    if field.type in INTS:
        return draw(st.integers(*INTS[field.type]))
    if field.type == F.TYPE_ENUM:  # known values, and unknown ones (open enums keep them)
        return draw(st.one_of(st.sampled_from([v.number for v in field.enum_type.values]), st.integers(-50, 50)))
    if field.type == F.TYPE_STRING:
        return draw(st.text(max_size=12))
    if field.type == F.TYPE_BYTES:
        return draw(st.binary(max_size=12))
    if field.type == F.TYPE_BOOL:
        return draw(st.booleans())
    return draw(st.one_of(st.floats(width=32 if field.type == F.TYPE_FLOAT else 64), st.just(math.nan)))


def _fill(draw, message, depth=0):
    """Set a random subset of the message's fields (leaving the rest unset)."""
    name = message.DESCRIPTOR.full_name
    if name == "google.protobuf.Timestamp":
        message.seconds = draw(st.integers(0, 253402300799))
        message.nanos = draw(st.sampled_from([0, 1000, 123456789]))
        return
    if name == "google.protobuf.FieldMask":  # its JSON form needs lower snake_case paths (AIP-161)
        message.paths.extend(draw(st.lists(st.from_regex(r"[a-z][a-z0-9]{0,5}(_[a-z][a-z0-9]{0,5})?(\.[a-z]{1,6})?",
                                                         fullmatch=True), max_size=3)))
        return
    if name == "google.protobuf.Value":  # one kind; JSON has no NaN or infinity, json_format refuses them
        kind = draw(st.sampled_from(["null", "number", "string", "bool"]))
        if kind == "null":
            message.null_value = 0
        elif kind == "number":
            message.number_value = draw(st.floats(allow_nan=False, allow_infinity=False))
        elif kind == "string":
            message.string_value = draw(st.text(max_size=12))
        else:
            message.bool_value = draw(st.booleans())
        return
    for field in message.DESCRIPTOR.fields:
        if not draw(st.booleans()):
            continue
        target = getattr(message, field.name)
        if field.type == F.TYPE_MESSAGE and field.message_type.GetOptions().map_entry:
            key_field, value_field = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
            for _ in range(draw(st.integers(0, 2))):
                key = _scalar(draw, key_field)
                if value_field.type == F.TYPE_MESSAGE:
                    _fill(draw, target[key], depth + 1)
                else:
                    target[key] = _scalar(draw, value_field)
        elif field.type == F.TYPE_MESSAGE:
            if depth >= 3:
                continue
            if field.is_repeated:
                for _ in range(draw(st.integers(0, 2))):
                    _fill(draw, target.add(), depth + 1)
            else:
                target.SetInParent()
                _fill(draw, target, depth + 1)
        elif field.is_repeated:
            target.extend(_scalar(draw, field) for _ in range(draw(st.integers(0, 2))))
        else:
            setattr(message, field.name, _scalar(draw, field))


@pytest.mark.parametrize("descriptor", DESCRIPTORS, ids=[d.full_name for d in DESCRIPTORS])
@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_planned_printer_gives_what_json_format_gives(descriptor, data):
    message = getattr(importlib.import_module(_module_of(descriptor)), descriptor.name)()
    _fill(data.draw, message)
    assert message_to_data(message) == json_format.MessageToDict(message, always_print_fields_with_no_presence=True)


def _module_of(descriptor) -> str:
    return descriptor.file.name.removesuffix(".proto").replace("/", ".") + "_pb2"


def test_the_comparison_covers_events_with_nested_messages_enums_and_timestamps():
    """Guard against a vacuous run: the protos under test hold every kind the planner handles."""
    kinds = {f.type for d in DESCRIPTORS for f in d.fields}
    assert {F.TYPE_MESSAGE, F.TYPE_ENUM, F.TYPE_STRING, F.TYPE_BOOL} <= kinds
    assert any(f.message_type and f.message_type.full_name == "google.protobuf.Timestamp"
               for d in DESCRIPTORS for f in d.fields)
    assert len([d for d in DESCRIPTORS if d.file.name.endswith("events.proto")]) >= 10
