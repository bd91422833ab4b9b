"""A Hypothesis state machine drives random registrations, cancellations, limit changes, code
reissues, check-ins and the passing of time through the observers' use cases (on the fakes),
and checks after every step, against a small model of its own:

- seats taken never exceed the limit;
- the waiting list is in registration order (and equals the model's);
- no member is both seated and waiting (one active registration per member and meeting);
- a cancelled seat goes to the first member waiting: nobody waits while a seat is free.

At least 10,000 steps in total over many examples (asserted)."""

from __future__ import annotations

from datetime import timedelta

from board_fakes import FakeUnitOfWork
from board_fakes_observers import NOW, SECRETARY_ID, with_stand_ins
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from coop_board.domain.observers import SEATED, WAITING
from coop_board.service_layer import observers as uc
from coop_domain.errors import AlreadyExists, FailedPrecondition
from coop_domain.principal import Principal

MEETINGS = ("m1", "m2")
MEMBERS = tuple(f"mem-{n}" for n in range(8))
SECRETARY = Principal(SECRETARY_ID, "coop", frozenset({"secretary", "director"}))
STARTS = NOW + timedelta(days=14)
DEADLINE = NOW + timedelta(days=7)
STEPS = {"total": 0}


def member(member_id: str) -> Principal:
    return Principal(member_id, "coop", frozenset({"member"}))


class ObserverSeats(RuleBasedStateMachine):
    @initialize(seats=st.tuples(st.integers(1, 4), st.integers(1, 4)))
    def open_meetings(self, seats: tuple[int, int]) -> None:
        self.uow = with_stand_ins(FakeUnitOfWork())
        self.now = NOW
        self.limit: dict[str, int] = {}
        self.model: dict[str, list[tuple[str, str, str]]] = {m: [] for m in MEETINGS}  # (reg id, member, status)
        for meeting_id, limit in zip(MEETINGS, seats, strict=True):
            self.uow.meetings.add(meeting_id, starts_at=STARTS)
            uc.open_to_observers(self.uow, SECRETARY, meeting_id, limit, DEADLINE, self.now)
            self.limit[meeting_id] = limit

    # -- model helpers
    def _active(self, meeting_id: str, status: str) -> list[tuple[str, str, str]]:
        return [r for r in self.model[meeting_id] if r[2] == status]

    def _set(self, meeting_id: str, registration_id: str, status: str) -> None:
        self.model[meeting_id] = [(rid, mid, status if rid == registration_id else st_)
                                  for rid, mid, st_ in self.model[meeting_id]]

    def _fill(self, meeting_id: str) -> list[str]:
        free = self.limit[meeting_id] - len(self._active(meeting_id, SEATED))
        promoted = [rid for rid, _, _ in self._active(meeting_id, WAITING)[:max(free, 0)]]
        for rid in promoted:
            self._set(meeting_id, rid, SEATED)
        return promoted

    # -- rules
    @rule(meeting_id=st.sampled_from(MEETINGS), member_id=st.sampled_from(MEMBERS))
    def register(self, meeting_id: str, member_id: str) -> None:
        STEPS["total"] += 1
        active = [r for r in self.model[meeting_id] if r[1] == member_id and r[2] != "cancelled"]
        try:
            view, code = uc.register_as_observer(self.uow, member(member_id), meeting_id, self.now)
        except AlreadyExists:
            assert active
            return
        except FailedPrecondition as e:
            assert e.reason == "REGISTRATION_CLOSED" and self.now > DEADLINE
            return
        assert not active and self.now <= DEADLINE
        expected = SEATED if len(self._active(meeting_id, SEATED)) < self.limit[meeting_id] else WAITING
        assert view.status == expected and (code is not None) == (expected == SEATED)
        self.model[meeting_id].append((view.registration_id, member_id, view.status))
        if expected == WAITING:
            assert view.waiting_position == len(self._active(meeting_id, WAITING))

    @rule(meeting_id=st.sampled_from(MEETINGS), pick=st.integers(0, 20), by_secretary=st.booleans())
    def cancel(self, meeting_id: str, pick: int, by_secretary: bool) -> None:
        STEPS["total"] += 1
        rows = self.model[meeting_id]
        if not rows:
            return
        registration_id, member_id, status = rows[pick % len(rows)]
        caller = SECRETARY if by_secretary else member(member_id)
        first_waiting = [rid for rid, _, _ in self._active(meeting_id, WAITING)[:1]]
        try:
            view, promoted = uc.cancel_registration(self.uow, caller, registration_id, self.now)
        except FailedPrecondition as e:
            assert (e.reason == "ALREADY_CANCELLED" and status == "cancelled") or (
                e.reason == "MEETING_STARTED" and self.now >= STARTS)
            return
        assert status != "cancelled" and view.status == "cancelled"
        self._set(meeting_id, registration_id, "cancelled")
        expected = self._fill(meeting_id)
        assert ([promoted] if promoted else []) == expected
        if status == SEATED:  # the freed seat goes to the first member waiting
            assert expected == first_waiting
        else:
            assert expected == []

    @rule(meeting_id=st.sampled_from(MEETINGS), seats=st.integers(1, 6))
    def change_limit(self, meeting_id: str, seats: int) -> None:
        STEPS["total"] += 1
        deadline = min(DEADLINE, STARTS - timedelta(minutes=1))
        try:
            _, promoted = uc.open_to_observers(self.uow, SECRETARY, meeting_id, seats, deadline, self.now)
        except FailedPrecondition as e:
            assert e.reason == "SEATS_BELOW_TAKEN" and seats < len(self._active(meeting_id, SEATED))
            return
        self.limit[meeting_id] = seats
        assert promoted == self._fill(meeting_id)

    @rule(meeting_id=st.sampled_from(MEETINGS), pick=st.integers(0, 20), check_in=st.booleans())
    def reissue_and_check_in(self, meeting_id: str, pick: int, check_in: bool) -> None:
        STEPS["total"] += 1
        rows = self.model[meeting_id]
        if not rows:
            return
        registration_id, member_id, status = rows[pick % len(rows)]
        try:
            _, code = uc.reissue_code(self.uow, member(member_id), registration_id, self.now)
        except FailedPrecondition as e:
            assert e.reason in ("NOT_SEATED", "ALREADY_CHECKED_IN")
            assert status != SEATED or e.reason == "ALREADY_CHECKED_IN"
            return
        assert status == SEATED
        if check_in:
            assert uc.check_in(self.uow, SECRETARY, meeting_id, code, self.now).registration_id == registration_id

    @rule(hours=st.integers(0, 72))
    def time_passes(self, hours: int) -> None:
        STEPS["total"] += 1
        self.now += timedelta(hours=hours)

    # -- invariants, after every step
    @invariant()
    def seats_waiting_list_and_model_agree(self) -> None:
        if not hasattr(self, "uow"):
            return
        for meeting_id in MEETINGS:
            stored = sorted((r for r in self.uow.observers.registrations.values() if r.meeting_id == meeting_id),
                            key=lambda r: r.sequence)
            seated = [r for r in stored if r.status == SEATED]
            waiting = [r for r in stored if r.status == WAITING]
            limit = self.uow.observers.sessions[("coop", meeting_id)].seats
            assert limit == self.limit[meeting_id]
            assert len(seated) <= limit
            assert [r.sequence for r in waiting] == sorted(r.sequence for r in waiting)
            assert [r.registration_id for r in waiting] == [rid for rid, _, _ in self._active(meeting_id, WAITING)]
            assert {r.registration_id for r in seated} == {rid for rid, _, _ in self._active(meeting_id, SEATED)}
            active_members = [r.member_id for r in seated + waiting]
            assert len(active_members) == len(set(active_members)), "a member both seated and waiting"
            if waiting:
                assert len(seated) == limit, "a free seat while members wait"
            assert all(r.code_hash is None for r in stored if r.status != SEATED)


def test_observer_seats_hold_their_invariants_over_random_command_sequences() -> None:
    STEPS["total"] = 0
    run_state_machine_as_test(ObserverSeats, settings=settings(
        max_examples=300, stateful_step_count=60, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    print(f"observer state machine: {STEPS['total']} steps")
    assert STEPS["total"] >= 10_000, STEPS["total"]

