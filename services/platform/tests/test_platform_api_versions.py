"""The v1-from-v2 bridge answers v1 clients from v2 responses that wrap or extend v1's."""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from coop_platform.api_versions import _response_writer


def _messages() -> dict[str, type]:
    f = descriptor_pb2.FileDescriptorProto(name="bridge_test.proto", package="bridge.test", syntax="proto3")
    string, repeated, optional = (descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
                                  descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED,
                                  descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
    for name, fields in (("V1List", [("items", 1, repeated)]),
                         ("V2List", [("items", 1, repeated), ("next_page_token", 2, optional)]),
                         ("V2Changed", [("items", 1, optional)])):
        m = f.message_type.add(name=name)
        for field, number, label in fields:
            m.field.add(name=field, number=number, type=string, label=label)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    return {n: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"bridge.test.{n}"))
            for n in ("V1List", "V2List", "V2Changed")}


def test_a_v2_list_response_that_adds_a_page_token_reaches_v1_clients_as_is() -> None:
    m = _messages()
    write = _response_writer(m["V1List"].DESCRIPTOR, m["V2List"].DESCRIPTOR, "X/List")
    answer = m["V1List"].FromString(write(m["V2List"](items=["a", "b"], next_page_token="t")))
    assert list(answer.items) == ["a", "b"]


def test_a_v2_response_that_changes_a_v1_field_is_refused_at_start() -> None:
    m = _messages()
    try:
        _response_writer(m["V1List"].DESCRIPTOR, m["V2Changed"].DESCRIPTOR, "X/List")
    except TypeError as exc:
        assert "keep every field" in str(exc)
    else:
        raise AssertionError("a changed field must not be bridged")
