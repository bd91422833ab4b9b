"""Trackers and ballot keys: how a voter finds their ballot in the published box.

A tracker is 60 random bits written as 12 RFC 4648 base32 characters in groups of four
(``K7QF-2MXA-P4ZD``), short enough to read out and compare by eye, long enough that guessing a
live tracker is hopeless. A client may instead send a ballot key (its own secret) from which the
tracker and the re-vote code derive, so that a retry is recognised without a stored link.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Callable

from coop_domain.errors import InvalidArgument

TRACKER_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
TRACKER_CHARS = 12
_CONFUSABLE = str.maketrans({"0": "O", "1": "I", "8": "B"})

RandBits = Callable[[int], int]


def new_tracker(randbits: RandBits = secrets.randbits) -> str:
    """A fresh random tracker, grouped ``XXXX-XXXX-XXXX``."""
    value = randbits(5 * TRACKER_CHARS)
    chars = [TRACKER_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(TRACKER_CHARS))]
    raw = "".join(chars)
    return "-".join(raw[i : i + 4] for i in range(0, TRACKER_CHARS, 4))


#: A ballot key: a secret of at least 128 random bits the voter's client generates, written in
#: base64url (22 to 64 characters). The service derives the tracker and the re-vote code from it
#: and never stores it, so a retry with the same key is recognised without a stored link.
BALLOT_KEY = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


def _key_digest(purpose: str, election_id: str, key: str) -> bytes:
    return hashlib.sha256(f"{purpose}\x1f{election_id}\x1f{key}".encode()).digest()


def check_ballot_key(key: str) -> str:
    if not isinstance(key, str) or not BALLOT_KEY.match(key):
        raise InvalidArgument("ballot_key must be 22-64 base64url characters (at least 128 random bits)",
                              field="ballot_key", reason="INVALID_BALLOT_KEY")
    return key


def tracker_from_key(election_id: str, key: str) -> str:
    """The tracker of the ballot cast with this key: the first 60 bits of
    SHA-256("coopgov-tracker/1" 0x1F election_id 0x1F key), written as :func:`new_tracker` does.
    A client computes it alike, so it knows its tracker even if the answer is lost."""
    digest = _key_digest("coopgov-tracker/1", election_id, check_ballot_key(key))
    return new_tracker(lambda bits: int.from_bytes(digest[:8], "big") >> (64 - bits))


def revote_code_from_key(election_id: str, key: str) -> str:
    """The re-vote code of the ballot cast with this key: base64url (no padding) of the first 18
    bytes of SHA-256("coopgov-revote-code/1" 0x1F election_id 0x1F key)."""
    digest = _key_digest("coopgov-revote-code/1", election_id, check_ballot_key(key))
    return base64.urlsafe_b64encode(digest[:18]).decode()


def normalise_tracker(text: str) -> str:
    """Canonical grouped form of a tracker typed by a human (case, spaces, 0/O, 1/I, 8/B)."""
    if not isinstance(text, str):
        raise InvalidArgument("a tracker is a string", reason="INVALID_TRACKER")
    raw = "".join(ch for ch in text.upper() if ch not in " -").translate(_CONFUSABLE)
    if len(raw) != TRACKER_CHARS or any(ch not in TRACKER_ALPHABET for ch in raw):
        raise InvalidArgument("a tracker is 12 characters from A-Z and 2-7, e.g. K7QF-2MXA-P4ZD",
                              reason="INVALID_TRACKER")
    return "-".join(raw[i : i + 4] for i in range(0, TRACKER_CHARS, 4))
