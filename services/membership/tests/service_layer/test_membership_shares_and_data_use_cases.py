"""Use cases of shares, billing's share-fee payments, personal data and imports on in-memory
fakes."""

from __future__ import annotations

import json
import uuid

import pytest

from coop_domain.clock import utcnow
from coop_domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument, PermissionDenied
from coop_membership.domain import events as ev
from coop_membership.domain.model import Status
from coop_membership.service_layer import handlers, imports, members, personal_data, shares
from coop_platform.idempotency import IdempotencyKey, IdempotentRequest, Replay

from .conftest import ADMIN, BOARD, SERVICE, SYSTEM, details, member_principal  # noqa: TID252

THIS_YEAR = utcnow().year


def admitted(uow):
    return members.register_member(uow, ADMIN, details(), admit=True).member


def test_a_service_records_a_payment_once_per_reference(uow):
    member = admitted(uow)
    for _ in range(2):
        share, _ = shares.record_share_payment(uow, SERVICE, member.member_id, THIS_YEAR, 3000, "INV-1")
    assert share.state == "paid" and member.paid_through_year == THIS_YEAR
    assert [type(e) for e in uow.published[-2:]] == [ev.ShareSubscribed, ev.SharePaid]
    assert sum(isinstance(e, ev.SharePaid) for e in uow.published) == 1


def test_a_member_may_not_record_their_own_payment(uow):
    member = admitted(uow)
    with pytest.raises(PermissionDenied):
        shares.record_share_payment(uow, member_principal(member.member_id), member.member_id, THIS_YEAR, 3000, "x")


def test_a_payment_of_the_wrong_amount_names_the_expected_one(uow):
    member = admitted(uow)
    with pytest.raises(InvalidArgument) as err:
        shares.record_share_payment(uow, ADMIN, member.member_id, THIS_YEAR, 2999, "INV-2")
    assert (err.value.field, err.value.reason, err.value.metadata) == (
        "amount_cents", "AMOUNT_MISMATCH", {"expected_cents": "3000"})


def test_a_reference_used_for_another_member_is_already_exists(uow):
    first, second = admitted(uow), admitted(uow)
    shares.record_share_payment(uow, ADMIN, first.member_id, THIS_YEAR, 3000, "INV-3")
    with pytest.raises(AlreadyExists) as err:
        shares.record_share_payment(uow, ADMIN, second.member_id, THIS_YEAR, 3000, "INV-3")
    assert err.value.reason == "PAYMENT_REFERENCE_USED"


def test_a_member_subscribes_their_own_share_once_and_no_one_elses(uow):
    member, other = admitted(uow), admitted(uow)
    me = member_principal(member.member_id)
    first, _ = shares.subscribe_share(uow, me, member.member_id, THIS_YEAR)
    assert shares.subscribe_share(uow, me, member.member_id, THIS_YEAR)[0] is first
    with pytest.raises(PermissionDenied):
        shares.subscribe_share(uow, me, other.member_id, THIS_YEAR)
    with pytest.raises(InvalidArgument) as err:
        shares.subscribe_share(uow, me, member.member_id, 1989)
    assert (err.value.field, err.value.reason) == ("year", "YEAR_OUT_OF_RANGE")


def test_refunds_wait_for_resignation_then_refund_every_paid_share(uow):
    member = admitted(uow)
    shares.record_share_payment(uow, ADMIN, member.member_id, THIS_YEAR, 3000, "INV-4")
    with pytest.raises(FailedPrecondition) as err:
        shares.refund_shares(uow, ADMIN, member.member_id, "x")
    assert err.value.reason == "MEMBER_STILL_IN"
    members.change_status(uow, ADMIN, member.member_id, Status.RESIGNED, "")
    with pytest.raises(PermissionDenied):
        shares.refund_shares(uow, BOARD, member.member_id, "x")
    key = IdempotentRequest(IdempotencyKey("coop", "admin-1", "RefundShares", str(uuid.uuid4())), "f")
    refund = shares.refund_shares(uow, ADMIN, member.member_id, "resigned", request=key)
    assert [s.state for s in refund.shares] == ["refunded"] and refund.member.paid_through_year is None
    assert refund.total_cents == 3000 and type(uow.published[-1]) is ev.ShareRefunded
    retried = shares.refund_shares(uow, ADMIN, member.member_id, "resigned", request=key)
    assert isinstance(retried, Replay) and retried.response is refund
    with pytest.raises(FailedPrecondition) as err:
        shares.refund_shares(uow, ADMIN, member.member_id, "resigned")  # without the key: nothing left
    assert err.value.reason == "NO_PAID_SHARE"


def test_only_an_admin_sets_the_share_year_and_new_shares_follow_it(uow):
    with pytest.raises(PermissionDenied):
        shares.set_share_year(uow, BOARD, THIS_YEAR + 1, 4500, 30)
    shares.set_share_year(uow, ADMIN, THIS_YEAR + 1, 4500, 30)
    share, _ = shares.subscribe_share(uow, ADMIN, admitted(uow).member_id, THIS_YEAR + 1)
    assert share.amount_cents == 4500


def test_billings_share_fee_payment_pays_the_share_once_as_the_service_itself(uow):
    member = admitted(uow)
    fact = handlers.ShareFeePaid(member.member_id, "", THIS_YEAR, 3000, "FEE-1")
    with uow:
        handlers.record_share_fee_paid(uow, SYSTEM, fact)
        uow.commit()
    with uow:
        handlers.record_share_fee_paid(uow, SYSTEM, handlers.ShareFeePaid("", member.member_number, THIS_YEAR,
                                                                          3000, "FEE-1"))
        uow.commit()
    assert sum(isinstance(e, ev.SharePaid) for e in uow.published) == 1
    with pytest.raises(PermissionDenied):
        handlers.record_share_fee_paid(uow, ADMIN, fact)


def test_a_member_exports_their_own_data_only(uow):
    member, other = admitted(uow), admitted(uow)
    member_id, document = personal_data.export_member_data(uow, member_principal(member.member_id),
                                                           member_number=member.member_number)
    data = json.loads(document)
    assert member_id == member.member_id and data["member"]["email"] == member.email
    assert [c["to_status"] for c in data["status_history"]] == ["applicant", "active"]
    with pytest.raises(PermissionDenied):
        personal_data.export_member_data(uow, member_principal(member.member_id), other.member_id)


def test_erasure_waits_for_the_member_to_leave_then_announces_it_and_forgets_the_old_events(uow):
    member = admitted(uow)
    with pytest.raises(InvalidArgument):
        personal_data.erase_personal_data(uow, ADMIN, member.member_id, " ")
    with pytest.raises(FailedPrecondition):
        personal_data.erase_personal_data(uow, ADMIN, member.member_id, "asked")
    with pytest.raises(PermissionDenied):
        personal_data.erase_personal_data(uow, member_principal(member.member_id), member.member_id, "asked")
    members.change_status(uow, ADMIN, member.member_id, Status.RESIGNED, "")
    view = personal_data.erase_personal_data(uow, ADMIN, member.member_id, "asked")
    assert view.member.erased and view.member.email is None
    assert [type(e) for e in uow.published[-2:]] == [ev.MemberUpdated, ev.MemberErased]
    assert uow.store.forgotten == [member.member_id]


def test_an_import_is_all_or_nothing_and_reports_each_bad_row_by_its_field(uow):
    taken = admitted(uow).email
    rows = [imports.ImportRow(2, details()), imports.ImportRow(3, details(email=taken)),
            imports.ImportRow(4, details(country_of_residence="XX"))]
    report = imports.import_members(uow, ADMIN, rows, dry_run=False)
    assert not report.committed and [(line, f) for line, f, _ in report.errors] == [
        (3, "email"), (4, "country_of_residence")]
    assert len(uow.store.members) == 1


def test_a_good_import_writes_every_row_and_admits_the_active_ones(uow):
    rows = [imports.ImportRow(2, details()), imports.ImportRow(3, details(), Status.APPLICANT)]
    report = imports.import_members(uow, ADMIN, rows, dry_run=False)
    assert report.committed and report.rows_imported == 2
    assert [type(e) for e in uow.published] == [ev.MemberAdmitted]
    with pytest.raises(PermissionDenied):
        imports.import_members(uow, member_principal(str(uuid.uuid4())), rows, dry_run=True)
