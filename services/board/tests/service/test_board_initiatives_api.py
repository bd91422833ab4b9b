"""InitiativeService over real gRPC and PostgreSQL: the whole life of an initiative with its
events, signatures under concurrency (duplicates attempted at once, each mark and the
qualification exactly once), the public count, the signers' verification and the outcome. The
agenda and assembly hooks are recording fakes (board_initiatives_helpers)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import grpc
import pytest
from board_initiatives_helpers import (
    ALL,
    THRESHOLD,
    TOKENS,
    InitiativesApi,
    initiatives_api,
    member_token,
)
from board_svc_helpers import START

from coop.board.v1 import common_pb2 as cpb
from coop.board.v1 import initiatives_pb2 as pb
from coop_board.service_layer import initiative_hooks
from coop_platform.rich_status import details_of


@pytest.fixture(scope="module")
def api(pg_url: str) -> Iterator[InitiativesApi]:
    with initiatives_api(pg_url) as running:
        yield running


@pytest.fixture(autouse=True)
def _clock(api: InitiativesApi) -> None:
    api.clock.set(START)


def test_an_initiative_from_draft_to_published_outcome_with_its_events(api: InitiativesApi) -> None:
    iid = api.submitted()
    submitted = api.get(iid)
    assert submitted.status == pb.INITIATIVE_STATUS_SUBMITTED
    assert submitted.admissibility_due_at.ToDatetime() == (START + timedelta(days=14)).replace(tzinfo=None)
    api.stub.DecideAdmissibility(pb.DecideAdmissibilityRequest(initiative_id=iid, admissible=True),
                                 metadata=TOKENS["management"])
    opened = api.get(iid, "member")
    assert opened.status == pb.INITIATIVE_STATUS_COLLECTING and opened.threshold == THRESHOLD
    assert opened.threshold_rule == "count" and not opened.admissible_by_default
    for n in (10, 11):
        api.sign(iid, n)
    answer = api.sign(iid, 12)
    assert (answer.signature_count, answer.threshold) == (3, 3)
    qualified = api.get(iid, "member")
    assert qualified.status == pb.INITIATIVE_STATUS_QUALIFIED and qualified.verified_signatures == 3
    assert qualified.forced_item.meeting_id == f"meeting-{len(api.agenda.calls)}"
    assert api.agenda.calls[-1]["initiative_id"] == iid
    assert api.agenda.calls[-1]["promoter_ids"] == ("mem-1", "mem-2", "mem-3", "mem-4")
    due = START + timedelta(days=10 + 20)
    assert qualified.outcome_due_at.ToDatetime() == due.replace(tzinfo=None)
    meeting_id = qualified.forced_item.meeting_id
    uow = api.uow_factory()
    with uow:
        initiative_hooks.initiative_discussed(uow, "coop", iid, meeting_id, "dec-1", START + timedelta(days=10))
        uow.commit()
    assert api.get(iid).status == pb.INITIATIVE_STATUS_DISCUSSED
    api.clock.set(START + timedelta(days=12))
    closed = api.stub.PublishInitiativeOutcome(pb.PublishInitiativeOutcomeRequest(
        initiative_id=iid, kind=cpb.INITIATIVE_OUTCOME_KIND_ADOPTED_AMENDED, text=ALL),
        metadata=TOKENS["secretary"]).initiative
    assert closed.status == pb.INITIATIVE_STATUS_CLOSED and closed.outcome.text.nl == "Besluit"
    promoters = ["mem-1", "mem-2", "mem-3", "mem-4"]
    for name in ("initiative.submitted", "initiative.admissible", "initiative.collection_opened",
                 "initiative.qualified", "initiative.outcome_published"):
        events = api.events(name, iid)
        assert len(events) == 1, name
        assert events[0]["promoterIds"] == promoters, name
    assert [e["percent"] for e in api.events("initiative.threshold_progress", iid)] == [33, 66, 100]
    assert "mem-10" not in str([api.events(n, iid) for n in ("initiative.threshold_progress", "initiative.qualified")])
    assert api.events("initiative.outcome_published", iid)[0]["kind"] == "INITIATIVE_OUTCOME_KIND_ADOPTED_AMENDED"


def test_a_refusal_is_published_with_its_reason_in_three_languages(api: InitiativesApi) -> None:
    iid = api.submitted()
    refused = api.stub.DecideAdmissibility(pb.DecideAdmissibilityRequest(
        initiative_id=iid, admissible=False, refusal_reason=cpb.LocalizedText(fr="Hors compétence",
                                                                               nl="Buiten bevoegdheid",
                                                                               en="Outside competence")),
        metadata=TOKENS["secretary"]).initiative
    assert refused.status == pb.INITIATIVE_STATUS_REFUSED
    public = api.get(iid, "member")
    assert public.refusal_reason.en == "Outside competence"
    assert api.events("initiative.refused", iid)[0]["reason"]["nl"] == "Buiten bevoegdheid"


def test_a_retried_signature_answers_as_the_first_and_a_second_one_is_already_signed(api: InitiativesApi) -> None:
    iid = api.collecting()
    first = api.sign(iid, 20, request_id="0b6f3c4e-2a7d-4f43-9d43-111111111111")
    again = api.sign(iid, 20, request_id="0b6f3c4e-2a7d-4f43-9d43-111111111111")
    assert again == first
    with pytest.raises(grpc.RpcError) as exc:
        api.sign(iid, 20)
    assert exc.value.code() == grpc.StatusCode.ALREADY_EXISTS and details_of(exc.value).reason == "ALREADY_SIGNED"
    count = api.stub.GetSignatureCount(pb.GetSignatureCountRequest(initiative_id=iid), metadata=member_token(33))
    assert count.signature_count == 1 and count.status == pb.INITIATIVE_STATUS_COLLECTING


def test_a_withdrawn_signature_is_uncounted_and_the_member_may_sign_again(api: InitiativesApi) -> None:
    iid = api.collecting()
    api.sign(iid, 21)
    left = api.stub.WithdrawSignature(pb.WithdrawSignatureRequest(initiative_id=iid), metadata=member_token(21))
    assert left.signature_count == 0
    mine = api.stub.GetMySignature(pb.GetMySignatureRequest(initiative_id=iid), metadata=member_token(21))
    assert not mine.signed
    assert api.sign(iid, 21).signature_count == 1


def test_the_secretary_sees_who_signed_with_their_standing_and_lapsed_signers_are_discounted(
        api: InitiativesApi) -> None:
    iid = api.collecting()
    api.sign(iid, 40)
    api.sign(iid, 41)
    api.set_members([40], good=False)
    try:
        page = api.stub.ListInitiativeSigners(pb.ListInitiativeSignersRequest(initiative_id=iid, page_size=1),
                                              metadata=TOKENS["secretary"])
        rest = api.stub.ListInitiativeSigners(pb.ListInitiativeSignersRequest(
            initiative_id=iid, page_token=page.next_page_token), metadata=TOKENS["secretary"])
        signers = {s.member_id: s.in_good_standing for s in [*page.signers, *rest.signers]}
        assert signers == {"mem-40": False, "mem-41": True} and not rest.next_page_token
        assert (page.signature_count, page.verified_count) == (2, 1)
        api.sign(iid, 42)
        assert api.get(iid).status == pb.INITIATIVE_STATUS_COLLECTING, "3 signatures, 2 verified: not qualified"
        api.sign(iid, 43)
        assert api.get(iid).status == pb.INITIATIVE_STATUS_QUALIFIED
        assert api.get(iid).verified_signatures == 3
    finally:
        api.set_members([40])


def test_list_initiatives_pages_newest_first_and_filters_by_status(api: InitiativesApi) -> None:
    ids = []
    for minutes in (1, 2, 3):
        api.clock.set(START + timedelta(minutes=minutes))
        ids.append(api.collecting())
    first = api.stub.ListInitiatives(pb.ListInitiativesRequest(status=pb.INITIATIVE_STATUS_COLLECTING, page_size=2),
                                      metadata=member_token(50))
    second = api.stub.ListInitiatives(pb.ListInitiativesRequest(status=pb.INITIATIVE_STATUS_COLLECTING, page_size=2,
                                                                page_token=first.next_page_token),
                                      metadata=member_token(50))
    listed = [i.initiative_id for i in [*first.initiatives, *second.initiatives]]
    assert listed[:2] == ids[::-1][:2] and ids[0] in listed
    assert all(i.status == pb.INITIATIVE_STATUS_COLLECTING for i in [*first.initiatives, *second.initiatives])
    mine = api.stub.ListInitiatives(pb.ListInitiativesRequest(mine=True, page_size=1000), metadata=member_token(2))
    assert set(ids) <= {i.initiative_id for i in mine.initiatives}


@pytest.fixture(scope="module")
def crowd(pg_url: str) -> Iterator[InitiativesApi]:
    """An api whose threshold is 150 signatures, with 240 members."""
    with initiatives_api(pg_url, THRESHOLD="150") as running:
        running.set_members(range(1, 241))
        yield running


def test_concurrent_signatures_with_duplicates_count_exactly_and_publish_each_mark_once(
        crowd: InitiativesApi) -> None:
    crowd.clock.set(START)
    iid = crowd.collecting()
    signers = list(range(10, 240))  # 230 members, each trying twice at once

    def attempt(n: int) -> str:
        try:
            crowd.sign(iid, n)
            return "signed"
        except grpc.RpcError as exc:
            return details_of(exc).reason

    with ThreadPoolExecutor(32) as pool:
        outcomes = list(pool.map(attempt, [n for n in signers for _ in range(2)]))
    assert outcomes.count("signed") == len(signers) and outcomes.count("ALREADY_SIGNED") == len(signers)
    count = crowd.stub.GetSignatureCount(pb.GetSignatureCountRequest(initiative_id=iid), metadata=member_token(5))
    assert count.signature_count == len(signers)
    assert sorted(e["percent"] for e in crowd.events("initiative.threshold_progress", iid)) == [33, 66, 100]
    assert len(crowd.events("initiative.qualified", iid)) == 1
    assert [c["initiative_id"] for c in crowd.agenda.calls].count(iid) == 1
    assert crowd.get(iid).status == pb.INITIATIVE_STATUS_QUALIFIED
