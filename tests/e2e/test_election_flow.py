"""Our cooperative's election end to end, through RabbitMQ (issue 4): members admitted in the
membership service and put in good standing; the elections worker projects membership's
events and, just before the roll cut-off, builds the voter roll from that projection; members
stand (and some withdraw) in the nomination window; the worker's timer opens the vote
(election.opened, election.closing_soon); members vote online with their own tokens and one
in person on a paper ballot entered by two tellers; the timer closes, counts and publishes
(election.results_published), and the published box recounts to the same results with the
independent verifier.

Written once against `elections_platform` (conftest.py): docker-compose.yml where a Docker
engine exists, the processes `make run` starts where none does. The worker's timer opens,
closes and builds rolls at most one tick late, so every instant is planned from its interval;
the close is a whole minute (`closes_local` is HH:MM local time), hence most of the run time
is spent waiting for the next minute.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from election_helpers import (
    CLOSING_SOON,
    MANDATE_YEARS,
    OPENED,
    RESULTS_PUBLISHED,
    Coop,
    Plan,
    ballot_answers,
    code_of,
    event_of,
    localized,
    parse_instant,
    seconds_until,
    utcnow,
)

from coop.elections.v1 import elections_pb2 as epb
from coop.membership.v1 import membership_pb2 as mpb
from coop_testkit import REPO_ROOT, wait_until

pytestmark = [pytest.mark.rabbitmq]


def _verify(tmp_path: Path, box: str, election: str, results: str, receipt: Any) -> tuple[int, str]:
    """The verifier CLI as anyone runs it on the published files."""
    paths = {}
    for name, text in (("box", box), ("election", election), ("results", results)):
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "coop_elections.entrypoints.verify", str(paths["box"]), str(paths["election"]),
         "--results", str(paths["results"]), "--tracker", receipt.tracker, "--ballot-hash", receipt.ballot_hash,
         "--json"],
        capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    return done.returncode, done.stdout + done.stderr


@pytest.fixture
def coop(elections_platform):
    with grpc.insecure_channel(elections_platform.targets["membership"]) as membership, \
            grpc.insecure_channel(elections_platform.targets["elections"]) as elections:
        yield Coop(elections_platform, membership, elections)


def test_members_in_good_standing_elect_the_board_through_rabbitmq_and_the_published_box_verifies(
    elections_platform, coop, elections_events, tmp_path
):
    tick = elections_platform.elections_tick_seconds

    # 1. Membership: six members in good standing, one suspended after paying, one who never paid.
    ana, bert, chloe, dirk, els, hanne = (coop.admit(name, pay=True)
                                          for name in ("Ana", "Bert", "Chloe", "Dirk", "Els", "Hanne"))
    fien = coop.admit("Fien", pay=True)
    gust = coop.admit("Gust", pay=False)
    # Chloe joins the permanent staff: member.updated carries the new category
    coop.membership.UpdateMember(mpb.UpdateMemberRequest(
        member_id=chloe, member=mpb.MemberDraft(category=mpb.MEMBER_CATEGORY_PERMANENT_STAFF),
        update_paths=["category"]), metadata=coop.admin, timeout=15)

    # 2. The election: nominations until the cut-off, which is also the opening.
    plan = Plan.from_now(tick)
    election = coop.elections.CreateElection(epb.CreateElectionRequest(
        texts=localized("Conseil d'administration"),
        questions=[
            epb.QuestionSpec(question_id="board", method=epb.METHOD_PLURALITY, texts=localized("Sièges"),
                             seats=2, mandate_years=MANDATE_YEARS),
            epb.QuestionSpec(question_id="accounts", method=epb.METHOD_RESOLUTION, texts=localized("Comptes")),
        ],
        window=epb.VotingWindowSpec(opens_at=plan.opens.isoformat(), assembly_day=plan.assembly_day.isoformat(),
                                    closes_local=plan.local_close.strftime("%H:%M"), time_zone=plan.zone),
        roll_cutoff=plan.opens.isoformat(), nominations_open=plan.created.isoformat(),
        nominations_close=plan.opens.isoformat(), max_permanent_staff_seats=1,
    ), metadata=coop.admin, timeout=15)
    eid = election.election_id
    assert parse_instant(election.closes_at) == plan.closes
    assert election.status == epb.ELECTION_STATUS_SCHEDULED
    assert coop.elections.GetVoterRoll(epb.ElectionRef(election_id=eid), metadata=coop.admin, timeout=15).size == 0
    assert code_of(lambda: coop.vote(eid, ana, [ana], "yes")) == grpc.StatusCode.FAILED_PRECONDITION  # not open yet

    # 3. Candidacies, accepted once the worker has projected the member's events: each one proves
    # that member.admitted and share.paid reached the elections worker. Dirk, Els and Hanne stand
    # and withdraw (the same proof for voters); Fien stands, is suspended, and is refused once
    # member.status_changed has arrived.
    for member_id in (ana, bert):
        assert coop.stand(eid, member_id).category == "user"
    staff = coop.stand(eid, chloe, accept=lambda c: c.category == "permanent_staff")
    assert staff.category == "permanent_staff"
    for member_id in (dirk, els, hanne):
        coop.stand(eid, member_id)
        assert coop.withdraw(eid, member_id).withdrawn
    coop.stand(eid, fien)
    coop.membership.ChangeStatus(mpb.ChangeStatusRequest(member_id=fien, status=mpb.MEMBER_STATUS_SUSPENDED,
                                                         reason="e2e: unpaid invoices"),
                                 metadata=coop.admin, timeout=15)

    def fien_refused() -> bool:
        try:  # still in good standing for the worker: a retry, answered with the same candidacy
            again = coop.candidacy(eid, fien)
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.FAILED_PRECONDITION, exc
            return True
        assert again.candidate_id == fien and not again.withdrawn
        return False

    wait_until(fien_refused, timeout=30, interval=0.1, message="the elections worker projecting the suspension")
    coop.withdraw(eid, fien)
    assert code_of(lambda: coop.candidacy(eid, gust)) == grpc.StatusCode.FAILED_PRECONDITION  # never paid
    assert utcnow() < plan.opens - timedelta(seconds=3 * tick), (
        "the members were projected after the worker may have built the roll: raise STANDING_SECONDS")
    assert code_of(lambda: coop.elections.ListCandidacies(epb.ListCandidaciesRequest(election_id=eid),
                                                        metadata=coop.token(dirk), timeout=15)) \
        == grpc.StatusCode.FAILED_PRECONDITION  # published when nominations close

    # 4. The worker builds the roll before the cut-off and opens the vote at the opening.
    opened = elections_events.wait_for(event_of(OPENED, eid), timeout=seconds_until(plan.opens) + tick + 30)
    assert parse_instant(opened["time"]) >= plan.opens
    assert opened["source"] == "/coop/elections" and opened["_amqp"]["message_id"] == opened["id"]
    assert opened["data"]["tenant"] == "coop"
    assert parse_instant(opened["data"]["closesAt"]) == plan.closes
    assert opened["data"]["titles"]["en"] == "Conseil d'administration (en)"
    roll = coop.elections.GetVoterRoll(epb.ElectionRef(election_id=eid), metadata=coop.admin, timeout=15)
    assert roll.frozen and len(roll.sha256) == 64
    assert int(opened["data"]["rollSize"]) == roll.size == roll.total_weight
    voters = (ana, bert, chloe, dirk, els, hanne)
    assert [coop.on_roll(eid, m) for m in voters] == [True] * len(voters)
    assert not coop.on_roll(eid, fien)  # suspended before the cut-off
    assert not coop.on_roll(eid, gust)  # not in good standing
    # in a Compose stack the projection also holds earlier tests' members: ours are a subset
    assert roll.size >= len(voters)

    # a window shorter than two days is reminded halfway through (VotingWindow.reminder_at)
    halfway = plan.opens + (plan.closes - plan.opens) / 2
    soon = elections_events.wait_for(event_of(CLOSING_SOON, eid), timeout=seconds_until(halfway) + tick + 30)
    assert parse_instant(soon["time"]) >= halfway
    non_voters = set(soon["data"]["nonVoters"])
    assert set(voters) <= non_voters and len(non_voters) == roll.size
    assert fien not in non_voters and gust not in non_voters
    assert coop.elections.GetElection(epb.ElectionRef(election_id=eid), metadata=coop.admin,
                                      timeout=15).status == epb.ELECTION_STATUS_OPEN
    public = coop.elections.ListCandidacies(epb.ListCandidaciesRequest(election_id=eid),
                                            metadata=coop.token(dirk), timeout=15).candidacies
    assert sorted(c.candidate_id for c in public) == sorted((ana, bert, chloe))

    # 5. Voting: online with member tokens, once each; Els in person on paper (two tellers).
    online = {
        ana: ([ana, bert], "yes"),
        bert: ([bert], "yes"),
        chloe: ([chloe, bert], "no"),
        dirk: ([ana, bert], "yes"),
    }
    receipts = {m: coop.vote(eid, m, board, accounts) for m, (board, accounts) in online.items()}
    assert len({r.tracker for r in receipts.values()}) == len(receipts)
    assert code_of(lambda: coop.vote(eid, ana, [chloe], "no")) == grpc.StatusCode.ALREADY_EXISTS
    assert code_of(lambda: coop.vote(eid, fien, [ana], "yes")) == grpc.StatusCode.FAILED_PRECONDITION
    assert code_of(lambda: coop.vote(eid, gust, [ana], "yes")) == grpc.StatusCode.FAILED_PRECONDITION

    teller_1, teller_2 = coop.token("e2e-teller-1", "teller"), coop.token("e2e-teller-2", "teller")
    signed = coop.elections.SignInPersonRegister(epb.SignInPersonRegisterRequest(election_id=eid, voter_id=els),
                                                 metadata=teller_1, timeout=15)
    assert signed.on_roll and signed.has_voted
    assert code_of(lambda: coop.vote(eid, els, [ana], "yes")) == grpc.StatusCode.ALREADY_EXISTS
    paper = ([ana, chloe], "abstain")

    def enter(teller):
        return coop.elections.EnterPaperBallot(epb.EnterPaperBallotRequest(
            election_id=eid, paper_id="AG-0001", answers=ballot_answers(*paper)), metadata=teller, timeout=15)

    assert enter(teller_1).state == "pending"
    counted = enter(teller_2)
    assert counted.state == "counted" and counted.tracker

    turnout = coop.elections.GetTurnout(epb.ElectionRef(election_id=eid), metadata=coop.token(hanne), timeout=15)
    assert (turnout.voted, turnout.roll_size) == (5, roll.size)
    assert code_of(lambda: coop.elections.GetResults(epb.ElectionRef(election_id=eid), metadata=coop.admin,
                                                   timeout=15)) == grpc.StatusCode.FAILED_PRECONDITION  # sealed
    assert utcnow() < plan.closes, "voting took longer than planned: raise VOTING_SECONDS"

    # 6. The close: the worker counts and publishes at the closing minute; no ballot after it.
    published = elections_events.wait_for(event_of(RESULTS_PUBLISHED, eid),
                                          timeout=seconds_until(plan.closes) + tick + 30)
    assert parse_instant(published["time"]) >= plan.closes
    assert code_of(lambda: coop.vote(eid, hanne, [ana], "yes")) == grpc.StatusCode.FAILED_PRECONDITION

    cast = [*online.values(), paper]
    board_tally = Counter(c for board, _ in cast for c in board)
    expected_winners = [c for c, _ in board_tally.most_common(2)]
    assert expected_winners == [bert, ana] and len(set(board_tally.values())) == 3  # no tie to break
    answers = Counter(accounts for _, accounts in cast)
    mandate_start, mandate_end = plan.mandate()

    data = published["data"]
    assert data["tenant"] == "coop" and int(data["ballots"]) == len(cast)
    assert data["electedMemberIds"] == expected_winners
    assert data["seats"] == [{"questionId": "board", "electedMemberIds": expected_winners,
                              "mandateStart": mandate_start, "mandateEnd": mandate_end}]
    assert (data["mandateStart"], data["mandateEnd"]) == (mandate_start, mandate_end)
    assert data["adoptedResolutions"] == ["accounts"] and not data.get("rejectedResolutions")

    results = coop.elections.GetResults(epb.ElectionRef(election_id=eid), metadata=coop.token(hanne), timeout=15)
    assert results.ballots == len(cast) and results.total_weight == len(cast)
    assert results.box_head_hash == data["boxHeadHash"] and results.tie_break_seed == data["tieBreakSeed"]
    assert hashlib.sha256(results.tie_break_seed.encode()).hexdigest() == election.tie_break_seed_sha256
    by_question = {q.question_id: q for q in results.questions}
    board = by_question["board"]
    assert list(board.winners) == expected_winners
    assert dict(board.tallies) == {c: str(n) for c, n in board_tally.items()}
    assert (board.mandate_start, board.mandate_end) == (mandate_start, mandate_end)
    accounts = by_question["accounts"]
    assert dict(accounts.tallies) == {k: str(answers[k]) for k in ("yes", "no", "abstain")}
    assert accounts.adopted
    assert coop.elections.GetElection(epb.ElectionRef(election_id=eid), metadata=coop.admin,
                                      timeout=15).status == epb.ELECTION_STATUS_CLOSED

    # 7. The published box holds exactly the ballots cast, and the verifier recounts it alike.
    box = coop.elections.GetPublishedBox(epb.ElectionRef(election_id=eid), metadata=coop.token(dirk), timeout=15)
    entries = {e["tracker"]: e for e in json.loads(box.box_json)["entries"]}
    expected = {r.tracker: online[m] for m, r in receipts.items()} | {counted.tracker: paper}
    assert {t: (e["content"]["board"], e["content"]["accounts"]) for t, e in entries.items()} == expected
    assert json.loads(box.election_json)["roll"]["sha256"] == roll.sha256

    code, report = _verify(tmp_path, box.box_json, box.election_json, box.results_json, receipts[dirk])
    assert code == 0, report
    verified = json.loads(report)
    assert verified["chain"] == "ok" and verified["matches_published_results"] is True
    assert verified["checks"]["receipt"] == "ok" and verified["ballots"] == len(cast)
    assert verified["head_hash"] == results.box_head_hash
    recount = {q["question_id"]: q for q in verified["recount"]["questions"]}
    assert recount["board"]["winners"] == expected_winners and recount["accounts"]["adopted"] is True

    tampered = json.loads(box.box_json)
    tampered["entries"][0]["content"]["board"] = [chloe]
    code, report = _verify(tmp_path, json.dumps(tampered), box.election_json, box.results_json,
                           receipts[dirk])
    assert code == 1 and json.loads(report)["chain"] == "FAILED", report
