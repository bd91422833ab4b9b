"""Incoming envelopes -> typed facts for the service layer's handlers (the service layer never
sees a dict or a protobuf)."""

from __future__ import annotations

from typing import Any

from google.protobuf.json_format import ParseError

from coop.billing.v1 import events_pb2 as billing_events
from coop_domain.errors import InvalidArgument
from coop_membership.service_layer.handlers import ShareFeePaid
from coop_platform.envelope import parse_data

#: Billing's share-fee payment event: `share_fee.paid`, and its name before the rename, read
#: for one version (docs/events.md). Same payload message, same handler.
SHARE_FEE_PAID_EVENTS = ("share_fee.paid", "share.paid")


def share_fee_paid(envelope: dict[str, Any]) -> ShareFeePaid:
    """Billing's payment of a member's share (proto3 JSON of coop.billing.v1.SharePaid), checked:
    a member by id or number, a year and an amount. Without a payment reference the event id is
    the reference, so a redelivered event still pays once."""
    try:
        data = parse_data(envelope, billing_events.SharePaid)
    except ParseError as exc:
        raise InvalidArgument(f"share-fee payment event {envelope.get('id')} does not parse: {exc}",
                              reason="MALFORMED_EVENT") from exc
    if not data.year or not data.amount_cents:
        raise InvalidArgument(f"share-fee payment event {envelope.get('id')} lacks year or amountCents",
                              reason="MALFORMED_EVENT")
    return ShareFeePaid(member_id=data.member_id, member_number=data.member_number, year=data.year,
                        amount_cents=data.amount_cents,
                        payment_reference=data.payment_reference or f"event:{envelope['id']}")
