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

from pathlib import Path
from typing import Any

from coop_domain.errors import DomainError
from coop_elections.adapters.trustee_files import (
    TrusteePublic,
    _load,
    decryption_shares_document,
    read_decryption_shares,
    read_public,
    write_json,
)
from coop_elections.client.ballots import read_json
from coop_elections.domain.canonical import to_jsonable
from coop_elections.domain.crypto.audit import EncryptedElectionRecord
from coop_elections.domain.crypto.ballots import EncryptedBallot
from coop_elections.domain.crypto.elgamal import Ciphertext
from coop_elections.domain.crypto.shuffle import ShuffleProof
from coop_elections.domain.crypto.tally import Mix, WeightedBallot
from coop_elections.domain.crypto.trustees import Threshold
from coop_elections.domain.published import FORMAT as ELECTION_FORMAT
from coop_elections.domain.published import definition_from_json, definition_to_json

BALLOTS_FORMAT = "coopgov/encrypted-ballots/v1"
MIXES_FORMAT = "coopgov/mixes/v1"
REQUIRED = ("election.json", "ballots.json", "mixes.json", "results.json")


def record_documents(record: EncryptedElectionRecord, transport_keys: dict[int, bytes]) -> dict[str, Any]:
    """Every file of the published record, as JSON documents by file name."""
    eid = record.definition.id
    threshold = {"k": record.threshold.k, "n": record.threshold.n}
    documents: dict[str, Any] = {"election.json": definition_to_json(
        record.definition, encryption={"public_key": record.public_key.to_bytes().hex(), "threshold": threshold})}
    for commitment in record.commitments:
        documents[f"trustee-{commitment.trustee}.public.json"] = TrusteePublic(
            eid, record.threshold, commitment, transport_keys[commitment.trustee]).to_json()
    documents["ballots.json"] = {
        "format": BALLOTS_FORMAT, "election_id": eid, "head_hash": record.head_hash,
        "ballots": [{"tracker": t, "ballot": b.ballot.to_bytes().hex(), "weight": b.weight}
                    for t, b in zip(record.trackers, record.ballots, strict=True)]}
    documents["mixes.json"] = {
        "format": MIXES_FORMAT, "election_id": eid,
        "questions": {qid: [{"mixer": m.mixer, "outputs": [[ct.to_bytes().hex() for ct in row] for row in m.outputs],
                             "proof": m.proof.to_bytes().hex()} for m in steps]
                      for qid, steps in record.mixes.items()}}
    for trustee, shares in record.decryptions.items():
        documents[f"decryption-shares-{trustee}.json"] = decryption_shares_document(eid, trustee, shares)
    documents["results.json"] = record.result if isinstance(record.result, dict) else to_jsonable(record.result)
    return documents


def write_record(folder: str | Path, record: EncryptedElectionRecord, transport_keys: dict[int, bytes]) -> None:
    """Publish a record: every file above, each written whole or not at all."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, document in record_documents(record, transport_keys).items():
        write_json(folder / name, document)


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
