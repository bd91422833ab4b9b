"""The published event contract stays documented: every payload in events.proto has an AsyncAPI
channel and a row in docs/events.md, and its message type matches the CloudEvents type."""

from pathlib import Path

import yaml

from coop.membership.v1 import events_pb2

ROOT = Path(__file__).resolve().parents[1]
MEMBERSHIP_EVENTS = {
    "member.admitted": "MemberAdmitted",
    "member.updated": "MemberUpdated",
    "member.status_changed": "MemberStatusChanged",
    "share.subscribed": "ShareSubscribed",
    "share.paid": "SharePaid",
    "share.refunded": "ShareRefunded",
}


def test_every_membership_event_message_is_in_the_proto_and_the_asyncapi_file():
    spec = yaml.safe_load((ROOT / "docs/asyncapi-membership.yaml").read_text())
    declared = set(events_pb2.DESCRIPTOR.message_types_by_name)
    assert declared == set(MEMBERSHIP_EVENTS.values())
    for routing_key, message in MEMBERSHIP_EVENTS.items():
        channel = spec["channels"][routing_key]
        assert channel["bindings"]["amqp"]["exchange"]["name"] == "membership.events"
        ref = channel["subscribe"]["message"]["$ref"].rsplit("/", 1)[-1]
        assert ref == message
        assert spec["components"]["messages"][message]["messageId"] == f"coop.membership.{routing_key}.v1"


def test_every_membership_event_is_listed_for_subscribers():
    text = (ROOT / "docs/events.md").read_text()
    for routing_key, message in MEMBERSHIP_EVENTS.items():
        assert f"| {routing_key} | {message} |" in text
