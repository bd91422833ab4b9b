"""A v1 API answered by its v2 servicer: v1 requests parse as v2's, v2's wrapped responses reach
v1 clients as the bare resource, and a v2 that would lose a v1 field refuses to start."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from coop.membership.v1 import membership_pb2 as v1
from coop.membership.v2 import membership_pb2 as v2
from coop_platform.api_versions import _response_writer, older_version_handler
from coop_platform.grpc_server import start_server
from coop_testkit import bearer

F = descriptor_pb2.FieldDescriptorProto


def _field(name, number, kind, type_name=None):
    field = F(name=name, number=number, label=F.LABEL_OPTIONAL, type=kind)
    if type_name:
        field.type_name = type_name
    return field


def _pool(v2_request_id_type=F.TYPE_STRING):
    pool = descriptor_pool.DescriptorPool()
    v1 = descriptor_pb2.FileDescriptorProto(name="t/v1.proto", package="t.v1", syntax="proto3")
    v1.message_type.add(name="Thing", field=[_field("id", 1, F.TYPE_STRING), _field("size", 2, F.TYPE_INT64)])
    v1.message_type.add(name="ThingRef", field=[_field("id", 1, F.TYPE_STRING)])
    v1.service.add(name="ThingService", method=[descriptor_pb2.MethodDescriptorProto(
        name="GetThing", input_type=".t.v1.ThingRef", output_type=".t.v1.Thing")])
    v2 = descriptor_pb2.FileDescriptorProto(name="t/v2.proto", package="t.v2", syntax="proto3",
                                            dependency=["t/v1.proto"])
    v2.message_type.add(name="GetThingRequest", field=[_field("id", 1, v2_request_id_type),
                                                         _field("view", 2, F.TYPE_INT32)])
    v2.message_type.add(name="GetThingResponse", field=[_field("thing", 1, F.TYPE_MESSAGE, ".t.v1.Thing")])
    v2.service.add(name="ThingService", method=[descriptor_pb2.MethodDescriptorProto(
        name="GetThing", input_type=".t.v2.GetThingRequest", output_type=".t.v2.GetThingResponse")])
    pool.Add(v1)
    pool.Add(v2)
    return pool


def _cls(pool, name):
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(name))


def test_a_v1_client_is_answered_by_the_v2_servicer_with_the_bare_resource(settings):
    pool = _pool()
    thing, ref = _cls(pool, "t.v1.Thing"), _cls(pool, "t.v1.ThingRef")
    response = _cls(pool, "t.v2.GetThingResponse")
    seen = []

    class Servicer:
        def GetThing(self, request, context):  # noqa: N802 - gRPC's name
            seen.append(type(request).DESCRIPTOR.full_name)
            return response(thing=thing(id=request.id, size=42))

    handler = older_version_handler(pool.FindServiceByName("t.v1.ThingService"),
                                    pool.FindServiceByName("t.v2.ThingService"), Servicer())
    running = start_server(settings, lambda server: server.add_generic_rpc_handlers([handler]) or [], None, port=0)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            call = channel.unary_unary("/t.v1.ThingService/GetThing", request_serializer=ref.SerializeToString,
                                       response_deserializer=thing.FromString)
            got = call(ref(id="t-1"), metadata=bearer("admin-1", "admin"), timeout=5)
            assert (got.id, got.size) == ("t-1", 42)
            assert seen == ["t.v2.GetThingRequest"]
            with pytest.raises(grpc.RpcError) as caught:  # the interceptor guards v1 calls too
                call(ref(id="t-1"), timeout=5)
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    finally:
        running.stop(0)


def test_a_v2_request_that_changed_a_v1_field_type_refuses_to_serve_v1():
    pool = _pool(v2_request_id_type=F.TYPE_INT64)
    with pytest.raises(TypeError, match="id"):
        older_version_handler(pool.FindServiceByName("t.v1.ThingService"),
                              pool.FindServiceByName("t.v2.ThingService"), type("S", (), {"GetThing": None})())


def test_a_v2_response_wrapping_the_v1_resource_answers_with_the_wrapped_field():
    write = _response_writer(v1.Member.DESCRIPTOR, v2.GetMemberResponse.DESCRIPTOR, "GetMember")
    member = v1.Member(member_id="m-1", family_name="Lovelace")
    assert v1.Member.FromString(write(v2.GetMemberResponse(member=member))) == member


def test_a_v2_list_page_with_v1s_field_numbers_and_types_is_passed_as_is():
    write = _response_writer(v1.ListMembersResponse.DESCRIPTOR, v2.ListMembersResponse.DESCRIPTOR, "ListMembers")
    page = v2.ListMembersResponse(members=[v1.Member(member_id="m-1")], next_page_token="t")
    assert v1.ListMembersResponse.FromString(write(page)) == v1.ListMembersResponse(
        members=[v1.Member(member_id="m-1")], next_page_token="t")


def test_a_v2_response_neither_wrapping_nor_shaped_like_v1s_is_refused_at_start():
    with pytest.raises(TypeError, match="must hold exactly one"):
        _response_writer(v1.MemberCounts.DESCRIPTOR, v2.ListMembersResponse.DESCRIPTOR, "CountMembers")


def _list_messages() -> dict[str, type]:
    f = descriptor_pb2.FileDescriptorProto(name="bridge_test.proto", package="bridge.test", syntax="proto3")
    for name, fields in (("V1List", [("items", 1, F.LABEL_REPEATED)]),
                         ("V2List", [("items", 1, F.LABEL_REPEATED), ("next_page_token", 2, F.LABEL_OPTIONAL)]),
                         ("V2Changed", [("items", 1, F.LABEL_OPTIONAL)])):
        m = f.message_type.add(name=name)
        for field, number, label in fields:
            m.field.add(name=field, number=number, type=F.TYPE_STRING, label=label)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    return {n: _cls(pool, f"bridge.test.{n}") for n in ("V1List", "V2List", "V2Changed")}


def test_a_v2_list_response_that_adds_a_page_token_reaches_v1_clients_as_is():
    m = _list_messages()
    write = _response_writer(m["V1List"].DESCRIPTOR, m["V2List"].DESCRIPTOR, "X/List")
    answer = m["V1List"].FromString(write(m["V2List"](items=["a", "b"], next_page_token="t")))
    assert list(answer.items) == ["a", "b"]


def test_a_v2_response_that_turns_a_repeated_v1_field_single_is_refused_at_start():
    m = _list_messages()
    with pytest.raises(TypeError, match="must hold exactly one"):
        _response_writer(m["V1List"].DESCRIPTOR, m["V2Changed"].DESCRIPTOR, "X/List")
