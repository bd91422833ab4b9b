"""Membership's envelopes -> typed facts (domain/member_facts.py), at the worker's edge.

Each parser reads the data with its membership v1 message (coop_platform.envelope.parse_data:
unknown fields ignored), checks the member id, and stamps the fact with the event's time.
An unreadable event raises InvalidArgument: the worker retries it, then dead-letters it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from google.protobuf import json_format

from coop.membership.v1 import events_pb2, membership_pb2
from coop_billing.domain import member_facts as facts
from coop_domain.errors import InvalidArgument
from coop_domain.principal import Principal
from coop_platform.envelope import event_time, parse_data

F = TypeVar("F")
Envelope = dict[str, Any]


def _data(envelope: Envelope, message_type: type) -> Any:
    try:
        return parse_data(envelope, message_type)
    except json_format.ParseError as exc:
        raise InvalidArgument(f"event {envelope.get('id')} is not a {message_type.__name__}: {exc}",
                              reason="MALFORMED_EVENT") from None


def _member_id(value: str, envelope: Envelope) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidArgument(f"event {envelope.get('id')} has no member id (got {value!r})",
                              field="memberId", reason="MALFORMED_EVENT") from None


def _names(member: membership_pb2.Member) -> facts.MemberNames:
    return facts.MemberNames(member.given_name or None, member.family_name or None,
                             member.preferred_language or None)


def _status(value: int) -> str:
    """MEMBER_STATUS_SUSPENDED -> "suspended"; an unset status reads as active."""
    name = membership_pb2.MemberStatus.Name(value) if value in membership_pb2.MemberStatus.values() else ""
    return name.lower().removeprefix("member_status_").replace("unspecified", "") or "active"


def member_admitted(envelope: Envelope) -> facts.MemberAdmitted:
    member = _data(envelope, events_pb2.MemberAdmitted).member
    return facts.MemberAdmitted(_member_id(member.member_id, envelope), member.member_number, _names(member),
                                event_time(envelope))


def member_updated(envelope: Envelope) -> facts.MemberUpdated:
    member = _data(envelope, events_pb2.MemberUpdated).member
    return facts.MemberUpdated(_member_id(member.member_id, envelope), member.member_number, _names(member),
                               event_time(envelope))


def member_status_changed(envelope: Envelope) -> facts.MemberStatusChanged:
    data = _data(envelope, events_pb2.MemberStatusChanged)
    return facts.MemberStatusChanged(_member_id(data.member_id, envelope), data.member_number,
                                     _status(data.to_status), data.in_good_standing, event_time(envelope))


def member_share_paid(envelope: Envelope) -> facts.MemberSharePaid:
    data = _data(envelope, events_pb2.SharePaid)
    return facts.MemberSharePaid(_member_id(data.share.member_id, envelope), data.member_number,
                                 data.in_good_standing, event_time(envelope))


def member_erased(envelope: Envelope) -> facts.MemberErased:
    data = _data(envelope, events_pb2.MemberErased)
    return facts.MemberErased(_member_id(data.member_id, envelope), data.member_number, event_time(envelope))


def effect(parse: Callable[[Envelope], F], handler: Callable[[Any, Principal, F], None],
           caller: Principal) -> Callable[[Any, Envelope], None]:
    """The inbox effect (coop_platform.inbox.process_once) of a handler: parse, then handle as
    `caller` (the service's own system principal)."""
    def apply(uow: Any, envelope: Envelope) -> None:
        handler(uow, caller, parse(envelope))
    return apply
