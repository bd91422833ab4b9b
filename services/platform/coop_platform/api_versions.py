"""Serve an older major version of a gRPC API from the newer one's servicer (AIP-185).

When a service's API moves to v2 (a request and a response message per RPC, as `buf lint`'s
STANDARD rules want), clients compiled against v1 keep working for a deprecation period without
a second implementation: each v1 method is routed to the v2 method of the same name (or the one
`renamed` names).

- The request: v2's request message keeps every field number and type of v1's (it may add
  fields), so v1's bytes parse as v2's request.
- The response: when v1 answered with a bare resource (`Member`) and v2 wraps it
  (`GetMemberResponse { Member member = 1; }`), the v1 client receives the wrapped field;
  when both have the same message type, or v2's response keeps every field number and type of
  v1's (a list page: `ListMembersResponse` in both versions), the response is passed as is
  (a v1 client skips the fields it does not know).

The platform interceptor sees v1 calls like any other (authentication, limits, metrics).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, MethodDescriptor, ServiceDescriptor


def _response_writer(old: Descriptor, new: Descriptor, method: str) -> Any:
    if old.full_name == new.full_name or _same_shape(old, new):
        return lambda response: response.SerializeToString()
    wrapped = [f for f in new.fields if f.message_type is not None and f.message_type.full_name == old.full_name]
    if len(wrapped) != 1:
        raise TypeError(f"{method}: v2 response {new.full_name} must hold exactly one {old.full_name} field "
                        f"to answer v1 clients")
    name = wrapped[0].name
    return lambda response: getattr(response, name).SerializeToString()


def _missing_twins(old: Descriptor, new: Descriptor) -> list[str]:
    """v1 fields with no field of the same number, type, cardinality and message or enum type in v2."""
    missing = []
    for field in old.fields:
        twin = new.fields_by_number.get(field.number)
        if twin is None or twin.type != field.type or twin.is_repeated != field.is_repeated or any(
                (getattr(field, kind) is None) != (getattr(twin, kind) is None)
                or (getattr(field, kind) is not None and getattr(field, kind).full_name != getattr(twin, kind).full_name)
                for kind in ("message_type", "enum_type")):
            missing.append(f"{field.name} (#{field.number})")
    return missing


def _same_shape(old: Descriptor, new: Descriptor) -> bool:
    """Whether v2's message reads and writes as v1's on the wire: the same fields, by number and
    type (v2 may add fields; a v1 reader skips them)."""
    return not _missing_twins(old, new)


def _check_request(old: Descriptor, new: Descriptor, method: str) -> None:
    """Every v1 request field must exist in v2 with the same number and type."""
    for name in _missing_twins(old, new):
        raise TypeError(f"{method}: v1 request field {name} has no twin of the same type in {new.full_name}; "
                        "v1 clients would lose it")


def _handler(old: MethodDescriptor, new: MethodDescriptor, behavior: Any) -> grpc.RpcMethodHandler:
    method = f"{old.containing_service.full_name}/{old.name}"
    _check_request(old.input_type, new.input_type, method)
    parse = message_factory.GetMessageClass(new.input_type).FromString
    write = _response_writer(old.output_type, new.output_type, method)
    if old.client_streaming != new.client_streaming or old.server_streaming != new.server_streaming:
        raise TypeError(f"{method}: v1 and v2 must stream the same way")
    if old.client_streaming and old.server_streaming:
        return grpc.stream_stream_rpc_method_handler(behavior, request_deserializer=parse, response_serializer=write)
    if old.client_streaming:
        return grpc.stream_unary_rpc_method_handler(behavior, request_deserializer=parse, response_serializer=write)
    if old.server_streaming:
        return grpc.unary_stream_rpc_method_handler(behavior, request_deserializer=parse, response_serializer=write)
    return grpc.unary_unary_rpc_method_handler(behavior, request_deserializer=parse, response_serializer=write)


def older_version_handler(v1: ServiceDescriptor, v2: ServiceDescriptor, servicer: Any, *,
                          renamed: Mapping[str, str] | None = None) -> grpc.GenericRpcHandler:
    """A handler answering every method of `v1` with `servicer`, the implementation of `v2`.
    Raises TypeError at start when a v1 method could not be answered faithfully."""
    renamed = dict(renamed or {})
    handlers = {}
    for old in v1.methods:
        new_name = renamed.get(old.name, old.name)
        new = v2.methods_by_name.get(new_name)
        if new is None:
            raise TypeError(f"{v1.full_name}/{old.name} has no v2 method {new_name}; name it in `renamed`")
        handlers[old.name] = _handler(old, new, getattr(servicer, new_name))
    return grpc.method_handlers_generic_handler(v1.full_name, handlers)
