"""Faults at the container level, on the Compose stack (issue 15): RabbitMQ restarted during a
stream of registrations, PostgreSQL restarted under the apis, a worker container killed
(SIGKILL), the whole stack restarted. Each uses the session's stack (tests/e2e/conftest.py: profile `full`,
docker-compose 1.29, outside development mode) and leaves it healthy for the next.

What is checked is what each service stores, read in PostgreSQL inside the stack: membership's
outbox (drained: no row left unpublished), billing's members and share fees, and elections'
member projection, each consumer's effects of member.admitted, exactly once per member.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from coop.membership.v1 import membership_pb2 as mpb
from coop.membership.v1 import membership_pb2_grpc as mgrpc
from coop_testkit import bearer, wait_until

SERVICES = ("membership", "billing", "elections")


@dataclass
class Stack:
    compose: Any  # conftest.ComposeStack
    project: str
    targets: dict[str, str]

    def container(self, service: str) -> str:
        cid = self.compose.container(self.project, service)
        assert cid, f"no {service} container"
        return cid

    def docker(self, *args: str, timeout: float = 120) -> str:
        proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
        assert proc.returncode == 0, f"docker {' '.join(args)}: {proc.stdout}{proc.stderr}"
        return proc.stdout.strip()

    def sql(self, database: str, query: str) -> str:
        """One value, read as the superuser through psql inside the postgres container."""
        return self.docker("exec", self.container("postgres"), "psql", "-U", "postgres", "-d", database,
                           "-tAc", query, timeout=60)

    def count(self, database: str, query: str) -> int:
        try:
            return int(self.sql(database, query) or 0)
        except AssertionError:  # postgres restarting
            return -1

    def health(self, service: str) -> str:
        return self.health_target(self.targets[service])

    def health_target(self, target: str) -> str:
        with grpc.insecure_channel(target) as channel:
            try:
                reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
            except grpc.RpcError as exc:
                return exc.code().name
        return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)

    def register(self, tag: str) -> str:
        with grpc.insecure_channel(self.targets["membership"]) as channel:
            stub = mgrpc.MembershipServiceStub(channel)
            member = stub.RegisterMember(mpb.RegisterMemberRequest(admit=True, member=mpb.MemberDraft(
                given_name="Fault", family_name=f"Test-{tag}", email=f"fault-{tag}@example.be",
                country_of_residence="BE", preferred_language="fr", category=mpb.MEMBER_CATEGORY_USER,
                joined_on="2020-01-15")), metadata=bearer("e2e-admin", "admin"), timeout=15)
        return member.member_id

    def get_member(self, member_id: str) -> mpb.Member:
        with grpc.insecure_channel(self.targets["membership"]) as channel:
            return mgrpc.MembershipServiceStub(channel).GetMember(
                mpb.GetMemberRequest(member_id=member_id), metadata=bearer("e2e-admin", "admin"), timeout=15)

    def effects(self, ids: list[str]) -> dict[str, int]:
        """How many rows each consumer of member.admitted holds for these members, and how many
        outbox rows membership has not published yet."""
        listed = ",".join(f"'{i}'" for i in ids)
        return {
            "billing members": self.count("billing", f"SELECT count(*) FROM members WHERE member_id IN ({listed})"),
            "billing share fees": self.count("billing", f"SELECT count(*) FROM share_fees WHERE member_id IN ({listed})"),
            "elections projection": self.count(
                "elections", f"SELECT count(*) FROM member_projection WHERE member_id IN ({listed})"),
            "membership outbox pending": self.count(
                "membership", "SELECT count(*) FROM outbox WHERE published_at IS NULL AND quarantined_at IS NULL"),
        }

    def wait_for_effects(self, ids: list[str], timeout: float = 240) -> None:
        want = {"billing members": len(ids), "billing share fees": len(ids), "elections projection": len(ids),
                "membership outbox pending": 0}
        seen: dict[str, int] = {}

        def done() -> bool:
            seen.update(self.effects(ids))
            return seen == want

        try:
            wait_until(done, timeout=timeout, interval=1, message="every effect")
        except TimeoutError:
            raise AssertionError(f"effects {seen}, wanted {want}\n{self.logs()}") from None

    def logs(self) -> str:
        return self.compose.run(self.project, "logs", "--tail", "30", check=False)[-8000:]

    def restarts(self, service: str) -> int:
        return int(self.docker("inspect", "-f", "{{.RestartCount}}", self.container(service)))


@pytest.fixture(scope="module")
def stack(all_services_compose, compose_stack, compose_project, compose_tokens) -> Iterator[Stack]:
    with compose_tokens():
        yield Stack(compose_stack, compose_project, dict(all_services_compose.targets))


def test_rabbitmq_restart_during_registrations_loses_no_event_and_applies_each_once(stack: Stack):
    ids: list[str] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def stream() -> None:
        while not stop.is_set() and len(ids) < 60:
            try:
                ids.append(stack.register(uuid.uuid4().hex[:10]))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return
            time.sleep(0.25)

    worker = threading.Thread(target=stream)
    worker.start()
    try:
        wait_until(lambda: len(ids) >= 10 or bool(errors), timeout=60, interval=0.1, message="registrations")
        stack.docker("restart", stack.container("rabbitmq"), timeout=180)
        during = len(ids)
    finally:
        worker.join(timeout=120)
        stop.set()
    assert not errors, errors
    assert len(ids) > during >= 10, "registrations went on while the broker restarted"
    stack.wait_for_effects(ids)


def test_postgres_restart_turns_apis_not_serving_then_serving_and_loses_no_committed_write(stack: Stack):
    before = [stack.register(uuid.uuid4().hex[:10]) for _ in range(5)]
    postgres = stack.container("postgres")
    stack.docker("stop", postgres, timeout=120)
    try:
        for service in SERVICES:
            wait_until(lambda s=service: stack.health(s) == "NOT_SERVING", timeout=90, interval=0.5,
                       message=f"{service}-api NOT_SERVING without its database")
    finally:
        stack.docker("start", postgres, timeout=120)
    for service in SERVICES:
        wait_until(lambda s=service: stack.health(s) == "SERVING", timeout=120, interval=0.5,
                   message=f"{service}-api SERVING again")
    for member_id in before:
        assert stack.get_member(member_id).member_id == member_id
    after = stack.register(uuid.uuid4().hex[:10])
    stack.wait_for_effects([*before, after])


def test_killed_worker_is_restarted_by_its_policy_and_the_outbox_drains(stack: Stack):
    """A crash: SIGKILL of the container's first process, from the host. (`docker kill` itself
    is not one: Docker 20.10 records it as a manual stop, after which no restart policy applies;
    measured here, as the Docker docs say of stopped containers.)"""
    worker = stack.container("membership-worker")
    restarts = stack.restarts("membership-worker")
    os.kill(int(stack.docker("inspect", "-f", "{{.State.Pid}}", worker)), signal.SIGKILL)
    # written while the relay (in the worker) is down: the rows wait in the outbox
    ids = [stack.register(uuid.uuid4().hex[:10]) for _ in range(5)]
    wait_until(lambda: stack.restarts("membership-worker") > restarts
               and stack.docker("inspect", "-f", "{{.State.Running}}", worker) == "true",
               timeout=120, interval=0.5, message="restart: unless-stopped bringing the worker back")
    assert stack.container("membership-worker") == worker, "the same container, restarted"
    stack.wait_for_effects(ids)


def test_whole_stack_restart_keeps_the_data_in_the_named_volumes(stack: Stack, record_timing):
    ids = [stack.register(uuid.uuid4().hex[:10]) for _ in range(3)]
    stack.wait_for_effects(ids)
    started = time.monotonic()
    # containers removed and made again; only the named volumes carry the data over
    stack.compose.run(stack.project, "down", timeout=300)
    stack.compose.run(stack.project, "up", "-d", *stack.compose.services(stack.project), timeout=600)
    stack.compose.wait_healthy(stack.project)
    for target in stack.targets.values():
        wait_until(lambda t=target: stack.health_target(t) == "SERVING", timeout=120, interval=0.5,
                   message=f"{target} SERVING")
    record_timing("whole_stack_restart_seconds", time.monotonic() - started)
    for member_id in ids:
        assert stack.get_member(member_id).member_id == member_id
    assert stack.effects(ids)["billing share fees"] == len(ids)
    # and the restarted stack still carries events through
    more = stack.register(uuid.uuid4().hex[:10])
    stack.wait_for_effects([*ids, more])
