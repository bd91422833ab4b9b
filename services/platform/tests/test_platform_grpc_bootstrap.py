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
from coop_platform.config import load_settings
from coop_platform.grpc_server import start_server
from coop_platform.logs import configure_logging, reset_correlation_id, set_correlation_id
from coop_platform.migrations import upgrade
from coop_platform.testing import bearer


@pytest.fixture()
def settings(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    monkeypatch.setenv("COOP_DATABASE_URL", url)
    upgrade("membership", url)
    return load_settings("membership")


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
                                       metadata=bearer(settings.jwt_secret, "ops", "admin"))
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
