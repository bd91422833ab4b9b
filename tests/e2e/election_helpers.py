"""What the end-to-end tests of an election share (test_election_flow.py, test_board_flow.py):
the election's planned instants and the member portal's and admin CLI's calls to membership and
elections. The instants are planned from the elections worker's tick (conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import pytest

from coop.elections.v1 import elections_pb2 as epb
from coop.elections.v1 import elections_pb2_grpc as egrpc
from coop.membership.v1 import membership_pb2 as mpb
from coop.membership.v1 import membership_pb2_grpc as mgrpc
from coop_testkit import bearer, wait_until

OPENED = "coop.elections.election.opened.v1"
CLOSING_SOON = "coop.elections.election.closing_soon.v1"
RESULTS_PUBLISHED = "coop.elections.election.results_published.v1"
# Time the test needs between creating the election and the earliest roll build (members
# standing as soon as the projection has them), and between the opening and the close (votes).
STANDING_SECONDS = 6
VOTING_SECONDS = 10
ZONE = "Europe/Brussels"
MANDATE_YEARS = 4


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Plan:
    """The election's instants. Roll cut-off = nominations close = opening; the close is the
    first whole minute leaving time to vote."""

    created: datetime
    opens: datetime
    closes: datetime
    zone: str

    @classmethod
    def from_now(cls, tick: float) -> Plan:
        now = utcnow().replace(microsecond=0)  # nominations open at once
        # the roll is built at the first tick of the last three before the cut-off: plan it
        # after the members have stood (proof that the projection has them)
        opens = now + timedelta(seconds=3 * tick + STANDING_SECONDS)
        at_least = opens + timedelta(seconds=tick + VOTING_SECONDS)
        closes = at_least.replace(second=0) + timedelta(minutes=1)
        # an ambiguous local time (autumn clock change) would mean its first occurrence
        zone = ZONE if not closes.astimezone(ZoneInfo(ZONE)).fold else "UTC"
        return cls(now, opens, closes, zone)

    @property
    def local_close(self) -> datetime:
        return self.closes.astimezone(ZoneInfo(self.zone))

    @property
    def assembly_day(self) -> date:
        return self.local_close.date()

    def mandate(self) -> tuple[str, str]:
        day = self.assembly_day
        try:
            end = day.replace(year=day.year + MANDATE_YEARS)
        except ValueError:  # 29 February
            end = day.replace(year=day.year + MANDATE_YEARS, day=28)
        return day.isoformat(), end.isoformat()


def code_of(call: Callable[[], Any]) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value.code()


def localized(title: str) -> list[epb.LocalizedText]:
    return [epb.LocalizedText(language=lang, title=f"{title} ({lang})") for lang in ("fr", "nl", "en")]


class Coop:
    """The two services as the member portal and the admin CLI call them."""

    def __init__(self, platform, membership: grpc.Channel, elections: grpc.Channel) -> None:
        self.platform = platform
        self.membership = mgrpc.MembershipServiceStub(membership)
        self.elections = egrpc.ElectionsServiceStub(elections)
        self.admin = bearer("e2e-admin", "admin")

    def token(self, subject: str, role: str = "member") -> list[tuple[str, str]]:
        return bearer(subject, role)

    # -- membership
    def admit(self, given_name: str, *, pay: bool) -> str:
        tag = uuid.uuid4().hex[:8]
        member = self.membership.RegisterMember(mpb.RegisterMemberRequest(admit=True, member=mpb.MemberDraft(
            given_name=given_name, family_name=f"E2E-{tag}", email=f"{given_name.lower()}.{tag}@example.be",
            country_of_residence="BE", preferred_language="fr", category=mpb.MEMBER_CATEGORY_USER,
            joined_on="2020-01-15")), metadata=self.admin, timeout=15)  # joined long ago: no grace
        if pay:
            year = utcnow().year
            share = self.membership.SubscribeShare(mpb.SubscribeShareRequest(member_id=member.member_id, year=year),
                                                   metadata=self.admin, timeout=15)
            self.membership.RecordSharePayment(mpb.RecordSharePaymentRequest(
                member_id=member.member_id, year=year, amount_cents=share.amount_cents,
                payment_reference=f"E2E-{tag}"), metadata=self.admin, timeout=15)
        got = self.membership.GetMember(mpb.GetMemberRequest(member_id=member.member_id), metadata=self.admin,
                                        timeout=15)
        assert got.in_good_standing is pay, given_name
        return member.member_id

    # -- elections
    def candidacy(self, eid: str, member_id: str) -> epb.Candidacy:
        return self.elections.SubmitCandidacy(epb.SubmitCandidacyRequest(
            election_id=eid, question_id="board",
            statement=[epb.LocalizedText(language="fr", description="Je me présente.")]),
            metadata=self.token(member_id), timeout=15)

    def withdraw(self, eid: str, member_id: str) -> epb.Candidacy:
        return self.elections.WithdrawCandidacy(epb.CandidacyRef(election_id=eid, question_id="board"),
                                                metadata=self.token(member_id), timeout=15)

    def stand(self, eid: str, member_id: str, accept: Callable[[epb.Candidacy], bool] = lambda c: True,
              timeout: float = 30) -> epb.Candidacy:
        """Stand as soon as the elections worker's projection has the member in good standing
        (FAILED_PRECONDITION until then); a candidacy `accept` refuses is withdrawn and retried."""
        got: list[epb.Candidacy] = []
        refused: list[epb.Candidacy] = []

        def attempt() -> bool:
            try:
                candidacy = self.candidacy(eid, member_id)
            except grpc.RpcError as exc:
                if exc.code() == grpc.StatusCode.FAILED_PRECONDITION and "good standing" in (exc.details() or ""):
                    return False
                raise AssertionError(f"member {member_id} could not stand: {exc.code()} {exc.details()}; "
                                     f"refused candidacies: {refused}") from exc
            if not accept(candidacy):
                refused.append(candidacy)
                self.withdraw(eid, member_id)
                return False
            got.append(candidacy)
            return True

        wait_until(attempt, timeout=timeout, interval=0.1,
                   message=f"the elections worker projecting member {member_id} in good standing")
        return got[0]

    def vote(self, eid: str, member_id: str, board: list[str], accounts: str) -> epb.CastBallotResponse:
        return self.elections.CastBallot(epb.CastBallotRequest(election_id=eid, answers=ballot_answers(board, accounts)),
                                         metadata=self.token(member_id), timeout=15)

    def on_roll(self, eid: str, member_id: str) -> bool:
        return self.elections.CheckMyRollEntry(epb.ElectionRef(election_id=eid), metadata=self.token(member_id),
                                               timeout=15).on_roll


def ballot_answers(board: list[str], accounts: str) -> list[epb.Answer]:
    return [epb.Answer(question_id="board", choices=board), epb.Answer(question_id="accounts", resolution=accounts)]


def event_of(event_type: str, election_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e.get("type") == event_type and (e.get("data") or {}).get("electionId") == election_id


def parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def seconds_until(moment: datetime) -> float:
    return max(0.0, (moment - utcnow()).total_seconds())
