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
    "year.closed": "YearClosed",
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
    emitted = set(re.findall(r'"((?:contract|invoice|share_fee|share|distribution|year)\.[a-z_]+)"', source))
    assert emitted == set(BILLING_EVENTS)


def test_every_billing_event_is_listed_for_subscribers():
    text = (ROOT / "docs/events.md").read_text()
    for routing_key, message in BILLING_EVENTS.items():
        assert f"| {routing_key} | {message} |" in text


BOARD_EVENTS = {
    "mandate.started": "MandateStarted",
    "mandate.ended": "MandateEnded",
    "meeting.scheduled": "MeetingScheduled",
    "meeting.agenda_published": "AgendaPublished",
    "dossier.submitted": "DossierSubmitted",
    "dossier.sent_back": "DossierSentBack",
    "decision.adopted": "DecisionAdopted",
    "minutes.published": "MinutesPublished",
    "observer_session.opened": "ObserverSessionOpened",
    "observer.registered": "ObserverRegistered",
    "observer.promoted": "ObserverPromoted",
    "observer.cancelled": "ObserverCancelled",
    # questions (issue 12)
    "question.answered": "QuestionAnswered",
    "question.referred": "QuestionReferred",
    # initiatives (issue 12)
    "initiative.submitted": "InitiativeSubmitted",
    "initiative.admissible": "InitiativeAdmissible",
    "initiative.refused": "InitiativeRefused",
    "initiative.collection_opened": "InitiativeCollectionOpened",
    "initiative.threshold_progress": "InitiativeThresholdProgress",
    "initiative.qualified": "InitiativeQualified",
    "initiative.expired": "InitiativeExpired",
    "initiative.outcome_published": "InitiativeOutcomePublished",
    "initiative.outcome_overdue": "InitiativeOutcomeOverdue",
    # assembly (issue 12)
    "assembly.scheduled": "AssemblyScheduled",
    "assembly.convened": "AssemblyConvened",
    "assembly.registered": "AssemblyRegistered",
    "assembly.workshop_promoted": "AssemblyWorkshopPromoted",
}
BOARD_PARTS = {"AgendaItemSummary"}  # a part of a payload, not an event of its own
BOARD_PARTS |= {"ConvocationDocument", "AssemblyWorkshopChoice"}  # assembly (issue 12)
#: the AsyncAPI schema documenting each message type that a board payload nests
BOARD_SCHEMAS = {"google.type.Date": "Date", "coop.board.v1.LocalizedText": "LocalizedText",
                 "coop.board.v1.VoteCounts": "VoteCounts", "coop.board.v1.AgendaItemSummary": "AgendaItemSummary"}
BOARD_SCHEMAS |= {"coop.board.v1.ConvocationDocument": "ConvocationDocument",  # assembly (issue 12)
                  "coop.board.v1.AssemblyWorkshopChoice": "AssemblyWorkshopChoice"}


def _board_spec() -> dict:
    return yaml.load((ROOT / "docs/asyncapi-board.yaml").read_text(), Loader=_StrictLoader)


def _check_board_schema(spec: dict, schema: dict, descriptor, where: str) -> None:
    """The documented object has exactly the message's JSON names, every field without presence
    required (json_format prints it even at its default), the right JSON type for each field,
    and, for a nested message, the schema that documents that message type."""
    from google.protobuf.descriptor import FieldDescriptor as F

    properties = schema["properties"]
    assert set(properties) == {f.json_name for f in descriptor.fields}, where
    printed_always = {f.json_name for f in descriptor.fields if not f.has_presence}
    assert set(schema.get("required", [])) == printed_always, where
    for field in descriptor.fields:
        documented = properties[field.json_name]
        if field.is_repeated:
            assert documented["type"] == "array", f"{where}.{field.json_name}"
            documented = documented["items"]
        if field.type == F.TYPE_MESSAGE:
            name = BOARD_SCHEMAS.get(field.message_type.full_name)
            if name is None:  # Timestamp: an RFC 3339 string
                assert field.message_type.full_name == "google.protobuf.Timestamp", field.full_name
                assert documented == {**documented, "type": "string", "format": "date-time"}, field.full_name
                continue
            assert documented["$ref"] == f"#/components/schemas/{name}", field.full_name
            _check_board_schema(spec, spec["components"]["schemas"][name], field.message_type, f"{where}.{field.json_name}")
        elif field.type == F.TYPE_ENUM:
            assert documented["enum"] == [v.name for v in field.enum_type.values], field.full_name
        else:
            expected = {F.TYPE_STRING: "string", F.TYPE_BOOL: "boolean", F.TYPE_INT32: "integer"}[field.type]
            assert documented["type"] == expected, field.full_name


def test_every_board_event_message_is_in_the_proto_and_the_asyncapi_file():
    from coop.board.v1 import events_pb2 as board_events_pb2

    spec = _board_spec()
    declared = set(board_events_pb2.DESCRIPTOR.message_types_by_name) - BOARD_PARTS
    assert declared == set(BOARD_EVENTS.values())
    assert set(spec["channels"]) == set(BOARD_EVENTS)
    for routing_key, message in BOARD_EVENTS.items():
        channel = spec["channels"][routing_key]
        assert channel["bindings"]["amqp"]["exchange"]["name"] == "board.events"
        assert channel["subscribe"]["message"]["$ref"].rsplit("/", 1)[-1] == message
        documented = spec["components"]["messages"][message]
        event_type = f"coop.board.{routing_key}.v1"
        assert documented["name"] == event_type
        assert documented["x-personal-data"] == [], "board events carry pseudonymous ids only"
        body = documented["payload"]["allOf"][1]["properties"]
        assert body["type"] == {"const": event_type}
        _check_board_schema(spec, body["data"], board_events_pb2.DESCRIPTOR.message_types_by_name[message], message)


def _filled(message, depth: int = 0):
    """Every field of the message set to a non-default value (lists of two)."""
    from google.protobuf.descriptor import FieldDescriptor as F

    if message.DESCRIPTOR.full_name == "google.protobuf.Timestamp":
        message.seconds = 1_780_000_000
        return message
    if message.DESCRIPTOR.full_name == "google.type.Date":
        message.year, message.month, message.day = 2026, 6, 30
        return message
    def value(field):
        if field.type == F.TYPE_ENUM:
            return field.enum_type.values[-1].number
        return {F.TYPE_STRING: "x-1", F.TYPE_BOOL: True, F.TYPE_INT32: 3}[field.type]

    for field in message.DESCRIPTOR.fields:
        if field.is_repeated:
            target = getattr(message, field.name)
            for _ in range(2):
                if field.type == F.TYPE_MESSAGE:
                    _filled(target.add(), depth + 1)
                else:
                    target.append(value(field))
        elif field.type == F.TYPE_MESSAGE:
            _filled(getattr(message, field.name), depth + 1)
        else:
            setattr(message, field.name, value(field))
    return message


def test_board_events_as_published_validate_against_their_asyncapi_schemas():
    """What the outbox writes (make_envelope: CloudEvents, the proto3 JSON mapping of
    coop_platform.envelope), for an empty and a fully filled message of each event."""
    import jsonschema

    from coop.board.v1 import events_pb2 as board_events_pb2
    from coop_platform.envelope import make_envelope

    spec = _board_spec()
    for routing_key, message in BOARD_EVENTS.items():
        schema = {"$ref": f"#/components/messages/{message}/payload", "components": spec["components"]}
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema)
        cls = getattr(board_events_pb2, message)
        for sample in (cls(), _filled(cls())):
            envelope = make_envelope("board", routing_key, sample, subject="s-1")
            errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(envelope)]
            assert not errors, f"{routing_key}: {errors}"


#: `return "<routing key>", <module>.<Message>(` in a family's translator (events_out_<family>.py)
BOARD_EMITTED = re.compile(r'"([a-z_]+\.[a-z_]+)",\s*(?:events_pb2|ev|pb)\.([A-Z]\w+)\(')


def test_every_board_event_the_service_emits_is_documented():
    """Read from the translators themselves: a family that adds an event (a translator registered
    on events_out.translate) without adding it to BOARD_EVENTS, and so to the AsyncAPI file and
    docs/events.md, fails here."""
    from coop_board.adapters.events_out import translate

    adapters = ROOT / "services/board/coop_board/adapters"
    emitted: dict[str, str] = {}
    for source in sorted(adapters.glob("events_out*.py")):
        for routing_key, message in BOARD_EMITTED.findall(source.read_text()):
            assert emitted.setdefault(routing_key, message) == message, f"{routing_key} in {source.name}"
    assert emitted == BOARD_EVENTS
    # one translator per event (the base function handles `object` and refuses it)
    translated = set(translate.registry) - {object}
    assert len(translated) == len(BOARD_EVENTS), sorted(t.__name__ for t in translated)


def test_every_board_event_is_listed_for_subscribers():
    text = (ROOT / "docs/events.md").read_text()
    for routing_key, message in BOARD_EVENTS.items():
        assert f"| {routing_key} | {message} |" in text


ELECTIONS_EVENTS = {
    "election.opened": "ElectionOpened",
    "election.roll_frozen": "RollFrozen",
    "election.closing_soon": "ElectionClosingSoon",
    "election.voted": "VoterVoted",
    "election.results_published": "ResultsPublished",
}
ELECTIONS_PARTS = {"ElectedSeat"}  # a part of ResultsPublished, not an event of its own


def test_every_elections_event_message_is_in_the_proto_and_the_asyncapi_file():
    from coop.elections.v1 import events_pb2 as elections_events_pb2

    spec = yaml.load((ROOT / "docs/asyncapi-elections.yaml").read_text(), Loader=_StrictLoader)
    declared = set(elections_events_pb2.DESCRIPTOR.message_types_by_name) - ELECTIONS_PARTS
    assert declared == set(ELECTIONS_EVENTS.values())
    assert set(spec["channels"]) == set(ELECTIONS_EVENTS)
    for routing_key, message in ELECTIONS_EVENTS.items():
        assert spec["channels"][routing_key]["subscribe"]["message"]["$ref"].rsplit("/", 1)[-1] == message
        documented = spec["components"]["messages"][message]
        assert documented["name"] == f"coop.elections.{routing_key}.v1"
        fields = elections_events_pb2.DESCRIPTOR.message_types_by_name[message].fields
        assert set(documented["payload"]["properties"]) == {f.json_name for f in fields}, message


def test_every_elections_event_the_service_emits_is_documented():
    source = (ROOT / "services/elections/coop_elections/adapters/events_out.py").read_text()
    assert set(re.findall(r'"(election\.[a-z_]+)"', source)) == set(ELECTIONS_EVENTS)


def test_every_elections_event_is_listed_for_subscribers():
    text = (ROOT / "docs/events.md").read_text()
    for routing_key, message in ELECTIONS_EVENTS.items():
        assert f"| {routing_key} | {message} |" in text
