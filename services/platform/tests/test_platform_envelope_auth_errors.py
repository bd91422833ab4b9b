"""Envelope, auth and error-mapping rules every service relies on."""

import pytest

from coop.membership.v1 import events_pb2, membership_pb2
from coop_platform import envelope as ce
from coop_platform.errors import FailedPrecondition, status_name_for
from coop_platform.logs import reset_correlation_id, set_correlation_id


def test_envelope_is_cloudevents_structured_json_with_versioned_type_and_proto3_json_data():
    message = events_pb2.MemberAdmitted(member=membership_pb2.Member(member_id="x", member_number="M000001"))
    env = ce.make_envelope("membership", "member.admitted", message, subject="x")
    assert env["specversion"] == "1.0"
    assert env["type"] == "coop.membership.member.admitted.v1"
    assert env["source"] == "/coop/membership"
    assert env["datacontenttype"] == "application/json"
    assert env["data"]["member"]["memberNumber"] == "M000001"  # proto3 JSON mapping: lowerCamelCase
    assert ce.routing_key_of(env) == "member.admitted"
    assert ce.parse_data(env, events_pb2.MemberAdmitted).member.member_id == "x"


def test_envelope_carries_the_current_correlation_id():
    token = set_correlation_id("corr-123")
    try:
        env = ce.make_envelope("membership", "member.updated", {"a": 1})
    finally:
        reset_correlation_id(token)
    assert env["correlationid"] == "corr-123"


def test_parse_data_ignores_unknown_fields_so_additive_changes_do_not_break_consumers():
    env = ce.make_envelope("membership", "member.admitted", {"member": {"memberId": "m"}, "futureField": 1})
    assert ce.parse_data(env, events_pb2.MemberAdmitted).member.member_id == "m"


@pytest.mark.parametrize("body", [[], "text", {"id": "1"}, {"id": "1", "type": "t", "source": "s"}])
def test_validate_envelope_rejects_what_is_not_an_envelope(body):
    with pytest.raises(ValueError):
        ce.validate_envelope(body)


def test_domain_errors_map_to_status_names_by_class_even_from_other_packages():
    class InvalidArgument(Exception):  # a service's own pure-domain error class
        pass

    assert status_name_for(InvalidArgument("x")) == "INVALID_ARGUMENT"
    assert status_name_for(FailedPrecondition("x")) == "FAILED_PRECONDITION"
    assert status_name_for(KeyError("bug")) is None
