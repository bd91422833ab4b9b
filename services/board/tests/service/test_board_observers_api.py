"""ObserverService on PostgreSQL through gRPC: the seats and waiting list end to end, bad input
named by field and reason with nothing half-written, retries answered once, and the last seat
under concurrent registrations."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta

import grpc
import pytest
from board_fakes_observers import item
from board_observers_helpers import STANDINGS, TOKENS, ObserversApi, member_token, observers_api
from board_svc_helpers import START

from coop.board.v1 import observers_pb2 as pb
from coop_platform.pbtypes import to_timestamp
from coop_platform.rich_status import details_of

SEATED, WAITING, CANCELLED = pb.OBSERVER_STATUS_SEATED, pb.OBSERVER_STATUS_WAITING, pb.OBSERVER_STATUS_CANCELLED
SECRETARY = TOKENS["secretary"]


@pytest.fixture(scope="module")
def api(pg_url: str) -> Iterator[ObserversApi]:
    with observers_api(pg_url) as running:
        yield running


@pytest.fixture(autouse=True)
def _clock(api: ObserversApi) -> None:
    api.clock.set(START)


def refused(call, request, metadata) -> tuple[grpc.StatusCode, str, dict[str, str]]:
    with pytest.raises(grpc.RpcError) as exc:
        call(request, metadata=metadata)
    found = details_of(exc.value)
    return found.code, found.reason, found.field_violations


# -- the whole path ------------------------------------------------------------------------------

def test_seats_then_waiting_list_then_promotion_on_cancel_check_in_with_a_reissued_code(api) -> None:
    meeting_id = api.new_meeting()
    opened = api.open(meeting_id, seats=2)
    assert (opened.session.seats, opened.session.seats_taken) == (2, 0)
    answers = [api.register(meeting_id, n) for n in range(1, 5)]
    assert [a.registration.status for a in answers] == [SEATED, SEATED, WAITING, WAITING]
    assert [a.registration.waiting_position for a in answers] == [0, 0, 1, 2]
    assert all(a.check_in_code for a in answers[:2]) and not any(a.check_in_code for a in answers[2:])

    cancelled = api.stub.CancelObserverRegistration(pb.CancelObserverRegistrationRequest(
        registration_id=answers[0].registration.registration_id), metadata=member_token(1))
    assert cancelled.registration.status == CANCELLED
    promoted_id = answers[2].registration.registration_id
    assert cancelled.promoted_registration_id == promoted_id
    promoted = [e for e in api.events("observer.promoted") if e["registrationId"] == promoted_id]
    assert promoted == [{"registrationId": promoted_id, "tenant": "coop", "meetingId": meeting_id,
                         "memberId": "mem-3", "promotedAt": promoted[0]["promotedAt"]}]

    reissued = api.stub.ReissueCheckInCode(pb.ReissueCheckInCodeRequest(registration_id=promoted_id),
                                           metadata=member_token(3))
    checked = api.stub.CheckInObserver(pb.CheckInObserverRequest(meeting_id=meeting_id,
                                                                 check_in_code=reissued.check_in_code.lower()),
                                       metadata=SECRETARY)
    assert checked.registration.registration_id == promoted_id and checked.registration.HasField("checked_in_at")

    listed = api.stub.ListObservers(pb.ListObserversRequest(meeting_id=meeting_id, include_cancelled=True),
                                    metadata=SECRETARY)
    assert [(r.member_id, r.status, r.waiting_position) for r in listed.registrations] == [
        ("mem-2", SEATED, 0), ("mem-3", SEATED, 0), ("mem-4", WAITING, 1), ("mem-1", CANCELLED, 0)]
    assert (listed.session.seats_taken, listed.session.waiting) == (2, 1)


def test_the_code_is_stored_only_as_a_hash(api) -> None:
    meeting_id = api.new_meeting()
    api.open(meeting_id)
    code = api.register(meeting_id, 1).check_in_code
    with api.engine.connect() as conn:
        dump = "\n".join(str(tuple(row)) for table in ("observer_registrations", "idempotency_keys", "outbox")
                         for row in conn.exec_driver_sql(f"SELECT * FROM {table}"))  # noqa: S608
    assert code and code not in dump and code.replace("-", "") not in dump


def test_the_observer_agenda_never_shows_a_closed_item(api) -> None:
    meeting_id = api.new_meeting(items=(item("o1", 1, "open", "Budget 2028"),
                                        item("c1", 2, "closed", "Dismissal of X"),
                                        item("o2", 3, "open", "Member concern: parking")))
    api.open(meeting_id)
    api.register(meeting_id, 1)
    agenda = api.stub.GetObserverAgenda(pb.GetObserverAgendaRequest(meeting_id=meeting_id),
                                        metadata=member_token(1))
    assert [(i.item_id, i.position, i.title.en) for i in agenda.items] == [("o1", 1, "Budget 2028"),
                                                                             ("o2", 3, "Member concern: parking")]
    assert "Dismissal" not in str(agenda) and "c1" not in [i.item_id for i in agenda.items]


# -- bad input: field and reason, nothing half-written -----------------------------------------------

def test_opening_refuses_bad_seats_deadlines_meetings_without_open_items_and_writes_nothing(api) -> None:
    meeting_id = api.new_meeting()
    closed_only = api.new_meeting(items=(item("c", 1, "closed"),))
    late = to_timestamp(START + timedelta(days=30))
    past = to_timestamp(START - timedelta(hours=1))
    ok = to_timestamp(START + timedelta(days=7))
    cases = [
        (pb.OpenToObserversRequest(meeting_id=meeting_id, seats=0, registration_deadline=ok),
         grpc.StatusCode.INVALID_ARGUMENT, "INVALID_SEAT_LIMIT", "seats"),
        (pb.OpenToObserversRequest(meeting_id=meeting_id, seats=-3, registration_deadline=ok),
         grpc.StatusCode.INVALID_ARGUMENT, "INVALID_SEAT_LIMIT", "seats"),
        (pb.OpenToObserversRequest(meeting_id=meeting_id, seats=2),
         grpc.StatusCode.INVALID_ARGUMENT, "MISSING_DEADLINE", "registration_deadline"),
        (pb.OpenToObserversRequest(meeting_id=meeting_id, seats=2, registration_deadline=late),
         grpc.StatusCode.INVALID_ARGUMENT, "DEADLINE_AFTER_START", "registration_deadline"),
        (pb.OpenToObserversRequest(meeting_id=meeting_id, seats=2, registration_deadline=past),
         grpc.StatusCode.INVALID_ARGUMENT, "DEADLINE_PASSED", "registration_deadline"),
        (pb.OpenToObserversRequest(meeting_id="", seats=2, registration_deadline=ok),
         grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ID", "meeting_id"),
        (pb.OpenToObserversRequest(meeting_id=str(uuid.uuid4()), seats=2, registration_deadline=ok),
         grpc.StatusCode.NOT_FOUND, "MEETING_NOT_FOUND", "meeting_id"),
        (pb.OpenToObserversRequest(meeting_id=closed_only, seats=2, registration_deadline=ok),
         grpc.StatusCode.FAILED_PRECONDITION, "NO_OPEN_ITEMS", "meeting_id"),
        (pb.OpenToObserversRequest(meeting_id=meeting_id, seats=2, registration_deadline=ok, request_id="nope"),
         grpc.StatusCode.INVALID_ARGUMENT, None, "request_id"),
    ]
    before = api.counts()
    for request, code, reason, field in cases:
        got_code, got_reason, violations = refused(api.stub.OpenToObservers, request, SECRETARY)
        assert got_code == code, request
        if reason:
            assert got_reason == reason
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            assert field in violations
    assert api.counts() == before


def test_registration_rules_name_the_rule_and_write_nothing(api) -> None:
    meeting_id = api.new_meeting()
    not_open = api.new_meeting()
    api.open(meeting_id, seats=1)
    api.register(meeting_id, 1)
    STANDINGS.lapsed.add("mem-lapsed")
    before = api.counts()
    rules = [
        (pb.RegisterAsObserverRequest(meeting_id=meeting_id), member_token("lapsed"),
         grpc.StatusCode.FAILED_PRECONDITION, "NOT_IN_GOOD_STANDING"),
        (pb.RegisterAsObserverRequest(meeting_id=not_open), member_token(2),
         grpc.StatusCode.FAILED_PRECONDITION, "NOT_OPEN_TO_OBSERVERS"),
        (pb.RegisterAsObserverRequest(meeting_id=meeting_id), member_token(1),
         grpc.StatusCode.ALREADY_EXISTS, "ALREADY_REGISTERED"),
        (pb.RegisterAsObserverRequest(meeting_id=""), member_token(2), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ID"),
    ]
    for request, token, code, reason in rules:
        assert refused(api.stub.RegisterAsObserver, request, token)[:2] == (code, reason)
    api.clock.set(START + timedelta(days=7, seconds=1))
    assert refused(api.stub.RegisterAsObserver, pb.RegisterAsObserverRequest(meeting_id=meeting_id),
                   member_token(2))[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "REGISTRATION_CLOSED")
    assert api.counts() == before


def test_check_in_and_cancel_refuse_bad_codes_and_ids(api) -> None:
    meeting_id = api.new_meeting()
    api.open(meeting_id)
    answer = api.register(meeting_id, 1)
    api.stub.CheckInObserver(pb.CheckInObserverRequest(meeting_id=meeting_id, check_in_code=answer.check_in_code),
                             metadata=SECRETARY)
    before = api.counts()
    checks = [
        (api.stub.CheckInObserver, pb.CheckInObserverRequest(meeting_id=meeting_id, check_in_code="12"), SECRETARY,
         grpc.StatusCode.INVALID_ARGUMENT, "INVALID_CHECK_IN_CODE", "check_in_code"),
        (api.stub.CheckInObserver, pb.CheckInObserverRequest(meeting_id=meeting_id, check_in_code="0000-0000-0000"),
         SECRETARY, grpc.StatusCode.NOT_FOUND, "CHECK_IN_CODE_UNKNOWN", "check_in_code"),
        (api.stub.CheckInObserver, pb.CheckInObserverRequest(meeting_id=meeting_id,
                                                             check_in_code=answer.check_in_code),
         SECRETARY, grpc.StatusCode.FAILED_PRECONDITION, "ALREADY_CHECKED_IN", "check_in_code"),
        (api.stub.CancelObserverRegistration, pb.CancelObserverRegistrationRequest(registration_id="x"),
         member_token(1), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ID", "registration_id"),
        (api.stub.CancelObserverRegistration, pb.CancelObserverRegistrationRequest(
            registration_id=str(uuid.uuid4())), member_token(1), grpc.StatusCode.NOT_FOUND,
         "REGISTRATION_NOT_FOUND", "registration_id"),
        (api.stub.ReissueCheckInCode, pb.ReissueCheckInCodeRequest(
            registration_id=answer.registration.registration_id), member_token(1),
         grpc.StatusCode.FAILED_PRECONDITION, "ALREADY_CHECKED_IN", "registration_id"),
        (api.stub.ListObservers, pb.ListObserversRequest(meeting_id=meeting_id, page_token="garbage"), SECRETARY,
         grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN", "page_token"),
        (api.stub.ListObservers, pb.ListObserversRequest(meeting_id=meeting_id, page_size=-1), SECRETARY,
         grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_SIZE", "page_size"),
    ]
    for call, request, token, code, reason, field in checks:
        got = refused(call, request, token)
        assert got[:2] == (code, reason), request
        assert code != grpc.StatusCode.INVALID_ARGUMENT or field in got[2]
    assert api.counts() == before


def test_an_observer_over_the_seat_limit_never_gets_a_seat_and_the_limit_cannot_drop_below_the_seated(api) -> None:
    meeting_id = api.new_meeting()
    api.open(meeting_id, seats=1)
    assert api.register(meeting_id, 1).registration.status == SEATED
    over = api.register(meeting_id, 2)
    assert over.registration.status == WAITING and not over.check_in_code
    code = refused(api.stub.ReissueCheckInCode, pb.ReissueCheckInCodeRequest(
        registration_id=over.registration.registration_id), member_token(2))[:2]
    assert code == (grpc.StatusCode.FAILED_PRECONDITION, "NOT_SEATED")
    api.register(meeting_id, 3)
    raised = api.open(meeting_id, seats=2)
    assert list(raised.promoted_registration_ids) == [over.registration.registration_id]
    before = api.counts()
    assert refused(api.stub.OpenToObservers, pb.OpenToObserversRequest(
        meeting_id=meeting_id, seats=1, registration_deadline=to_timestamp(START + timedelta(days=7))),
        SECRETARY)[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "SEATS_BELOW_TAKEN")
    assert api.counts() == before


# -- retries --------------------------------------------------------------------------------------

def test_a_retried_registration_gets_the_first_answer_without_the_code_and_writes_nothing_more(api) -> None:
    meeting_id = api.new_meeting()
    api.open(meeting_id, seats=1)
    key = str(uuid.uuid4())
    first = api.register(meeting_id, 1, request_id=key)
    after_first = api.counts()
    again = api.register(meeting_id, 1, request_id=key)
    assert again.registration == first.registration and first.check_in_code and not again.check_in_code
    assert api.counts() == after_first
    assert len([e for e in api.events("observer.registered") if e["meetingId"] == meeting_id]) == 1
    reused = refused(api.stub.RegisterAsObserver, pb.RegisterAsObserverRequest(meeting_id=api.new_meeting(),
                                                                               request_id=key), member_token(1))
    assert reused[0] == grpc.StatusCode.FAILED_PRECONDITION and "request_id" in reused[2]


def test_retried_open_cancel_and_check_in_answer_once(api) -> None:
    meeting_id = api.new_meeting()
    open_key = str(uuid.uuid4())
    assert api.open(meeting_id, seats=1, request_id=open_key) == api.open(meeting_id, seats=1, request_id=open_key)
    seated, waiting = api.register(meeting_id, 1), api.register(meeting_id, 2)
    cancel = pb.CancelObserverRegistrationRequest(registration_id=seated.registration.registration_id,
                                                  request_id=str(uuid.uuid4()))
    first = api.stub.CancelObserverRegistration(cancel, metadata=member_token(1))
    counts = api.counts()
    assert api.stub.CancelObserverRegistration(cancel, metadata=member_token(1)) == first
    assert api.counts() == counts
    assert first.promoted_registration_id == waiting.registration.registration_id
    assert len([e for e in api.events("observer.promoted") if e["meetingId"] == meeting_id]) == 1
    code = api.stub.ReissueCheckInCode(pb.ReissueCheckInCodeRequest(
        registration_id=waiting.registration.registration_id), metadata=member_token(2)).check_in_code
    check_in = pb.CheckInObserverRequest(meeting_id=meeting_id, check_in_code=code, request_id=str(uuid.uuid4()))
    assert api.stub.CheckInObserver(check_in, metadata=SECRETARY) == api.stub.CheckInObserver(check_in,
                                                                                              metadata=SECRETARY)


# -- concurrency ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("taken_before", [0, 3])
def test_concurrent_registrations_for_the_last_seat_give_exactly_one_seat(api, taken_before: int) -> None:
    meeting_id = api.new_meeting()
    api.open(meeting_id, seats=taken_before + 1)
    for n in range(taken_before):
        api.register(meeting_id, f"early-{n}")
    racers = 16
    barrier = threading.Barrier(racers)
    answers: list[pb.RegisterAsObserverResponse] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def race(n: int) -> None:
        barrier.wait()
        try:
            answer = api.register(meeting_id, f"racer-{n}")
            with lock:
                answers.append(answer)
        except BaseException as exc:  # noqa: BLE001 - reported below
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(a.registration.status == SEATED for a in answers) == 1
    positions = sorted(a.registration.waiting_position for a in answers if a.registration.status == WAITING)
    assert positions == list(range(1, racers))
    listed = api.stub.ListObservers(pb.ListObserversRequest(meeting_id=meeting_id), metadata=SECRETARY)
    assert (listed.session.seats_taken, listed.session.waiting) == (taken_before + 1, racers - 1)


# -- metrics ---------------------------------------------------------------------------------------------

def test_gauges_count_seats_and_waiting_per_tenant_without_per_person_labels(api) -> None:
    from prometheus_client import REGISTRY

    from coop_board.adapters.metrics_observers import refresh_gauges
    from coop_testkit import bearer

    meeting_id = api.new_meeting(tenant="other")
    other_admin = TOKENS["other"]
    api.stub.OpenToObservers(pb.OpenToObserversRequest(
        meeting_id=meeting_id, seats=2, registration_deadline=to_timestamp(START + timedelta(days=7))),
        metadata=other_admin)
    for n in range(3):
        api.stub.RegisterAsObserver(pb.RegisterAsObserverRequest(meeting_id=meeting_id),
                                    metadata=bearer(f"o-{n}", "member", tenant="other"))
    assert refresh_gauges(api.uow_factory(), START)["other"] == (2, 2, 1)
    sample = REGISTRY.get_sample_value
    assert sample("coop_board_observer_seats_taken", {"tenant": "other"}) == 2
    assert sample("coop_board_observers_waiting", {"tenant": "other"}) == 1
    assert sample("coop_board_observer_seats", {"tenant": "other"}) == 2
    assert refresh_gauges(api.uow_factory(), START + timedelta(days=30)).get("other") is None
    assert sample("coop_board_observer_seats_taken", {"tenant": "other"}) == 0


def test_concurrent_cancellations_and_registrations_never_overfill_nor_leave_a_free_seat(api) -> None:
    meeting_id = api.new_meeting()
    api.open(meeting_id, seats=4)
    seated = [api.register(meeting_id, f"mix-seat-{n}") for n in range(4)]
    waiting = [api.register(meeting_id, f"mix-wait-{n}") for n in range(3)]
    barrier = threading.Barrier(10)
    errors: list[BaseException] = []

    def cancel(answer, who) -> None:
        barrier.wait()
        try:
            api.stub.CancelObserverRegistration(pb.CancelObserverRegistrationRequest(
                registration_id=answer.registration.registration_id), metadata=member_token(who))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def register(n: int) -> None:
        barrier.wait()
        try:
            api.register(meeting_id, f"mix-new-{n}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=cancel, args=(seated[n], f"mix-seat-{n}")) for n in range(3)]
    threads += [threading.Thread(target=cancel, args=(waiting[2], "mix-wait-2"))]
    threads += [threading.Thread(target=register, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    listed = api.stub.ListObservers(pb.ListObserversRequest(meeting_id=meeting_id), metadata=SECRETARY)
    session = listed.session
    assert (session.seats_taken, session.waiting) == (4, 4 + 3 + 6 - 4 - 4)  # 13 registered, 4 cancelled, 4 seats
    order = [r.member_id for r in listed.registrations if r.status == WAITING]
    assert all(m.startswith("mem-mix-new") for m in order)  # the earlier waiting members were seated first
    assert [r.waiting_position for r in listed.registrations if r.status == WAITING] == list(range(1, len(order) + 1))
    promoted = {e["memberId"] for e in api.events("observer.promoted") if e["meetingId"] == meeting_id}
    assert {"mem-mix-wait-0", "mem-mix-wait-1"} <= promoted


def test_events_carry_ids_counts_and_times_only(api) -> None:
    meeting_id = api.new_meeting()
    api.open(meeting_id, seats=1)
    first = api.register(meeting_id, "ev-1")
    api.register(meeting_id, "ev-2")
    api.stub.CancelObserverRegistration(pb.CancelObserverRegistrationRequest(
        registration_id=first.registration.registration_id), metadata=member_token("ev-1"))
    expected = {
        "observer_session.opened": {"meetingId", "tenant", "seats", "registrationDeadline", "meetingStartsAt"},
        "observer.registered": {"registrationId", "tenant", "meetingId", "memberId", "seated", "waitingPosition",
                                "registeredAt", "speakingSlot"},
        "observer.promoted": {"registrationId", "tenant", "meetingId", "memberId", "promotedAt"},
        "observer.cancelled": {"registrationId", "tenant", "meetingId", "memberId", "wasSeated",
                               "promotedRegistrationId", "cancelledAt"},
    }
    for name, keys in expected.items():
        mine = [e for e in api.events(name) if e["meetingId"] == meeting_id]
        assert mine and all(set(e) == keys for e in mine), name
    assert first.check_in_code not in str([api.events(name) for name in expected])
