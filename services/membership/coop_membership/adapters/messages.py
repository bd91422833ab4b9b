"""Domain objects <-> protobuf messages (the API and the event contract)."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from coop.membership.v1 import events_pb2
from coop.membership.v1 import membership_pb2 as pb
from coop_membership.domain import events as ev
from coop_membership.domain.model import (
    Address,
    Category,
    Member,
    MemberDetails,
    Share,
    ShareState,
    ShareYear,
    Status,
    StatusChange,
    format_member_number,
)

STATUS_TO_PB = {
    Status.APPLICANT: pb.MEMBER_STATUS_APPLICANT,
    Status.ACTIVE: pb.MEMBER_STATUS_ACTIVE,
    Status.SUSPENDED: pb.MEMBER_STATUS_SUSPENDED,
    Status.RESIGNED: pb.MEMBER_STATUS_RESIGNED,
    Status.EXCLUDED: pb.MEMBER_STATUS_EXCLUDED,
}
PB_TO_STATUS = {v: k for k, v in STATUS_TO_PB.items()}
CATEGORY_TO_PB = {
    Category.USER: pb.MEMBER_CATEGORY_USER,
    Category.PERMANENT_STAFF: pb.MEMBER_CATEGORY_PERMANENT_STAFF,
    Category.EXTERNAL_PARTNER: pb.MEMBER_CATEGORY_EXTERNAL_PARTNER,
}
PB_TO_CATEGORY = {v: k for k, v in CATEGORY_TO_PB.items()}
SHARE_STATE_TO_PB = {
    ShareState.SUBSCRIBED: pb.SHARE_STATE_SUBSCRIBED,
    ShareState.PAID: pb.SHARE_STATE_PAID,
    ShareState.REFUNDED: pb.SHARE_STATE_REFUNDED,
}
CURRENCY = "EUR"


def _ts(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def member_to_pb(member: Member, good_standing: bool) -> pb.Member:
    """A Member, or a members row (same attribute names: MembershipService.GetMember's read path)."""
    return pb.Member(
        member_id=member.member_id,
        member_number=format_member_number(member.member_no) if member.member_no else "",
        given_name=member.given_name,
        family_name=member.family_name,
        email=member.email or "",
        phone=member.phone or "",
        address=pb.PostalAddress(street=member.street or "", postal_code=member.postal_code or "",
                                 city=member.city or "", country=member.address_country or ""),
        country_of_residence=member.country_of_residence,
        preferred_language=member.preferred_language,
        category=CATEGORY_TO_PB[Category(member.category)],
        status=STATUS_TO_PB[Status(member.status)],
        joined_on=member.joined_on.isoformat() if member.joined_on else "",
        in_good_standing=good_standing,
        erased=member.erased,
        created_at=_ts(member.created_at),
        updated_at=_ts(member.updated_at),
    )


def member_event_pb(member: Member, good_standing: bool) -> pb.Member:
    """A member as events carry it: what consumers need (name and e-mail for statements and
    notifications, language, category, status, standing), never the phone or postal address,
    which no consumer uses and which would then live on in queues and other databases."""
    message = member_to_pb(member, good_standing)
    message.ClearField("phone")
    message.ClearField("address")
    return message


def share_to_pb(share: Share, member_id: str) -> pb.Share:
    return pb.Share(
        share_id=share.share_id, member_id=member_id, year=share.year,
        amount_cents=share.amount_cents, currency=CURRENCY,
        state=SHARE_STATE_TO_PB[ShareState(share.state)],
        payment_reference=share.payment_reference or "",
        paid_at=_ts(share.paid_at), refunded_at=_ts(share.refunded_at),
    )


def share_year_to_pb(policy: ShareYear) -> pb.ShareYear:
    return pb.ShareYear(year=policy.year, amount_cents=policy.amount_cents, currency=CURRENCY,
                        grace_days=policy.grace_days)


def change_to_pb(change: StatusChange) -> pb.StatusChange:
    return pb.StatusChange(
        from_status=STATUS_TO_PB[Status(change.from_status)] if change.from_status else 0,
        to_status=STATUS_TO_PB[Status(change.to_status)], reason=change.reason,
        actor=change.actor, at=_ts(change.at),
    )


def draft_to_details(draft: pb.MemberDraft) -> MemberDetails:
    from datetime import date

    from coop_platform.errors import InvalidArgument

    if draft.category not in PB_TO_CATEGORY:
        raise InvalidArgument("category is required (user, permanent_staff, external_partner)",
                              field="category")
    joined = None
    if draft.joined_on:
        try:
            joined = date.fromisoformat(draft.joined_on)
        except ValueError as exc:
            raise InvalidArgument(f"joined_on {draft.joined_on!r} is not an ISO date (YYYY-MM-DD)",
                                  field="joined_on") from exc
    return MemberDetails(
        given_name=draft.given_name, family_name=draft.family_name, email=draft.email,
        phone=draft.phone,
        address=Address(draft.address.street, draft.address.postal_code, draft.address.city,
                        draft.address.country),
        country_of_residence=draft.country_of_residence,
        preferred_language=draft.preferred_language or "fr",
        category=PB_TO_CATEGORY[draft.category], joined_on=joined,
    )


def to_message(event: ev.Event) -> tuple[str, object, str]:
    """(event name, payload message, CloudEvents subject) for a domain event."""
    match event:
        case ev.MemberAdmitted(member=m, readmission=r, in_good_standing=g):
            return "member.admitted", events_pb2.MemberAdmitted(
                member=member_event_pb(m, g), readmission=r), m.member_id
        case ev.MemberUpdated(member=m, changed_fields=fields, in_good_standing=g):
            return "member.updated", events_pb2.MemberUpdated(
                member=member_event_pb(m, g), changed_fields=fields), m.member_id
        case ev.MemberErased(member=m):
            return "member.erased", events_pb2.MemberErased(
                member_id=m.member_id, member_number=m.member_number, erased_at=_ts(m.updated_at)), m.member_id
        case ev.MemberStatusChanged(member=m, change=c, in_good_standing=g):
            return "member.status_changed", events_pb2.MemberStatusChanged(
                member_id=m.member_id, member_number=m.member_number,
                from_status=STATUS_TO_PB[Status(c.from_status)] if c.from_status else 0,
                to_status=STATUS_TO_PB[Status(c.to_status)], reason=c.reason, actor=c.actor,
                in_good_standing=g), m.member_id
        case ev.ShareSubscribed(share=s, member=m):
            return "share.subscribed", events_pb2.ShareSubscribed(
                share=share_to_pb(s, m.member_id), member_number=m.member_number), m.member_id
        case ev.SharePaid(share=s, member=m, in_good_standing=g):
            return "share.paid", events_pb2.SharePaid(
                share=share_to_pb(s, m.member_id), member_number=m.member_number,
                in_good_standing=g), m.member_id
        case ev.ShareRefunded(share=s, member=m, reason=r):
            return "share.refunded", events_pb2.ShareRefunded(
                share=share_to_pb(s, m.member_id), member_number=m.member_number,
                reason=r), m.member_id
    raise TypeError(f"no message for {type(event).__name__}")
