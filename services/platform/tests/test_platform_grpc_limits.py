"""What an unauthenticated caller can make an api process do (hardening issue, points 3 and 4):
open health watches and reflection streams never starve the RPCs, a request is parsed only after
its token passed and only up to a size, reflection and metrics stay where the operator puts them,
and a caller's correlation id cannot break the outbox."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import replace

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from sqlalchemy import text

from coop.membership.v1 import membership_pb2 as pb
from coop.membership.v1 import membership_pb2_grpc as pb_grpc
from coop_membership.entrypoints.grpc_api import build
from coop_platform.config import load_settings
from coop_platform.grpc_server import start_server
from coop_platform.metrics import serve_metrics
from coop_testkit import bearer, free_port

COUNT = "/coop.membership.v1.MembershipService/CountMembers"


@pytest.fixture()
def serve(settings):
    started = []

    def run(**changes):
        chosen = replace(settings, **changes)
        engine, register, _ = build(chosen)
        running = start_server(chosen, register, engine, port=0, health_interval=60)
        started.append((running, engine))
        return grpc.insecure_channel(f"127.0.0.1:{running.port}"), engine

    yield run
    for running, engine in started:
        running.stop(0)
        engine.dispose()


def raw_call(channel: grpc.Channel, method: str):
    return channel.unary_unary(method, request_serializer=lambda b: b, response_deserializer=lambda b: b)


def code_of(call, *args, **kwargs) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as err:
        call(*args, **kwargs)
    return err.value.code()


def test_open_health_watches_and_reflection_streams_never_starve_checks_and_rpcs(serve):
    """Four watches used to pin all four threads of a four-thread server, after which Check (and
    every RPC) waited forever."""
    channel, _ = serve(grpc_workers=4, grpc_reflection=True)
    stop = threading.Event()
    watches = [health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(), timeout=60)
               for _ in range(8)]
    for watch in watches:
        assert next(watch).status == health_pb2.HealthCheckResponse.SERVING

    def endless_reflection_requests():
        yield reflection_pb2.ServerReflectionRequest(list_services="")
        stop.wait(60)

    reflections = [reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
        endless_reflection_requests(), timeout=60) for _ in range(6)]
    next(reflections[0])
    try:
        for _ in range(3):
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
            counts = pb_grpc.MembershipServiceStub(channel).CountMembers(
                pb.CountMembersRequest(), metadata=bearer("ops", "admin"), timeout=5)
            assert counts.total == 0
    finally:
        stop.set()
        for stream in (*watches, *reflections):
            stream.cancel()


def test_a_large_request_without_a_token_is_refused_before_it_is_parsed(serve):
    """Bytes that are no protobuf message at all: parsing them first failed with INTERNAL."""
    channel, _ = serve()
    garbage = b"\xff" * (2 * 1024 * 1024)
    assert code_of(raw_call(channel, COUNT), garbage, timeout=10) == grpc.StatusCode.UNAUTHENTICATED


def test_an_authenticated_unary_request_over_the_limit_is_resource_exhausted(serve):
    channel, _ = serve(max_request_bytes=64 * 1024)
    large = pb.CountMembersRequest(filter=pb.MemberFilter(languages=["fr"] * 40_000)).SerializeToString()
    with pytest.raises(grpc.RpcError) as err:
        raw_call(channel, COUNT)(large, metadata=bearer("ops", "admin"), timeout=10)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "limit of 65536 bytes" in err.value.details()


def test_bytes_that_are_not_the_methods_message_are_invalid_argument_not_internal(serve):
    channel, _ = serve()
    with pytest.raises(grpc.RpcError) as err:
        raw_call(channel, COUNT)(b"\xff\xff\xff", metadata=bearer("ops", "admin"), timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_a_streaming_import_may_carry_more_than_the_unary_limit_in_total(serve):
    channel, _ = serve(max_request_bytes=64 * 1024)

    def chunk(first_line: int) -> pb.ImportMembersChunk:
        rows = [pb.ImportRow(line=n, member=pb.MemberDraft(
            given_name=f"Given{n}", family_name=f"Family{n}", email=f"m{n}@example.be", country_of_residence="BE",
            preferred_language="fr", category=pb.MEMBER_CATEGORY_USER)) for n in range(first_line, first_line + 500)]
        return pb.ImportMembersChunk(rows=rows, dry_run=True)

    chunks = [chunk(2 + 500 * n) for n in range(4)]
    assert sum(c.ByteSize() for c in chunks) > 64 * 1024
    report = pb_grpc.MembershipServiceStub(channel).ImportMembers(iter(chunks), metadata=bearer("ops", "admin"),
                                                                  timeout=60)
    assert report.rows_received == 2000 and not report.errors


def test_reflection_is_served_only_in_development_mode_or_when_the_operator_turns_it_on(serve):
    def reflection_code(channel) -> grpc.StatusCode:
        try:
            replies = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)
            list(replies)
            return grpc.StatusCode.OK
        except grpc.RpcError as exc:
            return exc.code()

    assert reflection_code(serve(dev_mode=True)[0]) == grpc.StatusCode.OK
    assert reflection_code(serve(grpc_reflection=False)[0]) == grpc.StatusCode.UNIMPLEMENTED
    assert reflection_code(serve(dev_mode=True, grpc_reflection=None, auth_issuers_file=None)[0]) == grpc.StatusCode.OK


def test_metrics_listen_on_the_loopback_interface_unless_the_operator_says_otherwise(monkeypatch):
    monkeypatch.delenv("COOP_METRICS_HOST", raising=False)
    assert load_settings("membership").metrics_host == "127.0.0.1"
    server = serve_metrics(free_port())
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.shutdown()
    monkeypatch.setenv("COOP_METRICS_HOST", "0.0.0.0")
    assert load_settings("membership").metrics_host == "0.0.0.0"


@pytest.mark.parametrize("sent, kept", [("portal-7f3a.req:42", True), ("x" * 300, False),
                                        ("bad id with spaces", False), ("id;\\r\\nX-Evil: 1", False)])
def test_a_callers_correlation_id_reaches_the_events_only_when_it_is_a_safe_short_id(serve, sent, kept):
    """An id over 255 bytes used to be copied into the AMQP correlation-id property, where the
    publish raised and the relay retried that batch forever."""
    channel, engine = serve()
    draft = pb.MemberDraft(given_name="Ana", family_name="Lopes", email=f"ana-{len(sent)}-{kept}@example.be",
                           country_of_residence="BE", preferred_language="fr", category=pb.MEMBER_CATEGORY_USER)
    pb_grpc.MembershipServiceStub(channel).RegisterMember(
        pb.RegisterMemberRequest(member=draft, admit=True),
        metadata=[*bearer("ops", "admin"), ("x-correlation-id", sent)], timeout=10)
    with engine.connect() as conn:
        bodies = [json.loads(b) for b in conn.execute(text("SELECT body FROM outbox")).scalars()]
    ids = {body["correlationid"] for body in bodies}
    assert len(ids) == 1
    (used,) = ids
    assert (used == sent) is kept
    assert len(used.encode()) <= 128


def _handled(code: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("grpc_server_handled_total", {
        "grpc_type": "bidi_stream", "grpc_service": "grpc.reflection.v1alpha.ServerReflection",
        "grpc_method": "ServerReflectionInfo", "grpc_code": code}) or 0.0


def test_a_client_that_cancels_its_request_stream_is_counted_cancelled_and_not_logged_as_a_bug(serve, caplog):
    """The server's next read of a cancelled client's stream raises grpc.RpcError; the interceptor
    took it for a bug (INTERNAL, logged "bug: ... failed" with a traceback)."""
    channel, _ = serve(grpc_reflection=True)
    cancelled_before, internal_before = _handled("CANCELLED"), _handled("INTERNAL")
    hold = threading.Event()

    def requests():
        yield reflection_pb2.ServerReflectionRequest(list_services="")
        hold.wait(30)  # the server waits for the next request
        yield reflection_pb2.ServerReflectionRequest(list_services="")

    with caplog.at_level(logging.INFO):
        stream = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(requests(), timeout=30)
        assert next(stream).list_services_response.service
        stream.cancel()
        deadline = time.monotonic() + 10
        while _handled("CANCELLED") == cancelled_before and time.monotonic() < deadline:
            time.sleep(0.05)
        hold.set()
    assert _handled("CANCELLED") == cancelled_before + 1
    assert _handled("INTERNAL") == internal_before
    assert not [r for r in caplog.records if r.getMessage().startswith("bug:")]
