"""An encrypted election's published record as files: what the audit reads, nothing secret.

One folder:

    election.json                  the definition, with "encryption": {"public_key", "threshold"}
    trustee-I.public.json          each trustee's commitments (coopgov/trustee-public/v1)
    ballots.json                   accepted ballots in box (tracker) order, with trackers, weights and
                                   the box's head hash (coopgov/encrypted-ballots/v1)
    mixes.json                     per ranked question, the shuffles in order (coopgov/mixes/v1)
    decryption-shares-I.json       each decrypting trustee's shares (coopgov/decryption-shares/v1)
    results.json                   the published result

Reading names the file and field of anything malformed (ValueError); whether the contents hold
is the audit's business (:mod:`coop_elections.domain.crypto.audit`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from coop_domain.errors import DomainError
from coop_elections.adapters.trustee_files import (
    DECRYPTION_SHARES_FORMAT,
    TrusteePublic,
    _load,
    read_decryption_shares,
    read_public,
    share_entry,
)
from coop_elections.client.ballots import read_json
from coop_elections.domain.crypto.audit import EncryptedElectionRecord
from coop_elections.domain.crypto.ballots import EncryptedBallot
from coop_elections.domain.crypto.elgamal import Ciphertext
from coop_elections.domain.crypto.record import RecordSource, source_of
from coop_elections.domain.crypto.shuffle import ShuffleProof
from coop_elections.domain.crypto.tally import Mix, WeightedBallot
from coop_elections.domain.crypto.trustees import Threshold
from coop_elections.domain.published import FORMAT as ELECTION_FORMAT
from coop_elections.domain.published import definition_from_json, encrypted_election_to_json
from coop_platform.files import write_atomically

BALLOTS_FORMAT = "coopgov/encrypted-ballots/v1"
MIXES_FORMAT = "coopgov/mixes/v1"
REQUIRED = ("election.json", "ballots.json", "mixes.json", "results.json")


CHUNK_BYTES = 1 << 20


def _items(items: Iterable[Any]) -> Iterator[str]:
    for n, item in enumerate(items):
        yield ("," if n else "") + "\n" + json.dumps(item)


def _opening(header: Mapping[str, Any], field: str) -> str:
    """A document's text up to the opening bracket of its last member, `field`."""
    return json.dumps(header)[:-1] + ", " + json.dumps(field) + ": "


def _ballots_text(source: RecordSource) -> Iterator[str]:
    yield _opening({"format": BALLOTS_FORMAT, "election_id": source.definition.id,
                    "head_hash": source.head_hash}, "ballots") + "["
    yield from _items({"tracker": t, "ballot": ballot_hex, "weight": w} for t, w, ballot_hex in source.ballots())
    yield "\n]}\n"


def _mixes_text(source: RecordSource) -> Iterator[str]:
    yield _opening({"format": MIXES_FORMAT, "election_id": source.definition.id}, "questions") + "{"
    for q, (question_id, steps) in enumerate(source.mixes()):
        yield ("," if q else "") + "\n" + json.dumps(question_id) + ": ["
        for s, (mixer, rows, proof) in enumerate(steps):
            yield ("," if s else "") + "\n" + _opening({"mixer": mixer, "proof": proof.hex()}, "outputs") + "["
            yield from _items([ct.to_bytes().hex() for ct in row] for row in rows)
            yield "]}"
        yield "]"
    yield "\n}}\n"


def _shares_text(source: RecordSource, trustee: int) -> Iterator[str]:
    yield _opening({"format": DECRYPTION_SHARES_FORMAT, "election_id": source.definition.id,
                    "trustee": trustee}, "shares") + "["
    yield from _items(share_entry(s, trustee) for s in source.decryptions[trustee]())
    yield "\n]}\n"


def _chunks(pieces: Iterable[str]) -> Iterator[bytes]:
    """Text pieces gathered into chunks of about CHUNK_BYTES."""
    size = CHUNK_BYTES
    buffer: list[str] = []
    held = 0
    for piece in pieces:
        buffer.append(piece)
        held += len(piece)
        if held >= size:
            yield "".join(buffer).encode()
            buffer, held = [], 0
    if buffer:
        yield "".join(buffer).encode()


def record_files(source: RecordSource) -> Iterator[tuple[str, Iterator[bytes]]]:
    """Every file of the published record: its name and its bytes in chunks, each produced when
    the previous one is consumed (nothing big is held)."""
    eid = source.definition.id
    yield "election.json", _chunks([json.dumps(encrypted_election_to_json(
        source.definition, source.public_key.to_bytes(), source.threshold.k, source.threshold.n), indent=1)])
    for commitment in source.commitments:
        yield f"trustee-{commitment.trustee}.public.json", _chunks([json.dumps(TrusteePublic(
            eid, source.threshold, commitment, source.transport_keys[commitment.trustee]).to_json(), indent=1)])
    yield "ballots.json", _chunks(_ballots_text(source))
    yield "mixes.json", _chunks(_mixes_text(source))
    for trustee in source.decryptions:
        yield f"decryption-shares-{trustee}.json", _chunks(_shares_text(source, trustee))
    yield "results.json", _chunks([json.dumps(source.result, indent=1)])


def write_record(folder: str | Path, record: EncryptedElectionRecord, transport_keys: Mapping[int, bytes]) -> None:
    """Publish a record: every file above, each written whole or not at all."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, chunks in record_files(source_of(record, transport_keys)):
        write_atomically(folder / name, chunks)


def _trustee_number(path: Path, prefix: str, suffix: str) -> int:
    middle = path.name.removeprefix(prefix).removesuffix(suffix)
    if not middle.isdigit():
        raise ValueError(f"{path}: the file name does not end in a trustee number")
    return int(middle)


def read_record(folder: str | Path) -> EncryptedElectionRecord:
    """The record in `folder`; ValueError naming the file (and field) of anything malformed."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder}: not a folder")
    for name in REQUIRED:
        if not (folder / name).is_file():
            raise ValueError(f"{folder / name}: missing from the published record")
    election_path = folder / "election.json"
    election = read_json(election_path)
    try:
        definition = definition_from_json(election)
    except DomainError as exc:
        raise ValueError(f"{election_path}: {exc}") from None
    fields = _load(election_path, ELECTION_FORMAT).nested("encryption")
    public_key = fields.element("public_key")
    limits = fields.nested("threshold")
    try:
        threshold = Threshold(limits.integer("k"), limits.integer("n"))
    except ValueError as exc:
        raise ValueError(f"{election_path}: encryption.threshold: {exc}") from None
    eid = definition.id

    commitments = []
    for path in sorted(folder.glob("trustee-*.public.json")):
        public = read_public(path)
        if public.election_id != eid:
            raise ValueError(f"{path}: for election {public.election_id!r}, not {eid!r}")
        commitments.append(public.commitment)

    ballots_file = _load(folder / "ballots.json", BALLOTS_FORMAT)
    head_hash = ballots_file.text("head_hash")
    ballots, trackers = [], []
    for n in range(len(ballots_file.items("ballots"))):
        entry = ballots_file.nested("ballots", n)
        raw = entry.hex("ballot")
        trackers.append(entry.text("tracker"))
        try:
            ballots.append(WeightedBallot(EncryptedBallot.from_bytes(raw), entry.integer("weight")))
        except ValueError as exc:
            raise entry.error("ballot", str(exc)) from None

    mixes_file = _load(folder / "mixes.json", MIXES_FORMAT)
    questions = mixes_file.get("questions")
    if not isinstance(questions, dict):
        raise mixes_file.error("questions", "an object of question id -> shuffles expected")
    mixes: dict[str, tuple[Mix, ...]] = {}
    for qid, steps in questions.items():
        if not isinstance(steps, list):
            raise mixes_file.error(f"questions.{qid}", "a list of shuffles expected")
        parsed = []
        for s, step in enumerate(steps):
            if not isinstance(step, dict) or not isinstance(step.get("mixer"), str):
                raise mixes_file.error(f"questions.{qid}[{s}]", "a shuffle has a mixer, outputs and a proof")
            try:
                outputs = tuple(tuple(Ciphertext.from_bytes(bytes.fromhex(ct)) for ct in row)
                                for row in step["outputs"])
                proof = ShuffleProof.from_bytes(bytes.fromhex(step["proof"]))
            except (KeyError, TypeError, ValueError) as exc:
                raise mixes_file.error(f"questions.{qid}[{s}]", f"not a shuffle ({exc})") from None
            parsed.append(Mix(step["mixer"], outputs, proof))
        mixes[qid] = tuple(parsed)

    decryptions = {}
    for path in sorted(folder.glob("decryption-shares-*.json")):
        election_id, trustee, shares = read_decryption_shares(path)
        if election_id != eid or trustee != _trustee_number(path, "decryption-shares-", ".json"):
            raise ValueError(f"{path}: not trustee {trustee}'s shares for election {eid!r}")
        decryptions[trustee] = tuple(shares)

    result = read_json(folder / "results.json")
    return EncryptedElectionRecord(definition, threshold, tuple(commitments), public_key, tuple(ballots), mixes,
                                   decryptions, result, tuple(trackers), head_hash)
