"""API protobuf <-> domain values (coop.membership.v1 resources, which v2 shares)."""

from __future__ import annotations

from datetime import date
from typing import Any

from coop.membership.v1 import membership_pb2 as pb
from coop_domain.errors import InvalidArgument
from coop_membership.domain.model import (
    DETAILS_FIELD,
    Address,
    Category,
    MemberDetails,
    Share,
    ShareState,
    ShareYear,
    Status,
    StatusChange,
    format_member_number,
)
from coop_platform.pbtypes import from_date, to_date, to_timestamp

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


def member_to_pb(member: Any, good_standing: bool) -> pb.Member:
    """A Member, or a members row (same attribute names: GetMember's read path)."""
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
        joined_on_date=to_date(member.joined_on),
        in_good_standing=good_standing,
        erased=member.erased,
        created_at=to_timestamp(member.created_at),
        updated_at=to_timestamp(member.updated_at),
    )


def share_to_pb(share: Share, member_id: str) -> pb.Share:
    return pb.Share(
        share_id=share.share_id, member_id=member_id, year=share.year,
        amount_cents=share.amount_cents, currency=CURRENCY,
        state=SHARE_STATE_TO_PB[ShareState(share.state)],
        payment_reference=share.payment_reference or "",
        paid_at=to_timestamp(share.paid_at), refunded_at=to_timestamp(share.refunded_at),
    )


def refund_to_pb(refund: Any, message_type: type = pb.RefundSharesResponse) -> Any:
    """A shares.Refund as v1's RefundSharesResponse, or v2's (`message_type`: same fields)."""
    return message_type(refunded=[share_to_pb(s, refund.member.member_id) for s in refund.shares],
                        total_cents=refund.total_cents)


def answer_to_pb(answer: Any) -> Any:
    """A use case's answer as the api sends it (what an idempotency key stores for retries):
    a MemberView as a Member, a Refund as a RefundSharesResponse."""
    if hasattr(answer, "in_good_standing"):
        return member_to_pb(answer.member, answer.in_good_standing)
    return refund_to_pb(answer)


def share_year_to_pb(policy: ShareYear) -> pb.ShareYear:
    return pb.ShareYear(year=policy.year, amount_cents=policy.amount_cents, currency=CURRENCY,
                        grace_days=policy.grace_days)


def change_to_pb(change: StatusChange) -> pb.StatusChange:
    return pb.StatusChange(
        from_status=STATUS_TO_PB[Status(change.from_status)] if change.from_status else 0,
        to_status=STATUS_TO_PB[Status(change.to_status)], reason=change.reason,
        actor=change.actor, at=to_timestamp(change.at),
    )


def _joined_on(draft: pb.MemberDraft, field: str) -> date | None:
    """The draft's joining date: the google.type.Date when set (v2), else v1's ISO string."""
    if draft.HasField("joined_on_date"):
        return from_date(draft.joined_on_date, field=f"{field}.joined_on_date")
    if not draft.joined_on:
        return None
    try:
        return date.fromisoformat(draft.joined_on)
    except ValueError as exc:
        raise InvalidArgument(f"joined_on {draft.joined_on!r} is not an ISO date (YYYY-MM-DD)",
                              field=f"{field}.joined_on", reason="INVALID_DATE") from exc


def draft_to_details(draft: pb.MemberDraft, *, field: str = DETAILS_FIELD,
                     category_required: bool = True) -> MemberDetails:
    """The details a draft gives. `category_required=False` for an update whose mask may leave
    the category out (the domain then refuses it only if the mask names it)."""
    category = PB_TO_CATEGORY.get(draft.category)
    if category is None and (category_required or draft.category != pb.MEMBER_CATEGORY_UNSPECIFIED):
        raise InvalidArgument("category is required (user, permanent_staff, external_partner)",
                              field=f"{field}.category", reason="FIELD_REQUIRED")
    return MemberDetails(
        given_name=draft.given_name, family_name=draft.family_name, email=draft.email,
        phone=draft.phone,
        address=Address(draft.address.street, draft.address.postal_code, draft.address.city,
                        draft.address.country),
        country_of_residence=draft.country_of_residence,
        preferred_language=draft.preferred_language or "fr",
        category=category,  # type: ignore[arg-type] - None only where the update leaves it out
        joined_on=_joined_on(draft, field),
    )
