"""Billing's projection of membership events: each part only from a newer event (a late or
re-published older event never undoes a newer one), and member.erased leaves no name behind.
On PostgreSQL (the service's database) and on SQLite (make run's)."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, text

from coop.billing.v1 import billing_pb2 as pb
from coop_billing.entrypoints import grpc_api, membership_events
from coop_platform.config import Settings
from coop_platform.envelope import make_envelope
from coop_platform.migrations import upgrade
from coop_testkit import cooperative_today

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _at(envelope: dict, minutes: int) -> dict:
    envelope["time"] = (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")
    return envelope


def _updated(member_id: str, given: str, family: str, minutes: int) -> dict:
    return _at(make_envelope("membership", "member.updated", {"member": {
        "memberId": member_id, "memberNumber": "M000321", "givenName": given, "familyName": family,
        "preferredLanguage": "nl"}, "changedFields": ["given_name"]}, subject=member_id), minutes)


def _status(member_id: str, status: str, good: bool, minutes: int) -> dict:
    return _at(make_envelope("membership", "member.status_changed", {
        "memberId": member_id, "memberNumber": "M000321", "toStatus": status, "inGoodStanding": good},
        subject=member_id), minutes)


def _erased(member_id: str, minutes: int) -> dict:
    return _at(make_envelope("membership", "member.erased", {
        "memberId": member_id, "memberNumber": "M000321",
        "erasedAt": (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")},
        subject=member_id), minutes)


def _apply(uow_factory, envelope: dict) -> bool:
    """The worker's way: parsed into a typed fact, handled once (process_once)."""
    name = envelope["type"].split(".", 2)[2].rsplit(".", 1)[0]
    return membership_events.handle(uow_factory, name, envelope)


@pytest.fixture(params=["postgresql", "sqlite"])
def projection(request, svc, tmp_path):
    """(uow factory, engine) of a billing database: the service's PostgreSQL, or a SQLite file."""
    if request.param == "postgresql":
        yield svc.uow_factory, svc.engine
        return
    url = f"sqlite:///{tmp_path}/billing.db"
    upgrade("billing", url)
    engine, _register, uow_factory = grpc_api.build(Settings(service_name="billing", database_url=url))
    with contextlib.closing(engine.connect()):
        yield uow_factory, engine
    engine.dispose()


def _member(engine, member_id: str):
    with engine.connect() as conn:
        return conn.execute(text("SELECT status, in_good_standing, given_name, family_name, member_number "
                                 "FROM members WHERE member_id = :m"), {"m": member_id}).one()


def test_an_older_status_or_name_arriving_late_never_overrides_a_newer_one(projection):
    uow_factory, engine = projection
    member_id = str(uuid.uuid4())
    assert _apply(uow_factory, _status(member_id, "MEMBER_STATUS_SUSPENDED", False, 20))
    assert _apply(uow_factory, _updated(member_id, "Anna", "Newer", 20))
    # re-published older events (new ids, older times): each is processed, and changes nothing
    assert _apply(uow_factory, _status(member_id, "MEMBER_STATUS_ACTIVE", True, 10))
    assert _apply(uow_factory, _updated(member_id, "Anna", "Older", 10))
    assert tuple(_member(engine, member_id)) == ("suspended", False, "Anna", "Newer", "M000321")
    assert _apply(uow_factory, _status(member_id, "MEMBER_STATUS_ACTIVE", True, 30))
    assert tuple(_member(engine, member_id))[:2] == ("active", True)


def test_after_erasure_no_event_puts_the_names_back(projection):
    uow_factory, engine = projection
    member_id = str(uuid.uuid4())
    assert _apply(uow_factory, _updated(member_id, "Anna", "Vandenbroucke", 10))
    assert _apply(uow_factory, _erased(member_id, 20))
    assert _apply(uow_factory, _updated(member_id, "Anna", "Vandenbroucke", 15))  # an older one, late
    assert _apply(uow_factory, _updated(member_id, "Anna", "Vandenbroucke", 25))  # even a newer one
    assert tuple(_member(engine, member_id)) == ("active", False, "", "", "M000321")


def test_after_member_erased_no_billing_table_holds_the_members_name(svc, h):
    tag = uuid.uuid4().hex[:8]
    given, family = f"Zebulon{tag}", f"Quixote{tag}"
    member = h.admit(svc, given=given, family=family, language="en")
    act = h.funded_activity(svc, member, 1_000_000)
    svc.stub.RequestContract(pb.RequestContractRequest(
        member_id=member.member_id, activity_id=act.activity_id, terms=h.terms()), metadata=member.md)
    year = cooperative_today().year
    named = svc.stub.GetStatement(pb.GetStatementRequest(member_id=member.member_id, year=year), metadata=h.ADMIN)
    assert f"{given} {family}" in named.text
    with svc.engine.begin() as conn:  # the relay published the member's share_fee.billed
        conn.execute(text("UPDATE outbox SET published_at = now() WHERE body LIKE :s"),
                     {"s": f'%"subject":"{member.member_id}"%'})
    assert svc.outbox(subject=member.member_id)
    erased = make_envelope("membership", "member.erased", {
        "memberId": member.member_id, "memberNumber": member.number,
        "erasedAt": datetime.now(UTC).isoformat().replace("+00:00", "Z")}, subject=member.member_id)
    assert _apply(svc.uow_factory, erased)
    with svc.engine.connect() as conn:
        columns = [(t, c["name"]) for t in inspect(conn).get_table_names()
                   for c in inspect(conn).get_columns(t) if str(c["type"]).startswith(("VARCHAR", "TEXT"))]
        holding = [(t, c) for t, c in columns
                   if conn.execute(text(f'SELECT count(*) FROM "{t}" WHERE "{c}" LIKE :n OR "{c}" LIKE :f'),
                                   {"n": f"%{given}%", "f": f"%{family}%"}).scalar_one()]
    assert holding == []
    assert svc.outbox(subject=member.member_id) == []  # its own published events about the member: gone
    statement = svc.stub.GetStatement(pb.GetStatementRequest(member_id=member.member_id, year=year),
                                      metadata=h.ADMIN)
    assert member.number in statement.text and given not in statement.text
    assert statement.net_cents == named.net_cents  # the figures stay
