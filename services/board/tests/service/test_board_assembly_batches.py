"""Registrations arriving together (the api's group commit, `register_many`), on PostgreSQL and
on SQLite as `make run` keeps them: one unit for the batch, a refusal for its caller only, and the
calls' order kept in the seats, the arrival numbers and the waiting lists."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from board_assembly_helpers import RULES, TOKENS, AssemblyApi, assembly_api
from board_svc_helpers import START

from coop.board.v1 import assembly_pb2 as pb
from coop_board.domain.assembly import IN_PERSON, REMOTE
from coop_board.service_layer import assembly as use_cases
from coop_domain.errors import DomainError
from coop_domain.principal import Principal


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AssemblyApi]:
    url = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('assembly-sqlite') / 'board.db'}"
    with assembly_api("coop_board_assembly_batch_test", url=url) as running:
        running.add_members(12)
        running.add_members(1, prefix="lapsed-", good=False)
        yield running


def _member(who: str) -> Principal:
    return Principal(who, "coop", frozenset({"member"}))


def _outcomes(found: list[use_cases.Registered | DomainError]) -> list[str]:
    return [o.reason if isinstance(o, DomainError) else "ok" for o in found]


def _listing(api: AssemblyApi, assembly_id: str, workshop_id: str) -> list[tuple[str, bool, int]]:
    listed = api.stub.ListWorkshopRegistrations(pb.ListWorkshopRegistrationsRequest(
        assembly_id=assembly_id, workshop_id=workshop_id), metadata=TOKENS["secretary"]).attendees
    return [(x.member_id, x.seated, x.waiting_position) for x in listed]


def test_a_batch_seats_and_queues_in_call_order_and_refuses_only_its_bad_calls(api: AssemblyApi) -> None:
    api.clock.set(START)
    a = api.schedule()
    small, large = api.workshop(a, capacity=2), api.workshop(a, capacity=10, hour=10, title="Large")
    both = (small.workshop_id, large.workshop_id)

    def ask(language: str = "fr", attendance: str = REMOTE) -> use_cases.RegistrationRequest:
        return use_cases.RegistrationRequest(a.assembly_id, attendance, language, both)

    calls = [(_member("mem-1"), ask()), (_member("mem-2"), ask(attendance=IN_PERSON)),
             (_member("mem-1"), ask()),                      # twice in one batch
             (_member("lapsed-1"), ask()),                   # not in good standing
             (_member("mem-3"), ask()), (_member("mem-4"), ask("nl")),
             (_member("mem-5"), ask("xx")),                  # no such language
             (Principal("dir-1", "coop", frozenset({"director"})), ask())]
    found = use_cases.register_many(api.uow_factory(), calls, START, RULES)

    assert _outcomes(found) == ["ok", "ok", "ALREADY_REGISTERED", "NOT_IN_GOOD_STANDING", "ok", "ok",
                                "UNKNOWN_LANGUAGE", "ROLE_REQUIRED"]
    made = [o for o in found if isinstance(o, use_cases.Registered)]
    assert [r.registration.member_id for r in made] == ["mem-1", "mem-2", "mem-3", "mem-4"]
    assert [bool(r.check_in_code) for r in made] == [False, True, False, False]  # in person only
    # the small workshop: the first two calls seated, the next two waiting in call order
    assert _listing(api, a.assembly_id, small.workshop_id) == [
        ("mem-1", True, 0), ("mem-2", True, 0), ("mem-3", False, 1), ("mem-4", False, 2)]
    assert [(p.seated, p.waiting_position) for r in made for p in r.registration.places
            if p.workshop_id == small.workshop_id] == [(True, 0), (True, 0), (False, 1), (False, 2)]
    assert all(p.seated for r in made for p in r.registration.places if p.workshop_id == large.workshop_id)
    for workshop in both:  # every place of a workshop its own number, in call order
        arrivals = [p.arrival for r in made for p in r.registration.places if p.workshop_id == workshop]
        assert arrivals == sorted(set(arrivals))
    assert [e["memberId"] for e in api.events("assembly.registered", assemblyId=a.assembly_id)] == [
        "mem-1", "mem-2", "mem-3", "mem-4"]

    # the next batch: a member registered by the first is refused by the database's index, the
    # others queue behind the first batch's waiting members
    again = use_cases.register_many(api.uow_factory(), [(_member("mem-2"), ask()), (_member("mem-6"), ask()),
                                                        (_member("mem-7"), ask())], START, RULES)
    assert _outcomes(again) == ["ALREADY_REGISTERED", "ok", "ok"]
    assert _listing(api, a.assembly_id, small.workshop_id)[4:] == [("mem-6", False, 3), ("mem-7", False, 4)]
    assert len(api.events("assembly.registered", assemblyId=a.assembly_id)) == 6


def test_a_batch_over_two_assemblies_and_an_unknown_one_answers_each_call(api: AssemblyApi) -> None:
    api.clock.set(START)
    first, second = api.schedule(), api.schedule()
    w1, w2 = api.workshop(first, capacity=1), api.workshop(second, capacity=1)
    calls = [(_member("mem-8"), use_cases.RegistrationRequest(first.assembly_id, REMOTE, "fr", (w1.workshop_id,))),
             (_member("mem-8"), use_cases.RegistrationRequest(second.assembly_id, REMOTE, "fr", (w2.workshop_id,))),
             (_member("mem-9"), use_cases.RegistrationRequest(first.assembly_id, REMOTE, "en", (w2.workshop_id,))),
             (_member("mem-10"), use_cases.RegistrationRequest("00000000-0000-4000-8000-000000000000", REMOTE,
                                                                "fr", ())),
             (_member("mem-11"), use_cases.RegistrationRequest(first.assembly_id, REMOTE, "fr", (w1.workshop_id,)))]
    found = use_cases.register_many(api.uow_factory(), calls, START, RULES)
    assert _outcomes(found) == ["ok", "ok", "WORKSHOP_NOT_FOUND", "ASSEMBLY_NOT_FOUND", "ok"]
    assert _listing(api, first.assembly_id, w1.workshop_id) == [("mem-8", True, 0), ("mem-11", False, 1)]
    assert _listing(api, second.assembly_id, w2.workshop_id) == [("mem-8", True, 0)]
