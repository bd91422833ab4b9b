"""The inbox's group commit (`process_many`, `inbox_coalescer`) on SQLite and PostgreSQL: one
transaction for a batch, at most one effect per (consumer, event), nothing half-written when an
effect fails, and only the failing event's caller sees its error."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from coop_platform.db import make_session_factory
from coop_platform.inbox import InboxItem, inbox_coalescer, process_many
from coop_platform.logs import get_correlation_id
from coop_platform.unit_of_work import UnitOfWork


def envelope(event_id: str, correlation: str | None = None) -> dict:
    return {"id": event_id, "type": "coop.billing.share.paid.v1", "source": "/coop/billing", "specversion": "1.0",
            "correlationid": correlation or f"corr-{event_id}"}


@pytest.fixture
def world(engine):
    with engine.begin() as conn:
        conn.execute(text("create table effects (event_id varchar(64), how varchar(16), correlation varchar(64))"))
    sessions = make_session_factory(engine)
    return engine, (lambda: UnitOfWork(sessions, "membership"))


def effects(engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("select event_id, how from effects order by event_id, how"))]


def one(uow, env):
    uow.session.execute(text("insert into effects values (:e, 'one', :c)"),
                        {"e": env["id"], "c": get_correlation_id()})


def with_many(uow, env):
    one(uow, env)


def _many(uow, envs):
    for env in envs:
        uow.session.execute(text("insert into effects values (:e, 'many', :c)"),
                            {"e": env["id"], "c": get_correlation_id()})


with_many.many = _many


def failing_on(bad: str):
    def effect(uow, env):
        one(uow, env)
        if env["id"] == bad:
            raise RuntimeError(f"cannot apply {bad}")
    return effect


def test_a_batch_applies_each_new_event_once_and_skips_duplicates_within_and_across_batches(world):
    engine, uow_factory = world
    items = [InboxItem("c1", envelope("e1"), one), InboxItem("c1", envelope("e2"), one),
             InboxItem("c1", envelope("e1"), one), InboxItem("c2", envelope("e1"), one)]
    assert process_many(uow_factory, items) == [True, True, False, True]
    assert process_many(uow_factory, items[:2]) == [False, False]
    assert effects(engine) == [("e1", "one"), ("e1", "one"), ("e2", "one")]


def test_each_effect_runs_with_its_own_event_correlation_id(world):
    engine, uow_factory = world
    process_many(uow_factory, [InboxItem("c", envelope("e1", "alpha"), one),
                               InboxItem("c", envelope("e2", "beta"), one)])
    with engine.connect() as conn:
        assert dict(tuple(r) for r in conn.execute(text("select event_id, correlation from effects"))) == {"e1": "alpha", "e2": "beta"}


def test_a_run_of_events_sharing_an_effect_with_a_many_form_is_applied_in_one_call(world):
    engine, uow_factory = world
    items = [InboxItem("c", envelope(f"e{i}"), with_many) for i in range(3)] + [InboxItem("c", envelope("e9"), one)]
    assert process_many(uow_factory, items) == [True] * 4
    assert effects(engine) == [("e0", "many"), ("e1", "many"), ("e2", "many"), ("e9", "one")]
    # alone, the same effect takes its one-event form
    process_many(uow_factory, [InboxItem("c", envelope("e5"), with_many)])
    assert ("e5", "one") in effects(engine)


def test_a_failing_effect_rolls_back_the_whole_batch_claims_included(world):
    engine, uow_factory = world
    effect = failing_on("e2")
    items = [InboxItem("c", envelope(f"e{i}"), effect) for i in range(1, 4)]
    with pytest.raises(RuntimeError, match="cannot apply e2"):
        process_many(uow_factory, items)
    assert effects(engine) == []
    # nothing was claimed: the others apply when they come again
    assert process_many(uow_factory, [items[0], items[2]]) == [True, True]
    assert effects(engine) == [("e1", "one"), ("e3", "one")]


def test_a_malformed_envelope_in_a_batch_writes_nothing(world):
    engine, uow_factory = world
    with pytest.raises(ValueError):
        process_many(uow_factory, [InboxItem("c", envelope("e1"), one), InboxItem("c", {"id": "x"}, one)])
    assert effects(engine) == []


def test_concurrent_submissions_share_transactions_and_only_the_failing_event_sees_its_error(world):
    engine, uow_factory = world
    inbox = inbox_coalescer(uow_factory, max_batch=8)
    effect = failing_on("e07")
    outcomes: dict[str, object] = {}
    start = threading.Barrier(20)

    def handle(i: int) -> None:
        event_id = f"e{i:02d}"
        start.wait()
        try:
            outcomes[event_id] = inbox.submit(InboxItem("c", envelope(event_id), effect))
        except RuntimeError as exc:
            outcomes[event_id] = exc

    threads = [threading.Thread(target=handle, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert isinstance(outcomes.pop("e07"), RuntimeError)
    assert outcomes == {f"e{i:02d}": True for i in range(20) if i != 7}
    assert [e for e, _ in effects(engine)] == sorted(outcomes)
    # the failing event was not claimed: its redelivery applies it once it can be
    assert inbox.submit(InboxItem("c", envelope("e07"), one)) is True
