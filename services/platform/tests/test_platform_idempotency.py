"""The idempotency key store (AIP-155) in the caller's own transaction, on SQLite and PostgreSQL:
a retry gets the first answer, a key reused for another request is refused, a refused call keeps
nothing, and concurrent retries with one key produce one effect (real concurrency on PostgreSQL)."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf import api_pb2
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

from coop_platform import idempotency
from coop_platform.db import make_engine, make_session_factory
from coop_platform.errors import FailedPrecondition, InvalidArgument
from coop_platform.unit_of_work import UnitOfWork
from coop_testkit import postgres_database

METADATA = MetaData()
idempotency.idempotency_table(METADATA)
EFFECTS = Table("effects", METADATA, Column("n", Integer, primary_key=True, autoincrement=True),
                Column("what", String(100), nullable=False))


@pytest.fixture
def pg_sessions():
    """Sessions on a PostgreSQL database holding the key store and a table of effects."""
    with postgres_database("coop_idempotency") as url:
        engine = make_engine(url, pool_size=12)
        METADATA.create_all(engine)
        yield make_session_factory(engine)
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def sessions(request, tmp_path):
    """The same on each backend (SQLite: make run's)."""
    if request.param == "postgresql":
        yield request.getfixturevalue("pg_sessions")
        return
    engine = make_engine(f"sqlite:///{tmp_path / 'keys.db'}")
    METADATA.create_all(engine)
    yield make_session_factory(engine)
    engine.dispose()


def _message(request_id: str, what: str) -> api_pb2.Method:
    """A request with an id field (`name` stands in for request_id) and a payload (`request_type_url`)."""
    return api_pb2.Method(name=request_id, request_type_url=what)


def _request(request_id: str, what: str, method: str = "Pay") -> idempotency.IdempotentRequest:
    """The key and fingerprint of a request, as a servicer builds them."""
    request = idempotency.idempotent_request("coop", "teller-1", method, _message(request_id, what), "name")
    assert request is not None
    return request


def _pay(sessions, request: idempotency.IdempotentRequest, what: str, *, fail: bool = False) -> bytes:
    """A use case: claim, do the work (one effect row), record the answer, commit."""
    with sessions() as session:
        first = idempotency.claim(session, request)
        if first is not None:
            return first
        n = session.execute(insert(EFFECTS).values(what=what).returning(EFFECTS.c.n)).scalar_one()
        if fail:
            raise FailedPrecondition("refused")
        answer = f"{what} #{n}".encode()
        idempotency.record(session, request, answer)
        session.commit()
        return answer


def _effects(sessions) -> int:
    with sessions() as session:
        return session.execute(select(func.count()).select_from(EFFECTS)).scalar_one()


def test_a_retry_gets_the_first_answer_and_does_nothing_else(sessions):
    request = _request(str(uuid.uuid4()), "100 EUR")
    first = _pay(sessions, request, "100 EUR")
    assert _pay(sessions, request, "100 EUR") == first
    assert _effects(sessions) == 1
    other_caller = idempotency.IdempotentRequest(
        idempotency.IdempotencyKey("coop", "teller-2", "Pay", request.key.request_id), request.fingerprint)
    assert _pay(sessions, other_caller, "100 EUR") != first  # keys are per caller (and tenant, method)
    assert _effects(sessions) == 2


def test_the_same_key_with_another_request_is_refused(sessions):
    request_id = str(uuid.uuid4())
    _pay(sessions, _request(request_id, "100 EUR"), "100 EUR")
    with pytest.raises(FailedPrecondition) as refused:
        _pay(sessions, _request(request_id, "200 EUR"), "200 EUR")
    assert refused.value.field == "request_id" and refused.value.status_name == "FAILED_PRECONDITION"
    assert _effects(sessions) == 1


def test_a_refused_call_keeps_nothing_so_its_retry_runs_again(sessions):
    request = _request(str(uuid.uuid4()), "100 EUR")
    with pytest.raises(FailedPrecondition):
        _pay(sessions, request, "100 EUR", fail=True)
    assert _effects(sessions) == 0
    assert _pay(sessions, request, "100 EUR").startswith(b"100 EUR #")
    assert _effects(sessions) == 1


def test_a_batch_claims_its_keys_at_once_and_answers_a_repeated_key_like_its_first(sessions):
    done, fresh, again, clash = (str(uuid.uuid4()) for _ in range(4))
    _pay(sessions, _request(done, "a"), "a")
    batch = [_request(fresh, "b"), _request(done, "a"), _request(fresh, "b"), _request(done, "x"),
             _request(again, "c"), _request(clash, "d"), _request(clash, "e")]
    with sessions() as session:
        claims = idempotency.claim_many(session, batch)
        assert claims[0] is None and claims[4] is None and claims[5] is None
        assert isinstance(claims[1], idempotency.Replay) and claims[1].response.startswith(b"a #")
        assert claims[2] == idempotency.SameAs(0)
        assert isinstance(claims[3], FailedPrecondition) and isinstance(claims[6], FailedPrecondition)
        idempotency.record_many(session, [(batch[0], b"B"), (batch[5], b"D")])
        idempotency.release_many(session, [batch[4]])  # refused inside the batch: keeps nothing
        session.commit()
    with sessions() as session:
        again_claims = idempotency.claim_many(session, [batch[0], batch[4], batch[5]])
    assert again_claims == [idempotency.Replay(b"B"), None, idempotency.Replay(b"D")]


def test_request_ids_are_uuids_and_the_fingerprint_ignores_them():
    assert idempotency.parse_request_id("") is None
    assert idempotency.parse_request_id("6F9619FF-8B86-D011-B42D-00C04FC964FF") == "6f9619ff-8b86-d011-b42d-00c04fc964ff"
    with pytest.raises(InvalidArgument):
        idempotency.parse_request_id("retry-1")
    one, two = str(uuid.uuid4()), str(uuid.uuid4())
    assert idempotency.fingerprint(_message(one, "a"), "name") == idempotency.fingerprint(_message(two, "a"), "name")
    assert idempotency.fingerprint(_message(one, "a"), "name") != idempotency.fingerprint(_message(one, "b"), "name")
    assert idempotency.idempotent_request("coop", "m", "Pay", _message("", "a"), "name") is None


def test_keys_older_than_the_retention_are_purged(sessions, monkeypatch):
    old, recent = _request(str(uuid.uuid4()), "a"), _request(str(uuid.uuid4()), "b")
    _pay(sessions, old, "a")
    _pay(sessions, recent, "b")
    now = datetime.now(UTC)
    monkeypatch.setenv("COOP_IDEMPOTENCY_RETENTION_HOURS", "1")
    assert idempotency.retention() == timedelta(hours=1)
    with sessions() as session:
        assert idempotency.purge(session, now=now + timedelta(minutes=30)) == 0
        assert idempotency.purge(session, now=now + timedelta(hours=2)) == 2
        session.commit()
    assert not _pay(sessions, old, "a").startswith(b"a #1")  # a new request after the purge
    monkeypatch.setenv("COOP_IDEMPOTENCY_RETENTION_HOURS", "soon")
    with pytest.raises(ValueError):
        idempotency.retention()


def test_concurrent_retries_with_one_key_produce_one_effect(pg_sessions):
    """PostgreSQL (SQLite runs one writer at a time): ten retries at once, one effect, one answer."""
    sessions = pg_sessions
    request = _request(str(uuid.uuid4()), "100 EUR")
    answers: list[bytes] = []
    barrier = threading.Barrier(10)

    def retry() -> None:
        barrier.wait()
        answers.append(_pay(sessions, request, "100 EUR"))

    threads = [threading.Thread(target=retry) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(answers) == 10 and len(set(answers)) == 1
    assert _effects(sessions) == 1


# -- answer_once: a servicer's write with its use case joining the unit of work --------------------

def _unit(sessions) -> UnitOfWork:
    return UnitOfWork(sessions, "test")


def _use_case(uow, what: str, *, fail: bool = False) -> api_pb2.Method:
    """What a use case does: its own `with uow:` and commit (joined under answer_once)."""
    with uow:
        uow.session.execute(insert(EFFECTS).values(what=what))
        if fail:
            raise FailedPrecondition("refused", reason="REFUSED")
        uow.commit()
    return api_pb2.Method(name="answer", request_type_url=what)


def _effects(sessions) -> int:
    with sessions() as session:
        return session.execute(select(func.count()).select_from(EFFECTS)).scalar_one()


def test_answer_once_runs_the_use_case_once_and_replays_its_response(sessions):
    uow, request = _unit(sessions), _request(str(uuid.uuid4()), "a")
    first = idempotency.answer_once(uow, request, api_pb2.Method, lambda: _use_case(uow, "a"))
    again = idempotency.answer_once(uow, request, api_pb2.Method, lambda: _use_case(uow, "a"))
    assert first == again == api_pb2.Method(name="answer", request_type_url="a")
    assert _effects(sessions) == 1


def test_answer_once_keeps_neither_key_nor_rows_of_a_refused_call(sessions):
    uow, request = _unit(sessions), _request(str(uuid.uuid4()), "b")
    with pytest.raises(FailedPrecondition):
        idempotency.answer_once(uow, request, api_pb2.Method, lambda: _use_case(uow, "b", fail=True))
    assert _effects(sessions) == 0
    idempotency.answer_once(uow, request, api_pb2.Method, lambda: _use_case(uow, "b"))
    assert _effects(sessions) == 1


def test_answer_once_without_a_request_id_runs_the_use_case_in_its_own_unit(sessions):
    uow = _unit(sessions)
    idempotency.answer_once(uow, None, api_pb2.Method, lambda: _use_case(uow, "c"))
    idempotency.answer_once(uow, None, api_pb2.Method, lambda: _use_case(uow, "c"))
    assert _effects(sessions) == 2
