"""The projection of who voted (elections' election.voted, for the reminder's re-check): stored
once whatever arrives twice, read in one query per batch, emptied with the election's results
(its frozen roll too),
and its table created and dropped by migration 0005 on PostgreSQL and SQLite."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, inspect, text

from coop_notifications.adapters.events_in import CONSUMED, MalformedEvent, effect_for
from coop_notifications.service_layer.handlers import ProjectionRolls
from coop_platform.envelope import make_envelope
from coop_platform.inbox import process_once
from coop_platform.migrations import downgrade, upgrade
from coop_testkit import postgres_database

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
CONSUMER = "notifications.on_election_voted"


def _voted(election_id: str, voter_id: str, at: str = "2027-03-01T10:00:00Z", **more) -> dict:
    return make_envelope("elections", "election.voted",
                         {"electionId": election_id, "tenant": "coop", "voterId": voter_id, "votedAt": at, **more})


def _apply(uowf, envelope: dict, consumer: str = CONSUMER) -> bool:
    name = ".".join(envelope["type"].split(".")[2:-1])
    return process_once(uowf, consumer, envelope, effect_for("elections", name, ProjectionRolls(), lambda: NOW))


def _stored(uowf) -> list[tuple]:
    with uowf() as uow:
        return [tuple(r) for r in uow.session.execute(text(
            "SELECT election_id, member_id, voted_at FROM voted_members ORDER BY election_id, member_id"))]


def test_the_worker_consumes_election_voted_as_a_projection_not_a_notification() -> None:
    from coop_notifications.adapters.event_map import BY_EVENT

    assert ("elections", "election.voted") in CONSUMED
    assert ("elections", "election.voted") not in BY_EVENT


def test_who_voted_is_stored_once_whatever_the_redeliveries(uowf) -> None:
    first = _voted("el-1", "ann")
    assert _apply(uowf, first)
    assert not _apply(uowf, first)  # redelivered: the inbox skips it
    # elections published the voter again (an Assembly sign-in undone, then a vote): the first stays
    assert _apply(uowf, _voted("el-1", "ann", "2027-03-01T11:00:00Z"))
    assert _apply(uowf, _voted("el-2", "ann"))
    stored = _stored(uowf)
    assert [(e, m) for e, m, _ in stored] == [("el-1", "ann"), ("el-2", "ann")]
    assert str(stored[0][2]).startswith("2027-03-01 10:00:00")
    with uowf() as uow:
        uow.read_only()
        assert ProjectionRolls().voted(uow, "coop", "el-1", ["ann", "bob"]) == {"ann"}
        assert ProjectionRolls().voted(uow, "other", "el-1", ["ann"]) == set()  # another tenant's election


def test_an_election_voted_without_a_voter_or_an_election_is_malformed(uowf) -> None:
    for bad in (_voted("el-1", ""), _voted("", "ann"), _voted("el-1", "ann", "yesterday")):
        with pytest.raises(MalformedEvent):
            _apply(uowf, bad)
    assert _stored(uowf) == []


def _roll(election_id: str, voter_ids: list[str]) -> dict:
    return make_envelope("elections", "election.roll_frozen", {
        "electionId": election_id, "tenant": "coop", "opensAt": "2027-03-01T09:00:00Z",
        "closesAt": "2027-03-08T18:00:00Z", "rollSize": str(len(voter_ids)), "part": 1, "parts": 1,
        "voterIds": voter_ids})


def test_the_results_of_an_election_empty_its_rows_and_its_roll_and_no_others(uowf) -> None:
    for election_id in ("el-1", "el-2"):
        assert _apply(uowf, _roll(election_id, ["ann", "bob"]), "notifications.on_election_roll_frozen")
    for election_id, voter in (("el-1", "ann"), ("el-1", "bob"), ("el-2", "ann")):
        _apply(uowf, _voted(election_id, voter))
    results = make_envelope("elections", "election.results_published", {
        "electionId": "el-1", "tenant": "coop", "ballots": "2", "boxHeadHash": "ab" * 32})
    assert _apply(uowf, results, "notifications.on_election_results_published")
    assert [(e, m) for e, m, _ in _stored(uowf)] == [("el-2", "ann")]
    with uowf() as uow:
        uow.read_only()
        assert uow.election_voters.of("coop", "el-1") == []
        assert uow.election_voters.of("coop", "el-2") == ["ann", "bob"]


def test_a_batch_is_checked_in_one_query(uowf) -> None:
    """The re-check of a batch of reminders reads the projection once (ids in one IN list)."""
    from sqlalchemy import event

    for voter in ("v1", "v3"):
        _apply(uowf, _voted("el-1", voter))
    statements: list[str] = []
    with uowf() as uow:
        uow.read_only()
        listen = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
        event.listen(uow.session.get_bind(), "before_cursor_execute", listen)
        try:
            assert ProjectionRolls().voted(uow, "coop", "el-1", [f"v{i}" for i in range(200)]) == {"v1", "v3"}
        finally:
            event.remove(uow.session.get_bind(), "before_cursor_execute", listen)
    assert len([s for s in statements if "voted_members" in s]) == 1


def _database(backend: str, tmp_path):
    if backend == "postgresql":
        return postgres_database("coop_notif_mig_0005")
    return nullcontext(f"sqlite:///{tmp_path}/notifications.db")


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_0005_creates_the_table_of_who_voted_and_downgrades(backend: str, tmp_path) -> None:
    with _database(backend, tmp_path) as url:
        upgrade("notifications", url)
        engine = create_engine(url)
        try:
            assert inspect(engine).get_pk_constraint("voted_members")["constrained_columns"] == [
                "tenant", "election_id", "member_id"]
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO voted_members (tenant, election_id, member_id, voted_at) "
                                  "VALUES ('coop', 'el-1', 'ann', :at)"), {"at": NOW})
            downgrade("notifications", url, "0004")
            assert "voted_members" not in inspect(engine).get_table_names()
            assert "deliveries" in inspect(engine).get_table_names()  # 0004 and before untouched
            upgrade("notifications", url)
            assert "voted_members" in inspect(engine).get_table_names()
        finally:
            engine.dispose()


def test_the_migrated_table_matches_the_table_the_code_uses(uowf) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from coop_notifications.adapters.orm import metadata

    with uowf() as uow:
        diffs = compare_metadata(MigrationContext.configure(uow.session.connection()), metadata)
    assert [d for d in diffs if "voted_members" in repr(d)] == []
