"""The General Assembly's use cases on the in-memory fakes: scheduling with referred initiatives,
the convocation job in batches, registrations with waiting lists and promotion, and a refused
call leaving nothing behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from board_fakes import FakeUnitOfWork
from board_fakes_observers import SECRETARY_ID, StandInRoster

from coop_board.domain.assembly import (
    AssemblyConvened,
    AssemblyRegistered,
    AssemblyRules,
    AssemblyWorkshopPromoted,
)
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer import assembly
from coop_board.service_layer.assembly_hooks import refer_initiative_to_assembly
from coop_domain.errors import AlreadyExists, FailedPrecondition, PermissionDenied
from coop_domain.principal import Principal

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
T = LocalizedText(fr="AG", nl="AV", en="GA")
SECRETARY = Principal(SECRETARY_ID, "coop", frozenset({"secretary", "director"}))
RULES = AssemblyRules(convocation_batch=4)


def member(n: int) -> Principal:
    return Principal(f"m{n:02d}", "coop", frozenset({"member"}))


@pytest.fixture
def uow() -> FakeUnitOfWork:
    u = FakeUnitOfWork()
    u.roster = StandInRoster()  # type: ignore[assignment]
    for n in range(1, 11):
        u.members.set(f"m{n:02d}", "user", good=n != 10, language=("fr", "nl", "en", None)[n % 4])
    return u


def _schedule(uow: FakeUnitOfWork) -> assembly.AssemblyView:
    return assembly.schedule_assembly(uow, SECRETARY, T, NOW + timedelta(days=40), "Brussels",
                                      NOW + timedelta(days=30), "el-1", (), NOW)


def test_an_initiative_referred_while_no_assembly_waits_joins_the_next_one(uow: FakeUnitOfWork) -> None:
    with uow:
        assert refer_initiative_to_assembly(uow, "coop", "init-1", T, NOW) is None
        uow.commit()
    view = _schedule(uow)
    assert [i.ref for i in view.agenda][-1] == "init-1"


def test_an_initiative_titled_in_one_language_is_on_the_agenda_in_all_three(uow: FakeUnitOfWork) -> None:
    """An initiative is titled in its author's language only; the Assembly's agenda (and so the
    convocation in every member's language) shows the author's words where a language lacks."""
    with uow:
        refer_initiative_to_assembly(uow, "coop", "init-nl", LocalizedText(nl="Meer fietsen"), NOW)
        uow.commit()
    item = [i for i in _schedule(uow).agenda if i.ref == "init-nl"][0]
    assert (item.title.fr, item.title.nl, item.title.en) == ("Meer fietsen",) * 3


def test_the_convocation_goes_in_batches_to_every_member_chosen_by_the_setting(uow: FakeUnitOfWork) -> None:
    a = _schedule(uow).assembly
    rules = AssemblyRules(convocation_batch=4, convene_all_members=False)
    assert assembly.convene_assembly(uow, SECRETARY, a.assembly_id, NOW, rules).assembly.convocation_total == 9
    batches = []
    while (batch := assembly.send_convocations(uow, NOW, rules)) is not None:
        batches.append(batch[1])
    assert batches == [4, 4, 1]
    sent = [e for e in uow.published if isinstance(e, AssemblyConvened)]
    assert sorted(e.member_id for e in sent) == [f"m{n:02d}" for n in range(1, 10)]  # m10 not in good standing
    assert {e.member_id: e.language for e in sent}["m03"] == "fr"  # unknown language: the fallback


def test_waiting_lists_move_up_in_arrival_order_when_a_seat_is_freed(uow: FakeUnitOfWork) -> None:
    a = _schedule(uow).assembly
    w = assembly.add_workshop(uow, SECRETARY, a.assembly_id, T, 1, "fr", a.starts_at + timedelta(hours=4),
                              a.starts_at + timedelta(hours=6), NOW).workshop
    regs = [assembly.register(uow, member(n), a.assembly_id, "in_person", "fr", [w.workshop_id], NOW, RULES)[0]
            for n in (1, 2, 3)]
    assert [(r.places[0].seated, r.places[0].waiting_position) for r in regs] == [(True, 0), (False, 1), (False, 2)]
    _, promotions = assembly.cancel_registration(uow, member(1), regs[0].registration_id, NOW)
    assert promotions == [(w.workshop_id, regs[1].registration_id)]
    assert assembly.my_registration(uow, member(3), a.assembly_id).places[0].waiting_position == 1
    promoted = [e for e in uow.published if isinstance(e, AssemblyWorkshopPromoted)]
    assert [e.member_id for e in promoted] == ["m02"]
    assert len([e for e in uow.published if isinstance(e, AssemblyRegistered)]) == 3


def test_a_refused_registration_leaves_nothing_behind(uow: FakeUnitOfWork) -> None:
    a = _schedule(uow).assembly
    assembly.register(uow, member(1), a.assembly_id, "remote", "nl", [], NOW, RULES)
    state, published = uow.assemblies.snapshot(), list(uow.published)
    with pytest.raises(AlreadyExists):
        assembly.register(uow, member(1), a.assembly_id, "remote", "nl", [], NOW, RULES)
    with pytest.raises(FailedPrecondition):
        assembly.register(uow, member(10), a.assembly_id, "remote", "nl", [], NOW, RULES)
    assert uow.assemblies.snapshot() == state and uow.published == published


def test_registration_open_to_all_members_by_setting(uow: FakeUnitOfWork) -> None:
    a = _schedule(uow).assembly
    r, code = assembly.register(uow, member(10), a.assembly_id, "remote", "en", [], NOW,
                                AssemblyRules(registration_all_members=True))
    assert r.member_id == "m10" and code is None


def test_only_the_secretary_in_office_schedules(uow: FakeUnitOfWork) -> None:
    other = Principal("dir-9", "coop", frozenset({"secretary"}))
    with pytest.raises(PermissionDenied):
        assembly.schedule_assembly(uow, other, T, NOW + timedelta(days=40), "x", NOW + timedelta(days=30), "e", (),
                                   NOW)
    assert uow.assemblies.assemblies == {}
