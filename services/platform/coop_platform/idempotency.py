"""Idempotent writes (Google AIP-155): the client sends a `request_id` with a write it may retry,
and a retry gets the first answer back instead of a second effect.

A `string request_id` on the request message is a UUID the client generates once per logical
operation and sends again, unchanged, with every retry of it. The service keeps, per
(tenant, caller, method, request_id), a fingerprint of the request and the response it gave:

* a retry with the same key and the same request returns the stored response, byte for byte,
  and does nothing else;
* the same key with another request is refused with FAILED_PRECONDITION (field `request_id`):
  the key is already bound to a different operation, a state of the key store that retrying
  cannot change (the client must generate a new request_id for a new operation);
* only a successful answer is stored: a refused call writes nothing (its claim rolls back with
  it), so its retry runs again and may succeed.

Everything happens in the caller's own transaction (the unit of work of the use case): the
key is claimed before the work, the answer recorded with the work's rows, and both commit or
roll back together. Concurrent retries with one key produce one effect: on PostgreSQL the
second claim waits on the first's uncommitted row (its unique key) and then returns the first
answer, or claims the key itself if the first rolled back. A batch of calls served in one
transaction (coop_platform.batching) claims all its keys in one statement, in key order so that
two batches never wait on each other in a circle, and answers a key repeated inside the batch
with the answer of its first occurrence.

Keys older than a retention (COOP_IDEMPOTENCY_RETENTION_HOURS, default 168: seven days) are
purged by `purge`, which a worker runs from a timer; a retry after that is a new request.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    inspect,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from coop_platform.errors import FailedPrecondition, InvalidArgument
from coop_platform.sqlkit import dialect_of

M = TypeVar("M")  # a protobuf response message

DEFAULT_RETENTION_HOURS = 168


def idempotency_table(metadata: MetaData) -> Table:
    """The key store; a service's migration creates it (create_idempotency_table)."""
    return Table(
        "idempotency_keys",
        metadata,
        Column("tenant", String(100), primary_key=True),
        Column("caller", String(200), primary_key=True),
        Column("method", String(100), primary_key=True),
        Column("request_id", String(36), primary_key=True),
        Column("fingerprint", String(64), nullable=False),  # sha256 of the request without its request_id
        Column("response", LargeBinary, nullable=True),  # the serialized answer; NULL only before commit
        Column("created_at", DateTime(timezone=True), nullable=False),
        Index("ix_idempotency_keys_created", "created_at"),
    )


_KEYS = idempotency_table(MetaData())


def create_idempotency_table(op: Any) -> None:
    """For a service's Alembic migration: create the key store (this module's shape)."""
    scratch = MetaData()
    idempotency_table(scratch)
    scratch.create_all(bind=op.get_bind())


def drop_idempotency_table(op: Any) -> None:
    op.drop_table("idempotency_keys")


@dataclass(frozen=True, order=True)
class IdempotencyKey:
    tenant: str
    caller: str
    method: str
    request_id: str


@dataclass(frozen=True)
class IdempotentRequest:
    """One call's key and the fingerprint of what it asks."""

    key: IdempotencyKey
    fingerprint: str


def parse_request_id(value: str, field: str = "request_id") -> str | None:
    """The normalised request id, or None when the client sent none; INVALID_ARGUMENT otherwise."""
    if not value:
        return None
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise InvalidArgument(f"{field} {value!r} is not a UUID (generate one per operation and resend it "
                              "with every retry)", field=field) from None


def fingerprint(message: Any, field: str = "request_id") -> str:
    """sha256 of a protobuf request without its request id (deterministic serialization)."""
    copy = type(message)()
    copy.CopyFrom(message)
    copy.ClearField(field)
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).hexdigest()


def idempotent_request(tenant: str, caller: str, method: str, message: Any,
                       field: str = "request_id") -> IdempotentRequest | None:
    """The key and fingerprint of a protobuf request, or None when it carries no request id."""
    request_id = parse_request_id(getattr(message, field), field)
    if request_id is None:
        return None
    return IdempotentRequest(IdempotencyKey(tenant[:100], caller[:200], method[:100], request_id),
                             fingerprint(message, field))


@dataclass(frozen=True)
class Replay:
    """The key was answered before: return this answer (serialized), and do nothing else."""

    response: bytes


@dataclass(frozen=True)
class SameAs:
    """The key came earlier in the same batch with the same request: answer as that one."""

    index: int


Claim = None | Replay | SameAs | FailedPrecondition  # None: this call is the first; do the work


def key_reused(key: IdempotencyKey) -> FailedPrecondition:
    return FailedPrecondition(
        f"request_id {key.request_id} was already used for another {key.method} request: generate a new "
        "request_id for a new operation, and resend the same request to retry", field="request_id")


def claim(session: Session, request: IdempotentRequest) -> bytes | None:
    """Claim one call's key in the caller's transaction: None when this call is the first (do the
    work, then `record` the answer before committing), or the first call's answer to return.
    Raises FAILED_PRECONDITION when the key was used with another request."""
    result = claim_many(session, [request])[0]
    if isinstance(result, FailedPrecondition):
        raise result
    return result.response if isinstance(result, Replay) else None


def claim_many(session: Session, requests: Sequence[IdempotentRequest]) -> list[Claim]:
    """Claim the keys of a batch in one statement (see module doc): one Claim per request, in order."""
    results: list[Claim] = [None] * len(requests)
    first_of: dict[IdempotencyKey, int] = {}
    for n, request in enumerate(requests):
        earlier = first_of.setdefault(request.key, n)
        if earlier != n:
            same = requests[earlier].fingerprint == request.fingerprint
            results[n] = SameAs(earlier) if same else key_reused(request.key)
    firsts = sorted(first_of.items())  # one lock order for every batch
    if not firsts:
        return results
    now = datetime.now(UTC)
    k = _KEYS.c
    # the rows as parameters of one statement compiled once (SQLAlchemy's insertmanyvalues): a
    # multi-row VALUES built per batch would be compiled again for every batch size
    claimed = {IdempotencyKey(*row) for row in session.execute(
        dialect_of(session).insert(_KEYS)
        .on_conflict_do_nothing(index_elements=["tenant", "caller", "method", "request_id"])
        .returning(k.tenant, k.caller, k.method, k.request_id),
        [dict(tenant=key.tenant, caller=key.caller, method=key.method, request_id=key.request_id,
              fingerprint=requests[n].fingerprint, created_at=now) for key, n in firsts])}
    taken = [(key, n) for key, n in firsts if key not in claimed]
    if taken:
        stored = {IdempotencyKey(r.tenant, r.caller, r.method, r.request_id): r for r in session.execute(
            select(_KEYS).where(tuple_(k.tenant, k.caller, k.method, k.request_id).in_(
                [(key.tenant, key.caller, key.method, key.request_id) for key, _ in taken])))}
        for key, n in taken:
            row = stored[key]
            if row.fingerprint != requests[n].fingerprint:
                results[n] = key_reused(key)
            elif row.response is None:  # claimed earlier in this very transaction: a caller's bug
                raise RuntimeError(f"idempotency key {key} claimed twice in one transaction")
            else:
                results[n] = Replay(bytes(row.response))
    return results


def answer_once(uow: Any, request: IdempotentRequest | None, response_type: type[M],
                work: Callable[[], M]) -> M:
    """A servicer's write, at most once per request_id: `work` runs the use case on `uow` and
    returns the RPC's response. With a key, the unit is opened around it: the key is claimed
    first, the use case joins the transaction (its own `with uow:` and `commit` become the
    outer unit's), and the serialized response is stored with its rows in one commit. A retry
    gets the stored response back and runs nothing; a refused call stores nothing."""
    if request is None:
        return work()
    with uow:
        stored = claim(uow.session, request)
        if stored is not None:
            return response_type.FromString(stored)
        response = work()
        record(uow.session, request, response.SerializeToString(deterministic=True))
        uow.commit()
        return response


def record(session: Session, request: IdempotentRequest, response: bytes) -> None:
    """Store the answer of a claimed key, in the transaction that did the work."""
    record_many(session, [(request, response)])


def record_many(session: Session, answers: Sequence[tuple[IdempotentRequest, bytes]]) -> None:
    """Store the answers of a batch's claimed keys: on PostgreSQL one statement (UPDATE ... FROM
    unnest of arrays, the same text for every batch size), so that a group-committed batch pays one
    round trip and no statement compilation, not one per call."""
    k = _KEYS.c
    if len(answers) > 1 and session.get_bind().dialect.name == "postgresql":
        session.execute(_RECORD_MANY_PG, {
            "tenants": [r.key.tenant for r, _ in answers], "callers": [r.key.caller for r, _ in answers],
            "methods": [r.key.method for r, _ in answers], "request_ids": [r.key.request_id for r, _ in answers],
            "responses": [response for _, response in answers]})
        return
    for request, response in answers:
        key = request.key
        session.execute(update(_KEYS).where(
            k.tenant == key.tenant, k.caller == key.caller, k.method == key.method, k.request_id == key.request_id)
            .values(response=response))


_RECORD_MANY_PG = text(
    f"UPDATE {_KEYS.name} AS k SET response = a.response"
    " FROM unnest(CAST(:tenants AS varchar[]), CAST(:callers AS varchar[]), CAST(:methods AS varchar[]),"
    "             CAST(:request_ids AS varchar[]), CAST(:responses AS bytea[]))"
    "      AS a(tenant, caller, method, request_id, response)"
    " WHERE k.tenant = a.tenant AND k.caller = a.caller AND k.method = a.method AND k.request_id = a.request_id")


def release_many(session: Session, requests: Sequence[IdempotentRequest]) -> None:
    """Give back keys claimed in this transaction for calls that were refused, when the transaction
    still commits the batch's other calls: a refusal stores nothing, its retry runs again."""
    k = _KEYS.c
    if requests:
        session.execute(delete(_KEYS).where(tuple_(k.tenant, k.caller, k.method, k.request_id).in_(
            [(r.key.tenant, r.key.caller, r.key.method, r.key.request_id) for r in requests])))


def retention() -> timedelta:
    """How long keys are kept (COOP_IDEMPOTENCY_RETENTION_HOURS, default seven days)."""
    hours = os.environ.get("COOP_IDEMPOTENCY_RETENTION_HOURS") or str(DEFAULT_RETENTION_HOURS)
    try:
        value = float(hours)
    except ValueError:
        raise ValueError(f"COOP_IDEMPOTENCY_RETENTION_HOURS must be a number of hours, not {hours!r}") from None
    if value <= 0:
        raise ValueError("COOP_IDEMPOTENCY_RETENTION_HOURS must be positive")
    return timedelta(hours=value)


def purge_expired(engine: Engine, now: datetime | None = None) -> int:
    """The worker's housekeeping: purge the database's expired keys, if it keeps any (a service
    without idempotent writes has no key store)."""
    if not inspect(engine).has_table(_KEYS.name):
        return 0
    with Session(engine) as session, session.begin():
        return purge(session, now)


def purge(session: Session, now: datetime | None = None, keep: timedelta | None = None) -> int:
    """Delete the keys older than the retention (in the caller's transaction); how many went."""
    cutoff = (now or datetime.now(UTC)) - (keep if keep is not None else retention())
    return session.execute(delete(_KEYS).where(_KEYS.c.created_at < cutoff)).rowcount


def answer_batch(uow: Any, keys: Sequence[IdempotentRequest | None], response_type: type[M],
                 work: Callable[[list[int]], Sequence[Any]]) -> tuple[list[Any], set[int]]:
    """A group-committed batch of retryable calls (coop_platform.batching) in one unit: each
    call's key is claimed, answered or given back alone. `work(todo)` runs the use case for the
    calls to do (their indexes, in order) inside the open unit and returns, per call, its
    response or its refusal (an exception). Returns every call's response or refusal, and the
    indexes of the calls that did the work (not replays of a first answer)."""
    results: list[Any] = [None] * len(keys)
    with uow:
        keyed = [(n, key) for n, key in enumerate(keys) if key is not None]
        todo = [n for n, key in enumerate(keys) if key is None]
        same: list[tuple[int, int]] = []
        for (n, _key), claimed in zip(keyed, claim_many(uow.session, [k for _, k in keyed]), strict=True):
            if claimed is None:
                todo.append(n)
            elif isinstance(claimed, Replay):
                results[n] = response_type.FromString(claimed.response)
            elif isinstance(claimed, SameAs):
                same.append((n, keyed[claimed.index][0]))
            else:
                results[n] = claimed
        todo.sort()
        answers: list[tuple[IdempotentRequest, bytes]] = []
        refused: list[IdempotentRequest] = []
        for n, outcome in zip(todo, work(todo), strict=True):
            results[n] = outcome
            key = keys[n]
            if key is None:
                continue
            if isinstance(outcome, BaseException):
                refused.append(key)
            else:
                answers.append((key, outcome.SerializeToString(deterministic=True)))
        record_many(uow.session, answers)
        release_many(uow.session, refused)
        uow.commit()
    for n, first in same:
        results[n] = results[first]
    return results, set(todo)
