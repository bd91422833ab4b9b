"""Use cases of an encrypted election's key: its trustees publish their key-generation
commitments, anyone of the tenant reads the key's state, and casting checks ballots under it.

The service is the trustees' bulletin board, never a trustee: it stores what they publish (each
proof of knowledge checked on arrival, so a stored commitment always holds), recomputes the
election key once none is missing, and keeps it with the election. Private shares travel between
the trustees' own machines (`coop trustee`, docs/trustees.md) and never reach it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from coop_domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument, PermissionDenied
from coop_domain.principal import Principal
from coop_elections.domain.crypto.ballots import ballot_verdict
from coop_elections.domain.crypto.box import STORED_KEY, stored_content
from coop_elections.domain.crypto.group import ELEMENT_BYTES, Element
from coop_elections.domain.crypto.shuffle import Mapper
from coop_elections.domain.crypto.trustees import Threshold, TrusteeCommitment, qualify
from coop_elections.domain.election import EncryptionSpec
from coop_elections.domain.model import ElectionDefinition
from coop_elections.domain.published import encrypted_election_to_json
from coop_elections.domain.stored import StoredElection
from coop_elections.service_layer.common import VOTERS, counting_definition, load
from coop_elections.service_layer.ports import ElectionsUnitOfWork
from coop_platform.caching import LastUsed

TRUSTEES = ("trustee",)
TRANSPORT_KEY_BYTES = 32
#: The content key under which a cast encrypted ballot is stored (hex of its canonical bytes).
ENCRYPTED_BALLOT = STORED_KEY


@dataclass(frozen=True)
class PublishedKey:
    trustee: int
    trustee_id: str
    commitment: bytes
    transport_key: bytes
    published_at: datetime


@dataclass(frozen=True)
class KeyState:
    """Who published, who is missing, and the election key once none is."""

    election_id: str
    threshold: int
    published: tuple[PublishedKey, ...]
    missing: tuple[int, ...]
    public_key: bytes  # b"" until complete
    election_json: str = ""  # once complete: the definition clients encrypt against


def encryption_of(e: StoredElection) -> EncryptionSpec:
    if e.spec.encryption is None:
        raise FailedPrecondition("this election's ballots are not encrypted: it has no trustees and no key",
                                 reason="NOT_ENCRYPTED")
    return e.spec.encryption


def require_trustee(caller: Principal, e: StoredElection, trustee: int) -> EncryptionSpec:
    """The election's setting, if the caller is its trustee number `trustee`."""
    encryption = encryption_of(e)
    n = len(encryption.trustees)
    if not 1 <= trustee <= n:
        raise InvalidArgument(f"trustee is 1 to {n} in this election", field="trustee",
                              reason="TRUSTEE_OUT_OF_RANGE")
    if encryption.trustees[trustee - 1] != caller.subject:
        raise PermissionDenied(f"you are not trustee {trustee} of this election", field="trustee",
                               reason="NOT_THIS_TRUSTEE")
    return encryption


def _missing(encryption: EncryptionSpec, published: Iterable[int]) -> tuple[int, ...]:
    have = set(published)
    return tuple(i for i in range(1, len(encryption.trustees) + 1) if i not in have)


def missing_trustees(uow: ElectionsUnitOfWork, e: StoredElection) -> tuple[int, ...]:
    """The trustee numbers that have not published their commitments yet."""
    return _missing(encryption_of(e), (row.trustee for row in uow.elections.trustee_keys(e.election_id)))


def _state(uow: ElectionsUnitOfWork, e: StoredElection) -> KeyState:
    encryption = encryption_of(e)
    rows = uow.elections.trustee_keys(e.election_id)
    published = tuple(PublishedKey(r.trustee, encryption.trustees[r.trustee - 1], bytes.fromhex(r.commitment),
                                   bytes.fromhex(r.transport_key), r.published_at) for r in rows)
    missing = _missing(encryption, (p.trustee for p in published))
    key = bytes.fromhex(e.election_key) if e.election_key else b""
    return KeyState(e.election_id, encryption.threshold, published, missing, key)


def election_key_state(uow: ElectionsUnitOfWork, caller: Principal, election_id: str) -> KeyState:
    """Any role of the tenant: voters' clients need the key and the definition, auditors the
    commitments."""
    with uow:
        uow.read_only()
        e = load(uow, caller, election_id)
        state = _state(uow, e)
        if not state.public_key:
            return state
        encryption = encryption_of(e)
        document = encrypted_election_to_json(counting_definition(uow, e), state.public_key,
                                              encryption.threshold, len(encryption.trustees))
        return replace(state, election_json=json.dumps(document, sort_keys=True))


def _joint_key(encryption: EncryptionSpec, election_id: str, published: tuple[PublishedKey, ...]) -> str:
    threshold = Threshold(encryption.threshold, len(encryption.trustees))
    commitments = [TrusteeCommitment.from_bytes(p.commitment) for p in published]
    return qualify(commitments, threshold, election_id.encode()).public_key.to_bytes().hex()


def publish_trustee_key(uow: ElectionsUnitOfWork, caller: Principal, election_id: str, trustee: int,
                        commitment: bytes, transport_key: bytes, now: datetime) -> KeyState:
    """Trustee `trustee` (the caller, by its subject) publishes its commitments; the last one
    completes the election key. A retry with the same bytes answers like the first call."""
    caller.require(*TRUSTEES)
    with uow:
        e = load(uow, caller, election_id, lock="update")
        encryption = require_trustee(caller, e, trustee)
        n = len(encryption.trustees)
        try:
            parsed = TrusteeCommitment.from_bytes(commitment)
        except ValueError as exc:
            raise InvalidArgument(f"commitment: {exc}", field="commitment", reason="MALFORMED_COMMITMENT") from None
        if parsed.trustee != trustee:
            raise InvalidArgument(f"the commitment is trustee {parsed.trustee}'s, not trustee {trustee}'s",
                                  field="commitment", reason="TRUSTEE_MISMATCH")
        problem = parsed.problem(Threshold(encryption.threshold, n), e.election_id.encode())
        if problem is not None:
            raise InvalidArgument(f"commitment: {problem}", field="commitment", reason="TRUSTEE_PROOF_FAILED")
        if len(transport_key) != TRANSPORT_KEY_BYTES:
            raise InvalidArgument(f"the transport key is {TRANSPORT_KEY_BYTES} bytes (X25519)",
                                  field="transport_public_key", reason="MALFORMED_TRANSPORT_KEY")
        if not uow.elections.add_trustee_key(e.election_id, trustee, commitment.hex(), transport_key.hex(),
                                             caller.subject, now):
            first = next(p for p in _state(uow, e).published if p.trustee == trustee)
            if (first.commitment, first.transport_key) != (commitment, transport_key):
                raise AlreadyExists(f"trustee {trustee} has published other commitments already",
                                    field="commitment", reason="TRUSTEE_KEY_PUBLISHED")
            return _state(uow, e)
        if e.status != "scheduled":  # checked after the retry: a retry after the opening still answers
            raise FailedPrecondition("the election is open: its key is fixed", reason="KEY_GENERATION_CLOSED")
        state = _state(uow, e)
        if not state.missing:
            e.election_key = _joint_key(encryption, e.election_id, state.published)
            uow.elections.update_election(e.election_id, election_key=e.election_key)
            state = _state(uow, e)
        uow.commit()
        return state


def require_key(e: StoredElection) -> Element:
    """The election key casting encrypts under; FAILED_PRECONDITION while trustees are missing."""
    if not e.election_key:
        raise FailedPrecondition("the trustees have not all published their keys: the election has no key yet",
                                 reason="ELECTION_KEY_INCOMPLETE")
    raw = bytes.fromhex(e.election_key)
    assert len(raw) == ELEMENT_BYTES
    return Element.from_bytes(raw)


@dataclass(frozen=True)
class CheckedBallot:
    """An encrypted ballot whose every proof held against its election's definition and key:
    what the api hands to casting, so the batch's transaction never waits on a proof check."""

    election_id: str
    election_key: str
    content: dict[str, str]


def check_encrypted_ballot(definition: ElectionDefinition, key: Element, raw: bytes,
                           mapper: Mapper = map) -> dict[str, str]:
    """The stored content of a valid encrypted ballot; INVALID_ARGUMENT naming the first failing
    proof (question, kind, position) or the malformed part. `mapper` runs the check (the api's
    process pool: a request thread only waits, and every core checks whichever api process
    the voter's connection reached)."""
    malformed, failures = list(mapper(ballot_verdict, [definition], [key], [bytes(raw)]))[0]
    if malformed is not None:
        raise InvalidArgument(f"encrypted_ballot: {malformed}", field="encrypted_ballot", reason="MALFORMED_BALLOT")
    if failures:
        first = failures[0]
        raise InvalidArgument(
            f"the ballot does not hold: {first} ({len(failures)} failure{'s' if len(failures) > 1 else ''})",
            field="encrypted_ballot", reason="BALLOT_PROOF_FAILED", question=first.question_id or "",
            proof=first.proof, position=",".join(str(i) for i in first.where), failures=len(failures))
    return stored_content(bytes(raw))  # from_bytes accepted only the canonical bytes: no re-encoding


@dataclass(frozen=True)
class _CheckInputs:
    election_id: str
    election_key: str
    definition: ElectionDefinition
    key: Element


#: (tenant, election id) -> what a ballot of that election is checked against, kept once it can
#: no longer change (_frozen); each cast read the election and its candidacies again before.
_frozen_inputs: LastUsed[tuple[str, str], _CheckInputs] = LastUsed(64)


def _frozen(e: StoredElection, now: datetime) -> bool:
    """The election's key is complete (it is published once, whole) and its definition final:
    the spec and tie-break seed never change, and candidacies change only while nominations
    are open (submit and withdraw both require it), which ends before voting opens."""
    return bool(e.election_key) and (not e.spec.has_nominations
                                     or now >= e.spec.nominations_close)  # type: ignore[operator]


def _check_inputs(uow: ElectionsUnitOfWork, caller: Principal, election_id: str, now: datetime) -> _CheckInputs:
    kept = _frozen_inputs.get((caller.tenant, election_id))
    if kept is not None:  # keyed by the caller's tenant: another tenant never finds it here
        return kept
    with uow:
        uow.read_only()
        e = load(uow, caller, election_id)
        encryption_of(e)
        inputs = _CheckInputs(e.election_id, e.election_key or "", counting_definition(uow, e), require_key(e))
    if _frozen(e, now):
        _frozen_inputs.put((caller.tenant, election_id), inputs)
    return inputs


def prepare_encrypted_ballot(uow: ElectionsUnitOfWork, caller: Principal, election_id: str,
                             raw: bytes, now: datetime, mapper: Mapper = map) -> CheckedBallot:
    """Check the ballot's proofs against its election outside any write transaction. Only a
    voter of the election's tenant gets that far: nobody else spends the api's CPU on proofs, or
    learns from the answer what the batch would refuse anyway. The batch checks again, in its
    own transaction, that the election is open and that its key is the one checked against."""
    caller.require(*VOTERS)
    inputs = _check_inputs(uow, caller, election_id, now)
    return CheckedBallot(inputs.election_id, inputs.election_key,
                         check_encrypted_ballot(inputs.definition, inputs.key, raw, mapper))
