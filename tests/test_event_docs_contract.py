"""The published event contract stays documented: every payload in events.proto has an AsyncAPI
channel and a row in docs/events.md, and its message type matches the CloudEvents type."""

import re
from pathlib import Path

import yaml

from coop.billing.v1 import events_pb2 as billing_events_pb2
from coop.membership.v1 import events_pb2

ROOT = Path(__file__).resolve().parents[1]
MEMBERSHIP_EVENTS = {
    "member.admitted": "MemberAdmitted",
    "member.updated": "MemberUpdated",
    "member.erased": "MemberErased",
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


def test_every_membership_event_says_which_of_its_fields_are_personal_data():
    messages = yaml.safe_load((ROOT / "docs/asyncapi-membership.yaml").read_text())["components"]["messages"]
    for message in MEMBERSHIP_EVENTS.values():
        assert isinstance(messages[message].get("x-personal-data"), list), message


def test_every_membership_event_is_listed_for_subscribers():
    text = (ROOT / "docs/events.md").read_text()
    for routing_key, message in MEMBERSHIP_EVENTS.items():
        assert f"| {routing_key} | {message} |" in text


BILLING_EVENTS = {
    "contract.created": "ContractCreated",
    "contract.amended": "ContractAmended",
    "contract.cancelled": "ContractCancelled",
    "contract.activated": "ContractActivated",
    "contract.payroll_recorded": "ContractPayrollRecorded",
    "contract.completed": "ContractCompleted",
    "invoice.issued": "InvoiceIssued",
    "invoice.cancelled": "InvoiceCancelled",
    "share_fee.billed": "ShareFeeBilled",
    "share_fee.paid": "SharePaid",
    "distribution.payout": "DistributionPayout",
}
BILLING_PARTS = {"Employee"}  # a part of several payloads, not an event of its own


class _StrictLoader(yaml.SafeLoader):
    """Refuses a key given twice in one mapping (yaml.safe_load silently keeps the last)."""

    def construct_mapping(self, node, deep=False):
        keys = [self.construct_object(k, deep=deep) for k, _ in node.value]
        duplicated = {k for k in keys if keys.count(k) > 1}
        assert not duplicated, f"duplicate keys {duplicated} at line {node.start_mark.line + 1}"
        return super().construct_mapping(node, deep=deep)


def test_every_billing_event_message_is_in_the_proto_and_the_asyncapi_file():
    spec = yaml.load((ROOT / "docs/asyncapi-billing.yaml").read_text(), Loader=_StrictLoader)
    declared = set(billing_events_pb2.DESCRIPTOR.message_types_by_name) - BILLING_PARTS
    assert declared == set(BILLING_EVENTS.values())
    assert set(spec["channels"]) == set(BILLING_EVENTS)
    for routing_key, message in BILLING_EVENTS.items():
        channel = spec["channels"][routing_key]
        assert channel["bindings"]["amqp"]["exchange"]["name"] == "billing.events"
        assert channel["subscribe"]["message"]["$ref"].rsplit("/", 1)[-1] == message
        documented = spec["components"]["messages"][message]
        event_type = f"coop.billing.{routing_key}.v1"
        assert documented["name"] == event_type
        body = documented["payload"]["allOf"][1]["properties"]
        assert body["type"] == {"const": event_type}
        fields = billing_events_pb2.DESCRIPTOR.message_types_by_name[message].fields
        assert set(body["data"]["properties"]) == {f.json_name for f in fields}, message


def test_every_billing_event_the_service_emits_is_documented():
    source = (ROOT / "services/billing/coop_billing/adapters/events_out.py").read_text()
    emitted = set(re.findall(r'"((?:contract|invoice|share_fee|share|distribution)\.[a-z_]+)"', source))
    assert emitted == set(BILLING_EVENTS)


def test_every_billing_event_is_listed_for_subscribers():
    text = (ROOT / "docs/events.md").read_text()
    for routing_key, message in BILLING_EVENTS.items():
        assert f"| {routing_key} | {message} |" in text
