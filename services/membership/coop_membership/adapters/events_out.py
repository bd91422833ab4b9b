"""The translator of membership's domain events into their wire form: (event name, protobuf
message of coop.membership.v1 events, CloudEvents subject). The unit of work calls it on
`uow.publish(event)`; nothing else in the service builds an event message."""

from __future__ import annotations

from google.protobuf.message import Message

from coop.membership.v1 import events_pb2
from coop.membership.v1 import membership_pb2 as pb
from coop_membership.adapters.messages import STATUS_TO_PB, member_to_pb, share_to_pb
from coop_membership.domain import events as ev
from coop_membership.domain.model import Member, Status
from coop_platform.pbtypes import to_timestamp


def member_event_pb(member: Member, good_standing: bool) -> pb.Member:
    """A member as events carry it: what consumers need (name and e-mail for statements and
    notifications, language, category, status, standing), never the phone or postal address,
    which no consumer uses and which would then live on in queues and other databases."""
    message = member_to_pb(member, good_standing)
    message.ClearField("phone")
    message.ClearField("address")
    message.ClearField("joined_on_date")  # events keep their v1 JSON: joinedOn as a string
    return message


def to_message(event: ev.Event) -> tuple[str, Message, str]:
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
                member_id=m.member_id, member_number=m.member_number, erased_at=to_timestamp(m.updated_at)), m.member_id
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
