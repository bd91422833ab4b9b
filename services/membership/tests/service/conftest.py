"""The membership gRPC service in-process (plain grpcio, no eventlet) on a real database.

`svc` is parametrised over SQLite (a temporary file) and PostgreSQL (a fresh database on
the local server), so every test that uses it runs on both.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import grpc
import pytest
from sqlalchemy import Engine, text

from coop.membership.v1 import membership_pb2 as pb
from coop.membership.v1 import membership_pb2_grpc as pb_grpc
from coop_membership.entrypoints import grpc_api
from coop_platform.config import Settings
from coop_platform.grpc_server import RunningServer, start_server
from coop_platform.migrations import upgrade
from coop_testkit import bearer, postgres_database

ADMIN = bearer("admin-1", "admin")
TABLES = ("members", "shares", "member_status_history", "outbox")


@dataclass
class Svc:
    """A running membership api and the means to look behind it."""

    backend: str
    url: str
    engine: Engine
    server: RunningServer
    channel: grpc.Channel
    stub: pb_grpc.MembershipServiceStub

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}

    def outbox_types(self, member_id: str) -> list[str]:
        """Event names in the outbox about one member (CloudEvents subject), in commit order."""
        with self.engine.connect() as conn:
            bodies = conn.execute(text("SELECT body FROM outbox ORDER BY seq")).scalars().all()
        envelopes = [json.loads(b) for b in bodies]
        return [e["type"].split(".", 2)[2].rsplit(".", 1)[0] for e in envelopes if e["subject"] == member_id]

    def outbox_envelopes(self, member_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            bodies = conn.execute(text("SELECT body FROM outbox ORDER BY seq")).scalars().all()
        return [e for e in map(json.loads, bodies) if e["subject"] == member_id]


def settings_for(url: str) -> Settings:
    return Settings(service_name="membership", database_url=url, dev_mode=True, grpc_workers=8)


@contextlib.contextmanager
def running_service(url: str, backend: str, *, migrate: bool = True, health_interval: float = 2.0) -> Iterator[Svc]:
    if migrate:
        upgrade("membership", url)
    settings = settings_for(url)
    engine, register, _ = grpc_api.build(settings)
    server = start_server(settings, register, engine, port=0, health_interval=health_interval)
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield Svc(backend, url, engine, server, channel, pb_grpc.MembershipServiceStub(channel))
    finally:
        channel.close()
        server.stop(grace=1)
        engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def svc(request, tmp_path_factory) -> Iterator[Svc]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('membership') / 'membership.db'}"
        with running_service(url, "sqlite") as s:
            yield s
    else:
        with postgres_database("coop_membership_svc") as url, running_service(url, "postgresql") as s:
            yield s


def unique(prefix: str = "T") -> str:
    """A letters-only tag (names accept it and the list filter's prefix match can find it)."""
    return prefix + "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:12])


def draft(tag: str | None = None, **overrides: Any) -> pb.MemberDraft:
    tag = tag or unique()
    fields: dict[str, Any] = dict(
        given_name="Ada", family_name=tag, email=f"{tag.lower()}@example.org",
        country_of_residence="BE", preferred_language="fr", category=pb.MEMBER_CATEGORY_USER,
    )
    fields.update(overrides)
    return pb.MemberDraft(**fields)


def register(svc: Svc, *, admit: bool = True, **overrides: Any) -> pb.Member:
    return svc.stub.RegisterMember(pb.RegisterMemberRequest(member=draft(**overrides), admit=admit),
                                   metadata=ADMIN)


METHODS = list(pb.DESCRIPTOR.services_by_name["MembershipService"].methods)


def call(svc: Svc, method: str, request: Any, metadata: Any = ADMIN, timeout: float = 30) -> Any:
    """Call any RPC by name; a client-streaming one gets the request as a one-chunk stream."""
    rpc = getattr(svc.stub, method)
    descriptor = pb.DESCRIPTOR.services_by_name["MembershipService"].methods_by_name[method]
    payload = iter([request]) if descriptor.client_streaming else request
    return rpc(payload, metadata=metadata, timeout=timeout)


def code_of(call, *args, **kwargs) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as err:
        call(*args, **kwargs)
    return err.value.code()


@pytest.fixture(scope="session")
def h() -> SimpleNamespace:
    """The module-level helpers, for test files (importlib mode gives them no package path)."""
    return SimpleNamespace(ADMIN=ADMIN, unique=unique, draft=draft, register=register,
                           code_of=code_of, call=call, METHODS=METHODS, running_service=running_service, settings_for=settings_for)
