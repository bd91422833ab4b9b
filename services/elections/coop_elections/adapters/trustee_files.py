"""The trustees' files: what `coop trustee` writes on each trustee's machine and what travels.

JSON, one object per file, with a "format" naming its kind and version so a file is never read
as another kind. Every group element, scalar and proof is the lowercase hex of its canonical
bytes (docs/elections.md, "Group and encodings"); readers accept nothing else, and say which
file and which field is wrong. Private files (a dealing, a key share) are written atomically
with mode 0600: a crash never leaves half a secret, and nobody else on the machine reads it.
docs/trustees.md describes each format.

The shares a trustee deals travel through the service, sealed (libsodium's crypto_box_seal,
X25519) to the recipient's transport key: the service, or anyone reading the files, cannot
open them, and the recipient checks each one against its sender's public commitments.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pysodium

from coop_elections.domain.crypto.elgamal import CIPHERTEXT_BYTES, Ciphertext
from coop_elections.domain.crypto.group import (
    ELEMENT_BYTES,
    SCALAR_BYTES,
    Element,
    Scalar,
    length_prefixed,
    u32,
)
from coop_elections.domain.crypto.proofs import (
    CHAUM_PEDERSEN_PROOF_BYTES,
    SCHNORR_PROOF_BYTES,
    ChaumPedersenProof,
    SchnorrProof,
)
from coop_elections.domain.crypto.trustees import (
    MAX_TRUSTEES,
    Dealing,
    DecryptionShare,
    Threshold,
    TrusteeCommitment,
    TrusteeKeyShare,
)
from coop_platform.files import write_atomically

PUBLIC_FORMAT = "coopgov/trustee-public/v1"
PRIVATE_FORMAT = "coopgov/trustee-private/v1"
KEY_FORMAT = "coopgov/trustee-key/v1"
SHARES_FORMAT = "coopgov/trustee-shares/v1"
COMPLAINTS_FORMAT = "coopgov/trustee-complaints/v1"
CIPHERTEXTS_FORMAT = "coopgov/ciphertexts/v1"
DECRYPTION_SHARES_FORMAT = "coopgov/decryption-shares/v1"

TRANSPORT_KEY_BYTES = pysodium.crypto_box_PUBLICKEYBYTES
# What a sealed share's plaintext starts with: the label, then election, sender and recipient,
# so a box copied to another election or sender is refused even before the commitment check.
SEALED_SHARE_LABEL = b"coopgov/trustee-share/v1"

_HEX = re.compile(r"[0-9a-f]*")


# --- reading, with messages that name the file and the field ---------------------------------


class _Fields:
    """One JSON object of a file being read: each accessor names file and field on failure."""

    def __init__(self, path: str | Path, data: object, where: str = "") -> None:
        self.path, self.where = str(path), where
        if not isinstance(data, dict):
            raise self.error("", "a JSON object is expected")
        self.data: dict[str, Any] = data

    def error(self, name: str, problem: str) -> ValueError:
        place = f"{self.where}.{name}" if self.where and name else (self.where or name)
        return ValueError(f"{self.path}: {place}: {problem}" if place else f"{self.path}: {problem}")

    def get(self, name: str) -> Any:
        if name not in self.data:
            raise self.error(name, "missing")
        return self.data[name]

    def format(self, expected: str) -> None:
        found = self.data.get("format")
        if found != expected:
            raise ValueError(f"{self.path}: a {expected} file is expected, this one's format is "
                             f"{found!r}")

    def text(self, name: str) -> str:
        value = self.get(name)
        if not isinstance(value, str) or not value:
            raise self.error(name, "a non-empty string is expected")
        return value

    def integer(self, name: str) -> int:
        value = self.get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(name, "an integer is expected")
        return value

    def items(self, name: str) -> list[Any]:
        value = self.get(name)
        if not isinstance(value, list):
            raise self.error(name, "a list is expected")
        return value

    def nested(self, name: str, index: int | None = None) -> _Fields:
        value = self.get(name) if index is None else self.items(name)[index]
        where = name if index is None else f"{name}[{index}]"
        return _Fields(self.path, value, f"{self.where}.{where}" if self.where else where)

    def hex_of(self, name: str, value: object, size: int | None) -> bytes:
        if not isinstance(value, str) or not _HEX.fullmatch(value) or len(value) % 2:
            raise self.error(name, "lowercase hex is expected")
        if size is not None and len(value) != 2 * size:
            raise self.error(name, f"{2 * size} hex digits ({size} bytes) are expected, "
                                   f"not {len(value)}")
        return bytes.fromhex(value)

    def hex(self, name: str, size: int | None = None) -> bytes:
        return self.hex_of(name, self.get(name), size)

    def decoded(self, name: str, value: object, size: int, decode: Any) -> Any:
        raw = self.hex_of(name, value, size)
        try:
            return decode(raw)
        except ValueError as exc:
            raise self.error(name, str(exc)) from None

    def element(self, name: str, value: object = None) -> Element:
        return self.decoded(name, self.get(name) if value is None else value, ELEMENT_BYTES,
                            Element.from_bytes)

    def scalar(self, name: str, value: object = None) -> Scalar:
        return self.decoded(name, self.get(name) if value is None else value, SCALAR_BYTES,
                            Scalar.from_bytes)

    def threshold(self) -> Threshold:
        inner = self.nested("threshold")
        try:
            return Threshold(inner.integer("k"), inner.integer("n"))
        except ValueError as exc:
            raise self.error("threshold", str(exc)) from None

    def trustee(self, name: str, threshold: Threshold) -> int:
        value = self.integer(name)
        if not threshold.is_trustee(value):
            raise self.error(name, f"trustees are numbered 1..{threshold.n}, not {value}")
        return value


def _load(path: str | Path, expected_format: str) -> _Fields:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON ({exc})") from None
    fields = _Fields(path, data)
    fields.format(expected_format)
    return fields


# --- writing, atomically ----------------------------------------------------------------------


def write_json(path: str | Path, data: Mapping[str, Any], *, private: bool = False,
               overwrite: bool = True) -> None:
    """Write `data` whole or not at all (coop_platform.files.write_atomically): a private file is
    0600 from its first byte; without `overwrite` an existing file is kept (FileExistsError)."""
    write_atomically(path, [(json.dumps(data, indent=2) + "\n").encode()], private=private, overwrite=overwrite)


def _threshold_json(threshold: Threshold) -> dict[str, int]:
    return {"k": threshold.k, "n": threshold.n}


# --- a trustee's public file -----------------------------------------------------------------


@dataclass(frozen=True)
class TrusteePublic:
    """What trustee i publishes at key generation: its commitments and its transport key."""

    election_id: str
    threshold: Threshold
    commitment: TrusteeCommitment
    transport_key: bytes  # X25519 public key: the shares for this trustee are sealed to it

    @property
    def trustee(self) -> int:
        return self.commitment.trustee

    def to_json(self) -> dict[str, Any]:
        return {
            "format": PUBLIC_FORMAT,
            "election_id": self.election_id,
            "trustee": self.trustee,
            "threshold": _threshold_json(self.threshold),
            "coefficients": [c.to_bytes().hex() for c in self.commitment.coefficients],
            "proof": self.commitment.proof.to_bytes().hex(),
            "transport_public_key": self.transport_key.hex(),
        }

    def fingerprint(self) -> str:
        """128 bits of SHA-256 over the file's content, in groups of 4, for reading aloud.

        Trustees compare it by another channel (phone, in person) before dealing, so that
        nobody on the way can substitute a transport key and read a share meant for another.
        """
        canonical = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(canonical.encode()).hexdigest()[:32]
        return " ".join(digest[i:i + 4] for i in range(0, 32, 4))


def _coefficients(f: _Fields, threshold: Threshold, what: str, decode: Any) -> tuple[Any, ...]:
    """The file's k `coefficients`, each decoded (an element or a scalar), named on error."""
    raw = f.items("coefficients")
    if len(raw) != threshold.k:
        raise f.error("coefficients", f"{threshold.k} {what} are expected, not {len(raw)}")
    return tuple(decode(f"coefficients[{j}]", v) for j, v in enumerate(raw))


def read_public(path: str | Path) -> TrusteePublic:
    """A trustee's public file, decoded; its proof is not checked here (qualify does it)."""
    f = _load(path, PUBLIC_FORMAT)
    threshold = f.threshold()
    trustee = f.trustee("trustee", threshold)
    coefficients = _coefficients(f, threshold, "commitments", f.element)
    proof = f.decoded("proof", f.get("proof"), SCHNORR_PROOF_BYTES, SchnorrProof.from_bytes)
    return TrusteePublic(f.text("election_id"), threshold,
                         TrusteeCommitment(trustee, coefficients, proof),
                         f.hex("transport_public_key", TRANSPORT_KEY_BYTES))


def write_public(path: str | Path, public: TrusteePublic, *, overwrite: bool = True) -> None:
    write_json(path, public.to_json(), overwrite=overwrite)


# --- a trustee's private file ----------------------------------------------------------------


@dataclass(frozen=True)
class TrusteePrivate:
    """Trustee i's polynomial and transport secret key: never leaves the trustee's machine."""

    election_id: str
    dealing: Dealing
    transport_public: bytes
    transport_secret: bytes = field(repr=False)

    @property
    def trustee(self) -> int:
        return self.dealing.trustee

    @property
    def threshold(self) -> Threshold:
        return self.dealing.threshold


def read_private(path: str | Path) -> TrusteePrivate:
    f = _load(path, PRIVATE_FORMAT)
    threshold = f.threshold()
    trustee = f.trustee("trustee", threshold)
    coefficients = _coefficients(f, threshold, "coefficients", f.scalar)
    try:
        dealing = Dealing(trustee, threshold, coefficients)
    except ValueError as exc:
        raise f.error("coefficients", str(exc)) from None
    transport = f.nested("transport")
    public = transport.hex("public_key", TRANSPORT_KEY_BYTES)
    secret = transport.hex("secret_key", pysodium.crypto_box_SECRETKEYBYTES)
    if pysodium.crypto_scalarmult_curve25519_base(secret) != public:
        raise transport.error("public_key", "does not belong to the secret key")
    return TrusteePrivate(f.text("election_id"), dealing, public, secret)


def write_private(path: str | Path, private: TrusteePrivate, *, overwrite: bool = False) -> None:
    """Mode 0600; by default never over an existing file (a lost dealing cannot be redone)."""
    write_json(path, {
        "format": PRIVATE_FORMAT,
        "election_id": private.election_id,
        "trustee": private.trustee,
        "threshold": _threshold_json(private.threshold),
        "coefficients": [a.to_bytes().hex() for a in private.dealing.coefficients],
        "transport": {"public_key": private.transport_public.hex(),
                      "secret_key": private.transport_secret.hex()},
    }, private=True, overwrite=overwrite)


# --- a trustee's key share -------------------------------------------------------------------


@dataclass(frozen=True)
class TrusteeKey:
    """Trustee l's key share and what it was combined for: election, key and qualified set."""

    election_id: str
    threshold: Threshold
    key_share: TrusteeKeyShare
    public_key: Element
    qualified: tuple[int, ...]

    @property
    def trustee(self) -> int:
        return self.key_share.trustee


def read_key(path: str | Path) -> TrusteeKey:
    f = _load(path, KEY_FORMAT)
    threshold = f.threshold()
    trustee = f.trustee("trustee", threshold)
    try:
        share = TrusteeKeyShare(trustee, f.scalar("secret"), f.element("verification_key"))
    except ValueError as exc:
        raise f.error("verification_key", str(exc)) from None
    qualified = f.items("qualified")
    if not qualified or not all(threshold.is_trustee(i) for i in qualified):
        raise f.error("qualified", f"a non-empty list of trustees 1..{threshold.n} is expected")
    return TrusteeKey(f.text("election_id"), threshold, share, f.element("public_key"),
                      tuple(qualified))


def write_key(path: str | Path, key: TrusteeKey) -> None:
    """Mode 0600: the key share decrypts, with k-1 others, anything sent under the election key."""
    write_json(path, {
        "format": KEY_FORMAT,
        "election_id": key.election_id,
        "trustee": key.trustee,
        "threshold": _threshold_json(key.threshold),
        "secret": key.key_share.secret.to_bytes().hex(),
        "verification_key": key.key_share.public.to_bytes().hex(),
        "public_key": key.public_key.to_bytes().hex(),
        "qualified": list(key.qualified),
    }, private=True)


# --- sealed shares (public: they travel through the service) ---------------------------------


@dataclass(frozen=True)
class SealedShares:
    """Trustee `sender`'s f(l) for each other trustee l, each sealed to l's transport key."""

    election_id: str
    threshold: Threshold
    sender: int
    boxes: Mapping[int, bytes]  # recipient -> sealed box


def _share_plaintext(election_id: str, sender: int, recipient: int, share: Scalar) -> bytes:
    return length_prefixed(SEALED_SHARE_LABEL, election_id.encode(), u32(sender), u32(recipient),
                           share.to_bytes())


def seal_share(election_id: str, sender: int, recipient: int, share: Scalar,
               transport_key: bytes) -> bytes:
    """f_sender(recipient), readable only with the recipient's transport secret key."""
    try:
        return pysodium.crypto_box_seal(_share_plaintext(election_id, sender, recipient, share),
                                        transport_key)
    except ValueError:  # libsodium refuses a low-order key (it would give an all-zero secret)
        raise ValueError(f"trustee {recipient}'s transport key cannot be sealed to") from None


def open_share(box: bytes, election_id: str, sender: int, recipient: int,
               transport_public: bytes, transport_secret: bytes) -> Scalar:
    """The share in a box addressed to `recipient`; ValueError saying why it cannot be used."""
    try:
        plaintext = pysodium.crypto_box_seal_open(box, transport_public, transport_secret)
    except ValueError:
        raise ValueError("the sealed share does not open with this trustee's transport key"
                         ) from None
    size = 8 + len(SEALED_SHARE_LABEL) + 8 + len(election_id.encode()) + 3 * 8 + 4 + 4 + SCALAR_BYTES
    if len(plaintext) != size:
        raise ValueError("the sealed share is not for this election, sender and recipient")
    share = Scalar.from_bytes(plaintext[-SCALAR_BYTES:])  # ValueError if not canonical
    if plaintext != _share_plaintext(election_id, sender, recipient, share):
        raise ValueError("the sealed share is not for this election, sender and recipient")
    return share


def read_sealed_shares(path: str | Path) -> SealedShares:
    f = _load(path, SHARES_FORMAT)
    threshold = f.threshold()
    sender = f.trustee("sender", threshold)
    boxes: dict[int, bytes] = {}
    for index in range(len(f.items("sealed"))):
        entry = f.nested("sealed", index)
        recipient = entry.trustee("recipient", threshold)
        if recipient in boxes:
            raise entry.error("recipient", f"a second share for trustee {recipient}")
        boxes[recipient] = entry.hex("box")
    return SealedShares(f.text("election_id"), threshold, sender, boxes)


def write_sealed_shares(path: str | Path, shares: SealedShares) -> None:
    write_json(path, {
        "format": SHARES_FORMAT,
        "election_id": shares.election_id,
        "sender": shares.sender,
        "threshold": _threshold_json(shares.threshold),
        "sealed": [{"recipient": r, "box": box.hex()} for r, box in sorted(shares.boxes.items())],
    })


# --- complaints (public) ---------------------------------------------------------------------


@dataclass(frozen=True)
class ComplaintsFile:
    """Trustee `recipient`'s complaints: the senders whose share is missing or wrong, and why."""

    election_id: str
    recipient: int
    complaints: Mapping[int, str]  # sender -> reason


def read_complaints(path: str | Path) -> ComplaintsFile:
    f = _load(path, COMPLAINTS_FORMAT)
    complaints: dict[int, str] = {}
    for index in range(len(f.items("complaints"))):
        entry = f.nested("complaints", index)
        complaints[entry.integer("sender")] = entry.text("reason")
    return ComplaintsFile(f.text("election_id"), f.integer("recipient"), complaints)


def write_complaints(path: str | Path, complaints: ComplaintsFile) -> None:
    write_json(path, {
        "format": COMPLAINTS_FORMAT,
        "election_id": complaints.election_id,
        "recipient": complaints.recipient,
        "complaints": [{"sender": s, "reason": r} for s, r in sorted(complaints.complaints.items())],
    })


# --- ciphertexts and decryption shares (public) ----------------------------------------------


def read_ciphertexts(path: str | Path) -> tuple[str, list[Ciphertext]]:
    """(election id, ciphertexts) of a coopgov/ciphertexts/v1 file."""
    f = _load(path, CIPHERTEXTS_FORMAT)
    election_id = f.text("election_id")
    raw = f.items("ciphertexts")
    return election_id, [f.decoded(f"ciphertexts[{i}]", v, CIPHERTEXT_BYTES, Ciphertext.from_bytes)
                         for i, v in enumerate(raw)]


def write_ciphertexts(path: str | Path, election_id: str, ciphertexts: Sequence[Ciphertext]) -> None:
    write_json(path, {"format": CIPHERTEXTS_FORMAT, "election_id": election_id,
                      "ciphertexts": [ct.to_bytes().hex() for ct in ciphertexts]})


def read_decryption_share_entries(path: str | Path) -> tuple[str, int, list[DecryptionShare | str]]:
    """(election id, trustee, entries): each entry a DecryptionShare, or why it does not decode.

    A share or proof that is well-formed hex of the right size but no canonical element or
    scalar is a bad share, not a bad file: whoever combines shares rejects that one and names
    its trustee, rather than stopping the whole decryption.
    """
    f = _load(path, DECRYPTION_SHARES_FORMAT)
    election_id = f.text("election_id")
    trustee = f.integer("trustee")
    if not 1 <= trustee <= MAX_TRUSTEES:
        raise f.error("trustee", f"a trustee number is expected, not {trustee}")
    entries: list[DecryptionShare | str] = []
    for index in range(len(f.items("shares"))):
        entry = f.nested("shares", index)
        share_raw = entry.hex("share", ELEMENT_BYTES)
        proof_raw = entry.hex("proof", CHAUM_PEDERSEN_PROOF_BYTES)
        try:
            share = Element.from_bytes(share_raw)
        except ValueError as exc:
            entries.append(str(entry.error("share", str(exc))))
            continue
        try:
            proof = ChaumPedersenProof.from_bytes(proof_raw)
        except ValueError as exc:
            entries.append(str(entry.error("proof", str(exc))))
            continue
        entries.append(DecryptionShare(trustee, share, proof))
    return election_id, trustee, entries


def read_decryption_shares(path: str | Path) -> tuple[str, int, list[DecryptionShare]]:
    """(election id, trustee, shares in the ciphertexts' order); ValueError on any bad entry."""
    election_id, trustee, entries = read_decryption_share_entries(path)
    shares: list[DecryptionShare] = []
    for entry in entries:
        if isinstance(entry, str):
            raise ValueError(entry)
        shares.append(entry)
    return election_id, trustee, shares


def write_decryption_shares(path: str | Path, election_id: str, trustee: int,
                            shares: Sequence[DecryptionShare]) -> None:
    """The shares of one trustee, in the same order as the ciphertexts they decrypt."""
    write_json(path, decryption_shares_document(election_id, trustee, shares))


def share_entry(share: DecryptionShare, trustee: int) -> dict[str, str]:
    """One share of a coopgov/decryption-shares/v1 document (of `trustee`'s, or ValueError)."""
    if share.trustee != trustee:
        raise ValueError(f"every share written for trustee {trustee} must be trustee {trustee}'s")
    return {"share": share.share.to_bytes().hex(), "proof": share.proof.to_bytes().hex()}


def decryption_shares_document(election_id: str, trustee: int, shares: Sequence[DecryptionShare]) -> dict[str, Any]:
    """The coopgov/decryption-shares/v1 document of one trustee's shares."""
    return {
        "format": DECRYPTION_SHARES_FORMAT,
        "election_id": election_id,
        "trustee": trustee,
        "shares": [share_entry(s, trustee) for s in shares],
    }
