"""The General Assembly over gRPC on PostgreSQL: scheduling with the statutory agenda, workshops,
convening (notice period), the convocation job, registrations with waiting lists, cancellation
and promotion, check-in and attendance figures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import grpc
import pytest
from board_assembly_helpers import RULES, TOKENS, AssemblyApi, assembly_api, member_token, when
from board_svc_helpers import START

from coop.board.v1 import assembly_pb2 as pb
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer import assembly as use_cases
from coop_board.service_layer.assembly_hooks import assembly_summary, refer_initiative_to_assembly
from coop_platform.rich_status import details_of

IN_PERSON, REMOTE = pb.ASSEMBLY_ATTENDANCE_IN_PERSON, pb.ASSEMBLY_ATTENDANCE_REMOTE


@pytest.fixture(scope="module")
def api() -> Iterator[AssemblyApi]:
    with assembly_api() as running:
        running.add_members(60)
        yield running


@pytest.fixture(autouse=True)
def _clock(api: AssemblyApi) -> None:
    api.clock.set(START)


def _refused(call, *args, **kw) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as exc:
        call(*args, **kw)
    return exc.value.code(), details_of(exc.value).reason


def test_a_scheduled_assembly_carries_the_statutory_items_and_the_board_election(api: AssemblyApi) -> None:
    a = api.schedule()
    kinds = [i.kind for i in a.agenda]
    assert kinds == [pb.ASSEMBLY_ITEM_KIND_APPROVE_ACCOUNTS, pb.ASSEMBLY_ITEM_KIND_DISCHARGE_DIRECTORS,
                     pb.ASSEMBLY_ITEM_KIND_BOARD_ELECTION]
    assert a.agenda[2].ref == "election-2027" and a.status == pb.ASSEMBLY_STATUS_SCHEDULED
    assert all(i.title.fr and i.title.nl and i.title.en for i in a.agenda)
    [event] = api.events("assembly.scheduled", assemblyId=a.assembly_id)
    assert event["electionId"] == "election-2027" and event["place"] == "Brussels"


def test_an_initiative_referred_before_the_assembly_is_scheduled_joins_its_agenda(api: AssemblyApi) -> None:
    title = LocalizedText(fr="Initiative", nl="Initiatief", en="Initiative")
    uow = api.uow_factory()
    with uow:  # tenant "other" has no Assembly yet: the referral waits for the next one
        assert refer_initiative_to_assembly(uow, "other", "init-1", title, START) is None
        uow.commit()
    a = api.schedule(token="other")
    assert [(i.kind, i.ref) for i in a.agenda][-1] == (pb.ASSEMBLY_ITEM_KIND_INITIATIVE, "init-1")
    with uow:
        assert refer_initiative_to_assembly(uow, "other", "init-2", title, START) == a.assembly_id
        assert refer_initiative_to_assembly(uow, "other", "init-1", title, START) == a.assembly_id  # once
        uow.commit()
    with uow:
        summary = assembly_summary(uow, "other", a.assembly_id)
        assert summary is not None and summary.status == "scheduled" and summary.title.nl.endswith("(nl)")
        assert assembly_summary(uow, "coop", a.assembly_id) is None
    again = api.stub.GetAssembly(pb.GetAssemblyRequest(assembly_id=a.assembly_id), metadata=TOKENS["other"]).assembly
    assert [i.ref for i in again.agenda if i.kind == pb.ASSEMBLY_ITEM_KIND_INITIATIVE] == ["init-1", "init-2"]


def test_registration_seats_up_to_capacity_then_waits_in_arrival_order(api: AssemblyApi) -> None:
    a = api.schedule()
    w = api.workshop(a, capacity=2)
    answers = [api.register(a.assembly_id, n, (w.workshop_id,)) for n in range(1, 5)]
    places = [r.registration.workshops[0] for r in answers]
    assert [(p.seated, p.waiting_position) for p in places] == [(True, 0), (True, 0), (False, 1), (False, 2)]
    assert all(len(r.check_in_code) == 14 for r in answers)
    listed = api.stub.ListWorkshopRegistrations(pb.ListWorkshopRegistrationsRequest(
        assembly_id=a.assembly_id, workshop_id=w.workshop_id, page_size=3), metadata=TOKENS["secretary"])
    assert [x.member_id for x in listed.attendees] == ["mem-1", "mem-2", "mem-3"] and listed.next_page_token
    assert listed.workshop.seated == 2 and listed.workshop.waiting == 2
    rest = api.stub.ListWorkshopRegistrations(pb.ListWorkshopRegistrationsRequest(
        assembly_id=a.assembly_id, workshop_id=w.workshop_id, page_size=3, page_token=listed.next_page_token),
        metadata=TOKENS["secretary"])
    assert [(x.member_id, x.waiting_position) for x in rest.attendees] == [("mem-4", 2)]


def test_registering_twice_is_already_registered(api: AssemblyApi) -> None:
    a = api.schedule()
    api.register(a.assembly_id, 7)
    assert _refused(api.register, a.assembly_id, 7) == (grpc.StatusCode.ALREADY_EXISTS, "ALREADY_REGISTERED")


def test_cancelling_a_seat_promotes_the_first_waiting_member(api: AssemblyApi) -> None:
    a = api.schedule()
    w = api.workshop(a, capacity=1)
    first = api.register(a.assembly_id, 1, (w.workshop_id,))
    api.register(a.assembly_id, 2, (w.workshop_id,))
    api.register(a.assembly_id, 3, (w.workshop_id,))
    cancelled = api.stub.CancelAssemblyRegistration(pb.CancelAssemblyRegistrationRequest(
        registration_id=first.registration.registration_id), metadata=member_token(1))
    assert cancelled.registration.HasField("cancelled_at")
    [promotion] = cancelled.promotions
    mine = api.stub.GetMyAssemblyRegistration(pb.GetMyAssemblyRegistrationRequest(assembly_id=a.assembly_id),
                                              metadata=member_token(2)).registration
    assert promotion.registration_id == mine.registration_id and mine.workshops[0].seated
    third = api.stub.GetMyAssemblyRegistration(pb.GetMyAssemblyRegistrationRequest(assembly_id=a.assembly_id),
                                               metadata=member_token(3)).registration
    assert third.workshops[0].waiting_position == 1
    [event] = api.events("assembly.workshop_promoted", registrationId=mine.registration_id)
    assert event["memberId"] == "mem-2" and event["workshopId"] == w.workshop_id


def test_check_in_and_attendance_figures(api: AssemblyApi) -> None:
    a = api.schedule()
    w = api.workshop(a, capacity=1)
    present = api.register(a.assembly_id, 1, (w.workshop_id,))
    api.register(a.assembly_id, 2, (w.workshop_id,))
    api.register(a.assembly_id, 3, attendance=REMOTE)
    checked = api.stub.CheckInAtAssembly(pb.CheckInAtAssemblyRequest(
        assembly_id=a.assembly_id, check_in_code=present.check_in_code.lower()), metadata=TOKENS["secretary"])
    assert checked.registration.HasField("checked_in_at")
    assert _refused(api.stub.CheckInAtAssembly, pb.CheckInAtAssemblyRequest(
        assembly_id=a.assembly_id, check_in_code=present.check_in_code), metadata=TOKENS["secretary"]) == (
        grpc.StatusCode.FAILED_PRECONDITION, "ALREADY_CHECKED_IN")
    f = api.stub.GetAttendanceFigures(pb.GetAttendanceFiguresRequest(assembly_id=a.assembly_id),
                                      metadata=TOKENS["director"])
    assert (f.registered, f.in_person_registered, f.in_person_present, f.remote) == (3, 2, 1, 1)
    [wf] = f.workshops
    assert (wf.capacity, wf.seated, wf.waiting, wf.present) == (1, 1, 1, 1)


def test_convening_too_late_for_the_notice_is_refused_and_writes_nothing(api: AssemblyApi) -> None:
    a = api.schedule(starts_in=timedelta(days=20))
    api.clock.set(when(6))  # 14 days before: the 15-day notice can no longer be met
    before = api.counts()
    assert _refused(api.stub.ConveneAssembly, pb.ConveneAssemblyRequest(assembly_id=a.assembly_id),
                    metadata=TOKENS["secretary"]) == (grpc.StatusCode.FAILED_PRECONDITION, "NOTICE_PERIOD_TOO_SHORT")
    assert api.counts() == before


def test_the_convocation_reaches_every_member_once_in_their_language(api: AssemblyApi) -> None:
    a = api.schedule()
    convened = api.stub.ConveneAssembly(pb.ConveneAssemblyRequest(assembly_id=a.assembly_id),
                                        metadata=TOKENS["secretary"]).assembly
    assert convened.status == pb.ASSEMBLY_STATUS_CONVENING and convened.convocation.sent == 0
    total = convened.convocation.total
    assert total >= 60
    while use_cases.send_convocations(api.uow_factory(), START, RULES) is not None:
        pass
    done = api.stub.GetAssembly(pb.GetAssemblyRequest(assembly_id=a.assembly_id), metadata=TOKENS["member"]).assembly
    assert done.status == pb.ASSEMBLY_STATUS_CONVENED and done.convocation.sent == total
    events = api.events("assembly.convened", assemblyId=a.assembly_id)
    assert len(events) == len({e["memberId"] for e in events}) == total
    by_member = {e["memberId"]: e for e in events}
    assert by_member["mem-2"]["language"] == "nl" and by_member["mem-2"]["title"].endswith("(nl)")
    assert by_member["mem-4"]["language"] == "fr"  # language unknown: the fallback
    assert by_member["mem-3"]["documents"] == [{"title": "Accounts (en)",
                                                "reference": "https://coop.example/en/accounts.pdf"}]
    assert by_member["mem-3"]["agenda"] == [i.title.en for i in done.agenda]
    assert _refused(api.stub.ConveneAssembly, pb.ConveneAssemblyRequest(assembly_id=a.assembly_id),
                    metadata=TOKENS["secretary"]) == (grpc.StatusCode.FAILED_PRECONDITION, "ASSEMBLY_ALREADY_CONVENED")
    assert use_cases.send_convocations(api.uow_factory(), START, RULES) is None  # nothing left: nothing sent again
    assert len(api.events("assembly.convened", assemblyId=a.assembly_id)) == total


def test_the_sql_projection_keeps_the_newest_language_and_pages_the_members(api: AssemblyApi) -> None:
    uow = api.uow_factory()
    with uow:
        uow.members.project("lang-1", START + timedelta(hours=1), language="en")
        uow.members.project("lang-1", START, status="active", in_good_standing=True, language="fr")
        uow.members.project("lang-2", START, status="resigned", in_good_standing=False, language="nl")
        uow.commit()
    with uow:
        standing = uow.members.standing("lang-1")
        assert standing is not None and (standing.language, standing.status) == ("en", "active")
        page = uow.members.page("coop", "lang-0", 5, good_standing_only=True)
        assert [m.member_id for m in page][:1] == ["lang-1"]  # lang-2 resigned: no longer convened
        # the 60 members of the module and lang-1, all in good standing; lang-2 no longer a member
        assert uow.members.count("coop", good_standing_only=False) == uow.members.count(
            "coop", good_standing_only=True) == 61
        uow.members.project("lang-1", START + timedelta(hours=2), status="erased", in_good_standing=False)
        uow.commit()
    with uow:
        erased = uow.members.standing("lang-1")
        assert erased is not None and erased.language is None


def test_a_seat_left_free_while_members_wait_goes_to_the_first_waiting(api: AssemblyApi) -> None:
    from sqlalchemy import update

    from coop_board.adapters.orm_assembly import places, seats

    a = api.schedule()
    w = api.workshop(a, capacity=1)
    api.register(a.assembly_id, 1, attendance=REMOTE)  # no workshop: only to keep the member ids apart
    api.register(a.assembly_id, 2, (w.workshop_id,), attendance=REMOTE)
    api.register(a.assembly_id, 3, (w.workshop_id,), attendance=REMOTE)
    # as if the seat's first taker had been rolled back after mem-2 and mem-3 skipped it
    with api.engine.begin() as conn:
        conn.execute(update(seats).where(seats.c.workshop_id == w.workshop_id).values(registration_id=None))
        conn.execute(update(places).where(places.c.workshop_id == w.workshop_id).values(seated=False))
    assert use_cases.settle_workshops(api.uow_factory(), START) == 1
    assert use_cases.settle_workshops(api.uow_factory(), START) == 0  # run again: nothing more
    listed = api.stub.ListWorkshopRegistrations(pb.ListWorkshopRegistrationsRequest(
        assembly_id=a.assembly_id, workshop_id=w.workshop_id), metadata=TOKENS["secretary"]).attendees
    assert [(x.member_id, x.seated, x.waiting_position) for x in listed] == [("mem-2", True, 0), ("mem-3", False, 1)]
    assert [e["memberId"] for e in api.events("assembly.workshop_promoted", workshopId=w.workshop_id)] == ["mem-2"]


def test_concurrent_registrations_never_seat_over_capacity_and_wait_in_arrival_order(api: AssemblyApi) -> None:
    from concurrent.futures import ThreadPoolExecutor

    a = api.schedule()
    w = api.workshop(a, capacity=5)
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda n: api.register(a.assembly_id, n, (w.workshop_id,), attendance=REMOTE),
                                range(20, 44)))
    places = [r.registration.workshops[0] for r in answers]
    assert sum(p.seated for p in places) == 5
    listed = api.stub.ListWorkshopRegistrations(pb.ListWorkshopRegistrationsRequest(
        assembly_id=a.assembly_id, workshop_id=w.workshop_id), metadata=TOKENS["secretary"])
    assert (listed.workshop.seated, listed.workshop.waiting) == (5, 19)
    assert [x.waiting_position for x in listed.attendees if not x.seated] == list(range(1, 20))
    # two cancellations of one seat at once: one wins, the other finds it cancelled; one promotion
    seated = next(r for r in answers if r.registration.workshops[0].seated).registration
    request = pb.CancelAssemblyRegistrationRequest(registration_id=seated.registration_id)

    def cancel(_: int) -> str:
        try:
            api.stub.CancelAssemblyRegistration(request, metadata=member_token(seated.member_id.removeprefix("mem-")))
            return "ok"
        except grpc.RpcError as exc:
            return details_of(exc).reason
    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(cancel, range(2)))
    assert outcomes == ["ALREADY_CANCELLED", "ok"]
    after = api.stub.ListWorkshopRegistrations(pb.ListWorkshopRegistrationsRequest(
        assembly_id=a.assembly_id, workshop_id=w.workshop_id), metadata=TOKENS["secretary"]).workshop
    assert (after.seated, after.waiting) == (5, 18)
