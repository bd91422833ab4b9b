"""Trustees run their k-of-n key ceremony and decrypt with `coop trustee` alone, over files.

Each trustee has its own folder (its machine); only the files a trustee would send (public files,
sealed shares, decryption shares) are copied to the shared "board" folder the others read.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from coop_cli.main import main
from coop_elections.adapters import trustee_files
from coop_elections.adapters.trustee_files import (
    read_complaints,
    read_decryption_shares,
    read_key,
    read_private,
    read_public,
    read_sealed_shares,
    seal_share,
    write_ciphertexts,
    write_sealed_shares,
)
from coop_elections.domain.crypto.elgamal import Ciphertext, encrypt
from coop_elections.domain.crypto.group import Element, G, random_scalar
from coop_elections.domain.crypto.proofs import ChaumPedersenProof, SchnorrProof
from coop_elections.domain.crypto.trustees import (
    Dealing,
    DecryptionShare,
    Threshold,
    TrusteeCommitment,
    TrusteeKeyShare,
    partial_decrypt,
)
from coop_elections.entrypoints import trustee_cli

ELECTION = "election-2027-board"
K, N = 3, 5
PLAINTEXTS = [0, 1, 2, 7, 42]


def run(*args: str) -> tuple[int, str, str]:
    """`coop trustee ARGS` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["trustee", *args])
        except SystemExit as exc:  # argparse's own usage errors
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


@dataclass
class Board:
    root: Path
    printed_keys: dict[int, str]  # what each trustee's `combine` printed

    def folder(self, trustee: int) -> Path:
        return self.root / f"trustee-{trustee}"

    @property
    def board(self) -> Path:
        return self.root / "board"

    @property
    def public_files(self) -> list[str]:
        return [str(self.board / f"trustee-{i}.public.json") for i in range(1, N + 1)]

    @property
    def shares_files(self) -> list[str]:
        return [str(self.board / f"shares-from-{i}.json") for i in range(1, N + 1)]

    def key_file(self, trustee: int) -> str:
        return str(self.folder(trustee) / f"trustee-{trustee}.key.json")

    def public_key(self) -> Element:
        code, out, err = run("public-key", *self.public_files)
        assert code == 0, err
        return Element.from_bytes(bytes.fromhex(out.split()[0]))


@pytest.fixture(scope="module")
def ceremony(tmp_path_factory: pytest.TempPathFactory) -> Board:
    """A whole 3-of-5 key generation through the CLI, each trustee in its own folder."""
    board = Board(tmp_path_factory.mktemp("ceremony"), {})
    board.board.mkdir()
    for i in range(1, N + 1):
        code, out, err = run("keygen", "--election", ELECTION, "--trustee", str(i),
                             "--threshold", str(K), "--trustees", str(N),
                             "--dir", str(board.folder(i)))
        assert code == 0, err
        assert "fingerprint" in out
        shutil.copy(board.folder(i) / f"trustee-{i}.public.json", board.board)
    for i in range(1, N + 1):
        code, out, err = run("deal", "--dir", str(board.folder(i)), "--trustee", str(i),
                             *board.public_files)
        assert code == 0, err
        shutil.copy(board.folder(i) / f"shares-from-{i}.json", board.board)
    for i in range(1, N + 1):
        code, out, err = run("combine", "--dir", str(board.folder(i)), "--trustee", str(i),
                             "--public", *board.public_files, "--shares", *board.shares_files)
        assert code == 0, err
        board.printed_keys[i] = out.strip()
    return board


@pytest.fixture(scope="module")
def ciphertexts(ceremony: Board) -> Path:
    path = ceremony.board / "ciphertexts.json"
    pk = ceremony.public_key()
    write_ciphertexts(path, ELECTION, [encrypt(m, pk, random_scalar()) for m in PLAINTEXTS])
    return path


@pytest.fixture(scope="module")
def decryption_shares(ceremony: Board, ciphertexts: Path) -> dict[int, Path]:
    """Every trustee's decryption shares of the ciphertexts (default --processes)."""
    files = {}
    for i in range(1, N + 1):
        out_path = ceremony.board / f"decryption-{i}.json"
        code, _, err = run("decrypt", "--key", ceremony.key_file(i), "--public",
                           *ceremony.public_files, "--ciphertexts", str(ciphertexts),
                           "--out", str(out_path))
        assert code == 0, err
        files[i] = out_path
    return files


def combine_decryption(ceremony: Board, ciphertexts: Path, *share_files: Path | str
                       ) -> tuple[int, str, str]:
    return run("combine-decryption", "--public", *ceremony.public_files,
               "--ciphertexts", str(ciphertexts), *map(str, share_files))


# --- key generation --------------------------------------------------------------------------


def test_every_trustee_of_a_3_of_5_ceremony_prints_the_key_public_key_recomputes(
        ceremony: Board) -> None:
    code, out, err = run("public-key", "--verbose", *ceremony.public_files)
    assert code == 0, err
    lines = out.splitlines()
    assert set(ceremony.printed_keys.values()) == {lines[0]}
    assert len(lines[0]) == 64
    assert "3 of 5 trustees; key made by trustees 1, 2, 3, 4, 5" in out
    for i in range(1, N + 1):  # each key share matches the verification key anyone recomputes
        key = read_key(ceremony.key_file(i))
        assert key.public_key.to_bytes().hex() == lines[0]
        assert f"trustee {i} verification key: {key.key_share.public.to_bytes().hex()}" in lines


def test_private_files_are_0600_and_no_public_file_holds_a_secret(
        ceremony: Board, decryption_shares: dict[int, Path]) -> None:
    secrets = []
    for i in range(1, N + 1):
        for path in (ceremony.folder(i) / f"trustee-{i}.private.json", Path(ceremony.key_file(i))):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        private = read_private(ceremony.folder(i) / f"trustee-{i}.private.json")
        secrets += [a.to_bytes().hex() for a in private.dealing.coefficients]
        secrets += [private.transport_secret.hex(),
                    private.dealing.share_for(i % N + 1).to_bytes().hex(),
                    read_key(ceremony.key_file(i)).key_share.secret.to_bytes().hex()]
    published = list(ceremony.board.glob("*.json"))
    assert len(published) >= 3 * N  # public files, sealed shares, decryption shares
    for path in published:
        text = path.read_text()
        assert not [s for s in secrets if s in text], f"{path.name} holds a secret"


def test_keygen_never_overwrites_a_trustees_files(ceremony: Board) -> None:
    private = ceremony.folder(1) / "trustee-1.private.json"
    before = private.read_bytes()
    code, _, err = run("keygen", "--election", ELECTION, "--trustee", "1", "--threshold", "3",
                       "--trustees", "5", "--dir", str(ceremony.folder(1)))
    assert code == 2 and "exists" in err and "never overwrites" in err
    assert private.read_bytes() == before


def test_a_tampered_or_wrong_sealed_share_is_a_complaint_naming_its_sender(
        ceremony: Board, tmp_path: Path) -> None:
    mine = tmp_path / "trustee-1"
    mine.mkdir()
    shutil.copy(ceremony.folder(1) / "trustee-1.private.json", mine)
    board = tmp_path / "board"
    shutil.copytree(ceremony.board, board)
    # Trustee 2's box for trustee 1 altered on the way: it no longer opens.
    flipped = read_sealed_shares(board / "shares-from-2.json")
    box = bytearray(flipped.boxes[1])
    box[-1] ^= 1
    write_sealed_shares(board / "shares-from-2.json", trustee_files.SealedShares(
        flipped.election_id, flipped.threshold, 2, {**flipped.boxes, 1: bytes(box)}))
    # Trustee 4 seals a value that is not on its committed polynomial: it opens, but fails.
    wrong = read_sealed_shares(board / "shares-from-4.json")
    transport = read_public(board / "trustee-1.public.json").transport_key
    bad_box = seal_share(ELECTION, 4, 1, random_scalar(), transport)
    write_sealed_shares(board / "shares-from-4.json", trustee_files.SealedShares(
        wrong.election_id, wrong.threshold, 4, {**wrong.boxes, 1: bad_box}))

    code, out, err = run("combine", "--dir", str(mine), "--trustee", "1",
                         "--public", *sorted(map(str, board.glob("trustee-*.public.json"))),
                         "--shares", *sorted(map(str, board.glob("shares-from-*.json"))))
    assert code == 1 and out == ""
    assert "trustee 1 complains about trustees 2, 4" in err
    assert "does not open" in err and "does not match trustee 4's published commitments" in err
    complaints = read_complaints(mine / "complaints-1.json")
    assert complaints.recipient == 1 and sorted(complaints.complaints) == [2, 4]
    assert not (mine / "trustee-1.key.json").exists()


def test_a_missing_shares_file_is_a_complaint_too(ceremony: Board, tmp_path: Path) -> None:
    shutil.copy(ceremony.folder(3) / "trustee-3.private.json", tmp_path)
    code, _, err = run("combine", "--dir", str(tmp_path), "--trustee", "3",
                       "--public", *ceremony.public_files,
                       "--shares", *[f for f in ceremony.shares_files if "from-5" not in f])
    assert code == 1 and "complains about trustee 5 (trustee 5: no shares file" in err
    assert list(read_complaints(tmp_path / "complaints-3.json").complaints) == [5]


# --- decryption ------------------------------------------------------------------------------


def test_trustees_1_3_5_decrypt_small_integers_together(
        ceremony: Board, ciphertexts: Path, decryption_shares: dict[int, Path]) -> None:
    election, trustee, shares = read_decryption_shares(decryption_shares[3])
    assert (election, trustee, len(shares)) == (ELECTION, 3, len(PLAINTEXTS))
    code, out, err = combine_decryption(ceremony, ciphertexts, *(decryption_shares[i]
                                                                 for i in (1, 3, 5)))
    assert code == 0, err
    assert json.loads(out) == PLAINTEXTS


def test_with_only_two_trustees_combine_decryption_exits_1_naming_the_three_missing(
        ceremony: Board, ciphertexts: Path, decryption_shares: dict[int, Path]) -> None:
    code, out, err = combine_decryption(ceremony, ciphertexts, decryption_shares[1],
                                        decryption_shares[3])
    assert code == 1 and out == ""
    assert "3 valid decryption shares are needed, 2 received" in err
    assert "missing: trustees [2, 4, 5]" in err and "Traceback" not in err


def _flip_proof_byte(source: Path, target: Path, index: int, byte: int) -> None:
    data = json.loads(source.read_text())
    proof = bytearray.fromhex(data["shares"][index]["proof"])
    proof[byte] ^= 0x01
    data["shares"][index]["proof"] = proof.hex()
    target.write_text(json.dumps(data))


@pytest.mark.parametrize("byte", [0, 64], ids=["commitment byte", "response byte"])
def test_a_share_with_a_flipped_proof_byte_is_rejected_and_its_trustee_named(
        ceremony: Board, ciphertexts: Path, decryption_shares: dict[int, Path], tmp_path: Path,
        byte: int) -> None:
    tampered = tmp_path / "decryption-5.json"
    _flip_proof_byte(decryption_shares[5], tampered, 0, byte)
    code, out, err = combine_decryption(ceremony, ciphertexts, decryption_shares[1],
                                        decryption_shares[3], tampered)
    assert code == 1 and out == ""
    assert "rejected, proof failed: trustees [5]" in err
    assert "trustee 5: 1 of 5 decryption shares rejected" in err
    # With a fourth honest trustee the tally still decrypts, and trustee 5 is still named.
    code, out, err = combine_decryption(ceremony, ciphertexts, decryption_shares[1],
                                        decryption_shares[3], tampered, decryption_shares[2])
    assert code == 0 and json.loads(out) == PLAINTEXTS
    assert "trustee 5: 1 of 5 decryption shares rejected (proof fails), first for ciphertext 0" in err


def test_decrypt_spreads_long_inputs_over_processes_keeps_their_order_and_shows_progress(
        ceremony: Board, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trustee_cli, "PROGRESS_MIN", 1)
    monkeypatch.setattr(trustee_cli, "MIN_CHUNK", 4)
    pk = ceremony.public_key()
    values = [n % 6 for n in range(24)]
    path = tmp_path / "many.json"
    write_ciphertexts(path, ELECTION, [encrypt(m, pk, random_scalar()) for m in values])
    outs = []
    for i in (2, 4, 5):
        outs.append(tmp_path / f"decryption-{i}.json")
        code, _, err = run("decrypt", "--key", ceremony.key_file(i), "--public",
                           *ceremony.public_files, "--ciphertexts", str(path), "--out",
                           str(outs[-1]), *(["--processes", "2"] if i == 2 else ["--processes", "1"]))
        assert code == 0, err
        assert "decrypting: 24/24 ciphertexts" in err
    code, out, err = combine_decryption(ceremony, path, *outs)
    assert code == 0, err
    assert json.loads(out) == values


def test_a_plaintext_beyond_the_bound_exits_1(ceremony: Board, ciphertexts: Path,
                                               decryption_shares: dict[int, Path]) -> None:
    code, out, err = run("combine-decryption", "--public", *ceremony.public_files,
                         "--ciphertexts", str(ciphertexts), "--bound", "10",
                         *(str(decryption_shares[i]) for i in (1, 2, 3)))
    assert code == 1 and out == ""
    assert "1 of 5 ciphertexts decrypt to no integer in 0..10 (the first: ciphertext 4)" in err


# --- bad inputs ------------------------------------------------------------------------------


def _bad_inputs(board: Board, ciphertexts: Path, shares: dict[int, Path], tmp: Path
                ) -> dict[str, tuple[list[str], str]]:
    """name -> (arguments, what the one error line must say)."""
    not_json = tmp / "not.json"
    not_json.write_text("{nope")
    other = tmp / "other.json"
    write_ciphertexts(other, "another-election", [])
    wrong_folder = tmp / "wrong"
    wrong_folder.mkdir()
    shutil.copy(board.folder(1) / "trustee-1.private.json", wrong_folder / "trustee-2.private.json")
    bad_proof = tmp / "trustee-2.public.json"
    data = json.loads(Path(board.public_files[1]).read_text())
    data["proof"] = data["proof"][:-2] + ("00" if data["proof"][-2:] != "00" else "01")
    bad_proof.write_text(json.dumps(data))
    short = tmp / "short.json"
    data = json.loads(shares[2].read_text())
    data["shares"] = data["shares"][:2]
    short.write_text(json.dumps(data))
    uppercase = tmp / "upper.json"
    data = json.loads(Path(board.public_files[0]).read_text())
    data["coefficients"][1] = data["coefficients"][1].upper()
    uppercase.write_text(json.dumps(data))
    others = [board.public_files[0], *board.public_files[2:]]
    return {
        "not JSON": (["public-key", str(not_json)], f"{not_json}: not JSON"),
        "missing file": (["public-key", str(tmp / "absent.json")], "No such file"),
        "a file of another kind": (["public-key", str(ciphertexts)],
                                   "a coopgov/trustee-public/v1 file is expected"),
        "uppercase hex": (["public-key", str(uppercase)], "coefficients[1]: lowercase hex"),
        "bad proof of knowledge": (["deal", "--dir", str(board.folder(1)), "--trustee", "1",
                                    *others, str(bad_proof)],
                                   "trustee 2: bad proof of knowledge"),
        "wrong trustee": (["combine", "--dir", str(wrong_folder), "--trustee", "2", "--public",
                           *board.public_files, "--shares", *board.shares_files],
                          "trustee 1's private file, not trustee 2's"),
        "not a trustee": (["keygen", "--election", ELECTION, "--trustee", "6", "--threshold", "3",
                           "--trustees", "5", "--dir", str(tmp / "six")], "numbered 1..5"),
        "wrong election": (["decrypt", "--key", board.key_file(1), "--public",
                            *board.public_files, "--ciphertexts", str(other), "--out",
                            str(tmp / "out.json")], "of election 'another-election'"),
        "another set of public files": (["decrypt", "--key", board.key_file(1), "--public",
                                         *board.public_files[:4], "--ciphertexts",
                                         str(ciphertexts), "--out", str(tmp / "out.json")],
                                        "the key file was made for"),
        "too few shares in a file": (["combine-decryption", "--public", *board.public_files,
                                      "--ciphertexts", str(ciphertexts), str(short)],
                                     "2 shares for 5 ciphertexts"),
        "two files of one trustee": (["combine-decryption", "--public", *board.public_files,
                                      "--ciphertexts", str(ciphertexts), str(shares[1]),
                                      str(shares[1])], "a second decryption shares file"),
    }


BAD_INPUTS = ["not JSON", "missing file", "a file of another kind", "uppercase hex",
              "bad proof of knowledge", "wrong trustee", "not a trustee", "wrong election",
              "another set of public files", "too few shares in a file", "two files of one trustee"]


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_inputs_exit_2_with_one_clear_line(
        ceremony: Board, ciphertexts: Path, decryption_shares: dict[int, Path], tmp_path: Path,
        case: str) -> None:
    args, expected = _bad_inputs(ceremony, ciphertexts, decryption_shares, tmp_path)[case]
    code, out, err = run(*args)
    assert code == 2, (out, err)
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert expected in err and "Traceback" not in err


# --- byte codecs -----------------------------------------------------------------------------


def _round_trips(value: object, decode: Callable[[bytes], object], size: int) -> None:
    data = value.to_bytes()  # type: ignore[attr-defined]
    assert len(data) == size and decode(data) == value
    with pytest.raises(ValueError):
        decode(data[:-1])


def test_published_proofs_commitments_and_shares_round_trip_through_their_bytes() -> None:
    threshold = Threshold(2, 3)
    dealing = Dealing.generate(1, threshold)
    commitment = dealing.publish(b"e")
    _round_trips(commitment.proof, SchnorrProof.from_bytes, 64)
    _round_trips(commitment, TrusteeCommitment.from_bytes, 8 + 2 * 32 + 64)
    secret = random_scalar()
    key_share = TrusteeKeyShare(2, secret, G * secret)
    ciphertext = encrypt(1, G * random_scalar(), random_scalar())
    share = partial_decrypt(key_share, ciphertext, b"e")
    _round_trips(share.proof, ChaumPedersenProof.from_bytes, 96)
    _round_trips(share, DecryptionShare.from_bytes, 132)
    assert Ciphertext.from_bytes(ciphertext.to_bytes()) == ciphertext
