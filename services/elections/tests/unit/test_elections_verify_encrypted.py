"""The encrypted election's verifier, from the published folder alone: it accepts the honest
record, names each tampered file's element, and refuses missing or malformed files by name."""

from __future__ import annotations

import json
import shutil

import pysodium
import pytest
from encrypted_election import run

from coop_elections.adapters.encrypted_record import read_record, write_record
from coop_elections.domain.crypto.box import receipt_of
from coop_elections.domain.crypto.group import G
from coop_elections.entrypoints.verify_encrypted import main


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    election = run()
    folder = tmp_path_factory.mktemp("record")
    keys = {c.trustee: pysodium.crypto_box_keypair()[0] for c in election.commitments}
    write_record(folder, election.record(), keys)
    return folder


@pytest.fixture
def folder(published, tmp_path):
    copy = tmp_path / "record"
    shutil.copytree(published, copy)
    return copy


def _edit(path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _flip_hex(text: str, at: int) -> str:
    """Another valid-looking value: the hex of a different element at 32-byte slot `at`."""
    raw = bytearray(bytes.fromhex(text))
    other = (G * pysodium_scalar()).to_bytes()
    raw[at * 32:(at + 1) * 32] = other
    return raw.hex()


def pysodium_scalar():
    from coop_elections.domain.crypto.group import random_scalar

    return random_scalar()


def test_the_published_folder_reads_back_as_the_record_and_verifies(folder, capsys):
    record = read_record(folder)
    assert len(record.ballots) == 6 and sorted(record.decryptions) == [1, 3, 5]
    assert main([str(folder), "--processes", "1"]) == 0
    assert "OK: election election-tally: 6 ballots" in capsys.readouterr().out


def test_two_processes_give_the_same_verdict_as_json(folder, capsys):
    assert main([str(folder), "--processes", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verified"] is True


def _tamper_key(folder):
    _edit(folder / "election.json", lambda d: d["encryption"].update(public_key=(G * pysodium_scalar()).to_bytes().hex()))
    return "key (election key)"


def _tamper_commitment(folder):
    """C_20 replaced: trustee 2's proof of knowledge no longer holds."""
    _edit(folder / "trustee-2.public.json", lambda d: d["coefficients"].__setitem__(
        0, (G * pysodium_scalar()).to_bytes().hex()))
    return "key (trustee 2)"


def _tamper_ballot_weight(folder):
    _edit(folder / "ballots.json", lambda d: d["ballots"][3].update(weight=4))
    return "mix (question 'council', shuffle 0"


def _tamper_ballot_dropped(folder):
    _edit(folder / "ballots.json", lambda d: d["ballots"].pop(5))
    return "mix (question 'council', shuffle 0"


def _tamper_mix_output(folder):
    _edit(folder / "mixes.json", lambda d: d["questions"]["priorities"][1]["outputs"][2].__setitem__(
        0, _flip_hex(d["questions"]["priorities"][1]["outputs"][2][0], 1)))
    return "mix (question 'priorities', shuffle 1"


def _tamper_mix_proof(folder):
    _edit(folder / "mixes.json", lambda d: d["questions"]["council"][0].update(
        proof=d["questions"]["council"][1]["proof"]))
    return "mix (question 'council', shuffle 0"


def _tamper_decryption_share(folder):
    _edit(folder / "decryption-shares-3.json", lambda d: d["shares"][7].update(
        share=(G * pysodium_scalar()).to_bytes().hex()))
    return "decryption (trustee 3, ciphertext 7)"


def _tamper_tracker(folder):
    _edit(folder / "ballots.json", lambda d: d["ballots"][5].update(tracker="ZZZZ-ZZZZ-ZZZ7"))
    return "box (head)"


def _tamper_head(folder):
    _edit(folder / "ballots.json", lambda d: d.update(head_hash="ab" * 32))
    return "box (head)"


def _tamper_result(folder):
    def more_yes(d):
        motion = next(q for q in d["questions"] if q["question_id"] == "motion")
        motion["yes"] += 1
    _edit(folder / "results.json", more_yes)
    return "result (published result)"


@pytest.mark.parametrize("tamper", [_tamper_key, _tamper_commitment, _tamper_ballot_weight, _tamper_ballot_dropped,
                                    _tamper_mix_output, _tamper_mix_proof, _tamper_decryption_share,
                                    _tamper_tracker, _tamper_head, _tamper_result], ids=lambda f: f.__name__.removeprefix("_tamper_"))
def test_each_tampered_file_fails_the_verifier_naming_the_element(folder, capsys, tamper):
    expected = tamper(folder)
    assert main([str(folder), "--processes", "1"]) == 1
    assert f"FAIL {expected}" in capsys.readouterr().out


@pytest.mark.parametrize("damage, message", [
    (lambda f: (f / "ballots.json").unlink(), "ballots.json"),
    (lambda f: (f / "mixes.json").write_text("{"), "mixes.json: not JSON"),
    (lambda f: _edit(f / "ballots.json", lambda d: d["ballots"][0].update(ballot="00")), "ballots[0]"),
    (lambda f: _edit(f / "election.json", lambda d: d["encryption"].update(public_key="xyz")), "public_key"),
])
def test_a_missing_or_malformed_file_is_refused_by_name(folder, capsys, damage, message):
    damage(folder)
    assert main([str(folder), "--processes", "1"]) == 2
    assert message in capsys.readouterr().err


def test_a_tampered_decryption_share_is_named_over_two_processes_too(folder, capsys):
    _tamper_decryption_share(folder)
    assert main([str(folder), "--processes", "2"]) == 1
    out = capsys.readouterr().out
    assert "FAIL decryption (trustee 3, ciphertext 7)" in out and "FAIL decryption (tally)" in out


def test_a_voter_checks_their_receipt_with_the_record(folder, capsys):
    record = read_record(folder)
    tracker = record.trackers[3]
    receipt = receipt_of(record.definition.id, tracker, record.ballots[3].ballot.to_bytes())
    assert main([str(folder), "--processes", "1", "--tracker", tracker, "--ballot-hash", receipt]) == 0
    assert "your receipt too" in capsys.readouterr().out
    assert main([str(folder), "--processes", "1", "--tracker", record.trackers[2], "--ballot-hash", receipt]) == 1
    assert f"FAIL receipt ({record.trackers[2]}): the ballot under tracker" in capsys.readouterr().out
    with pytest.raises(SystemExit) as usage:
        main([str(folder), "--tracker", tracker])
    assert usage.value.code == 2


def test_the_record_is_written_in_small_chunks_that_join_into_the_same_files(monkeypatch, tmp_path):
    """The api sends the record as it reads it, a chunk at a time: every file is the sum of its
    chunks, whatever their size, and reads back as the record it was written from."""
    from coop_elections.adapters import encrypted_record
    from coop_elections.domain.canonical import to_jsonable
    from coop_elections.domain.crypto.record import source_of

    election = run()
    keys = {c.trustee: bytes([c.trustee]) * 32 for c in election.commitments}
    monkeypatch.setattr(encrypted_record, "CHUNK_BYTES", 1_000)
    folder = tmp_path / "chunked"
    folder.mkdir()
    sizes = {}
    for name, chunks in encrypted_record.record_files(source_of(election.record(), keys)):
        parts = list(chunks)
        sizes[name] = len(parts)
        (folder / name).write_bytes(b"".join(parts))
        json.loads((folder / name).read_bytes())
    assert sizes["ballots.json"] > len(election.ballots) and sizes["mixes.json"] > 10  # a chunk a ballot or more
    assert read_record(folder) == election.record(result=to_jsonable(election.result))
    assert main([str(folder), "--processes", "1"]) == 0
