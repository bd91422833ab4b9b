"""Every InitiativeService RPC against every role (director, secretary, management, member,
admin, another tenant's admin, no token): what each may do, and a refusal writes nothing. The
agenda and assembly hooks are recording fakes (board_initiatives_helpers)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from board_initiatives_helpers import (
    ALL,
    ROLES,
    TOKENS,
    InitiativesApi,
    initiatives_api,
    member_token,
)
from board_svc_helpers import START

from coop.board.v1 import common_pb2 as cpb
from coop.board.v1 import initiatives_pb2 as pb
from coop_platform.rich_status import details_of

OK = grpc.StatusCode.OK
DENIED = grpc.StatusCode.PERMISSION_DENIED
NOT_FOUND = grpc.StatusCode.NOT_FOUND
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
SERVICE = pb.DESCRIPTOR.services_by_name["InitiativeService"]
TEXT = cpb.LocalizedText(fr="Texte")


@pytest.fixture(scope="module")
def api(pg_url: str) -> Iterator[InitiativesApi]:
    with initiatives_api(pg_url) as running:
        yield running


@pytest.fixture(autouse=True)
def _clock(api: InitiativesApi) -> None:
    api.clock.set(START)


def _draft(api):
    return pb.DraftInitiativeRequest(language="fr", title=TEXT, text=TEXT, question=TEXT)


def _update(api):
    return pb.UpdateInitiativeDraftRequest(initiative_id=api.draft(1), language="fr", title=TEXT, text=TEXT,
                                           question=TEXT)


def _invite(api):
    return pb.InvitePromotersRequest(initiative_id=api.draft(1), member_ids=["mem-7"])


def _answer(api):
    return pb.AnswerPromoterInvitationRequest(initiative_id=api.invited(author=2, invitees=(1, 3)), accept=True)


def _submit(api):
    iid = api.invited(1, (2, 3, 4))
    for n in (2, 3, 4):
        api.stub.AnswerPromoterInvitation(pb.AnswerPromoterInvitationRequest(initiative_id=iid, accept=True),
                                          metadata=member_token(n))
    return pb.SubmitInitiativeRequest(initiative_id=iid)


def _decide(api):
    return pb.DecideAdmissibilityRequest(initiative_id=api.submitted(2, (3, 4, 5)), admissible=True)


def _sign(api):
    return pb.SignInitiativeRequest(initiative_id=api.collecting(2))


def _withdraw(api):
    iid = api.collecting(2)
    api.sign(iid, 1)
    return pb.WithdrawSignatureRequest(initiative_id=iid)


def _my_signature(api):
    return pb.GetMySignatureRequest(initiative_id=api.collecting(2))


def _get(api):
    return pb.GetInitiativeRequest(initiative_id=api.collecting(2))


def _count(api):
    return pb.GetSignatureCountRequest(initiative_id=api.collecting(2))


def _list(api):
    api.collecting(2)
    return pb.ListInitiativesRequest()


def _signers(api):
    iid = api.collecting(2)
    api.sign(iid, 9)
    return pb.ListInitiativeSignersRequest(initiative_id=iid)


def _outcome(api):
    return pb.PublishInitiativeOutcomeRequest(initiative_id=api.discussed(), kind=cpb.INITIATIVE_OUTCOME_KIND_REJECTED,
                                              text=ALL)


MEMBER_ONLY = {"member": OK}
READERS = {"member": OK, "director": OK, "secretary": OK, "management": OK, "admin": OK, "other": NOT_FOUND}
CASES: dict[str, tuple[Callable[[InitiativesApi], Any], dict[str, grpc.StatusCode]]] = {
    "DraftInitiative": (_draft, MEMBER_ONLY),
    "UpdateInitiativeDraft": (_update, MEMBER_ONLY),
    "InvitePromoters": (_invite, MEMBER_ONLY),
    "AnswerPromoterInvitation": (_answer, MEMBER_ONLY),
    "SubmitInitiative": (_submit, MEMBER_ONLY),
    "DecideAdmissibility": (_decide, {"secretary": OK, "management": OK, "admin": OK, "other": NOT_FOUND}),
    "SignInitiative": (_sign, MEMBER_ONLY),
    "WithdrawSignature": (_withdraw, MEMBER_ONLY),
    "GetMySignature": (_my_signature, MEMBER_ONLY),
    "GetInitiative": (_get, READERS),
    "GetSignatureCount": (_count, READERS),
    "ListInitiatives": (_list, {**READERS, "other": OK}),
    "ListInitiativeSigners": (_signers, {"secretary": OK}),
    "PublishInitiativeOutcome": (_outcome, {"secretary": OK, "admin": OK, "other": NOT_FOUND}),
}


def test_every_rpc_of_the_service_is_covered() -> None:
    assert sorted(CASES) == sorted(m.name for m in SERVICE.methods)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method", sorted(CASES))
def test_every_rpc_against_every_role(api: InitiativesApi, method: str, role: str) -> None:
    prepare, allowed = CASES[method]
    request = prepare(api)
    expected = UNAUTHENTICATED if role == "no token" else allowed.get(role, DENIED)
    before = api.counts()
    try:
        getattr(api.stub, method)(request, metadata=TOKENS[role])
        code = OK
    except grpc.RpcError as exc:
        code = exc.code()
        if role != "no token":
            assert details_of(exc).reason, "a refusal names its reason"
    assert code == expected, f"{method} as {role}"
    if code != OK:
        assert api.counts() == before, "a refused call writes nothing"


def test_another_tenants_admin_lists_no_initiative_of_the_cooperative(api: InitiativesApi) -> None:
    api.collecting(2)
    listed = api.stub.ListInitiatives(pb.ListInitiativesRequest(), metadata=TOKENS["other"]).initiatives
    assert list(listed) == []


def test_a_draft_is_not_found_outside_its_committee_and_invitations_show_to_it_only(api: InitiativesApi) -> None:
    iid = api.invited(author=1, invitees=(2, 3))
    api.stub.AnswerPromoterInvitation(pb.AnswerPromoterInvitationRequest(initiative_id=iid, accept=False),
                                      metadata=member_token(3))
    seen = api.stub.GetInitiative(pb.GetInitiativeRequest(initiative_id=iid), metadata=member_token(2)).initiative
    assert [p.member_id for p in seen.promoters] == ["mem-1", "mem-2", "mem-3"]
    for token in (member_token(9), TOKENS["secretary"], TOKENS["admin"]):
        with pytest.raises(grpc.RpcError) as exc:
            api.stub.GetInitiative(pb.GetInitiativeRequest(initiative_id=iid), metadata=token)
        assert exc.value.code() == NOT_FOUND and details_of(exc.value).reason == "INITIATIVE_NOT_FOUND"


def test_outside_the_committee_only_the_author_and_accepted_promoters_show(api: InitiativesApi) -> None:
    iid = api.invited(author=1, invitees=(2, 3, 4, 6))
    for n in (2, 3, 4):
        api.stub.AnswerPromoterInvitation(pb.AnswerPromoterInvitationRequest(initiative_id=iid, accept=True),
                                          metadata=member_token(n))
    api.stub.SubmitInitiative(pb.SubmitInitiativeRequest(initiative_id=iid), metadata=member_token(1))
    api.stub.DecideAdmissibility(pb.DecideAdmissibilityRequest(initiative_id=iid, admissible=True),
                                 metadata=TOKENS["management"])
    public = api.stub.GetInitiative(pb.GetInitiativeRequest(initiative_id=iid), metadata=member_token(9)).initiative
    assert [p.member_id for p in public.promoters] == ["mem-1", "mem-2", "mem-3", "mem-4"]


def test_a_member_reads_their_own_signature_only(api: InitiativesApi) -> None:
    iid = api.collecting(2)
    api.sign(iid, 1)
    mine = api.stub.GetMySignature(pb.GetMySignatureRequest(initiative_id=iid), metadata=member_token(1))
    theirs = api.stub.GetMySignature(pb.GetMySignatureRequest(initiative_id=iid), metadata=member_token(9))
    assert mine.signed and mine.signed_at.seconds and not theirs.signed


def test_a_secretary_role_without_the_office_may_not_list_signers(api: InitiativesApi) -> None:
    from coop_testkit import bearer

    iid = api.collecting(2)
    with pytest.raises(grpc.RpcError) as exc:
        api.stub.ListInitiativeSigners(pb.ListInitiativeSignersRequest(initiative_id=iid),
                                       metadata=bearer("dir-2", "secretary", "director"))
    assert exc.value.code() == DENIED and details_of(exc.value).reason == "NOT_THE_SECRETARY"
