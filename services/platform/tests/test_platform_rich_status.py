"""Refused calls carry gRPC rich status: ErrorInfo always, BadRequest per field for
INVALID_ARGUMENT, RetryInfo for UNAVAILABLE; a bug shows no detail but INTERNAL."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2

from coop_domain.errors import FailedPrecondition, FieldViolation, InvalidArgument, Unavailable
from coop_platform.grpc_server import start_server
from coop_platform.rich_status import details_of, error_domain
from coop_testkit import bearer

REQUEST, RESPONSE = health_pb2.HealthCheckRequest, health_pb2.HealthCheckResponse


@pytest.fixture
def call_raising(settings):
    """Call test.v1.Errors/Raise on a real server whose servicer raises what the test gives it."""
    raised: list[BaseException] = []

    def behave(request, context):
        raise raised[0]

    handler = grpc.method_handlers_generic_handler("coop.test.v1.Errors", {"Raise": grpc.unary_unary_rpc_method_handler(
        behave, request_deserializer=REQUEST.FromString, response_serializer=RESPONSE.SerializeToString)})

    def register(server):
        server.add_generic_rpc_handlers((handler,))
        return []

    running = start_server(settings, register, None, port=0)
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    method = channel.unary_unary("/coop.test.v1.Errors/Raise", request_serializer=REQUEST.SerializeToString,
                                 response_deserializer=RESPONSE.FromString)

    def call(exc: BaseException) -> grpc.RpcError:
        raised[:] = [exc]
        with pytest.raises(grpc.RpcError) as caught:
            method(REQUEST(), metadata=bearer("admin-1", "admin"), timeout=5)
        return caught.value

    yield call
    channel.close()
    running.stop(0)


def test_an_invalid_argument_names_each_field_and_its_rule(call_raising):
    error = call_raising(InvalidArgument(
        "the member's data is invalid", reason="MEMBER_INVALID",
        violations=[FieldViolation("member.email", "not an e-mail address"),
                    FieldViolation("member.country", "not an ISO 3166 country code")]))
    found = details_of(error)
    assert found.code == grpc.StatusCode.INVALID_ARGUMENT
    assert found.reason == "MEMBER_INVALID" and found.domain == "coop.test"
    assert found.field_violations == {"member.email": "not an e-mail address",
                                      "member.country": "not an ISO 3166 country code"}


def test_a_field_given_alone_becomes_one_violation_with_the_message(call_raising):
    found = details_of(call_raising(InvalidArgument("page_token is not ours", field="page_token")))
    assert found.field_violations == {"page_token": "page_token is not ours"}
    assert found.reason == "INVALID_ARGUMENT"


def test_structured_detail_reaches_the_client_as_error_info_metadata(call_raising):
    found = details_of(call_raising(FailedPrecondition(
        "the payment does not cover the share", reason="PAYMENT_SHORT", shortfall_cents=1200, year=2026)))
    assert found.code == grpc.StatusCode.FAILED_PRECONDITION
    assert found.reason == "PAYMENT_SHORT"
    assert found.metadata == {"shortfall_cents": "1200", "year": "2026"}
    assert found.field_violations == {}


def test_a_transient_refusal_is_unavailable_with_the_delay_to_retry_after(call_raising):
    found = details_of(call_raising(Unavailable("member not known yet", reason="MEMBER_NOT_YET_KNOWN",
                                                retry_after_seconds=2.5)))
    assert found.code == grpc.StatusCode.UNAVAILABLE
    assert found.retry_after_seconds == 2.5 and found.reason == "MEMBER_NOT_YET_KNOWN"


def test_a_bug_is_internal_with_no_detail_of_its_cause(call_raising):
    found = details_of(call_raising(KeyError("secret-member-id")))
    assert found.code == grpc.StatusCode.INTERNAL
    assert "secret" not in found.message and found.metadata == {} and found.reason == "INTERNAL"


def test_an_error_reason_must_be_upper_snake_case():
    with pytest.raises(ValueError):
        InvalidArgument("x", reason="bad reason")


def test_the_error_domain_is_the_proto_package_without_its_version():
    assert error_domain("coop.membership.v1.MembershipService") == "coop.membership"


def test_details_echoing_a_huge_input_are_clipped_so_the_error_still_arrives(call_raising):
    huge = "x" * 100_000
    found = details_of(call_raising(InvalidArgument(f"bad {huge}", field="member.email", echoed=huge)))
    assert found.code == grpc.StatusCode.INVALID_ARGUMENT
    assert len(found.field_violations["member.email"]) <= 300 and len(found.metadata["echoed"]) <= 300
