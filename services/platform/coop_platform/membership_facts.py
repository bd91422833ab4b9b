"""Membership's events -> typed facts (`coop_domain.membership`), for every service that keeps a
projection of members (elections, board): parsed once, here, at each worker's edge.

Each envelope's data is decoded into its protobuf message (`coop_platform.envelope.parse_data`,
unknown fields ignored) and turned into a `MemberChanged` or `MemberErased`; no service layer
sees a dict or a protobuf. The event time is read here, once: the CloudEvents `time` at which
membership committed the event (the erasure's own `erased_at` for an erasure).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.protobuf import json_format

from coop.membership.v1 import events_pb2 as member_events
from coop.membership.v1 import membership_pb2 as member_pb
from coop_domain.clock import as_utc
from coop_domain.membership import MemberChanged, MemberContact, MemberErased, MemberFact
from coop_platform.envelope import event_time, parse_data

#: membership's events a projection of members consumes (routing keys)
MEMBERSHIP_EVENTS = ("member.admitted", "member.updated", "member.status_changed", "share.paid", "member.erased")


class MalformedEvent(ValueError):
    """An event this service cannot read: the worker dead-letters it (no retry helps)."""


def _status(value: int) -> str | None:
    """A member status enum as the projection's word; None when unset."""
    return member_pb.MemberStatus.Name(value).removeprefix("MEMBER_STATUS_").lower() if value else None


def _category(value: int) -> str | None:
    return member_pb.MemberCategory.Name(value).removeprefix("MEMBER_CATEGORY_").lower() if value else None


def _required(member_id: str, name: str) -> str:
    if not member_id:
        raise MalformedEvent(f"{name} without member id")
    return member_id


def _contact(m: member_pb.Member) -> MemberContact:
    return MemberContact(member_number=m.member_number, given_name=m.given_name, email=m.email,
                         preferred_language=m.preferred_language, erased=m.erased)


def _admitted(envelope: dict[str, Any]) -> MemberFact:
    m = parse_data(envelope, member_events.MemberAdmitted).member
    return MemberChanged(_required(m.member_id, "member.admitted"), event_time(envelope), status="active",
                         category=_category(m.category), in_good_standing=m.in_good_standing,
                         contact=_contact(m))


def _updated(envelope: dict[str, Any]) -> MemberFact:
    m = parse_data(envelope, member_events.MemberUpdated).member
    return MemberChanged(_required(m.member_id, "member.updated"), event_time(envelope), status=_status(m.status),
                         category=_category(m.category), in_good_standing=m.in_good_standing,
                         contact=_contact(m))


def _status_changed(envelope: dict[str, Any]) -> MemberFact:
    data = parse_data(envelope, member_events.MemberStatusChanged)
    return MemberChanged(_required(data.member_id, "member.status_changed"), event_time(envelope),
                         status=_status(data.to_status) or "applicant", in_good_standing=data.in_good_standing)


def _share_paid(envelope: dict[str, Any]) -> MemberFact:
    # membership's share.paid (billing's own payment event is being renamed: docs/events.md)
    data = parse_data(envelope, member_events.SharePaid)
    return MemberChanged(_required(data.share.member_id, "share.paid"), event_time(envelope),
                         in_good_standing=data.in_good_standing)


def _erased(envelope: dict[str, Any]) -> MemberFact:
    data = parse_data(envelope, member_events.MemberErased)
    at = as_utc(data.erased_at.ToDatetime()) if data.HasField("erased_at") else event_time(envelope)
    return MemberErased(_required(data.member_id, "member.erased"), at)


PARSERS: dict[str, Callable[[dict[str, Any]], MemberFact]] = {
    "member.admitted": _admitted,
    "member.updated": _updated,
    "member.status_changed": _status_changed,
    "share.paid": _share_paid,
    "member.erased": _erased,
}


def event_name(envelope: dict[str, Any]) -> str:
    """"coop.membership.member.admitted.v1" -> "member.admitted"."""
    return ".".join(str(envelope.get("type", "")).split(".")[2:-1])


def member_fact(envelope: dict[str, Any]) -> MemberFact:
    """The typed fact one membership event states; MalformedEvent when it cannot be read."""
    name = event_name(envelope)
    parse = PARSERS.get(name)
    if parse is None:
        raise MalformedEvent(f"unexpected event {name}")
    try:
        return parse(envelope)
    except MalformedEvent:
        raise
    except (json_format.ParseError, ValueError, TypeError) as exc:
        raise MalformedEvent(f"{name}: {exc}") from exc
