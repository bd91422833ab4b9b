"""Every membership RPC through grpcio against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from sqlalchemy import text

from coop.membership.v1 import events_pb2
from coop.membership.v1 import membership_pb2 as pb
from coop_platform.envelope import parse_data
from coop_testkit import cooperative_today

THIS_YEAR = datetime.now(UTC).year


def _token(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def _import(h, svc, rows, *, dry_run=False, chunk=500):
    chunks = [pb.ImportMembersChunk(rows=rows[i:i + chunk], dry_run=dry_run) for i in range(0, len(rows), chunk)]
    return svc.stub.ImportMembers(iter(chunks or [pb.ImportMembersChunk(dry_run=dry_run)]), metadata=h.ADMIN)


def _row(h, line, tag, **overrides):
    status = overrides.pop("status", pb.MEMBER_STATUS_ACTIVE)
    return pb.ImportRow(line=line, member=h.draft(tag, **overrides), status=status)


# -- register / get ----------------------------------------------------------------------------

def test_register_applicant_then_get_by_id_and_by_member_number(svc, h):
    before = svc.counts()
    m = h.register(svc, admit=False, phone="+32 2 555 12 12")
    assert m.status == pb.MEMBER_STATUS_APPLICANT
    assert m.member_number.startswith("M") and len(m.member_number) == 7
    assert m.email.endswith("@example.org") and m.phone == "+32 2 555 12 12"
    assert not m.in_good_standing
    assert svc.stub.GetMember(pb.GetMemberRequest(member_id=m.member_id), metadata=h.ADMIN) == m
    assert svc.stub.GetMember(pb.GetMemberRequest(member_number=m.member_number), metadata=h.ADMIN) == m
    assert svc.stub.GetMember(pb.GetMemberRequest(member_number=m.member_number.lower()), metadata=h.ADMIN) == m
    after = svc.counts()
    assert after["members"] == before["members"] + 1
    assert after["member_status_history"] == before["member_status_history"] + 1


def test_register_with_admit_makes_an_active_member_in_good_standing_from_today(svc, h):
    before = cooperative_today()
    m = h.register(svc, admit=True)
    assert m.status == pb.MEMBER_STATUS_ACTIVE
    # set on admission, to the cooperative's day (the call may straddle its midnight)
    assert m.joined_on in {before.isoformat(), cooperative_today().isoformat()}
    assert m.in_good_standing  # within the grace period after joining


def test_register_normalises_email_and_country(svc, h):
    tag = h.unique()
    m = h.register(svc, tag=tag, email=f"  {tag.upper()}@Example.ORG ", country_of_residence="nl")
    assert m.email == f"{tag.lower()}@example.org"
    assert m.country_of_residence == "NL"


@pytest.mark.parametrize("request_", [
    pb.GetMemberRequest(),
    pb.GetMemberRequest(member_id="not-a-uuid"),
    pb.GetMemberRequest(member_number="42"),
    pb.GetMemberRequest(member_number="M²"),
], ids=["nothing", "bad-uuid", "bad-number", "superscript-digit"])
def test_get_member_with_a_malformed_key_is_invalid_argument(svc, h, request_):
    assert h.code_of(svc.stub.GetMember, request_, metadata=h.ADMIN) == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize("request_", [
    pb.GetMemberRequest(member_id="00000000-0000-4000-8000-000000000000"),
    pb.GetMemberRequest(member_number="M999999"),
])
def test_get_unknown_member_is_not_found(svc, h, request_):
    assert h.code_of(svc.stub.GetMember, request_, metadata=h.ADMIN) == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(("overrides", "field"), [
    (dict(email="not-an-email"), "email"),
    (dict(email=""), "email"),
    (dict(country_of_residence="XX"), "country"),
    (dict(country_of_residence=""), "country"),
    (dict(preferred_language="de"), "language"),
    (dict(given_name=""), "given_name"),
    (dict(family_name="   "), "family_name"),
    (dict(category=pb.MEMBER_CATEGORY_UNSPECIFIED), "category"),
    (dict(joined_on="yesterday"), "joined_on"),
])
def test_register_with_a_bad_field_is_invalid_argument_and_writes_nothing(svc, h, overrides, field):
    before = svc.counts()
    with pytest.raises(grpc.RpcError) as err:
        h.register(svc, **overrides)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field.split("_")[0] in err.value.details().lower()
    assert svc.counts() == before


def test_register_with_a_taken_email_is_already_exists_and_writes_no_member_history_or_event(svc, h):
    first = h.register(svc)
    before = svc.counts()
    with pytest.raises(grpc.RpcError) as err:
        h.register(svc, email=first.email.upper())  # emails compare case-insensitively
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert svc.counts() == before


# -- update ------------------------------------------------------------------------------------

def test_update_changes_only_the_named_paths_and_emits_member_updated(svc, h):
    m = h.register(svc)
    new_tag = h.unique()
    changes = h.draft(new_tag, given_name="Other", phone="+32 470 12 34 56",
                      address=pb.PostalAddress(street="Rue Haute 1", postal_code="1000", city="Bruxelles",
                                               country="BE"))
    updated = svc.stub.UpdateMember(
        pb.UpdateMemberRequest(member_id=m.member_id, member=changes, update_paths=["phone", "email", "address"]),
        metadata=h.ADMIN)
    assert updated.phone == "+32 470 12 34 56"
    assert updated.email == f"{new_tag.lower()}@example.org"
    assert updated.address.city == "Bruxelles"
    assert updated.given_name == "Ada" and updated.family_name == m.family_name  # not named: unchanged
    assert svc.stub.GetMember(pb.GetMemberRequest(member_id=m.member_id), metadata=h.ADMIN) == updated
    envelopes = [e for e in svc.outbox_envelopes(m.member_id) if e["type"].endswith("member.updated.v1")]
    assert len(envelopes) == 1
    assert sorted(parse_data(envelopes[0], events_pb2.MemberUpdated).changed_fields) == ["address", "email", "phone"]


def test_update_that_changes_nothing_emits_no_event(svc, h):
    m = h.register(svc)
    before = svc.counts()
    svc.stub.UpdateMember(pb.UpdateMemberRequest(
        member_id=m.member_id, member=h.draft(m.family_name), update_paths=["family_name"]), metadata=h.ADMIN)
    assert svc.counts()["outbox"] == before["outbox"]


def test_update_to_another_members_email_is_already_exists_and_changes_nothing(svc, h):
    a, b = h.register(svc), h.register(svc)
    before = svc.counts()
    with pytest.raises(grpc.RpcError) as err:
        svc.stub.UpdateMember(pb.UpdateMemberRequest(
            member_id=b.member_id, member=pb.MemberDraft(email=a.email), update_paths=["email"]), metadata=h.ADMIN)
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert svc.counts() == before
    assert svc.stub.GetMember(pb.GetMemberRequest(member_id=b.member_id), metadata=h.ADMIN).email == b.email


@pytest.mark.parametrize(("paths", "draft"), [
    (["status"], pb.MemberDraft()),
    ([], pb.MemberDraft(phone="+32 2 555 00 00")),
    (["email"], pb.MemberDraft(email="broken")),
    (["country_of_residence"], pb.MemberDraft(country_of_residence="QQ")),
])
def test_update_with_bad_paths_or_values_is_invalid_argument_and_writes_nothing(svc, h, paths, draft):
    m = h.register(svc)
    before = svc.counts()
    code = h.code_of(svc.stub.UpdateMember,
                     pb.UpdateMemberRequest(member_id=m.member_id, member=draft, update_paths=paths),
                     metadata=h.ADMIN)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert svc.counts() == before


def test_update_of_unknown_member_is_not_found(svc, h):
    code = h.code_of(svc.stub.UpdateMember, pb.UpdateMemberRequest(
        member_id="00000000-0000-4000-8000-000000000001", member=pb.MemberDraft(phone="+3225550000"),
        update_paths=["phone"]), metadata=h.ADMIN)
    assert code == grpc.StatusCode.NOT_FOUND


# -- status and history ------------------------------------------------------------------------

def _status(svc, h, member_id, status, reason=""):
    return svc.stub.ChangeStatus(pb.ChangeStatusRequest(member_id=member_id, status=status, reason=reason),
                                 metadata=h.ADMIN)


def test_lifecycle_through_grpc_is_recorded_in_history_oldest_first(svc, h):
    m = h.register(svc, admit=False)
    _status(svc, h, m.member_id, pb.MEMBER_STATUS_ACTIVE, "board meeting 12")
    _status(svc, h, m.member_id, pb.MEMBER_STATUS_SUSPENDED, "unpaid")
    _status(svc, h, m.member_id, pb.MEMBER_STATUS_ACTIVE, "paid")
    last = _status(svc, h, m.member_id, pb.MEMBER_STATUS_RESIGNED, "moving abroad")
    assert last.status == pb.MEMBER_STATUS_RESIGNED and not last.in_good_standing
    history = svc.stub.GetMemberHistory(pb.GetMemberRequest(member_id=m.member_id), metadata=h.ADMIN)
    assert history.member_id == m.member_id
    moves = [(c.from_status, c.to_status, c.reason, c.actor) for c in history.changes]
    assert moves == [
        (pb.MEMBER_STATUS_UNSPECIFIED, pb.MEMBER_STATUS_APPLICANT, "application", "admin-1"),
        (pb.MEMBER_STATUS_APPLICANT, pb.MEMBER_STATUS_ACTIVE, "board meeting 12", "admin-1"),
        (pb.MEMBER_STATUS_ACTIVE, pb.MEMBER_STATUS_SUSPENDED, "unpaid", "admin-1"),
        (pb.MEMBER_STATUS_SUSPENDED, pb.MEMBER_STATUS_ACTIVE, "paid", "admin-1"),
        (pb.MEMBER_STATUS_ACTIVE, pb.MEMBER_STATUS_RESIGNED, "moving abroad", "admin-1"),
    ]
    assert all(c.at.seconds > 0 for c in history.changes)
    by_number = svc.stub.GetMemberHistory(pb.GetMemberRequest(member_number=m.member_number), metadata=h.ADMIN)
    assert by_number == history


@pytest.mark.parametrize(("start", "target"), [
    (pb.MEMBER_STATUS_APPLICANT, pb.MEMBER_STATUS_SUSPENDED),
    (pb.MEMBER_STATUS_APPLICANT, pb.MEMBER_STATUS_EXCLUDED),
    (pb.MEMBER_STATUS_APPLICANT, pb.MEMBER_STATUS_APPLICANT),
    (pb.MEMBER_STATUS_ACTIVE, pb.MEMBER_STATUS_ACTIVE),
    (pb.MEMBER_STATUS_ACTIVE, pb.MEMBER_STATUS_APPLICANT),
])
def test_illegal_transition_is_failed_precondition_with_no_history_and_no_event(svc, h, start, target):
    m = h.register(svc, admit=start == pb.MEMBER_STATUS_ACTIVE)
    before = svc.counts()
    code = h.code_of(_status, svc, h, m.member_id, target, "some reason")
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert svc.counts() == before
    assert svc.stub.GetMember(pb.GetMemberRequest(member_id=m.member_id), metadata=h.ADMIN).status == start


@pytest.mark.parametrize(("status", "reason"), [(pb.MEMBER_STATUS_UNSPECIFIED, "x"), (99, "x"),
                                                (pb.MEMBER_STATUS_SUSPENDED, "")])
def test_change_status_without_status_or_required_reason_is_invalid_argument(svc, h, status, reason):
    m = h.register(svc)
    before = svc.counts()
    assert h.code_of(_status, svc, h, m.member_id, status, reason) == grpc.StatusCode.INVALID_ARGUMENT
    assert svc.counts() == before


def test_readmission_of_a_resigned_member_emits_member_admitted_with_readmission(svc, h):
    m = h.register(svc)
    _status(svc, h, m.member_id, pb.MEMBER_STATUS_RESIGNED, "")
    _status(svc, h, m.member_id, pb.MEMBER_STATUS_ACTIVE, "welcome back")
    admitted = [parse_data(e, events_pb2.MemberAdmitted) for e in svc.outbox_envelopes(m.member_id)
                if e["type"] == "coop.membership.member.admitted.v1"]
    assert [a.readmission for a in admitted] == [False, True]


# -- events in the same transaction ------------------------------------------------------------

def test_each_command_leaves_its_events_in_the_outbox_as_cloudevents(svc, h):
    m = h.register(svc)
    assert svc.outbox_types(m.member_id) == ["member.admitted", "member.status_changed"]
    svc.stub.UpdateMember(pb.UpdateMemberRequest(member_id=m.member_id, member=pb.MemberDraft(phone="+3225551234"),
                                                 update_paths=["phone"]), metadata=h.ADMIN)
    svc.stub.RecordSharePayment(pb.RecordSharePaymentRequest(
        member_id=m.member_id, year=THIS_YEAR, amount_cents=3000, payment_reference=h.unique("INV")),
        metadata=h.ADMIN)
    _status(svc, h, m.member_id, pb.MEMBER_STATUS_RESIGNED, "leaving")
    svc.stub.RefundShares(pb.RefundSharesRequest(member_id=m.member_id, reason="resigned"), metadata=h.ADMIN)
    svc.stub.ErasePersonalData(pb.EraseRequest(member_id=m.member_id, reason="request"), metadata=h.ADMIN)
    assert svc.outbox_types(m.member_id) == [
        "member.admitted", "member.status_changed", "member.updated", "share.subscribed", "share.paid",
        "member.status_changed", "share.refunded", "member.updated", "member.erased",
    ]
    envelopes = svc.outbox_envelopes(m.member_id)
    for e in envelopes:
        assert e["specversion"] == "1.0" and e["source"] == "/coop/membership"
        assert e["datacontenttype"] == "application/json" and e["id"] and e["correlationid"]
    assert len({e["id"] for e in envelopes}) == len(envelopes)
    paid = parse_data(envelopes[4], events_pb2.SharePaid)
    assert paid.member_number == m.member_number and paid.share.amount_cents == 3000 and paid.in_good_standing
    changed = parse_data(envelopes[5], events_pb2.MemberStatusChanged)
    assert (changed.from_status, changed.to_status, changed.reason) == (
        pb.MEMBER_STATUS_ACTIVE, pb.MEMBER_STATUS_RESIGNED, "leaving")


def test_correlation_id_from_grpc_metadata_is_carried_into_the_events(svc, h):
    m = svc.stub.RegisterMember(pb.RegisterMemberRequest(member=h.draft(), admit=True),
                                metadata=[*h.ADMIN, ("x-correlation-id", "corr-abc-123")])
    assert {e["correlationid"] for e in svc.outbox_envelopes(m.member_id)} == {"corr-abc-123"}


# -- list, count -------------------------------------------------------------------------------

def test_paging_through_250_members_40_at_a_time_sees_each_once_in_member_number_order(svc, h):
    tag = h.unique("Pg")
    report = _import(h, svc, [_row(h, i + 2, f"{tag}x{chr(97 + i // 26)}{chr(97 + i % 26)}") for i in range(250)])
    assert report.committed and report.rows_imported == 250
    seen, token, pages = [], "", 0
    while True:
        page = svc.stub.ListMembers(pb.ListMembersRequest(filter=pb.MemberFilter(query=tag), page_size=40,
                                                          page_token=token), metadata=h.ADMIN)
        pages += 1
        assert len(page.members) == (40 if pages < 7 else 10)
        seen.extend(page.members)
        token = page.next_page_token
        if not token:
            break
    assert pages == 7
    numbers = [int(m.member_number[1:]) for m in seen]
    assert numbers == sorted(numbers) and len(set(numbers)) == 250
    assert len({m.member_id for m in seen}) == 250


@pytest.mark.parametrize("token", ["not base64 at all!", _token("x:12"), _token("m:abc"), _token("m:-1"),
                                   _token("m:" + "9" * 40), _token("m:²"), "%%%"])
def test_a_page_token_this_service_did_not_issue_is_invalid_argument(svc, h, token):
    code = h.code_of(svc.stub.ListMembers, pb.ListMembersRequest(page_token=token), metadata=h.ADMIN)
    assert code == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize("size", [-1, 1001, 2**31 - 1])
def test_page_size_out_of_range_is_invalid_argument(svc, h, size):
    code = h.code_of(svc.stub.ListMembers, pb.ListMembersRequest(page_size=size), metadata=h.ADMIN)
    assert code == grpc.StatusCode.INVALID_ARGUMENT


@pytest.fixture
def population(svc, h):
    """A small population under one tag, with every filterable attribute varied."""
    tag = h.unique("Pop")
    made = {}

    def add(key, status=pb.MEMBER_STATUS_ACTIVE, **kw):
        rows = [_row(h, 1, f"{tag}{key}", status=status, **kw)]
        assert _import(h, svc, rows).committed
        page = svc.stub.ListMembers(pb.ListMembersRequest(filter=pb.MemberFilter(query=f"{tag}{key}")),
                                    metadata=h.ADMIN)
        made[key] = page.members[0]
        return made[key]

    add("a", country_of_residence="BE", preferred_language="fr")
    add("b", country_of_residence="NL", preferred_language="nl", category=pb.MEMBER_CATEGORY_PERMANENT_STAFF)
    add("c", status=pb.MEMBER_STATUS_APPLICANT, preferred_language="en")
    add("d", country_of_residence="FR", category=pb.MEMBER_CATEGORY_EXTERNAL_PARTNER, joined_on="2015-03-01")
    add("e", joined_on="2016-05-05")
    _status(svc, h, made["e"].member_id, pb.MEMBER_STATUS_SUSPENDED, "late")
    svc.stub.RecordSharePayment(pb.RecordSharePaymentRequest(
        member_id=made["d"].member_id, year=THIS_YEAR, amount_cents=3000, payment_reference=h.unique("P")),
        metadata=h.ADMIN)
    add("f", joined_on="2014-01-01")  # active, long ago, never paid: not in good standing
    return tag, made


def _listed(svc, h, tag, **filter_fields):
    page = svc.stub.ListMembers(pb.ListMembersRequest(filter=pb.MemberFilter(query=tag, **filter_fields)),
                                metadata=h.ADMIN)
    return {m.family_name[len(tag):] for m in page.members}


def test_list_filters_by_status_category_language_country_and_good_standing(svc, h, population):
    tag, made = population
    assert _listed(svc, h, tag) == set("abcdef")
    assert _listed(svc, h, tag, statuses=[pb.MEMBER_STATUS_APPLICANT, pb.MEMBER_STATUS_SUSPENDED]) == {"c", "e"}
    assert _listed(svc, h, tag, categories=[pb.MEMBER_CATEGORY_PERMANENT_STAFF]) == {"b"}
    assert _listed(svc, h, tag, categories=[pb.MEMBER_CATEGORY_EXTERNAL_PARTNER,
                                            pb.MEMBER_CATEGORY_PERMANENT_STAFF]) == {"b", "d"}
    assert _listed(svc, h, tag, languages=["NL", "en"]) == {"b", "c"}
    assert _listed(svc, h, tag, countries=["fr", "NL"]) == {"b", "d"}
    assert _listed(svc, h, tag, good_standing="true") == {"a", "b", "d"}
    assert _listed(svc, h, tag, good_standing="FALSE") == {"c", "e", "f"}
    assert _listed(svc, h, tag, good_standing="true", countries=["FR"]) == {"d"}
    number = made["b"].member_number
    page = svc.stub.ListMembers(pb.ListMembersRequest(filter=pb.MemberFilter(query=number)), metadata=h.ADMIN)
    assert [m.member_id for m in page.members] == [made["b"].member_id]


@pytest.mark.parametrize("filter_", [pb.MemberFilter(good_standing="maybe"), pb.MemberFilter(statuses=[42]),
                                     pb.MemberFilter(categories=[-3]), pb.MemberFilter(query="q" * 101)])
def test_list_and_count_with_a_bad_filter_are_invalid_argument(svc, h, filter_):
    assert h.code_of(svc.stub.ListMembers, pb.ListMembersRequest(filter=filter_),
                     metadata=h.ADMIN) == grpc.StatusCode.INVALID_ARGUMENT
    assert h.code_of(svc.stub.CountMembers, pb.CountMembersRequest(filter=filter_),
                     metadata=h.ADMIN) == grpc.StatusCode.INVALID_ARGUMENT


def test_count_members_by_status_category_language_country_and_good_standing(svc, h, population):
    tag, _ = population
    counts = svc.stub.CountMembers(pb.CountMembersRequest(filter=pb.MemberFilter(query=tag)), metadata=h.ADMIN)
    assert counts.total == 6
    assert {e.key: e.count for e in counts.by_status} == {"active": 4, "applicant": 1, "suspended": 1}
    assert {e.key: e.count for e in counts.by_category} == {"user": 4, "permanent_staff": 1, "external_partner": 1}
    assert {e.key: e.count for e in counts.by_language} == {"fr": 4, "nl": 1, "en": 1}
    assert {e.key: e.count for e in counts.by_country} == {"BE": 4, "NL": 1, "FR": 1}
    assert counts.in_good_standing == 3
    only_active = svc.stub.CountMembers(pb.CountMembersRequest(
        filter=pb.MemberFilter(query=tag, statuses=[pb.MEMBER_STATUS_ACTIVE])), metadata=h.ADMIN)
    assert only_active.total == 4 and only_active.in_good_standing == 3


# -- shares ------------------------------------------------------------------------------------

def test_get_member_sees_a_new_grace_period_at_once(svc, h):
    """GetMember reads on its own pool (autocommit, no Session); the share-year rules it applies
    are cached per database, so a change made through the write side shows at once."""
    from datetime import timedelta

    from coop_membership.domain.model import DEFAULT_GRACE_DAYS

    joined = (cooperative_today() - timedelta(days=20)).isoformat()
    m = h.register(svc, admit=True, joined_on=joined)  # active, share unpaid: good only within the grace

    def standing() -> bool:
        return svc.stub.GetMember(pb.GetMemberRequest(member_id=m.member_id), metadata=h.ADMIN).in_good_standing

    def grace(days: int) -> None:
        svc.stub.SetShareYear(pb.SetShareYearRequest(year=THIS_YEAR, amount_cents=3000, grace_days=days),
                              metadata=h.ADMIN)
    try:
        grace(30)
        assert standing()
        grace(10)
        assert not standing()
        grace(25)
        assert standing()
    finally:
        grace(DEFAULT_GRACE_DAYS)


def test_share_year_amount_applies_to_new_subscriptions_of_that_year(svc, h):
    year = THIS_YEAR + 1
    policy = svc.stub.SetShareYear(pb.SetShareYearRequest(year=year, amount_cents=4500, grace_days=30),
                                   metadata=h.ADMIN)
    assert (policy.year, policy.amount_cents, policy.currency, policy.grace_days) == (year, 4500, "EUR", 30)
    m = h.register(svc)
    share = svc.stub.SubscribeShare(pb.SubscribeShareRequest(member_id=m.member_id, year=year), metadata=h.ADMIN)
    assert (share.year, share.amount_cents, share.state) == (year, 4500, pb.SHARE_STATE_SUBSCRIBED)
    assert h.code_of(svc.stub.RecordSharePayment, pb.RecordSharePaymentRequest(
        member_id=m.member_id, year=year, amount_cents=3000, payment_reference=h.unique("R")),
        metadata=h.ADMIN) == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize("req", [pb.SetShareYearRequest(year=THIS_YEAR, amount_cents=0),
                                 pb.SetShareYearRequest(year=1500, amount_cents=3000),
                                 pb.SetShareYearRequest(year=THIS_YEAR, amount_cents=3000, grace_days=-4),
                                 pb.SetShareYearRequest(year=THIS_YEAR, amount_cents=2**62)])
def test_set_share_year_out_of_range_is_invalid_argument(svc, h, req):
    assert h.code_of(svc.stub.SetShareYear, req, metadata=h.ADMIN) == grpc.StatusCode.INVALID_ARGUMENT


def test_subscribing_twice_to_the_same_year_returns_the_same_share_and_one_event(svc, h):
    m = h.register(svc)
    req = pb.SubscribeShareRequest(member_id=m.member_id, year=THIS_YEAR)
    first = svc.stub.SubscribeShare(req, metadata=h.ADMIN)
    again = svc.stub.SubscribeShare(req, metadata=h.ADMIN)
    assert first == again
    assert (first.amount_cents, first.currency, first.state) == (3000, "EUR", pb.SHARE_STATE_SUBSCRIBED)
    assert svc.outbox_types(m.member_id).count("share.subscribed") == 1


def test_subscription_refused_for_resigned_member_and_for_year_out_of_range(svc, h):
    m = h.register(svc)
    for year in (1989, THIS_YEAR + 2, -5):
        assert h.code_of(svc.stub.SubscribeShare, pb.SubscribeShareRequest(member_id=m.member_id, year=year),
                         metadata=h.ADMIN) == grpc.StatusCode.INVALID_ARGUMENT
    _status(svc, h, m.member_id, pb.MEMBER_STATUS_RESIGNED, "")
    before = svc.counts()
    assert h.code_of(svc.stub.SubscribeShare, pb.SubscribeShareRequest(member_id=m.member_id, year=THIS_YEAR),
                     metadata=h.ADMIN) == grpc.StatusCode.FAILED_PRECONDITION
    assert svc.counts() == before


def test_paying_the_share_puts_a_long_standing_member_back_in_good_standing(svc, h):
    tag = h.unique()
    assert _import(h, svc, [_row(h, 1, tag, joined_on="2012-09-01")]).committed
    m = svc.stub.ListMembers(pb.ListMembersRequest(filter=pb.MemberFilter(query=tag)), metadata=h.ADMIN).members[0]
    assert m.status == pb.MEMBER_STATUS_ACTIVE and not m.in_good_standing
    share = svc.stub.RecordSharePayment(pb.RecordSharePaymentRequest(
        member_id=m.member_id, year=THIS_YEAR, amount_cents=3000, payment_reference="INV-" + tag),
        metadata=h.ADMIN)
    assert share.state == pb.SHARE_STATE_PAID and share.payment_reference == "INV-" + tag
    assert share.paid_at.seconds > 0
    assert svc.stub.GetMember(pb.GetMemberRequest(member_id=m.member_id), metadata=h.ADMIN).in_good_standing


def test_recording_the_same_payment_twice_records_it_once(svc, h):
    m = h.register(svc)
    req = pb.RecordSharePaymentRequest(member_id=m.member_id, year=THIS_YEAR, amount_cents=3000,
                                       payment_reference=h.unique("INV"))
    first = svc.stub.RecordSharePayment(req, metadata=h.ADMIN)
    before = svc.counts()
    again = svc.stub.RecordSharePayment(req, metadata=h.ADMIN)
    assert again == first
    assert svc.counts() == before
    assert svc.outbox_types(m.member_id).count("share.paid") == 1
    shares = svc.stub.ListShares(pb.ListSharesRequest(member_id=m.member_id), metadata=h.ADMIN).shares
    assert [s.state for s in shares] == [pb.SHARE_STATE_PAID]


@pytest.mark.parametrize(("amount", "reference"), [(2999, "R"), (3001, "R"), (0, "R"), (-3000, "R"),
                                                   (2**62, "R"), (3000, ""), (3000, "x" * 101)])
def test_payment_with_wrong_amount_or_reference_is_invalid_argument_and_writes_nothing(svc, h, amount, reference):
    m = h.register(svc)
    before = svc.counts()
    code = h.code_of(svc.stub.RecordSharePayment, pb.RecordSharePaymentRequest(
        member_id=m.member_id, year=THIS_YEAR, amount_cents=amount,
        payment_reference=reference and reference + h.unique()), metadata=h.ADMIN)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert svc.counts() == before  # not even the implicit subscription


def test_a_payment_reference_used_for_another_member_is_already_exists(svc, h):
    a, b = h.register(svc), h.register(svc)
    ref = h.unique("INV")
    svc.stub.RecordSharePayment(pb.RecordSharePaymentRequest(
        member_id=a.member_id, year=THIS_YEAR, amount_cents=3000, payment_reference=ref), metadata=h.ADMIN)
    before = svc.counts()
    code = h.code_of(svc.stub.RecordSharePayment, pb.RecordSharePaymentRequest(
        member_id=b.member_id, year=THIS_YEAR, amount_cents=3000, payment_reference=ref), metadata=h.ADMIN)
    assert code == grpc.StatusCode.ALREADY_EXISTS
    assert svc.counts() == before


def test_refund_only_after_resignation_then_all_paid_shares_are_refunded(svc, h):
    m = h.register(svc)
    for year in (THIS_YEAR - 1, THIS_YEAR):
        svc.stub.RecordSharePayment(pb.RecordSharePaymentRequest(
            member_id=m.member_id, year=year, amount_cents=3000, payment_reference=h.unique("INV")),
            metadata=h.ADMIN)
    before = svc.counts()
    assert h.code_of(svc.stub.RefundShares, pb.RefundSharesRequest(member_id=m.member_id, reason="x"),
                     metadata=h.ADMIN) == grpc.StatusCode.FAILED_PRECONDITION
    assert svc.counts() == before
    _status(svc, h, m.member_id, pb.MEMBER_STATUS_RESIGNED, "leaving")
    refund = svc.stub.RefundShares(pb.RefundSharesRequest(member_id=m.member_id, reason="resigned"),
                                   metadata=h.ADMIN)
    assert refund.total_cents == 6000
    assert sorted(s.year for s in refund.refunded) == [THIS_YEAR - 1, THIS_YEAR]
    assert all(s.state == pb.SHARE_STATE_REFUNDED and s.refunded_at.seconds for s in refund.refunded)
    assert svc.outbox_types(m.member_id).count("share.refunded") == 2
    before = svc.counts()
    assert h.code_of(svc.stub.RefundShares, pb.RefundSharesRequest(member_id=m.member_id, reason="again"),
                     metadata=h.ADMIN) == grpc.StatusCode.FAILED_PRECONDITION
    assert svc.counts() == before


# -- personal data -----------------------------------------------------------------------------

def test_export_is_one_json_document_with_the_member_history_and_shares(svc, h):
    m = h.register(svc, phone="+32 2 555 77 88")
    svc.stub.RecordSharePayment(pb.RecordSharePaymentRequest(
        member_id=m.member_id, year=THIS_YEAR, amount_cents=3000, payment_reference=h.unique("INV")),
        metadata=h.ADMIN)
    export = svc.stub.ExportMemberData(pb.GetMemberRequest(member_number=m.member_number), metadata=h.ADMIN)
    assert export.member_id == m.member_id
    data = json.loads(export.json)
    assert data["member"]["email"] == m.email and data["member"]["phone"] == "+32 2 555 77 88"
    assert data["member"]["member_number"] == m.member_number
    assert [c["to_status"] for c in data["status_history"]] == ["applicant", "active"]
    assert [(s["year"], s["state"], s["amount_cents"]) for s in data["shares"]] == [(THIS_YEAR, "paid", 3000)]
    assert data["exported_at"]


def test_member_events_carry_name_email_and_language_but_never_phone_or_address(svc, h):
    """No consumer needs a member's phone or postal address; an event keeps them wherever it goes
    (queues, dead letters, other services' databases), so events leave them out."""
    m = h.register(svc, phone="+32 2 555 77 77",
                   address=pb.PostalAddress(street="Rue Haute 9", postal_code="1000", city="Bxl", country="BE"))
    svc.stub.UpdateMember(pb.UpdateMemberRequest(member_id=m.member_id, member=pb.MemberDraft(
        phone="+32 2 555 88 88", email=f"new-{m.email}"), update_paths=["phone", "email"]), metadata=h.ADMIN)
    bodies = json.dumps(svc.outbox_envelopes(m.member_id))
    assert "555 77 77" not in bodies and "555 88 88" not in bodies and "Rue Haute" not in bodies
    admitted = parse_data(svc.outbox_envelopes(m.member_id)[0], events_pb2.MemberAdmitted).member
    assert (admitted.given_name, admitted.email, admitted.preferred_language) == (m.given_name, m.email, "fr")
    assert not admitted.phone and not admitted.HasField("address")


def test_erasure_announces_member_erased_and_removes_the_members_published_events(svc, h):
    m, other = h.register(svc, phone="+32 2 555 66 66"), h.register(svc)
    _status(svc, h, m.member_id, pb.MEMBER_STATUS_RESIGNED, "leaving")
    with svc.engine.begin() as conn:  # the relay has published everything so far
        conn.execute(text("UPDATE outbox SET published_at = CURRENT_TIMESTAMP WHERE published_at IS NULL"))
    svc.stub.ErasePersonalData(pb.EraseRequest(member_id=m.member_id, reason="GDPR request"), metadata=h.ADMIN)
    left = svc.outbox_envelopes(m.member_id)
    assert [e["type"] for e in left] == ["coop.membership.member.updated.v1", "coop.membership.member.erased.v1"]
    assert m.email not in json.dumps(left) and m.family_name not in json.dumps(left)
    erased = parse_data(left[1], events_pb2.MemberErased)
    assert (erased.member_id, erased.member_number) == (m.member_id, m.member_number)
    assert erased.erased_at.seconds > 0
    assert svc.outbox_types(other.member_id) == ["member.admitted", "member.status_changed"]  # untouched


def test_erase_pseudonymises_the_member_but_keeps_number_shares_and_history(svc, h):
    m = h.register(svc, phone="+32 2 555 99 99",
                   address=pb.PostalAddress(street="Rue 5", postal_code="1000", city="Bxl", country="BE"))
    svc.stub.RecordSharePayment(pb.RecordSharePaymentRequest(
        member_id=m.member_id, year=THIS_YEAR, amount_cents=3000, payment_reference=h.unique("INV")),
        metadata=h.ADMIN)
    before = svc.counts()
    assert h.code_of(svc.stub.ErasePersonalData, pb.EraseRequest(member_id=m.member_id, reason="asked"),
                     metadata=h.ADMIN) == grpc.StatusCode.FAILED_PRECONDITION  # still active
    assert h.code_of(svc.stub.ErasePersonalData, pb.EraseRequest(member_id=m.member_id, reason=" "),
                     metadata=h.ADMIN) == grpc.StatusCode.INVALID_ARGUMENT
    assert svc.counts() == before
    _status(svc, h, m.member_id, pb.MEMBER_STATUS_RESIGNED, "leaving")
    erased = svc.stub.ErasePersonalData(pb.EraseRequest(member_id=m.member_id, reason="GDPR request"),
                                        metadata=h.ADMIN)
    assert (erased.given_name, erased.family_name, erased.email, erased.phone) == ("erased", "erased", "", "")
    assert erased.address == pb.PostalAddress() and erased.erased
    assert erased.member_number == m.member_number and erased.member_id == m.member_id
    shares = svc.stub.ListShares(pb.ListSharesRequest(member_id=m.member_id), metadata=h.ADMIN).shares
    assert [(s.year, s.state) for s in shares] == [(THIS_YEAR, pb.SHARE_STATE_PAID)]
    history = svc.stub.GetMemberHistory(pb.GetMemberRequest(member_id=m.member_id), metadata=h.ADMIN).changes
    assert len(history) == 4 and history[-1].reason.startswith("personal data erased")
    exported = svc.stub.ExportMemberData(pb.GetMemberRequest(member_id=m.member_id), metadata=h.ADMIN).json
    assert m.email not in exported and "555 99 99" not in exported and "Rue 5" not in exported
    again = svc.stub.ErasePersonalData(pb.EraseRequest(member_id=m.member_id, reason="twice"), metadata=h.ADMIN)
    assert again == erased
    assert h.code_of(svc.stub.UpdateMember, pb.UpdateMemberRequest(
        member_id=m.member_id, member=pb.MemberDraft(phone="+3225550000"), update_paths=["phone"]),
        metadata=h.ADMIN) == grpc.StatusCode.FAILED_PRECONDITION
    # the freed email address can be used by someone else
    assert h.register(svc, email=m.email).email == m.email


# -- import ------------------------------------------------------------------------------------

def test_import_of_a_good_file_imports_every_row_with_history_and_events(svc, h):
    tag = h.unique("Im")
    rows = [_row(h, 2, tag + "a"), _row(h, 3, tag + "b", status=pb.MEMBER_STATUS_APPLICANT),
            _row(h, 4, tag + "c", joined_on="2019-04-01", preferred_language="nl")]
    before = svc.counts()
    report = _import(h, svc, rows, chunk=2)  # two stream chunks, one transaction
    assert (report.rows_received, report.rows_imported, report.committed) == (3, 3, True)
    assert list(report.errors) == []
    after = svc.counts()
    assert after["members"] == before["members"] + 3
    assert after["member_status_history"] == before["member_status_history"] + 3
    assert after["outbox"] == before["outbox"] + 2  # member.admitted for the two active rows
    listed = svc.stub.ListMembers(pb.ListMembersRequest(filter=pb.MemberFilter(query=tag)), metadata=h.ADMIN).members
    assert [(m.family_name, m.status) for m in listed] == [
        (tag + "a", pb.MEMBER_STATUS_ACTIVE), (tag + "b", pb.MEMBER_STATUS_APPLICANT),
        (tag + "c", pb.MEMBER_STATUS_ACTIVE)]
    assert listed[2].joined_on == "2019-04-01" and listed[2].preferred_language == "nl"


def test_import_with_one_bad_row_writes_nothing_and_reports_its_line(svc, h):
    tag = h.unique("Im")
    rows = [_row(h, 2, tag + "a"), _row(h, 3, tag + "b", country_of_residence="XX"), _row(h, 4, tag + "c"),
            _row(h, 5, tag + "d", email="nope"), _row(h, 6, tag + "e", status=pb.MEMBER_STATUS_SUSPENDED),
            _row(h, 7, tag + "f", category=pb.MEMBER_CATEGORY_UNSPECIFIED)]
    before = svc.counts()
    report = _import(h, svc, rows)
    assert not report.committed and report.rows_imported == 0 and report.rows_received == 6
    assert [(e.line, e.field) for e in report.errors] == [
        (3, "country_of_residence"), (5, "email"), (6, "status"), (7, "category")]
    assert svc.counts() == before


def test_import_dry_run_validates_but_writes_nothing(svc, h):
    tag = h.unique("Im")
    before = svc.counts()
    report = _import(h, svc, [_row(h, 2, tag + "a"), _row(h, 3, tag + "b")], dry_run=True)
    assert (report.rows_received, report.rows_imported, report.committed, list(report.errors)) == (2, 0, False, [])
    assert svc.counts() == before
    bad = _import(h, svc, [_row(h, 2, tag + "a", preferred_language="xx")], dry_run=True)
    assert [e.line for e in bad.errors] == [2]
    assert svc.counts() == before


def test_import_reports_a_duplicate_email_in_the_file_with_both_lines(svc, h):
    tag = h.unique("Im")
    rows = [_row(h, 2, tag + "a"), _row(h, 3, tag + "b"), _row(h, 9, tag + "c", email=f"{tag.lower()}a@example.org")]
    before = svc.counts()
    report = _import(h, svc, rows)
    assert not report.committed
    assert [(e.line, e.field) for e in report.errors] == [(9, "email")]
    assert "line 2" in report.errors[0].message
    assert svc.counts() == before


def test_import_refuses_an_email_already_in_the_register(svc, h):
    existing = h.register(svc)
    before = svc.counts()
    report = _import(h, svc, [_row(h, 2, h.unique()), _row(h, 3, h.unique(), email=existing.email)])
    assert not report.committed and [(e.line, e.field) for e in report.errors] == [(3, "email")]
    assert svc.counts() == before


def test_import_of_an_empty_stream_is_reported_not_committed(svc, h):
    before = svc.counts()
    report = _import(h, svc, [])
    assert not report.committed and report.errors
    assert svc.counts() == before


# -- text PostgreSQL cannot store ---------------------------------------------------------------

def _nul_requests(h, member_id):
    n = "a\x00b"
    return [
        ("RegisterMember", pb.RegisterMemberRequest(member=h.draft(email="a\x00@example.org"))),
        ("RegisterMember", pb.RegisterMemberRequest(member=h.draft(address=pb.PostalAddress(city=n)))),
        ("ListMembers", pb.ListMembersRequest(filter=pb.MemberFilter(query=n))),
        ("ListMembers", pb.ListMembersRequest(filter=pb.MemberFilter(languages=["fr", n]))),
        ("CountMembers", pb.CountMembersRequest(filter=pb.MemberFilter(countries=[n]))),
        ("UpdateMember", pb.UpdateMemberRequest(member_id=member_id, member=pb.MemberDraft(email="b\x00@example.org"),
                                                update_paths=["email"])),
        ("ChangeStatus", pb.ChangeStatusRequest(member_id=member_id, status=pb.MEMBER_STATUS_SUSPENDED, reason=n)),
        ("RecordSharePayment", pb.RecordSharePaymentRequest(member_id=member_id, year=THIS_YEAR, amount_cents=3000,
                                                            payment_reference=n)),
        ("ErasePersonalData", pb.EraseRequest(member_id=member_id, reason=n)),
        ("ImportMembers", pb.ImportMembersChunk(rows=[pb.ImportRow(line=2, member=h.draft(given_name=n))])),
    ]


def test_nul_characters_in_any_text_field_are_invalid_argument_and_write_nothing(svc, h):
    m = h.register(svc)
    before = svc.counts()
    for method, request in _nul_requests(h, m.member_id):
        assert h.code_of(h.call, svc, method, request) == grpc.StatusCode.INVALID_ARGUMENT, method
    assert svc.counts() == before


def test_requests_with_zero_bytes_on_the_wire_but_no_nul_text_are_served(svc, h):
    """An explicitly empty address is written as a zero length byte. The interceptor walks only
    requests whose bytes hold a zero byte, and such a request without NUL text must pass,
    unary and streamed alike."""
    draft = h.draft(address=pb.PostalAddress())
    assert b"\x00" in pb.RegisterMemberRequest(member=draft).SerializeToString()
    registered = svc.stub.RegisterMember(pb.RegisterMemberRequest(member=draft), metadata=h.ADMIN)
    assert registered.family_name == draft.family_name and registered.address == pb.PostalAddress()
    report = _import(h, svc, [pb.ImportRow(line=2, member=h.draft(address=pb.PostalAddress()),
                                           status=pb.MEMBER_STATUS_ACTIVE)])
    assert report.committed and report.rows_imported == 1 and not report.errors


def test_concurrent_registrations_with_one_email_give_one_member_and_the_others_already_exists(svc, h):
    """Registrations that arrive together share a transaction (group commit); a duplicate email
    inside that batch or against a stored member fails only its own call."""
    import threading

    tag = h.unique("Race")
    others = [h.draft(h.unique("Solo")) for _ in range(6)]
    same = [h.draft(tag) for _ in range(6)]
    before = svc.counts()
    outcomes: list[Any] = [None] * 12
    start = threading.Barrier(12)

    def register(i: int, member: pb.MemberDraft) -> None:
        start.wait()
        try:
            outcomes[i] = svc.stub.RegisterMember(pb.RegisterMemberRequest(member=member, admit=True),
                                                  metadata=h.ADMIN, timeout=30)
        except grpc.RpcError as exc:
            outcomes[i] = exc.code()

    threads = [threading.Thread(target=register, args=(i, m)) for i, m in enumerate(same + others)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [o for o in outcomes[:6] if isinstance(o, pb.Member)]
    assert len(winners) == 1 and outcomes[:6].count(grpc.StatusCode.ALREADY_EXISTS) == 5
    assert all(isinstance(o, pb.Member) for o in outcomes[6:])
    numbers = [o.member_number for o in outcomes if isinstance(o, pb.Member)]
    assert len(set(numbers)) == 7
    after = svc.counts()
    assert after["members"] == before["members"] + 7
    assert after["member_status_history"] == before["member_status_history"] + 14  # applicant + admitted
    assert after["outbox"] == before["outbox"] + 14  # member.admitted + member.status_changed
    for member in (o for o in outcomes if isinstance(o, pb.Member)):
        assert svc.outbox_types(member.member_id) == ["member.admitted", "member.status_changed"]


def test_a_batch_of_registrations_answers_each_on_its_own(svc, h):
    from coop_domain.principal import Principal
    from coop_membership.adapters import messages as msg
    from coop_membership.adapters.unit_of_work import SqlMembershipUnitOfWork
    from coop_membership.service_layer import members
    from coop_platform.db import make_session_factory

    existing = h.register(svc)
    sessions = make_session_factory(svc.engine)
    tag = h.unique("Batch")
    admin = Principal("admin-1", roles=frozenset({"admin"}))
    batch = [members.Registration(admin, msg.draft_to_details(d), admit) for d, admit in (
        (h.draft(tag), True), (h.draft(tag), False), (h.draft(email=existing.email), True), (h.draft(), False))]
    before = svc.counts()
    out = members.register_members(SqlMembershipUnitOfWork(sessions), batch)
    assert [type(x).__name__ for x in out] == ["MemberView", "AlreadyExists", "AlreadyExists", "MemberView"]
    assert out[0].member.status == "active" and out[3].member.status == "applicant"
    after = svc.counts()
    assert (after["members"] - before["members"], after["member_status_history"] - before["member_status_history"],
            after["outbox"] - before["outbox"]) == (2, 3, 2)


def test_events_of_a_batched_registration_carry_their_own_requests_correlation_id(svc, h):
    """The thread that commits a batch serves other callers: each member's events keep the
    correlation id of the request that registered it, not the committing thread's."""
    from coop_domain.principal import Principal
    from coop_membership.adapters import messages as msg
    from coop_membership.adapters.unit_of_work import SqlMembershipUnitOfWork
    from coop_membership.service_layer import members
    from coop_platform.db import make_session_factory
    from coop_platform.logs import reset_correlation_id, set_correlation_id

    admin = Principal("admin-1", roles=frozenset({"admin"}))
    batch = []
    for cid in ("corr-first", "corr-second"):
        token = set_correlation_id(cid)
        try:
            batch.append(members.Registration(admin, msg.draft_to_details(h.draft()), True))
        finally:
            reset_correlation_id(token)
    sessions = make_session_factory(svc.engine)
    token = set_correlation_id("corr-of-the-committing-thread")
    try:
        views = members.register_members(SqlMembershipUnitOfWork(sessions), batch)
    finally:
        reset_correlation_id(token)
    for view, cid in zip(views, ("corr-first", "corr-second"), strict=True):
        envelopes = svc.outbox_envelopes(view.member.member_id)
        assert [e["correlationid"] for e in envelopes] == [cid, cid]
