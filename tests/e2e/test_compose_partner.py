"""A partner cooperative's election through docker-compose.partner-elections.yml (issue 15): the
partner file comes up alone (its own project: RabbitMQ, PostgreSQL, elections migrate/api/worker,
Prometheus) through pytest-docker, every service healthy; the partner's administrator creates an
election for tenant partner-a, imports the roll, its voters vote with their own tokens, the
administrator closes it and reads the results; then the stack goes down with its volumes.
The stack runs outside development mode: tokens come from the test issuer, bound to tenants
coop and partner-a (tests/e2e/conftest.py)."""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from pytest_docker.plugin import get_docker_services

from coop.elections.v1 import elections_pb2 as epb
from coop.elections.v1 import elections_pb2_grpc as egrpc
from coop_platform.healthcheck import check
from coop_testkit import bearer, wait_until

TENANT = "partner-a"
VOTERS = ("pa-voter-1", "pa-voter-2", "pa-voter-3")


@pytest.fixture(scope="module")
def partner_target(partner_compose_stack, compose_tokens, record_timing) -> Iterator[str]:
    compose_stack = partner_compose_stack
    project = f"coop-partner{os.getpid()}"
    file = compose_stack.compose_file
    started = time.monotonic()
    with get_docker_services(" ".join(shlex.quote(a) for a in compose_stack.base_command()), str(file), project,
                             [f"up -d {' '.join(compose_stack.services(project, file))}"],
                             ["down -v --remove-orphans"]) as services:
        compose_stack.wait_healthy(project, file=file)
        record_timing("partner_up_to_healthy_seconds", time.monotonic() - started)
        target = f"127.0.0.1:{services.port_for('elections-api', 50053)}"
        services.wait_until_responsive(check=lambda: check(target, timeout=2), timeout=300, pause=1)
        with compose_tokens():
            yield target


def _texts(title: str) -> list[epb.LocalizedText]:
    return [epb.LocalizedText(language=lang, title=f"{title} ({lang})") for lang in ("fr", "nl", "en")]


def test_partner_election_runs_through_the_partner_stack_alone(partner_target: str):
    admin = bearer("pa-admin", "partner", tenant=TENANT)
    opens = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=15)
    # the close is a whole minute (HH:MM on the Assembly day), leaving 20 s at least to vote
    closes = (opens + timedelta(seconds=20)).replace(second=0) + timedelta(minutes=1)
    with grpc.insecure_channel(partner_target) as channel:
        stub = egrpc.ElectionsServiceStub(channel)
        election = stub.CreateElection(epb.CreateElectionRequest(
            texts=_texts("Partner board"),
            questions=[epb.QuestionSpec(question_id="board", method=epb.METHOD_STV, texts=_texts("Seats"),
                                        candidates=["ana", "ben", "cleo"], seats=1, mandate_years=4),
                       epb.QuestionSpec(question_id="accounts", method=epb.METHOD_RESOLUTION,
                                        texts=_texts("Accounts"))],
            window=epb.VotingWindowSpec(opens_at=opens.isoformat(),
                                        assembly_day=closes.date().isoformat(),
                                        closes_local=closes.strftime("%H:%M"), time_zone="UTC")),
            metadata=admin, timeout=15)
        assert election.tenant == TENANT
        ref = epb.ElectionRef(election_id=election.election_id)
        roll = stub.ImportVoterRoll(epb.ImportVoterRollRequest(
            election_id=election.election_id, voters=[epb.VoterEntry(voter_id=v) for v in VOTERS]),
            metadata=admin, timeout=15)
        assert roll.size == len(VOTERS)
        # the cooperative's own tokens are not the partner's: tenants stay apart
        with pytest.raises(grpc.RpcError) as refused:
            stub.GetElection(ref, metadata=bearer("coop-admin", "admin"), timeout=15)
        assert refused.value.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED)

        def vote(voter: str, board: str) -> bool:
            try:
                stub.CastBallot(epb.CastBallotRequest(election_id=election.election_id, answers=[
                    epb.Answer(question_id="board", choices=[board]),
                    epb.Answer(question_id="accounts", resolution="yes")]),
                    metadata=bearer(voter, "member", tenant=TENANT), timeout=15)
            except grpc.RpcError as exc:
                if exc.code() == grpc.StatusCode.FAILED_PRECONDITION:  # not open yet
                    return False
                raise
            return True

        wait_until(lambda: vote(VOTERS[0], "ana"), timeout=90, interval=1, message="the election opening")
        assert vote(VOTERS[1], "ana") and vote(VOTERS[2], "ben")
        # the worker's timer closes, counts and publishes at the close (one tick late at most)
        time.sleep(max(0.0, (closes - datetime.now(UTC)).total_seconds()))
        published: list[epb.Results] = []

        def results() -> bool:
            try:
                published.append(stub.GetResults(ref, metadata=admin, timeout=15))
            except grpc.RpcError as exc:
                if exc.code() == grpc.StatusCode.FAILED_PRECONDITION:  # not closed yet
                    return False
                raise
            return True

        wait_until(results, timeout=90, interval=1, message="the results published")
        assert published[-1].ballots == len(VOTERS)
        board = next(q for q in published[-1].questions if q.question_id == "board")
        assert list(board.winners) == ["ana"]
