"""Bad input to InitiativeService: each refusal has its gRPC status and reason (never UNKNOWN or
INTERNAL) and writes nothing. The agenda and assembly hooks are recording fakes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import grpc
import pytest
from board_initiatives_helpers import ALL, TOKENS, InitiativesApi, initiatives_api, member_token
from board_svc_helpers import START

from coop.board.v1 import common_pb2 as cpb
from coop.board.v1 import initiatives_pb2 as pb
from coop_platform.rich_status import details_of

INVALID = grpc.StatusCode.INVALID_ARGUMENT
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
TEXT = cpb.LocalizedText(fr="Texte")


@pytest.fixture(scope="module")
def api(pg_url: str) -> Iterator[InitiativesApi]:
    with initiatives_api(pg_url) as running:
        running.set_members([90], good=False, status="suspended")
        running.set_members([91], good=False, status="excluded")
        yield running


@pytest.fixture(autouse=True)
def _clock(api: InitiativesApi) -> None:
    api.clock.set(START)


def refused(api: InitiativesApi, call: Callable[[], Any]) -> tuple[grpc.StatusCode, str, str]:
    before = api.counts()
    with pytest.raises(grpc.RpcError) as exc:
        call()
    assert api.counts() == before, "a refused call writes nothing"
    details = details_of(exc.value)
    field = next(iter(details.field_violations), "")
    return exc.value.code(), details.reason, field


def test_signing_by_a_non_member_or_a_member_not_in_good_standing_is_refused_with_distinct_reasons(
        api: InitiativesApi) -> None:
    iid = api.collecting()
    for who, reason in (("stranger", "NOT_A_MEMBER"), (91, "NOT_A_MEMBER"), (90, "NOT_IN_GOOD_STANDING")):
        code, got, _ = refused(api, lambda who=who: api.sign(iid, who))
        assert (code, got) == (PRECONDITION, reason)


def test_a_second_signature_is_already_exists(api: InitiativesApi) -> None:
    iid = api.collecting()
    api.sign(iid, 10)
    code, reason, _ = refused(api, lambda: api.sign(iid, 10))
    assert (code, reason) == (grpc.StatusCode.ALREADY_EXISTS, "ALREADY_SIGNED")


def test_signing_or_withdrawing_after_the_close_is_refused(api: InitiativesApi) -> None:
    iid = api.collecting()
    api.sign(iid, 10)
    api.clock.set(START + timedelta(days=30))
    assert refused(api, lambda: api.sign(iid, 11))[:2] == (PRECONDITION, "COLLECTION_CLOSED")
    assert refused(api, lambda: api.stub.WithdrawSignature(pb.WithdrawSignatureRequest(initiative_id=iid),
                                                           metadata=member_token(10)))[:2] == (
        PRECONDITION, "COLLECTION_CLOSED")


def test_signing_a_submitted_initiative_is_refused_as_not_open(api: InitiativesApi) -> None:
    iid = api.submitted()
    assert refused(api, lambda: api.sign(iid, 2))[:2] == (PRECONDITION, "COLLECTION_NOT_OPEN")


def test_submitting_without_enough_promoters_is_refused(api: InitiativesApi) -> None:
    iid = api.invited(1, (2, 3, 4))
    api.stub.AnswerPromoterInvitation(pb.AnswerPromoterInvitationRequest(initiative_id=iid, accept=True),
                                      metadata=member_token(2))
    code, reason, _ = refused(api, lambda: api.stub.SubmitInitiative(pb.SubmitInitiativeRequest(initiative_id=iid),
                                                                     metadata=member_token(1)))
    assert (code, reason) == (PRECONDITION, "NOT_ENOUGH_PROMOTERS")


def test_an_outcome_without_all_three_languages_names_the_missing_one(api: InitiativesApi) -> None:
    iid = api.discussed()
    code, reason, field = refused(api, lambda: api.stub.PublishInitiativeOutcome(pb.PublishInitiativeOutcomeRequest(
        initiative_id=iid, kind=cpb.INITIATIVE_OUTCOME_KIND_REJECTED, text=cpb.LocalizedText(fr="Non", en="No")),
        metadata=TOKENS["secretary"]))
    assert (code, reason, field) == (INVALID, "MISSING_LANGUAGE", "text.nl")
    code, reason, field = refused(api, lambda: api.stub.PublishInitiativeOutcome(pb.PublishInitiativeOutcomeRequest(
        initiative_id=iid, text=ALL), metadata=TOKENS["secretary"]))
    assert (code, reason, field) == (INVALID, "MISSING_OUTCOME_KIND", "kind")


def test_an_outcome_before_the_meeting_was_held_is_refused(api: InitiativesApi) -> None:
    iid = api.qualified()
    assert refused(api, lambda: api.stub.PublishInitiativeOutcome(pb.PublishInitiativeOutcomeRequest(
        initiative_id=iid, kind=cpb.INITIATIVE_OUTCOME_KIND_REJECTED, text=ALL),
        metadata=TOKENS["secretary"]))[:2] == (PRECONDITION, "MEETING_NOT_HELD")


def test_a_refusal_without_its_reason_in_three_languages_is_refused(api: InitiativesApi) -> None:
    iid = api.submitted()
    code, reason, field = refused(api, lambda: api.stub.DecideAdmissibility(pb.DecideAdmissibilityRequest(
        initiative_id=iid, admissible=False, refusal_reason=cpb.LocalizedText(fr="Non")), metadata=TOKENS["secretary"]))
    assert (code, reason, field) == (INVALID, "MISSING_LANGUAGE", "refusal_reason.nl")


@pytest.mark.parametrize("request_, reason, field", [
    (pb.DraftInitiativeRequest(language="de", title=TEXT, text=TEXT, question=TEXT), "INVALID_LANGUAGE", "language"),
    (pb.DraftInitiativeRequest(language="fr", text=TEXT, question=TEXT), "MISSING_TEXT", "title.fr"),
    (pb.DraftInitiativeRequest(language="fr", title=TEXT, text=TEXT), "MISSING_TEXT", "question.fr"),
    (pb.DraftInitiativeRequest(language="fr", title=cpb.LocalizedText(fr="x" * 201), text=TEXT, question=TEXT),
     "TEXT_TOO_LONG", "title.fr"),
])
def test_a_draft_with_bad_content_is_refused_by_field(api: InitiativesApi, request_: Any, reason: str,
                                                      field: str) -> None:
    code, got, got_field = refused(api, lambda: api.stub.DraftInitiative(request_, metadata=member_token(1)))
    assert (code, got, got_field) == (INVALID, reason, field)


def test_a_member_not_in_good_standing_may_neither_draft_nor_accept(api: InitiativesApi) -> None:
    assert refused(api, lambda: api.stub.DraftInitiative(pb.DraftInitiativeRequest(
        language="fr", title=TEXT, text=TEXT, question=TEXT), metadata=member_token(90)))[:2] == (
        PRECONDITION, "NOT_IN_GOOD_STANDING")
    iid = api.invited(1, (90,))
    assert refused(api, lambda: api.stub.AnswerPromoterInvitation(pb.AnswerPromoterInvitationRequest(
        initiative_id=iid, accept=True), metadata=member_token(90)))[:2] == (PRECONDITION, "NOT_IN_GOOD_STANDING")


def test_malformed_ids_tokens_and_invitations_are_invalid_arguments(api: InitiativesApi) -> None:
    assert refused(api, lambda: api.stub.GetInitiative(pb.GetInitiativeRequest(initiative_id="nope"),
                                                       metadata=member_token(1)))[:2] == (INVALID, "INVALID_ID")
    assert refused(api, lambda: api.stub.ListInitiatives(pb.ListInitiativesRequest(page_token="garbage"),
                                                         metadata=member_token(1)))[:2] == (
        INVALID, "INVALID_PAGE_TOKEN")
    iid = api.draft(1)
    assert refused(api, lambda: api.stub.InvitePromoters(pb.InvitePromotersRequest(initiative_id=iid),
                                                         metadata=member_token(1)))[:2] == (
        INVALID, "MISSING_MEMBER_IDS")
    assert refused(api, lambda: api.stub.InvitePromoters(pb.InvitePromotersRequest(
        initiative_id=iid, member_ids=[f"m-{n}" for n in range(51)]), metadata=member_token(1)))[:2] == (
        INVALID, "TOO_MANY_INVITEES")


def test_an_unknown_initiative_is_not_found(api: InitiativesApi) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    for call in (lambda: api.sign(unknown, 1),
                 lambda: api.stub.GetSignatureCount(pb.GetSignatureCountRequest(initiative_id=unknown),
                                                    metadata=member_token(1))):
        assert refused(api, call)[:2] == (grpc.StatusCode.NOT_FOUND, "INITIATIVE_NOT_FOUND")
