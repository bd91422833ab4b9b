"""Use cases of the member aggregate on in-memory fakes: access decided on what the unit read,
refusals that write and publish nothing, the events of each change."""

from __future__ import annotations

import uuid

import pytest

from coop_domain.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from coop_membership.domain import events as ev
from coop_membership.domain.model import Status
from coop_membership.service_layer import members
from coop_membership.service_layer.ports import MemberQuery
from coop_platform.idempotency import IdempotencyKey, IdempotentRequest, Replay

from .conftest import ADMIN, BOARD, SERVICE, details, fakes, member_principal  # noqa: TID252


def register(uow, caller=ADMIN, *, admit=True, **overrides):
    return members.register_member(uow, caller, details(**overrides), admit=admit)


def test_an_admin_admits_at_registration_and_the_unit_publishes_admitted_and_status_changed(uow):
    view = register(uow)
    assert view.member.status == Status.ACTIVE and view.member.member_no == 1 and view.in_good_standing
    assert [type(e) for e in uow.published] == [ev.MemberAdmitted, ev.MemberStatusChanged]
    assert uow.committed


def test_a_service_registers_applicants_without_events_but_may_not_admit(uow):
    assert register(uow, SERVICE, admit=False).member.status == Status.APPLICANT
    assert uow.published == []
    with pytest.raises(PermissionDenied) as err:
        register(uow, SERVICE, admit=True)
    assert err.value.reason == "ROLE_REQUIRED"
    assert len(uow.store.members) == 1


def test_a_member_may_not_register_anyone(uow):
    with pytest.raises(PermissionDenied):
        register(uow, member_principal(str(uuid.uuid4())))
    assert uow.store.members == {}


def test_a_bad_field_names_its_request_path_and_rule_and_writes_nothing(uow):
    with pytest.raises(InvalidArgument) as err:
        register(uow, email="not-an-email")
    assert (err.value.field, err.value.reason) == ("member.email", "INVALID_EMAIL")
    assert [v.field for v in err.value.violations] == ["member.email"]
    assert uow.store.members == {} and uow.published == []


def test_the_languages_come_from_the_unit_of_work_setting():
    with pytest.raises(InvalidArgument) as err:
        register(fakes.FakeUnitOfWork(), preferred_language="de")
    assert err.value.reason == "UNSUPPORTED_LANGUAGE"
    german = fakes.FakeUnitOfWork(languages=frozenset({"fr", "nl", "en", "de"}))
    assert register(german, preferred_language="de").member.preferred_language == "de"


def test_in_a_batch_each_registration_gets_its_own_answer(uow):
    taken = register(uow).member.email
    batch = [members.Registration(ADMIN, details(), True), members.Registration(ADMIN, details(email=taken), True),
             members.Registration(SERVICE, details(), True), members.Registration(SERVICE, details(), False)]
    out = members.register_members(uow, batch)
    assert [type(x).__name__ for x in out] == ["MemberView", "AlreadyExists", "PermissionDenied", "MemberView"]
    assert out[1].field == "member.email" and out[1].reason == "EMAIL_TAKEN"
    assert len(uow.store.members) == 3


def test_a_retried_registration_gets_the_first_answer_back_and_registers_nobody(uow):
    request = IdempotentRequest(IdempotencyKey("coop", "admin-1", "RegisterMember", str(uuid.uuid4())), "f1")
    same = details()
    first = members.register_members(uow, [members.Registration(ADMIN, same, True, request=request)])[0]
    again = members.register_members(uow, [members.Registration(ADMIN, same, True, request=request)])[0]
    assert isinstance(again, Replay) and again.response is first
    assert len(uow.store.members) == 1


def _key(method):
    return IdempotentRequest(IdempotencyKey("coop", "admin-1", method, str(uuid.uuid4())), "fingerprint")


def test_a_retried_status_change_gets_the_first_answer_not_an_illegal_move(uow):
    member = register(uow).member
    key = _key("ChangeStatus")
    first = members.change_status(uow, ADMIN, member.member_id, Status.SUSPENDED, "late", request=key)
    events = len(uow.published)
    again = members.change_status(uow, ADMIN, member.member_id, Status.SUSPENDED, "late", request=key)
    assert isinstance(again, Replay) and again.response is first and len(uow.published) == events
    with pytest.raises(FailedPrecondition) as err:
        members.change_status(uow, ADMIN, member.member_id, Status.ACTIVE, "paid",
                              request=IdempotentRequest(key.key, "another request"))
    assert err.value.field == "request_id"


def test_get_member_lets_a_member_read_their_own_record_and_readers_anyones(uow):
    member = register(uow).member
    for caller in (member_principal(member.member_id), BOARD, SERVICE, ADMIN):
        assert members.get_member(uow, caller, member.member_id).member.member_id == member.member_id
    assert members.get_member(uow, BOARD, member_number=member.member_number).member is member


def test_get_member_refuses_another_member_and_names_an_unknown_or_malformed_key(uow):
    member = register(uow).member
    with pytest.raises(PermissionDenied) as err:
        members.get_member(uow, member_principal(str(uuid.uuid4())), member_number=member.member_number)
    assert err.value.reason == "NOT_YOUR_RECORD"
    with pytest.raises(NotFound):
        members.get_member(uow, ADMIN, str(uuid.uuid4()))
    with pytest.raises(InvalidArgument) as bad:
        members.get_member(uow, ADMIN, "not-a-uuid")
    assert (bad.value.field, bad.value.reason) == ("member_id", "INVALID_MEMBER_ID")


def test_a_member_updates_their_contact_details_but_not_their_category(uow):
    member = register(uow).member
    me = member_principal(member.member_id)
    uow.published.clear()
    view = members.update_member(uow, me, member.member_id, details(phone="+32 2 555 12 12"), ["phone"])
    assert view.member.phone == "+32 2 555 12 12"
    assert [(type(e), e.changed_fields) for e in uow.published] == [(ev.MemberUpdated, ["phone"])]
    with pytest.raises(PermissionDenied):
        members.update_member(uow, me, member.member_id, details(), ["category"])
    with pytest.raises(PermissionDenied):
        members.update_member(uow, BOARD, member.member_id, details(), ["phone"])


def test_an_update_that_changes_nothing_publishes_nothing(uow):
    member = register(uow).member
    uow.published.clear()
    members.update_member(uow, ADMIN, member.member_id, details(family_name=member.family_name), ["family_name"])
    assert uow.published == []


def test_an_update_to_another_members_email_is_already_exists(uow):
    first, second = register(uow).member, register(uow).member
    with pytest.raises(AlreadyExists) as err:
        members.update_member(uow, ADMIN, second.member_id, details(email=first.email), ["email"])
    assert err.value.field == "member.email"


def test_a_member_may_resign_but_nothing_else(uow):
    member = register(uow).member
    me = member_principal(member.member_id)
    with pytest.raises(PermissionDenied):
        members.change_status(uow, me, member.member_id, Status.SUSPENDED, "x")
    other = register(uow).member
    with pytest.raises(PermissionDenied):
        members.change_status(uow, me, other.member_id, Status.RESIGNED, "")
    assert members.change_status(uow, me, member.member_id, Status.RESIGNED, "moving").member.status == Status.RESIGNED
    assert type(uow.published[-1]) is ev.MemberStatusChanged


def test_an_illegal_transition_says_what_is_allowed(uow):
    member = register(uow, admit=False).member
    with pytest.raises(FailedPrecondition) as err:
        members.change_status(uow, ADMIN, member.member_id, Status.SUSPENDED, "late")
    assert err.value.reason == "ILLEGAL_TRANSITION"
    assert err.value.metadata == {"from_status": "applicant", "to_status": "suspended",
                                  "allowed": "active,resigned"}


def test_suspension_needs_a_reason(uow):
    member = register(uow).member
    with pytest.raises(InvalidArgument) as err:
        members.change_status(uow, ADMIN, member.member_id, Status.SUSPENDED, " ")
    assert (err.value.field, err.value.reason) == ("reason", "FIELD_REQUIRED")


def test_readmission_is_announced_as_such(uow):
    member = register(uow).member
    members.change_status(uow, ADMIN, member.member_id, Status.RESIGNED, "")
    members.change_status(uow, ADMIN, member.member_id, Status.ACTIVE, "back")
    admitted = [e for e in uow.published if isinstance(e, ev.MemberAdmitted)]
    assert [e.readmission for e in admitted] == [False, True]


def test_history_is_the_members_own_or_a_readers(uow):
    member = register(uow).member
    _, changes = members.member_history(uow, member_principal(member.member_id), member.member_id)
    assert [c.to_status for c in changes] == [Status.APPLICANT, Status.ACTIVE]
    with pytest.raises(PermissionDenied):
        members.member_history(uow, member_principal(str(uuid.uuid4())), member_number=member.member_number)


def test_listing_pages_through_every_member_once_with_tokens(uow):
    for _ in range(5):
        register(uow)
    seen, token = [], ""
    while True:
        views, token = members.list_members(uow, BOARD, MemberQuery(), 2, token)
        seen += [v.member.member_no for v in views]
        if not token:
            break
    assert seen == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(("size", "token", "field", "reason"), [
    (1001, "", "page_size", "INVALID_PAGE_SIZE"), (-1, "", "page_size", "INVALID_PAGE_SIZE"),
    (10, "bm90IG9uZSBvZiBvdXJz", "page_token", "INVALID_PAGE_TOKEN"),
])
def test_a_bad_page_size_or_token_is_refused_with_its_field(uow, size, token, field, reason):
    with pytest.raises(InvalidArgument) as err:
        members.list_members(uow, ADMIN, MemberQuery(), size, token)
    assert (err.value.field, err.value.reason) == (field, reason)


def test_members_may_not_list_or_count(uow):
    member = register(uow).member
    with pytest.raises(PermissionDenied):
        members.list_members(uow, member_principal(member.member_id), MemberQuery())
    with pytest.raises(PermissionDenied):
        members.count_members(uow, member_principal(member.member_id), MemberQuery())
    assert members.count_members(uow, BOARD, MemberQuery())["total"] == 1
