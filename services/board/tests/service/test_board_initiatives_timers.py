"""The worker's initiatives timer (entrypoints/worker_initiatives.initiatives_tick) on PostgreSQL:
admissible by default, expiry, the qualification backstop, overdue outcomes with the gauge; each
pass run twice, and at once in two "replicas", changes nothing more. The agenda hook is a
recording fake (board_initiatives_helpers)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from board_initiatives_helpers import InitiativesApi, initiatives_api
from board_svc_helpers import START
from prometheus_client import REGISTRY

from coop.board.v1 import initiatives_pb2 as pb
from coop_board.entrypoints.settings_initiatives import initiative_rules
from coop_board.entrypoints.worker_initiatives import initiatives_tick


@pytest.fixture(scope="module")
def api(pg_url: str) -> Iterator[InitiativesApi]:
    with initiatives_api(pg_url) as running:
        yield running


@pytest.fixture(autouse=True)
def _clock(api: InitiativesApi) -> None:
    api.clock.set(START)


def tick(api: InitiativesApi, days: float, replicas: int = 1) -> list[dict[str, int]]:
    """The timer at START + days, in `replicas` threads at once."""
    rules = initiative_rules()
    when = START + timedelta(days=days)
    with ThreadPoolExecutor(replicas) as pool:
        return list(pool.map(lambda _: initiatives_tick(api.uow_factory, when, rules), range(replicas)))


def total(runs: list[dict[str, int]], what: str) -> int:
    return sum(r[what] for r in runs)


def test_without_an_answer_the_initiative_is_admissible_by_default_once(api: InitiativesApi) -> None:
    iid = api.submitted()
    assert total(tick(api, 13), "admissible_by_default") == 0
    assert total(tick(api, 14, replicas=2), "admissible_by_default") >= 1
    assert total(tick(api, 14), "admissible_by_default") == 0
    found = api.get(iid, "member")
    assert found.status == pb.INITIATIVE_STATUS_COLLECTING and found.admissible_by_default
    events = api.events("initiative.admissible", iid)
    assert len(events) == 1 and events[0]["byDefault"] is True
    assert len(api.events("initiative.collection_opened", iid)) == 1


def test_at_the_deadline_without_the_threshold_it_expires_once_even_in_two_replicas(api: InitiativesApi) -> None:
    iid = api.collecting()
    api.sign(iid, 10)
    assert total(tick(api, 29), "expired") == 0
    tick(api, 30, replicas=2)
    tick(api, 30)
    assert api.get(iid, "member").status == pb.INITIATIVE_STATUS_EXPIRED
    assert len(api.events("initiative.expired", iid)) == 1


def test_the_timer_qualifies_when_the_deciding_signatures_own_attempt_failed(api: InitiativesApi) -> None:
    iid = api.collecting()
    api.agenda.fail = True
    try:
        for n in (10, 11, 12):
            api.sign(iid, n)  # the signature stands even though the agenda refused
    finally:
        api.agenda.fail = False
    assert api.get(iid).status == pb.INITIATIVE_STATUS_COLLECTING
    tick(api, 0, replicas=2)
    tick(api, 0)
    assert api.get(iid).status == pb.INITIATIVE_STATUS_QUALIFIED
    assert len(api.events("initiative.qualified", iid)) == 1


def test_an_outcome_not_published_in_time_turns_overdue_once_with_the_gauge(api: InitiativesApi) -> None:
    iid = api.discussed()
    due = api.get(iid).outcome_due_at.ToDatetime().replace(tzinfo=START.tzinfo)
    days = (due - START).total_seconds() / 86400
    assert total(tick(api, days - 0.01), "overdue") == 0
    tick(api, days, replicas=2)
    tick(api, days)
    found = api.get(iid, "member")
    assert found.overdue and found.overdue_since.seconds
    events = api.events("initiative.outcome_overdue", iid)
    assert len(events) == 1 and events[0]["promoterIds"] == ["mem-1", "mem-2", "mem-3", "mem-4"]
    assert REGISTRY.get_sample_value("coop_board_outcomes_overdue", {"tenant": "coop"}) >= 1
