"""Prepare, check and read encrypted ballots: the voter's side, pure but for reading files."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coop_domain.errors import DomainError
from coop_elections.domain.crypto.ballots import (
    BallotFailure,
    BallotOpening,
    EncryptedBallot,
    encrypt_ballot_opened,
    open_ballot,
    verify_ballot,
)
from coop_elections.domain.crypto.group import ELEMENT_BYTES, Element, Scalar
from coop_elections.domain.model import ElectionDefinition, Method, Question
from coop_elections.domain.published import definition_from_json

BALLOT_FORMAT = "coopgov/encrypted-ballot/v1"
OPENING_FORMAT = "coopgov/ballot-opening/v1"  # kept on the voter's device, never sent
SPOILED_FORMAT = "coopgov/spoiled-ballot/v1"  # a challenged ballot with its opening: public


@dataclass(frozen=True)
class PublishedElection:
    """An election as its voters' clients see it: the questions and the key to encrypt under."""

    definition: ElectionDefinition
    public_key: Element

    def question(self, question_id: str) -> Question:
        for q in self.definition.questions:
            if q.id == question_id:
                return q
        known = ", ".join(q.id for q in self.definition.questions)
        raise ValueError(f"this election has no question {question_id!r} (its questions: {known})")


def public_key_from_hex(text: Any, where: str = "public key") -> Element:
    """The election key from its 64 hex characters; ValueError saying what is wrong."""
    if not isinstance(text, str):
        raise ValueError(f"{where}: 64 hex characters expected")
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"{where}: not hex") from None
    if len(raw) != ELEMENT_BYTES:
        raise ValueError(f"{where}: {ELEMENT_BYTES} bytes expected, {len(raw)} given")
    key = Element.from_bytes(raw)
    if key.is_identity():
        raise ValueError(f"{where}: the identity is no election key")
    return key


def read_json(path: str | Path) -> Any:
    """A published JSON file; ValueError saying which file cannot be read or parsed, and why."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read it ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON ({exc.msg}, line {exc.lineno})") from None


def load_election(path: str | Path, public_key: str = "") -> PublishedElection:
    """election.json as published, with its key from ``encryption.public_key`` or ``public_key``
    (what `coop trustee public-key` prints) when given. ValueError naming the file and field."""
    data = read_json(path)
    try:
        definition = definition_from_json(data)
    except DomainError as exc:
        raise ValueError(f"{path}: {exc}") from None
    if not public_key:
        encryption = data.get("encryption")
        if not isinstance(encryption, Mapping) or "public_key" not in encryption:
            raise ValueError(f"{path}: no encryption.public_key (not an encrypted election?); "
                             "pass the key the trustees published")
        public_key = encryption["public_key"]
        return PublishedElection(definition, public_key_from_hex(public_key, f"{path}: encryption.public_key"))
    return PublishedElection(definition, public_key_from_hex(public_key))


def parse_answer(question: Question, text: str) -> Any:
    """A command-line answer in the domain's form: yes/no/abstain for a resolution, candidate ids
    separated by commas otherwise (in rank order for STV and Schulze), empty for a blank one."""
    text = text.strip()
    if question.method is Method.RESOLUTION:
        return text
    return [c.strip() for c in text.split(",") if c.strip()]


@dataclass(frozen=True)
class PreparedBallot:
    """An encrypted ballot ready to cast, the receipt its voter keeps (its SHA-256), and its
    opening (every ciphertext's nonce): destroyed once the ballot is cast, or published with it
    when the voter challenges the ballot instead (spoiled_json)."""

    ballot: EncryptedBallot
    opening: BallotOpening = field(default_factory=dict, repr=False, compare=False)

    @property
    def receipt(self) -> str:
        return self.ballot.hash()

    def to_json(self) -> dict[str, Any]:
        return {"format": BALLOT_FORMAT, "election_id": self.ballot.election_id,
                "ballot": self.ballot.to_bytes().hex(), "sha256": self.receipt}

    def opening_json(self) -> dict[str, Any]:
        """The opening as the device keeps it until the voter casts or challenges the ballot."""
        return {"format": OPENING_FORMAT, "sha256": self.receipt, "opening": _opening_to_json(self.opening)}

    def spoiled_json(self) -> dict[str, Any]:
        """The challenged ballot and its opening, for any other device to check (audit_spoiled).
        A spoiled ballot is never cast: its opening tells what it holds."""
        return {**self.to_json(), "format": SPOILED_FORMAT, "opening": _opening_to_json(self.opening)}


def prepare_ballot(election: PublishedElection, answers: Mapping[str, Any]) -> PreparedBallot:
    """Encrypt the answers (question id -> answer; unanswered questions encrypt as all zeros) and
    check the result before it leaves the device. ValueError naming the question for a bad answer."""
    for question_id in answers:
        election.question(question_id)
    ballot, opening = encrypt_ballot_opened(election.definition, answers, election.public_key)
    failures = check_ballot(election, ballot)
    if failures:  # an honest encryption always verifies: this would be a bug, never sent
        raise RuntimeError(f"the ballot just made does not verify: {failures[0]}")
    return PreparedBallot(ballot, opening)


def check_ballot(election: PublishedElection, ballot: EncryptedBallot) -> list[BallotFailure]:
    """What the service and every auditor check: each proof, against this election and key."""
    return verify_ballot(election.definition, election.public_key, ballot)


def _document(path: str | Path, file_format: str) -> Mapping[str, Any]:
    """A JSON file of this format; ValueError otherwise."""
    data = read_json(path)
    if not isinstance(data, Mapping) or data.get("format") != file_format:
        raise ValueError(f"{path}: not a {file_format} file")
    return data


def _ballot_file(path: str | Path, file_format: str) -> tuple[Mapping[str, Any], EncryptedBallot]:
    data = _document(path, file_format)
    try:
        ballot = EncryptedBallot.from_bytes(bytes.fromhex(data.get("ballot", "")))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: ballot: {exc}") from None
    if data.get("sha256") not in (None, ballot.hash()):
        raise ValueError(f"{path}: sha256 is not the ballot's hash")
    return data, ballot


def read_ballot(path: str | Path) -> EncryptedBallot:
    """A ballot file written from PreparedBallot.to_json; ValueError naming what is wrong."""
    return _ballot_file(path, BALLOT_FORMAT)[1]


def _opening_to_json(opening: BallotOpening) -> dict[str, list[str]]:
    return {qid: [r.to_bytes().hex() for r in nonces] for qid, nonces in opening.items()}


def _opening_from_json(data: Any, where: str) -> BallotOpening:
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: opening: question id -> nonces (hex) expected")
    try:
        return {str(qid): tuple(Scalar.from_bytes(bytes.fromhex(h)) for h in nonces) for qid, nonces in data.items()}
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: opening: {exc}") from None


def read_opening(path: str | Path, ballot: EncryptedBallot) -> BallotOpening:
    """The opening file `coop vote encrypt` kept for this ballot; ValueError if it is another's."""
    data = _document(path, OPENING_FORMAT)
    if data.get("sha256") != ballot.hash():
        raise ValueError(f"{path}: the opening of another ballot (sha256 {data.get('sha256')!r})")
    return _opening_from_json(data.get("opening"), str(path))


def read_spoiled(path: str | Path) -> tuple[EncryptedBallot, BallotOpening]:
    """A spoiled ballot file (PreparedBallot.spoiled_json): the ballot and its opening."""
    data, ballot = _ballot_file(path, SPOILED_FORMAT)
    return ballot, _opening_from_json(data.get("opening"), str(path))


def audit_spoiled(election: PublishedElection, ballot: EncryptedBallot, opening: BallotOpening) -> dict[str, Any]:
    """What a challenged ballot holds, checked on a device other than the one that made it:
    the content (question id -> answer, as decrypt_ballot gives it), or ValueError naming the
    proof or the ciphertext that does not hold."""
    return open_ballot(election.definition, election.public_key, ballot, opening)
