"""Property-based bad input (hypothesis) to every membership RPC, with an admin token.

Requests are built from the protobuf descriptors: every field gets random text (unicode,
control characters, huge), random integers (negative, huge), random enum numbers (unknown
ones too), nested messages and repeated fields, mixed with plausible values (real member ids
and numbers, valid emails, countries...) so that calls also get deep into the service.
Whatever comes in: the status is never UNKNOWN or INTERNAL, the server keeps serving, and a
refused call writes nothing. SQLite keeps it fast.
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import FieldDescriptor as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coop.membership.v1 import membership_pb2 as pb
from coop_membership.domain.model import EDITABLE_FIELDS
from coop_testkit import postgres_database

SERVICE = pb.DESCRIPTOR.services_by_name["MembershipService"]
# UNAVAILABLE: the database is up; RESOURCE_EXHAUSTED: no request here is near the size limits.
BUGS = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.RESOURCE_EXHAUSTED}
THIS_YEAR = datetime.now(UTC).year
HUGE = ["x" * 100_000, "é" * 40_000, "\x00" * 1_000, "M" + "9" * 5_000, "🏳️‍🌈" * 5_000, "a@" + "b" * 300 + ".org"]
INT_EDGES = [0, 1, -1, 2**31 - 1, -(2**31), 1989, 1990, 2025, 2026, 2027, 2200, 3000, 2999, 90, 366, 367]
INT64_EDGES = [*INT_EDGES, 2**63 - 1, -(2**63), 10_000_000, 10_000_001]


def _token(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def _seeded(h, url, backend):
    """A server with members in every situation, for plausible ids and numbers."""
    with h.running_service(url, backend) as svc:
        members = [h.register(svc, admit=False), h.register(svc), h.register(svc), h.register(svc)]
        stub, admin = svc.stub, h.ADMIN
        for m, ref in ((members[1], "INV-1"), (members[2], "INV-2")):
            stub.RecordSharePayment(pb.RecordSharePaymentRequest(
                member_id=m.member_id, year=THIS_YEAR, amount_cents=3000, payment_reference=ref), metadata=admin)
        for m in members[2:]:
            stub.ChangeStatus(pb.ChangeStatusRequest(member_id=m.member_id, status=pb.MEMBER_STATUS_RESIGNED),
                              metadata=admin)
        stub.ErasePersonalData(pb.EraseRequest(member_id=members[3].member_id, reason="asked"), metadata=admin)
        svc.seeded = members
        yield svc


@pytest.fixture(scope="module")
def bad_input_svc(h, tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('bad-input') / 'membership.db'}"
    yield from _seeded(h, url, "sqlite")


def _plausible_strings(members):
    ids = [m.member_id for m in members] + [str(uuid.uuid4()), "00000000-0000-0000-0000-000000000000"]
    numbers = [m.member_number for m in members] + ["M000001", "m1", "M", "M²", "M" + "9" * 11, "M-1"]
    emails = [m.email for m in members if m.email] + ["ok@example.org", "a\x00@b.org", "x@y", "@", "é@é.be"]
    return {
        "member_id": ids, "member_number": numbers, "email": emails,
        "given_name": ["Ada", "", " ", "a\tb", "x" * 101], "family_name": ["Lovelace", "", "Ö" * 100],
        "phone": ["+32 2 555 12 12", "12", "+" + "1" * 30], "street": ["Rue 1", "s" * 201],
        "postal_code": ["1000", "p" * 21], "city": ["Bruxelles", ""],
        "country": ["BE", "be", "XX", "VF", "", "B"], "country_of_residence": ["BE", "nl", "XX", "", "ZZZ"],
        "countries": ["BE", "fr", "", "x" * 500], "languages": ["fr", "NL", "de", "", "x" * 500],
        "preferred_language": ["fr", "nl", "en", "EN", "de", ""],
        "joined_on": ["2020-01-01", "2999-01-01", "2020-02-30", "0001-01-01", "today", "2020-1-1"],
        "update_paths": [*EDITABLE_FIELDS, "status", "member_no", "erased", ""],
        "page_token": [_token("m:1"), _token("m:0"), _token("m:" + "9" * 30), _token("m:-1"), _token("x:1"), "=",
                       _token("m:²")],
        "good_standing": ["true", "false", "", "TRUE", "maybe", " true "],
        "query": ["M000001", "Ada", "%", "_", "\\", "a" * 100, "a" * 101, "m²"],
        "reason": ["", "because", "r" * 501], "payment_reference": ["INV-1", "INV-2", "", "p" * 101, " "],
    }


def _strings(name, plausible):
    return st.one_of(st.text(max_size=60), st.text(st.characters(codec="utf-8"), max_size=300),
                     st.sampled_from(HUGE), st.sampled_from(plausible.get(name, [""])),
                     st.sampled_from(plausible.get(name, [""])))


def _scalar(field, plausible, depth):  # noqa: C901 - one branch per protobuf type
    if field.type == F.TYPE_STRING:
        return _strings(field.name, plausible)
    if field.type == F.TYPE_BOOL:
        return st.booleans()
    if field.type == F.TYPE_INT32:
        return st.one_of(st.integers(-(2**31), 2**31 - 1), st.sampled_from(INT_EDGES))
    if field.type == F.TYPE_INT64:
        return st.one_of(st.integers(-(2**63), 2**63 - 1), st.sampled_from(INT64_EDGES))
    if field.type == F.TYPE_ENUM:
        known = [v.number for v in field.enum_type.values]
        return st.one_of(st.sampled_from(known), st.sampled_from(known), st.integers(-(2**31), 2**31 - 1))
    raise AssertionError(f"no strategy for {field.full_name}")


def _bases(members):
    """A valid request per message type: mutating one or two of its fields probes deep paths."""
    ids = st.sampled_from([m.member_id for m in members])
    unique_email = st.uuids().map(lambda u: f"{u.hex}@example.org")
    unique_ref = st.uuids().map(lambda u: f"INV-{u.hex[:12]}")
    return {
        "MemberDraft": dict(given_name=st.just("Ada"), family_name=st.just("Byron"), email=unique_email,
                            country_of_residence=st.just("BE"), preferred_language=st.just("fr"),
                            category=st.just(pb.MEMBER_CATEGORY_USER)),
        "RegisterMemberRequest": dict(admit=st.booleans()),
        "UpdateMemberRequest": dict(member_id=ids, update_paths=st.just(["phone", "email"])),
        "ChangeStatusRequest": dict(member_id=ids, status=st.sampled_from(range(1, 6)), reason=st.just("r")),
        "SubscribeShareRequest": dict(member_id=ids, year=st.just(THIS_YEAR)),
        "RecordSharePaymentRequest": dict(member_id=ids, year=st.sampled_from([THIS_YEAR, THIS_YEAR - 1]),
                                          amount_cents=st.just(3000), payment_reference=unique_ref),
        "SetShareYearRequest": dict(year=st.just(THIS_YEAR + 1), amount_cents=st.just(3000),
                                    grace_days=st.just(90)),
        "ImportRow": dict(line=st.integers(1, 10), status=st.just(pb.MEMBER_STATUS_ACTIVE)),
        "ListMembersRequest": dict(page_size=st.just(10)),
        "GetMemberRequest": dict(member_id=ids),
        "EraseRequest": dict(member_id=ids, reason=st.just("asked")),
        "RefundSharesRequest": dict(member_id=ids, reason=st.just("left")),
        "ListSharesRequest": dict(member_id=ids),
    }


def message_strategy(descriptor, plausible, depth=0, bases=None):
    cls = message_factory.GetMessageClass(descriptor)  # google.type.Date too: random calendar dates
    random_fields, base_fields = {}, {}
    base = (bases or {}).get(descriptor.name)
    for field in descriptor.fields:
        if field.type == F.TYPE_MESSAGE and field.message_type.full_name.startswith("google.protobuf"):
            continue
        value = (message_strategy(field.message_type, plausible, depth + 1, bases)
                 if field.type == F.TYPE_MESSAGE else _scalar(field, plausible, depth))
        if field.is_repeated:
            value = st.lists(value, max_size=4 if depth < 2 else 1)
        random_fields[field.name] = st.one_of(st.none(), value) if depth < 3 else st.none()
        if base is not None:
            base_fields[field.name] = base.get(field.name, value if field.type == F.TYPE_MESSAGE else st.none())

    def build(d):
        return cls(**{k: v for k, v in d.items() if v is not None})

    fully_random = st.fixed_dictionaries(random_fields).map(build)
    if base is None:
        return fully_random
    mutated = st.sets(st.sampled_from(sorted(random_fields)), max_size=2).flatmap(
        lambda keys: st.fixed_dictionaries(
            {k: (random_fields[k] if k in keys else base_fields[k]) for k in random_fields}).map(build))
    return st.one_of(fully_random, mutated, mutated)


@pytest.fixture(scope="module")
def bad_input_pg_svc(h):
    with postgres_database("coop_membership_bad_input") as url:
        yield from _seeded(h, url, "postgresql")


def _check_one_random_request(svc, h, method, data):
    descriptor = SERVICE.methods_by_name[method]
    plausible = _plausible_strings(svc.seeded)
    strategy = message_strategy(descriptor.input_type, plausible, bases=_bases(svc.seeded))
    request = data.draw(strategy, label="request")
    before = svc.counts()
    try:
        h.call(svc, method, request)
    except grpc.RpcError as err:
        assert err.code() not in BUGS, f"{method} -> {err.code().name}: {err.details()}"
        assert svc.counts() == before, f"{method} refused with {err.code().name} but wrote rows"


@pytest.mark.parametrize("method", [m.name for m in SERVICE.methods])
@settings(max_examples=70, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_random_requests_never_give_unknown_or_internal_and_refusals_write_nothing(bad_input_svc, h, method, data):
    _check_one_random_request(bad_input_svc, h, method, data)


@pytest.mark.parametrize("method", [m.name for m in SERVICE.methods])
@settings(max_examples=12, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_random_requests_on_postgresql_never_give_unknown_or_internal(bad_input_pg_svc, h, method, data):
    """A shorter run on PostgreSQL, which refuses some text (NUL) and numbers SQLite takes."""
    _check_one_random_request(bad_input_pg_svc, h, method, data)


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_import_streams_of_random_chunks_are_all_or_nothing(bad_input_svc, h, data):
    svc = bad_input_svc
    plausible = _plausible_strings(svc.seeded)
    chunk = message_strategy(pb.ImportMembersChunk.DESCRIPTOR, plausible, bases=_bases(svc.seeded))
    chunks = data.draw(st.lists(chunk, max_size=4))
    before = svc.counts()
    try:
        report = svc.stub.ImportMembers(iter(chunks), metadata=h.ADMIN, timeout=30)
    except grpc.RpcError as err:
        assert err.code() not in BUGS, f"ImportMembers -> {err.code().name}: {err.details()}"
        assert svc.counts() == before
        return
    if not report.committed:
        assert svc.counts() == before
        assert report.errors or (chunks and chunks[0].dry_run)
    else:
        assert svc.counts()["members"] == before["members"] + report.rows_imported


def test_after_all_that_the_server_still_serves(bad_input_svc, h):
    svc = bad_input_svc
    m = svc.seeded[1]
    assert svc.stub.GetMember(pb.GetMemberRequest(member_id=m.member_id), metadata=h.ADMIN).member_id == m.member_id
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    status = health_pb2_grpc.HealthStub(svc.channel).Check(health_pb2.HealthCheckRequest(), timeout=5).status
    assert status == health_pb2.HealthCheckResponse.SERVING
