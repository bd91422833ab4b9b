"""The membership flow end to end (issue 2 section 5), written once and run against the
`platform` fixture: docker-compose.yml through pytest-docker ([compose]) and the processes
`make run` starts ([local]) (see conftest.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from datetime import UTC, datetime

import pytest

from coop.membership.v1 import membership_pb2 as pb
from coop.membership.v1 import membership_pb2_grpc as pb_grpc
from coop_platform.amqp import ConfirmingPublisher
from coop_platform.envelope import dumps, make_envelope
from coop_testkit import bearer

pytestmark = [pytest.mark.rabbitmq]

ADMITTED = "coop.membership.member.admitted.v1"
SHARE_PAID = "coop.membership.share.paid.v1"


def _admin(platform, correlation_id: str | None = None) -> list[tuple[str, str]]:
    metadata = bearer("e2e-admin", "admin")
    if correlation_id:
        metadata.append(("x-correlation-id", correlation_id))
    return metadata


def _draft(joined_on: str = "") -> pb.MemberDraft:
    tag = uuid.uuid4().hex[:10]
    return pb.MemberDraft(
        given_name="Aline", family_name=f"Dupont-{tag}", email=f"aline.{tag}@example.org",
        phone="+32 470 12 34 56",
        address=pb.PostalAddress(street="Rue de la Loi 16", postal_code="1000", city="Bruxelles", country="BE"),
        country_of_residence="BE", preferred_language="fr", category=pb.MEMBER_CATEGORY_USER,
        joined_on=joined_on,
    )


def _of(event_type: str, member_id: str):
    return lambda e: e.get("type") == event_type and e.get("subject") == member_id


def test_admit_member_pay_share_and_read_good_standing_with_events_carrying_correlation_id(
    platform, grpc_channel, membership_events
):
    stub = pb_grpc.MembershipServiceStub(grpc_channel)
    year = datetime.now(UTC).year
    admit_corr, pay_corr = f"e2e-admit-{uuid.uuid4().hex}", f"e2e-pay-{uuid.uuid4().hex}"

    # Joined years ago and nothing paid: active but not in good standing (no grace left).
    member = stub.RegisterMember(pb.RegisterMemberRequest(member=_draft("2020-01-15"), admit=True),
                                 metadata=_admin(platform, admit_corr), timeout=15)
    assert member.status == pb.MEMBER_STATUS_ACTIVE
    assert re.fullmatch(r"M\d+", member.member_number)

    admitted = membership_events.wait_for(_of(ADMITTED, member.member_id))
    assert admitted["specversion"] == "1.0"
    assert admitted["source"] == "/coop/membership"
    assert admitted["datacontenttype"] == "application/json"
    assert admitted["data"]["member"]["memberNumber"] == member.member_number
    assert admitted["data"]["member"]["memberId"] == member.member_id
    assert admitted["correlationid"] == admit_corr
    assert admitted["_amqp"]["message_id"] == admitted["id"]

    before = stub.GetMember(pb.GetMemberRequest(member_id=member.member_id), metadata=_admin(platform), timeout=15)
    assert before.in_good_standing is False

    share = stub.SubscribeShare(pb.SubscribeShareRequest(member_id=member.member_id, year=year),
                                metadata=_admin(platform), timeout=15)
    paid = stub.RecordSharePayment(
        pb.RecordSharePaymentRequest(member_id=member.member_id, year=year, amount_cents=share.amount_cents,
                                     payment_reference=f"E2E-{uuid.uuid4().hex}"),
        metadata=_admin(platform, pay_corr), timeout=15)
    assert paid.state == pb.SHARE_STATE_PAID

    after = stub.GetMember(pb.GetMemberRequest(member_number=member.member_number),
                           metadata=_admin(platform), timeout=15)
    assert after.in_good_standing is True

    event = membership_events.wait_for(_of(SHARE_PAID, member.member_id))
    assert event["specversion"] == "1.0"
    assert event["data"]["memberNumber"] == member.member_number
    assert event["data"]["share"]["state"] == "SHARE_STATE_PAID"
    assert event["data"]["share"]["year"] == year
    assert event["data"]["inGoodStanding"] is True
    assert event["correlationid"] == pay_corr
    assert event["_amqp"]["message_id"] == event["id"]


def test_correlation_id_of_billing_share_paid_flows_through_worker_into_emitted_share_paid(
    platform, grpc_channel, membership_events
):
    stub = pb_grpc.MembershipServiceStub(grpc_channel)
    year = datetime.now(UTC).year
    member = stub.RegisterMember(pb.RegisterMemberRequest(member=_draft("2020-01-15"), admit=True),
                                 metadata=_admin(platform), timeout=15)
    share = stub.SubscribeShare(pb.SubscribeShareRequest(member_id=member.member_id, year=year),
                                metadata=_admin(platform), timeout=15)

    correlation_id = f"e2e-billing-{uuid.uuid4().hex}"
    incoming = make_envelope(
        "billing", "share.paid",
        {"memberId": member.member_id, "memberNumber": member.member_number, "year": year,
         "amountCents": share.amount_cents, "paymentReference": f"INV-{uuid.uuid4().hex[:12]}"},
        subject=member.member_id, correlation_id=correlation_id,
    )
    publisher = ConfirmingPublisher(platform.amqp_url)
    try:
        publisher.publish("billing.events", "share.paid", dumps(incoming), incoming["id"], correlation_id)
    finally:
        publisher.close()

    emitted = membership_events.wait_for(_of(SHARE_PAID, member.member_id))
    assert emitted["id"] != incoming["id"]
    assert emitted["correlationid"] == correlation_id
    assert emitted["data"]["inGoodStanding"] is True
    now = stub.GetMember(pb.GetMemberRequest(member_id=member.member_id), metadata=_admin(platform), timeout=15)
    assert now.in_good_standing is True


def _promtool_parse_errors(text: str) -> str | None:
    """promtool exits 3 for lint findings (naming advice) and 1 when the text does not parse."""
    done = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    output = done.stdout + done.stderr
    if done.returncode in (0, 3) and "parsing error" not in output and "error while" not in output:
        return None
    return f"promtool check metrics exited {done.returncode}: {output}"


def test_api_and_worker_metrics_expose_grpc_and_outbox_series_that_promtool_parses(platform, grpc_channel):
    if shutil.which("promtool") is None:
        pytest.fail("promtool is missing: run scripts/ensure_tools.sh (Debian package 'prometheus')")
    stub = pb_grpc.MembershipServiceStub(grpc_channel)
    stub.ListMembers(pb.ListMembersRequest(page_size=1), metadata=_admin(platform), timeout=15)

    for role in ("api", "worker"):
        text = platform.metrics_text(role)
        assert "# TYPE grpc_server_handled_total counter" in text, role
        assert re.search(r"^coop_outbox_pending \d", text, re.M), role
        assert _promtool_parse_errors(text) is None, _promtool_parse_errors(text)
        if role == "api":
            assert re.search(r'^grpc_server_handled_total\{[^}]*grpc_method="ListMembers"[^}]*\} [1-9]', text, re.M)
            assert re.search(r'grpc_code="OK"', text)
