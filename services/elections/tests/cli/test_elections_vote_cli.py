"""`coop vote`: a voter encrypts a ballot on their machine, checks it as the service will, and
keeps its hash as the receipt; bad answers and tampered ballots are refused by name. A ballot may
be challenged instead of cast (Benaloh): spoiled with its opening, and opened on another device."""

from __future__ import annotations

import json
import stat

import pytest

from coop_cli.main import main
from coop_elections.client import load_election, prepare_ballot, read_ballot
from coop_elections.domain.crypto.ballots import decrypt_ballot
from coop_elections.domain.crypto.elgamal import KeyPair
from coop_elections.domain.model import ElectionDefinition, Method, Question
from coop_elections.domain.published import definition_to_json

KEY = KeyPair.generate()
DEFINITION = ElectionDefinition("ga-2027", (
    Question("council", Method.STV, ("ana", "ben", "cat", "dan"), seats=2),
    Question("motion", Method.RESOLUTION),
    Question("budget", Method.APPROVAL, ("roof", "van", "solar")),
), tie_break_seed="s")


@pytest.fixture
def election(tmp_path):
    path = tmp_path / "election.json"
    path.write_text(json.dumps(definition_to_json(DEFINITION, encryption={"public_key": KEY.public.to_bytes().hex()})))
    return path


def test_a_voter_encrypts_answers_that_decrypt_to_exactly_them_and_prints_the_receipt(election, tmp_path, capsys):
    out = tmp_path / "ballot.json"
    assert main(["vote", "encrypt", str(election), "--answer", "council=cat,ana", "--answer", "motion=yes",
                 "--answer", "budget=van,roof", "--out", str(out)]) == 0
    ballot = read_ballot(out)
    assert capsys.readouterr().out.strip().endswith(ballot.hash())
    assert decrypt_ballot(DEFINITION, ballot, KEY.secret) == {
        "council": ["cat", "ana"], "motion": "yes", "budget": ["roof", "van"]}
    assert main(["vote", "check", str(election), str(out)]) == 0
    assert f"receipt {ballot.hash()}" in capsys.readouterr().out


def test_an_unanswered_question_is_encrypted_like_a_blank_one(election, tmp_path):
    out = tmp_path / "ballot.json"
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"council": ["dan"]}))
    assert main(["vote", "encrypt", str(election), "--answers-file", str(answers), "--out", str(out)]) == 0
    assert decrypt_ballot(DEFINITION, read_ballot(out), KEY.secret) == {"council": ["dan"], "budget": []}


def test_a_ballot_checked_against_another_key_fails_at_every_proof(election, tmp_path, capsys):
    out = tmp_path / "ballot.json"
    main(["vote", "encrypt", str(election), "--answer", "motion=no", "--out", str(out)])
    other = KeyPair.generate().public.to_bytes().hex()
    assert main(["vote", "check", str(election), str(out), "--public-key", other]) == 1
    printed = capsys.readouterr().out
    assert "FAIL option" in printed and "FAIL permutation" in printed


def test_a_tampered_proof_in_a_ballot_file_is_named(election, tmp_path, capsys):
    out = tmp_path / "ballot.json"
    main(["vote", "encrypt", str(election), "--answer", "motion=abstain", "--out", str(out)])
    data = json.loads(out.read_text())
    ballot = read_ballot(out)
    motion = ballot.answer("motion")
    forged = type(motion)(motion.question_id, motion.method, motion.ciphertexts,
                          (motion.option_proofs[1], motion.option_proofs[0], motion.option_proofs[2]),
                          motion.count_proof)
    tampered = type(ballot)(ballot.election_id, ballot.nonce,
                            tuple(forged if a.question_id == "motion" else a for a in ballot.answers))
    data["ballot"], data["sha256"] = tampered.to_bytes().hex(), tampered.hash()
    out.write_text(json.dumps(data))
    assert main(["vote", "check", str(election), str(out)]) == 1
    printed = capsys.readouterr().out
    assert "question 'motion', option 'yes'" in printed and "question 'motion', option 'no'" in printed


@pytest.mark.parametrize("answer, message", [
    ("council=ana,zoe", "unknown candidate 'zoe'"),
    ("council=ana,ana", "'ana' ranked twice"),
    ("motion=maybe", "yes, no, abstain"),
    ("budget=roof,van,solar,roof", "chosen twice"),
    ("board=ana", "no question 'board'"),
    ("council", "QUESTION=ANSWER expected"),
])
def test_a_bad_answer_is_refused_with_its_reason_and_nothing_is_written(election, tmp_path, capsys, answer,
                                                                         message):
    out = tmp_path / "ballot.json"
    assert main(["vote", "encrypt", str(election), "--answer", answer, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err and not out.exists()


def test_files_that_are_no_ballot_or_no_encrypted_election_are_refused(tmp_path, capsys):
    plain = tmp_path / "election.json"
    plain.write_text(json.dumps(definition_to_json(DEFINITION)))
    assert main(["vote", "encrypt", str(plain), "--answer", "motion=yes", "--out", str(tmp_path / "b")]) == 2
    assert "no encryption.public_key" in capsys.readouterr().err
    junk = tmp_path / "junk.json"
    junk.write_text(json.dumps({"format": "coopgov/encrypted-ballot/v1", "ballot": "00ff"}))
    key = KEY.public.to_bytes().hex()
    assert main(["vote", "check", str(plain), str(junk), "--public-key", key]) == 2
    assert "junk.json: ballot:" in capsys.readouterr().err
    assert main(["vote", "check", str(plain), str(junk), "--public-key", "abc"]) == 2
    assert "not hex" in capsys.readouterr().err


def test_the_receipt_is_the_hash_of_the_canonical_ballot_bytes_the_file_carries(election):
    prepared = prepare_ballot(load_election(election), {"motion": "yes"})
    assert prepared.to_json()["sha256"] == prepared.receipt == prepared.ballot.hash()
    assert bytes.fromhex(prepared.to_json()["ballot"]) == prepared.ballot.to_bytes()


def test_an_existing_ballot_file_is_never_overwritten(election, tmp_path, capsys):
    out = tmp_path / "ballot.json"
    out.write_text("mine")
    assert main(["vote", "encrypt", str(election), "--answer", "motion=no", "--out", str(out)]) == 2
    assert "never overwritten" in capsys.readouterr().err and out.read_text() == "mine"


def _encrypt(election, tmp_path, *answers: str):
    out = tmp_path / "ballot.json"
    args = [a for answer in answers for a in ("--answer", answer)]
    assert main(["vote", "encrypt", str(election), *args, "--out", str(out)]) == 0
    return out


def test_a_challenged_ballot_is_spoiled_with_its_opening_and_another_device_sees_the_answers(
        election, tmp_path, capsys):
    out = _encrypt(election, tmp_path, "council=cat,ana", "motion=no", "budget=solar")
    opening = tmp_path / "ballot.json.opening"
    assert stat.S_IMODE(opening.stat().st_mode) == 0o600  # it tells the vote: the voter's eyes only
    receipt = read_ballot(out).hash()
    capsys.readouterr()
    spoiled = tmp_path / "spoiled.json"
    assert main(["vote", "challenge", str(out), "--out", str(spoiled)]) == 0
    assert f"ballot {receipt} spoiled" in capsys.readouterr().out
    assert not out.exists() and not opening.exists()  # a spoiled ballot cannot be cast by mistake
    assert json.loads(spoiled.read_text())["sha256"] == receipt
    assert main(["vote", "audit", str(election), str(spoiled)]) == 0
    printed = capsys.readouterr().out
    assert f"OK: spoiled ballot {receipt} holds" in printed
    assert "  council: cat, ana\n  motion: no\n  budget: solar\n" in printed


def test_a_spoiled_ballot_whose_opening_does_not_match_fails_the_audit(election, tmp_path, capsys):
    out = _encrypt(election, tmp_path, "council=ben", "motion=yes")
    spoiled = tmp_path / "spoiled.json"
    assert main(["vote", "challenge", str(out), "--out", str(spoiled)]) == 0
    data = json.loads(spoiled.read_text())
    nonces = data["opening"]["motion"]
    data["opening"]["motion"] = [nonces[1], nonces[0], nonces[2]]  # a device covering up its yes/no swap
    spoiled.write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["vote", "audit", str(election), str(spoiled)]) == 1
    assert "FAIL: question 'motion', ciphertext 0: not encrypted with the opening's nonce" in capsys.readouterr().out


def test_a_ballot_without_its_opening_or_with_anothers_cannot_be_challenged(election, tmp_path, capsys):
    out = _encrypt(election, tmp_path, "motion=abstain")
    opening = tmp_path / "ballot.json.opening"
    other = tmp_path / "other"
    other.mkdir()
    _encrypt(election, other, "motion=yes")
    spoiled = tmp_path / "spoiled.json"
    assert main(["vote", "challenge", str(out), "--opening", str(other / "ballot.json.opening"),
                 "--out", str(spoiled)]) == 2
    assert "the opening of another ballot" in capsys.readouterr().err
    opening.unlink()
    assert main(["vote", "challenge", str(out), "--out", str(spoiled)]) == 2
    assert "no opening for this ballot" in capsys.readouterr().err
    assert out.exists() and not spoiled.exists()


def test_the_opening_file_is_never_overwritten_either(election, tmp_path, capsys):
    (tmp_path / "ballot.json.opening").write_text("mine")
    assert main(["vote", "encrypt", str(election), "--answer", "motion=no", "--out", str(tmp_path / "ballot.json")]) == 2
    assert "never overwritten" in capsys.readouterr().err and not (tmp_path / "ballot.json").exists()
