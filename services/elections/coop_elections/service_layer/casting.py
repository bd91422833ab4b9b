"""Casting ballots: the hot path (benchmarked at 1,000+ casts a second).

The api hands casts that arrive together to `cast_ballots` as one batch (group commit,
coop_platform.batching): one transaction, one commit, one receipt or one refusal per cast.
Own ballots, proxy ballots and re-votes alike, so none is alone in its transaction when others
arrive with it, and within the batch ballots are written in shuffled order: neither the
transaction nor the rows' physical order pairs a voter with a ballot (docs/elections.md, Secrecy).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from coop_domain.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    PermissionDenied,
)
from coop_domain.principal import Principal
from coop_elections.domain.ballot_box import receipt_hash
from coop_elections.domain.canonical import canonical_json
from coop_elections.domain.election import check_id
from coop_elections.domain.errors import AlreadyVoted
from coop_elections.domain.events import VoterVoted
from coop_elections.domain.model import ElectionDefinition
from coop_elections.domain.proxies import ProxyStatus
from coop_elections.domain.stored import StoredElection
from coop_elections.domain.trackers import (
    new_tracker,
    normalise_tracker,
    revote_code_from_key,
    tracker_from_key,
)
from coop_elections.domain.validation import validate_ballot
from coop_elections.service_layer.common import VOTERS, check_open, counting_definition, load
from coop_elections.service_layer.ports import ElectionsUnitOfWork
from coop_elections.service_layer.trustees import CheckedBallot
from coop_platform.batching import run_alone
from coop_platform.logs import get_correlation_id

Content = dict[str, Any] | CheckedBallot | Callable[[StoredElection], dict[str, Any]]


@dataclass
class Receipt:
    tracker: str
    ballot_hash: str
    revote_code: str
    superseded_previous: bool


@dataclass(frozen=True)
class Cast:
    """One ballot the caller casts: their own, with a proxy (`on_behalf_of`), or replacing their
    counted ballot (`previous_tracker` and `previous_code`). `content` may be a function of the
    election (the api reads the answers against its questions: one election read). `ballot_key`,
    when given, is the client's secret the tracker and re-vote code derive from (a retry gets the
    first receipt). `correlation_id` is the request's, kept for its election.voted when another
    thread commits the batch."""

    caller: Principal
    election_id: str
    content: Content
    now: datetime
    previous_tracker: str = ""
    previous_code: str = ""
    on_behalf_of: str = ""
    ballot_key: str = ""
    correlation_id: str | None = field(default_factory=get_correlation_id, compare=False)

    @property
    def voter_id(self) -> str:
        return self.caller.subject

    @property
    def for_whom(self) -> str:
        """The voter whose vote this is (the register row it writes)."""
        return self.on_behalf_of or self.caller.subject


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def ballot_row(e: StoredElection, content: dict[str, Any], weight: int, code: str,
               tracker: str = "") -> dict[str, Any]:
    """A ballot row under a fresh random tracker (or the one derived from the voter's ballot key):
    a commitment to this ballot alone (not chained to the previous cast: that would record the
    cast order, nor to its weight: the published box has weights only per class); the published
    box is chained in tracker order at the close."""
    tracker = tracker or new_tracker()
    return {"election_id": e.election_id, "tracker": tracker, "content": canonical_json(content).decode(),
            "weight": weight, "ballot_hash": receipt_hash(e.election_id, tracker, None, content),
            "revote_hash": code_hash(code) if code else None}


def store_ballot(uow: ElectionsUnitOfWork, e: StoredElection, content: dict[str, Any], weight: int) -> tuple[str, str]:
    """A ballot without a voter (a paper ballot): its tracker and receipt hash."""
    while True:
        row = ballot_row(e, content, weight, "")
        if uow.elections.add_ballots([row]):
            return row["tracker"], row["ballot_hash"]


def _already_voted(e: StoredElection) -> AlreadyVoted:
    return AlreadyVoted("a ballot already counts for you: its receipt is what your client kept from that cast"
                        + ("; to replace it give its tracker and re-vote code" if e.spec.allow_revote else "")
                        + " (a cast with a ballot_key gets its first receipt back on a retry)")


_Valid = tuple[int, Cast, dict[str, Any], str]  # (position, cast, content, tracker from the key or "")


def _content(e: StoredElection, definition_: ElectionDefinition, content: Any) -> dict[str, Any]:
    """The content to store: plaintext answers validated, or an encrypted ballot the api checked
    (CheckedBallot: its proofs held against this election's key, outside the transaction)."""
    if e.spec.encryption is None:
        if isinstance(content, CheckedBallot):
            raise FailedPrecondition("this election's ballots are not encrypted: send answers",
                                     field="encrypted_ballot", reason="NOT_ENCRYPTED")
        return validate_ballot(definition_, content)
    if not isinstance(content, CheckedBallot):
        raise FailedPrecondition("this election's ballots are encrypted: send encrypted_ballot, made by the "
                                 "voter's client under the election key, not answers",
                                 field="answers", reason="ENCRYPTED_BALLOT_REQUIRED")
    if (content.election_id, content.election_key) != (e.election_id, e.election_key):
        raise FailedPrecondition("the ballot was checked against another election or key",
                                 field="encrypted_ballot", reason="ELECTION_KEY_CHANGED")
    return content.content


def _prepare(e: StoredElection, definition_: ElectionDefinition, cast: Cast,
             content: Any) -> tuple[dict[str, Any], str]:
    """Check one cast without writing: its content and fields; its keyed tracker or ""."""
    check_open(e, cast.now)
    normalised = _content(e, definition_, content)
    if bool(cast.previous_tracker) != bool(cast.previous_code):
        raise InvalidArgument("give both previous_tracker and previous_revote_code, or neither",
                              field="previous_revote_code" if cast.previous_tracker else "previous_tracker",
                              reason="REVOTE_RECEIPT_INCOMPLETE")
    if cast.previous_tracker:
        try:
            normalise_tracker(cast.previous_tracker)
        except InvalidArgument as exc:
            raise InvalidArgument(str(exc), field="previous_tracker", reason="INVALID_TRACKER") from exc
    if cast.on_behalf_of:
        check_id(cast.on_behalf_of, "on_behalf_of")
        if cast.on_behalf_of == cast.voter_id:
            raise InvalidArgument("on_behalf_of names someone else", field="on_behalf_of", reason="PROXY_TO_SELF")
    return normalised, tracker_from_key(e.election_id, cast.ballot_key) if cast.ballot_key else ""


def _unusable_proxy(uow: ElectionsUnitOfWork, e: StoredElection, cast: Cast) -> PermissionDenied:
    """Why the caller cannot vote with this giver's proxy: used, voided, revoked, or not theirs."""
    giver = cast.on_behalf_of
    row = uow.elections.proxy(e.election_id, giver)
    if row is None or row.holder_id != cast.voter_id:
        return PermissionDenied(f"you hold no proxy of {giver}", field="on_behalf_of", reason="NO_PROXY_HELD")
    if row.status == ProxyStatus.USED:
        return PermissionDenied(f"the proxy of {giver} has already been used: a ballot counts for {giver}",
                                field="on_behalf_of", reason="PROXY_USED")
    if row.status == ProxyStatus.VOIDED:
        return PermissionDenied(f"the proxy of {giver} is void: {giver} voted themselves", field="on_behalf_of",
                                reason="PROXY_VOIDED")
    return PermissionDenied(f"{giver} revoked the proxy they gave you", field="on_behalf_of", reason="PROXY_REVOKED")


def _cast_round(uow: ElectionsUnitOfWork, e: StoredElection, items: list[_Valid],
                results: list[Receipt | Exception | None]) -> None:
    """Casts of one election for distinct voters: register rows (each new one publishes
    election.voted, for the voter or the proxy's giver; a re-vote publishes nothing), proxies,
    replaced ballots and new ballots (shuffled). A refused cast writes nothing; a refused cast
    with a ballot key whose ballot already stands with the same content is a retry and gets its
    first receipt."""
    eid = e.election_id
    weights = uow.elections.roll_weights(eid, (c.for_whom for _, c, _, _ in items))
    live: list[_Valid] = []
    for item in items:
        n, cast = item[0], item[1]
        if cast.for_whom not in weights:
            results[n] = FailedPrecondition("not on the voter roll of this election",
                                            field="on_behalf_of" if cast.on_behalf_of else None, reason="NOT_ON_ROLL")
        else:
            live.append(item)
    usable = uow.elections.usable_proxies(eid, [(c.on_behalf_of, c.voter_id) for _, c, _, _ in live if c.on_behalf_of])
    refused_keyed: list[_Valid] = []
    marking: dict[str, list[_Valid]] = {}
    for item in live:
        n, cast = item[0], item[1]
        if cast.on_behalf_of and cast.on_behalf_of not in usable:
            results[n] = _unusable_proxy(uow, e, cast)
            refused_keyed += [item] if cast.ballot_key else []
        else:
            marking.setdefault("proxy" if cast.on_behalf_of else "online", []).append(item)
    rows: list[tuple[int, str, dict[str, Any]]] = []  # (position, re-vote code, ballot row)
    superseding: set[int] = set()
    for channel, group in marking.items():
        newly = uow.elections.mark_voted_many(eid, [c.for_whom for _, c, _, _ in group], channel)
        for item in group:
            n, cast, content, keyed = item
            if cast.for_whom not in newly:
                refusal = _refusal_of_a_second_vote(uow, e, cast)
                if refusal is not None:
                    results[n] = refusal
                    refused_keyed += [item] if cast.ballot_key else []
                    continue
                superseding.add(n)
            else:  # newly in the register: election.voted, in this commit's one outbox insert
                uow.publish(VoterVoted(e, cast.for_whom, cast.now), correlation_id=cast.correlation_id)
            if cast.on_behalf_of:
                uow.elections.set_proxy_status(eid, cast.on_behalf_of, "active", "used", holder=cast.voter_id)
            elif e.spec.max_proxies_held:  # voting oneself voids an unused proxy one gave
                uow.elections.set_proxy_status(eid, cast.voter_id, "active", "voided")
            code = _revote_code(e, cast)
            rows.append((n, code, ballot_row(e, content, weights[cast.for_whom], code, keyed)))
    _answer_retries(uow, e, refused_keyed, results)
    keyed_rows = {n for n, _, _, keyed in items if keyed}
    secrets.SystemRandom().shuffle(rows)
    while rows:
        stored = uow.elections.add_ballots([row for *_, row in rows])
        for n, code, row in rows:
            results[n] = Receipt(row["tracker"], row["ballot_hash"], code, n in superseding)
        taken = [(n, code, row) for n, code, row in rows if row["tracker"] not in stored]
        if any(n in keyed_rows for n, _, _ in taken):  # fails the batch: each cast is then run alone
            raise AlreadyExists("this ballot_key gives the tracker of another ballot: generate a new key",
                                field="ballot_key", reason="BALLOT_KEY_COLLISION")
        # a random tracker already taken (a chance of one in 2**60 per pair): draw again
        rows = [(n, code, ballot_row(e, json.loads(row["content"]), row["weight"], code)) for n, code, row in taken]


def _refusal_of_a_second_vote(uow: ElectionsUnitOfWork, e: StoredElection, cast: Cast) -> Exception | None:
    """The voter is in the register already: None when this cast replaces their counted ballot
    (a re-vote; the old ballot is deleted), else why it is refused."""
    if cast.on_behalf_of:
        return AlreadyExists(f"a ballot already counts for {cast.on_behalf_of}", field="on_behalf_of",
                             reason="ALREADY_VOTED")
    if not (e.spec.allow_revote and cast.previous_tracker):
        return _already_voted(e)
    if not uow.elections.remove_ballot(e.election_id, normalise_tracker(cast.previous_tracker),
                                       code_hash(cast.previous_code)):
        return FailedPrecondition("no counted ballot matches this tracker and re-vote code",
                                  field="previous_tracker", reason="REVOTE_RECEIPT_UNKNOWN")
    uow.elections.mark_superseded(e.election_id)
    return None


def _revote_code(e: StoredElection, cast: Cast) -> str:
    """The code that lets the voter replace this ballot: derived from the ballot key (so a retry
    returns it again), random otherwise; none for a proxy ballot or without re-voting."""
    if not e.spec.allow_revote or cast.on_behalf_of:
        return ""
    return revote_code_from_key(e.election_id, cast.ballot_key) if cast.ballot_key else secrets.token_urlsafe(18)


def _answer_retries(uow: ElectionsUnitOfWork, e: StoredElection, refused: list[_Valid],
                    results: list[Receipt | Exception | None]) -> None:
    """A refused cast with a ballot key whose ballot stands, with the same content, is a retry of
    the cast that stored it: the first receipt again (derived from the key; nothing is stored)."""
    if not refused:
        return
    standing = uow.elections.ballots_by_tracker(e.election_id, [keyed for *_, keyed in refused])
    for n, cast, content, keyed in refused:
        found = standing.get(keyed)
        if found is not None and found.content == canonical_json(content).decode():
            results[n] = Receipt(keyed, found.ballot_hash, _revote_code(e, cast), bool(cast.previous_tracker))


def cast_ballots(uow: ElectionsUnitOfWork, casts: Sequence[Cast]) -> list[Receipt | Exception]:
    """Ballots of many voters in one transaction: one receipt or one refusal per cast; a refused
    cast writes nothing. Two casts for one voter in a batch run in turn (rounds), as they would
    one after the other. Each cast's caller must be a member of the election's tenant."""
    results: list[Receipt | Exception | None] = [None] * len(casts)
    with uow:
        loaded: dict[tuple[str, str], tuple[StoredElection, ElectionDefinition]] = {}
        rounds: dict[str, list[list[_Valid]]] = {}
        seen: dict[tuple[str, str], int] = {}
        for n, cast in enumerate(casts):
            try:
                cast.caller.require(*VOTERS)
                key = (cast.caller.tenant, cast.election_id)
                if key not in loaded:
                    e = load(uow, cast.caller, cast.election_id, lock="share")  # the close waits for casts
                    loaded[key] = (e, counting_definition(uow, e))
                e, definition_ = loaded[key]
                content, keyed = _prepare(e, definition_, cast,
                                          cast.content(e) if callable(cast.content) else cast.content)
            except DomainError as refused:
                results[n] = refused
                continue
            turn = seen[(e.election_id, cast.for_whom)] = seen.get((e.election_id, cast.for_whom), -1) + 1
            per_election = rounds.setdefault(e.election_id, [])
            if turn == len(per_election):
                per_election.append([])
            per_election[turn].append((n, cast, content, keyed))
        elections = {e.election_id: e for e, _ in loaded.values()}
        for election_id, turns in rounds.items():
            for items in turns:
                _cast_round(uow, elections[election_id], items, results)
        uow.commit()
    return results  # type: ignore[return-value]


def cast_ballot(uow: ElectionsUnitOfWork, caller: Principal, election_id: str, content: Content, now: datetime, *,
                previous_tracker: str = "", previous_code: str = "", on_behalf_of: str = "",
                ballot_key: str = "") -> Receipt:
    """One cast outside the api's batches (CLI, worker, tests)."""
    return run_alone(partial(cast_ballots, uow), Cast(caller, election_id, content, now, previous_tracker,
                                                       previous_code, on_behalf_of, ballot_key))
