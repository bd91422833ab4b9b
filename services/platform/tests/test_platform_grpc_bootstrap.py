"""gRPC bootstrap: TLS when a certificate is configured, JSON logs with correlation ids,
UNAUTHENTICATED before any servicer code runs, health and reflection without a token."""

from __future__ import annotations

import io
import json
import logging
import subprocess
from dataclasses import replace

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from coop.membership.v1 import membership_pb2 as pb
from coop.membership.v1 import membership_pb2_grpc as pb_grpc
from coop_membership.entrypoints.grpc_api import build
from coop_platform.grpc_server import start_server
from coop_platform.logs import configure_logging, reset_correlation_id, set_correlation_id
from coop_testkit import bearer


def _self_signed(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True)
    return key, cert


def test_server_speaks_tls_when_a_certificate_and_key_are_configured(settings, tmp_path):
    key, cert = _self_signed(tmp_path)
    tls = replace(settings, tls_cert=str(cert), tls_key=str(key))
    engine, register, _ = build(tls)
    running = start_server(tls, register, engine, port=0)
    try:
        creds = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        with grpc.secure_channel(f"localhost:{running.port}", creds) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as plain, pytest.raises(grpc.RpcError):
            health_pb2_grpc.HealthStub(plain).Check(health_pb2.HealthCheckRequest(), timeout=2)
    finally:
        running.stop(0)
        engine.dispose()


def test_health_and_reflection_need_no_token_but_service_calls_do(settings):
    engine, register, _ = build(settings)
    running = start_server(settings, register, engine, port=0)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            health = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service="coop.membership.v1.MembershipService"), timeout=5)
            assert health.status == health_pb2.HealthCheckResponse.SERVING
            responses = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)
            names = {s.name for r in responses for s in r.list_services_response.service}
            assert "coop.membership.v1.MembershipService" in names
            stub = pb_grpc.MembershipServiceStub(channel)
            with pytest.raises(grpc.RpcError) as err:
                stub.CountMembers(pb.CountMembersRequest(), timeout=5)
            assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
            counts = stub.CountMembers(pb.CountMembersRequest(), timeout=5,
                                       metadata=bearer("ops", "admin"))
            assert counts.total == 0
    finally:
        running.stop(0)
        engine.dispose()


def test_logs_are_json_lines_with_service_and_correlation_id():
    stream = io.StringIO()
    configure_logging("membership", "INFO", stream=stream)
    token = set_correlation_id("abc123")
    try:
        logging.getLogger("coop.test").info("member admitted", extra={"member_number": "M000001"})
    finally:
        reset_correlation_id(token)
        logging.getLogger().handlers.clear()
    record = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert record["message"] == "member admitted"
    assert record["service"] == "membership"
    assert record["correlation_id"] == "abc123"
    assert record["member_number"] == "M000001"
    assert record["level"] == "INFO"


def test_health_knows_every_service_as_soon_as_the_server_has_started(settings):
    engine, register, _ = build(settings)
    for _ in range(5):
        running = start_server(settings, register, engine, port=0, health_interval=60)
        try:
            with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
                reply = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service="coop.membership.v1.MembershipService"), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        finally:
            running.stop(0)
    engine.dispose()


def test_server_streams_go_out_as_produced_and_an_error_mid_stream_gets_its_status(settings):
    """A server stream is not collected first (a year of statements, or a health Watch that
    never ends, would otherwise send nothing until the end): the client reads the first
    responses while the servicer is still running, and a domain error raised after them
    ends the stream with its status code."""
    import threading

    from coop_platform.errors import NotFound

    go_on = threading.Event()
    request_type, response_type = health_pb2.HealthCheckRequest, health_pb2.HealthCheckResponse

    def statuses(request, context):
        for _ in range(3):
            yield response_type(status=response_type.SERVING)
        go_on.wait(10)  # only the client, having read three, lets the stream go on
        raise NotFound(f"no more for {request.service}")

    handler = grpc.method_handlers_generic_handler("test.Streams", {"Statuses": grpc.unary_stream_rpc_method_handler(
        statuses, request_deserializer=request_type.FromString,
        response_serializer=response_type.SerializeToString)})

    def register(server):
        server.add_generic_rpc_handlers((handler,))
        return []

    running = start_server(settings, register, None, port=0)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            call = channel.unary_stream("/test.Streams/Statuses", request_serializer=request_type.SerializeToString,
                                        response_deserializer=response_type.FromString)
            stream = call(request_type(service="x"), timeout=20, metadata=bearer("ops", "admin"))
            first = [next(stream) for _ in range(3)]
            assert [r.status for r in first] == [response_type.SERVING] * 3
            go_on.set()
            with pytest.raises(grpc.RpcError) as err:
                next(stream)
            assert err.value.code() == grpc.StatusCode.NOT_FOUND and "no more for x" in err.value.details()
            watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=""), timeout=20)
            assert next(watch).status == response_type.SERVING  # the Watch stream stays open
            watch.cancel()
    finally:
        go_on.set()
        running.stop(0)


def test_gc_tuning_freezes_start_up_objects_and_sets_thresholds_or_refuses_a_bad_setting():
    import gc

    from coop_platform.grpc_server import tune_gc

    before = gc.get_threshold()
    try:
        assert tune_gc("20000,50,100") == (20000, 50, 100)
        assert gc.get_freeze_count() > 0
        assert tune_gc("") == (20000, 50, 100)  # empty: thresholds left as they are
        for bad in ("20000", "a,b,c", "0,1,1", "1,-1,1"):
            with pytest.raises(ValueError, match="COOP_GC_THRESHOLDS"):
                tune_gc(bad)
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
