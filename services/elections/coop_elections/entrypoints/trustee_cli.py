"""`coop trustee ...`: the trustees' own command line, run by each trustee on their own machine.

Key generation, in this order (docs/trustees.md says what travels and what stays private):

    coop trustee keygen --election E --trustee I --threshold K --trustees N --dir D
        writes D/trustee-I.private.json (0600, stays here) and D/trustee-I.public.json (publish it)
    coop trustee deal --dir D --trustee I PUBLIC_FILES...
        checks the others' public files, writes D/shares-from-I.json (sealed shares; send it)
    coop trustee combine --dir D --trustee I --public PUBLIC_FILES... --shares SHARES_FILES...
        opens and checks the shares sent to I, writes D/trustee-I.key.json (0600) and prints the
        election key; or writes D/complaints-I.json (publish it) and exits 1
    coop trustee public-key PUBLIC_FILES... [--verbose]
        anyone: the election key (and each trustee's verification key) from the public files

Decryption:

    coop trustee decrypt --key KEYFILE --public PUBLIC_FILES... --ciphertexts FILE --out FILE
        [--processes P]                     this trustee's decryption shares, with proofs
    coop trustee combine-decryption --public PUBLIC_FILES... --ciphertexts FILE [--bound B]
        SHARE_FILES...                      anyone: checks every share, prints the plaintexts

Every trustee passes the same PUBLIC_FILES, the set the board agreed on: they make the
election key.

Online, against the elections api (--target, COOP_ELECTIONS_ADDR; COOP_TOKEN, or else a
development token for --as SUBJECT, the trustee's id in the election, with the trustee role):

    coop trustee publish --election E --public DIR/trustee-I.public.json --as ID
        publishes this trustee's public file on the service; prints who is still missing and
        the election key once every trustee has published
    coop trustee fetch-public --election E --dir D
        writes D/trustee-J.public.json for every trustee who published (the files `deal`,
        `combine` and `decrypt` read) and prints their fingerprints
    coop trustee decrypt-online --election E --key KEYFILE --trustee I --as ID [--processes P]
        after the mixes: this trustee's decryption shares of the tally, sent to the service

Exit status 0 on success; 1 for a complaint, too few valid decryption shares, a plaintext
beyond --bound, or a refusal by the service; 2 for a bad file, a wrong election or trustee, or
bad usage.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import math
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import pysodium

from coop.elections.v2 import elections_pb2 as pb
from coop_elections.adapters.trustee_files import (
    ComplaintsFile,
    SealedShares,
    TrusteeKey,
    TrusteePrivate,
    TrusteePublic,
    open_share,
    read_ciphertexts,
    read_decryption_share_entries,
    read_key,
    read_private,
    read_public,
    read_sealed_shares,
    seal_share,
    write_complaints,
    write_decryption_shares,
    write_key,
    write_private,
    write_public,
    write_sealed_shares,
)
from coop_elections.domain.crypto.elgamal import Ciphertext, discrete_log
from coop_elections.domain.crypto.group import G, Scalar
from coop_elections.domain.crypto.trustees import (
    Dealing,
    DecryptionShare,
    NotEnoughDecryptionShares,
    Qualification,
    Threshold,
    TrusteeCommitment,
    TrusteeKeyShare,
    combine_decryption_shares,
    combine_shares,
    partial_decrypt,
    qualify,
    verify_decryption_share,
    verify_share,
)
from coop_elections.entrypoints.cli import (
    Stub,
    connection_options,
    progress,
    run_as,
    show_key_state,
    show_tally_state,
)
from coop_platform.processes import available_cores

DEFAULT_BOUND = 1000
# Ciphertexts per task of the process pool: fewer and the pool costs more than it saves.
MIN_CHUNK = 16
# From this many ciphertexts on, `decrypt` shows its progress on stderr.
PROGRESS_MIN = 1000


class TrusteeError(Exception):
    """A refusal the trustee can act on: printed as one line, exit status 2."""


def _guarded(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """One clear line on stderr and exit 2 for a bad file or input, never a traceback."""

    @functools.wraps(run)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except (TrusteeError, ValueError, TypeError) as exc:
            print(f"error: {exc or type(exc).__name__}", file=sys.stderr)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2

    return wrapper


# --- shared steps ----------------------------------------------------------------------------


def _private_path(folder: str, trustee: int) -> Path:
    return Path(folder) / f"trustee-{trustee}.private.json"


def _read_own_private(folder: str, trustee: int) -> TrusteePrivate:
    path = _private_path(folder, trustee)
    private = read_private(path)
    if private.trustee != trustee:
        raise TrusteeError(f"{path}: this is trustee {private.trustee}'s private file, "
                           f"not trustee {trustee}'s")
    return private


def _same_ceremony(path: str, what: str, election_id: str, threshold: Threshold, expected_election: str,
                   expected_threshold: Threshold) -> None:
    """TrusteeError unless a file is of this election and this k of n."""
    verb = "are" if what.endswith("shares") else "is"
    if election_id != expected_election:
        raise TrusteeError(f"{path}: {what} {verb} for election {election_id!r}, not {expected_election!r}")
    if threshold != expected_threshold:
        raise TrusteeError(f"{path}: {what} {verb} for {threshold.k} of {threshold.n} trustees, "
                           f"not {expected_threshold.k} of {expected_threshold.n}")


def _load_publics(paths: Sequence[str], election_id: str | None = None,
                  threshold: Threshold | None = None) -> tuple[dict[int, TrusteePublic], dict[int, str]]:
    """The public files by trustee, all of one election and one k-of-n (the first file's,
    unless given), one per trustee."""
    publics: dict[int, TrusteePublic] = {}
    where: dict[int, str] = {}
    for path in paths:
        public = read_public(path)
        if election_id is None:
            election_id, threshold = public.election_id, public.threshold
        assert threshold is not None
        _same_ceremony(path, f"trustee {public.trustee}'s public file", public.election_id, public.threshold,
                       election_id, threshold)
        if public.trustee in publics and publics[public.trustee] != public:
            raise TrusteeError(f"{path}: a second, different public file for trustee "
                               f"{public.trustee} (the first: {where[public.trustee]})")
        publics[public.trustee] = public
        where.setdefault(public.trustee, str(path))
    return publics, where


def _qualification(publics: dict[int, TrusteePublic], where: dict[int, str], election_id: str,
                   threshold: Threshold) -> Qualification:
    """The key's qualification from the given public files, every one of which must hold.

    The set of files is the board's agreed set; a file whose proof fails is refused rather
    than silently left out, so that no two trustees end up with different election keys.
    """
    if not publics:
        raise TrusteeError("no public file given")
    q = qualify([p.commitment for p in publics.values()], threshold, election_id.encode())
    for trustee in sorted(publics):
        if trustee in q.disqualified:
            raise TrusteeError(f"{where[trustee]}: trustee {trustee}: {q.disqualified[trustee]}")
    return q


def _check_own_public(private: TrusteePrivate, publics: dict[int, TrusteePublic],
                      where: dict[int, str]) -> None:
    own = publics.get(private.trustee)
    if own is not None and own.commitment.coefficients != tuple(
            G * a for a in private.dealing.coefficients):
        raise TrusteeError(f"{where[private.trustee]}: not the public file of trustee "
                           f"{private.trustee}'s dealing in this folder")


def _not_published(publics: dict[int, TrusteePublic], threshold: Threshold) -> list[int]:
    return [i for i in threshold.trustees if i not in publics]


def _plural(items: Iterable[int]) -> str:
    items = list(items)
    return (f"trustee {items[0]}" if len(items) == 1
            else "trustees " + ", ".join(str(i) for i in items))


# --- keygen, deal, combine, public-key -------------------------------------------------------


@_guarded
def _keygen(args: argparse.Namespace) -> int:
    threshold = Threshold(args.threshold, args.trustees)
    trustee = threshold.check(args.trustee)
    election_id = args.election
    if not election_id:
        raise TrusteeError("--election: the election id is empty")
    folder = Path(args.dir)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    private_path = _private_path(args.dir, trustee)
    public_path = folder / f"trustee-{trustee}.public.json"
    for path in (private_path, public_path):
        if path.exists():
            raise TrusteeError(f"{path} exists: keygen never overwrites a trustee's files")
    dealing = Dealing.generate(trustee, threshold)
    transport_public, transport_secret = pysodium.crypto_box_keypair()
    public = TrusteePublic(election_id, threshold, dealing.publish(election_id.encode()),
                           transport_public)
    write_private(private_path, TrusteePrivate(election_id, dealing, transport_public,
                                               transport_secret))
    write_public(public_path, public, overwrite=False)
    print(f"{private_path}: private, keep it on this machine (and a backup offline)")
    print(f"{public_path}: publish it to the other trustees")
    print(f"fingerprint of your public file: {public.fingerprint()}")
    return 0


@_guarded
def _deal(args: argparse.Namespace) -> int:
    private = _read_own_private(args.dir, args.trustee)
    election_id, threshold, me = private.election_id, private.threshold, private.trustee
    publics, where = _load_publics(args.public_files, election_id, threshold)
    _check_own_public(private, publics, where)
    _qualification(publics, where, election_id, threshold)
    others = {j: p for j, p in sorted(publics.items()) if j != me}
    if not others:
        raise TrusteeError("no other trustee's public file given: nobody to deal to")
    boxes = {j: seal_share(election_id, me, j, private.dealing.share_for(j), p.transport_key)
             for j, p in others.items()}
    out = Path(args.dir) / f"shares-from-{me}.json"
    write_sealed_shares(out, SealedShares(election_id, threshold, me, boxes))
    for j, public in others.items():
        print(f"trustee {j}: fingerprint {public.fingerprint()}")
    absent = [i for i in _not_published(publics, threshold) if i != me]
    if absent:
        print(f"warning: no public file for {_plural(absent)}: no share dealt to them",
              file=sys.stderr)
    print(f"{out}: sealed shares for {_plural(others)}; send it to them")
    return 0


def _receive(private: TrusteePrivate, q: Qualification, sealed: dict[int, SealedShares],
             ) -> tuple[dict[int, Scalar], dict[int, str]]:
    """The shares sent to this trustee by every qualified trustee, and a complaint per bad one."""
    me = private.trustee
    received: dict[int, Scalar] = {}
    complaints: dict[int, str] = {}
    for sender, commitment in q.qualified.items():
        if sender == me:
            received[me] = private.dealing.share_for(me)
            continue
        shares = sealed.get(sender)
        if shares is None:
            complaints[sender] = f"no shares file from trustee {sender}"
            continue
        box = shares.boxes.get(me)
        if box is None:
            complaints[sender] = f"trustee {sender}'s shares file has no share for trustee {me}"
            continue
        try:
            share = open_share(box, private.election_id, sender, me, private.transport_public,
                               private.transport_secret)
        except ValueError as exc:
            complaints[sender] = str(exc)
            continue
        if not verify_share(commitment, me, share):
            complaints[sender] = f"the share does not match trustee {sender}'s published commitments"
            continue
        received[sender] = share
    return received, complaints


@_guarded
def _combine(args: argparse.Namespace) -> int:
    private = _read_own_private(args.dir, args.trustee)
    election_id, threshold, me = private.election_id, private.threshold, private.trustee
    publics, where = _load_publics(args.public, election_id, threshold)
    _check_own_public(private, publics, where)
    q = _qualification(publics, where, election_id, threshold)
    sealed: dict[int, SealedShares] = {}
    for path in args.shares:
        shares = read_sealed_shares(path)
        _same_ceremony(path, f"trustee {shares.sender}'s shares", shares.election_id, shares.threshold,
                       election_id, threshold)
        if shares.sender in sealed and sealed[shares.sender] != shares:
            raise TrusteeError(f"{path}: a second, different shares file from trustee "
                               f"{shares.sender}")
        sealed[shares.sender] = shares
    ignored = sorted(s for s in sealed if s not in q.qualified and s != me)
    if ignored:
        print(f"warning: shares from {_plural(ignored)} ignored: no public file given for them",
              file=sys.stderr)
    received, complaints = _receive(private, q, sealed)
    folder = Path(args.dir)
    complaints_path = folder / f"complaints-{me}.json"
    if complaints:
        write_complaints(complaints_path, ComplaintsFile(election_id, me, complaints))
        reasons = "; ".join(f"trustee {s}: {r}" for s, r in sorted(complaints.items()))
        print(f"error: trustee {me} complains about {_plural(sorted(complaints))} ({reasons}); "
              f"publish {complaints_path} to the board", file=sys.stderr)
        return 1
    key_share = combine_shares(me, received, q)
    write_key(folder / f"trustee-{me}.key.json",
              TrusteeKey(election_id, threshold, key_share, q.public_key, tuple(q.qualified)))
    with contextlib.suppress(FileNotFoundError):
        complaints_path.unlink()  # an earlier run's complaints, now settled: never publish them
    absent = _not_published(publics, threshold)
    if absent:
        print(f"warning: no public file given for {_plural(absent)}: not part of the election key",
              file=sys.stderr)
    print(f"{folder / f'trustee-{me}.key.json'}: trustee {me}'s key share (private)",
          file=sys.stderr)
    print(q.public_key.to_bytes().hex())
    return 0


@_guarded
def _public_key(args: argparse.Namespace) -> int:
    publics, where = _load_publics(args.public_files)
    first = next(iter(publics.values()))
    q = _qualification(publics, where, first.election_id, first.threshold)
    print(q.public_key.to_bytes().hex())
    if args.verbose:
        threshold = first.threshold
        print(f"election {first.election_id}: {threshold.k} of {threshold.n} trustees; "
              f"key made by {_plural(q.qualified)}")
        for trustee in threshold.trustees:
            print(f"trustee {trustee} verification key: "
                  f"{q.verification_key(trustee).to_bytes().hex()}")
    absent = _not_published(publics, first.threshold)
    if absent:
        print(f"warning: no public file given for {_plural(absent)}: not part of the election key",
              file=sys.stderr)
    return 0


# --- decrypt ---------------------------------------------------------------------------------


def _decrypt_chunk(trustee: int, secret: bytes, election_id: bytes,
                   ciphertexts: list[bytes]) -> list[bytes]:
    """One task of the pool: bytes in, bytes out (cheap to send between processes)."""
    scalar = Scalar.from_bytes(secret)
    key_share = TrusteeKeyShare(trustee, scalar, G * scalar)
    return [partial_decrypt(key_share, Ciphertext.from_bytes(ct), election_id).to_bytes()
            for ct in ciphertexts]


def _chunks(count: int, processes: int) -> list[range]:
    """About four tasks per process (so a slow one does not hold up the end), never tiny."""
    size = max(MIN_CHUNK, math.ceil(count / (4 * processes)))
    return [range(start, min(start + size, count)) for start in range(0, count, size)]


class _Progress:
    """'decrypting: done/total' on stderr, for inputs long enough to wait for."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.shown = total, 0, -1
        self.enabled = total >= PROGRESS_MIN
        self.tty = sys.stderr.isatty()

    def advance(self, count: int) -> None:
        self.done += count
        if not self.enabled:
            return
        percent = 100 * self.done // self.total
        if self.tty:
            print(f"\rdecrypting: {self.done}/{self.total} ciphertexts", end="", file=sys.stderr,
                  flush=True)
        elif percent // 10 != self.shown // 10 or self.done == self.total:
            print(f"decrypting: {self.done}/{self.total} ciphertexts", file=sys.stderr, flush=True)
        self.shown = percent

    def finish(self) -> None:
        if self.enabled and self.tty:
            print(file=sys.stderr)


def decrypt_all(key_share: TrusteeKeyShare, election_id: str, ciphertexts: Sequence[Ciphertext],
                processes: int) -> list[DecryptionShare]:
    """Every ciphertext's decryption share, in order, over a pool of `processes` when it pays."""
    raw = [ct.to_bytes() for ct in ciphertexts]
    chunks = _chunks(len(raw), processes)
    secret, eid = key_share.secret.to_bytes(), election_id.encode()
    results: list[list[bytes]] = [[] for _ in chunks]
    progress = _Progress(len(raw))
    workers = min(processes, len(chunks))
    if workers <= 1:
        for n, chunk in enumerate(chunks):
            results[n] = _decrypt_chunk(key_share.trustee, secret, eid, raw[chunk.start:chunk.stop])
            progress.advance(len(chunk))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(_decrypt_chunk, key_share.trustee, secret, eid,
                                   raw[chunk.start:chunk.stop]): n
                       for n, chunk in enumerate(chunks)}
            for future in as_completed(futures):
                n = futures[future]
                results[n] = future.result()
                progress.advance(len(chunks[n]))
    progress.finish()
    return [DecryptionShare.from_bytes(share) for chunk in results for share in chunk]


def _check_key_against(key: TrusteeKey, q: Qualification) -> None:
    """The key file must be the one combined from this very set of public files."""
    if tuple(q.qualified) != key.qualified or q.public_key != key.public_key:
        raise TrusteeError(
            f"these public files give election key {q.public_key.to_bytes().hex()} (made by "
            f"{_plural(q.qualified)}), the key file was made for "
            f"{key.public_key.to_bytes().hex()} (by {_plural(key.qualified)})")
    if q.verification_key(key.trustee) != key.key_share.public:
        raise TrusteeError(f"trustee {key.trustee}'s key share does not match its verification "
                           "key recomputed from these public files")


@_guarded
def _decrypt(args: argparse.Namespace) -> int:
    key = read_key(args.key)
    publics, where = _load_publics(args.public, key.election_id, key.threshold)
    q = _qualification(publics, where, key.election_id, key.threshold)
    _check_key_against(key, q)
    election_id, ciphertexts = read_ciphertexts(args.ciphertexts)
    if election_id != key.election_id:
        raise TrusteeError(f"{args.ciphertexts}: ciphertexts of election {election_id!r}, "
                           f"the key is for {key.election_id!r}")
    processes = args.processes if args.processes is not None else available_cores()
    if processes < 1:
        raise TrusteeError(f"--processes: at least 1, not {processes}")
    shares = decrypt_all(key.key_share, election_id, ciphertexts, processes)
    write_decryption_shares(args.out, election_id, key.trustee, shares)
    print(f"{args.out}: trustee {key.trustee}'s decryption shares of {len(shares)} ciphertexts")
    return 0


# --- combine-decryption ----------------------------------------------------------------------


@_guarded
def _combine_decryption(args: argparse.Namespace) -> int:
    if args.bound < 0:
        raise TrusteeError(f"--bound: not negative, not {args.bound}")
    publics, where = _load_publics(args.public)
    first = next(iter(publics.values()))
    election_id, threshold = first.election_id, first.threshold
    q = _qualification(publics, where, election_id, threshold)
    ct_election, ciphertexts = read_ciphertexts(args.ciphertexts)
    if ct_election != election_id:
        raise TrusteeError(f"{args.ciphertexts}: ciphertexts of election {ct_election!r}, the "
                           f"public files are of {election_id!r}")
    by_trustee: dict[int, list[DecryptionShare | str]] = {}
    for path in args.share_files:
        share_election, trustee, entries = read_decryption_share_entries(path)
        if share_election != election_id:
            raise TrusteeError(f"{path}: decryption shares of election {share_election!r}, "
                               f"not {election_id!r}")
        if not threshold.is_trustee(trustee):
            raise TrusteeError(f"{path}: trustee {trustee} is not one of trustees "
                               f"1..{threshold.n}")
        if trustee in by_trustee:
            raise TrusteeError(f"{path}: a second decryption shares file from trustee {trustee}")
        if len(entries) != len(ciphertexts):
            raise TrusteeError(f"{path}: {len(entries)} shares for {len(ciphertexts)} ciphertexts")
        by_trustee[trustee] = entries
    missing = tuple(i for i in threshold.trustees if i not in by_trustee)
    plaintexts: list[int] = []
    short: list[tuple[int, NotEnoughDecryptionShares]] = []
    beyond: list[int] = []
    rejected_at: dict[int, list[int]] = {}
    for index, ciphertext in enumerate(ciphertexts):
        valid: dict[int, DecryptionShare] = {}
        for trustee, entries in sorted(by_trustee.items()):
            entry = entries[index]
            if isinstance(entry, DecryptionShare) and verify_decryption_share(entry, ciphertext, q):
                valid[trustee] = entry
            else:
                rejected_at.setdefault(trustee, []).append(index)
        if len(valid) < threshold.k:
            rejected = tuple(t for t in sorted(by_trustee) if t not in valid)
            short.append((index, NotEnoughDecryptionShares(
                threshold.k, tuple(sorted(valid)), missing, rejected)))
            continue
        used = [valid[t] for t in sorted(valid)[:threshold.k]]
        try:
            plaintexts.append(discrete_log(combine_decryption_shares(ciphertext, used, q),
                                           args.bound))
        except ValueError:
            beyond.append(index)
    for trustee, indices in sorted(rejected_at.items()):
        print(f"trustee {trustee}: {len(indices)} of {len(ciphertexts)} decryption shares "
              f"rejected (proof fails), first for ciphertext {indices[0]}", file=sys.stderr)
    if short:
        index, error = short[0]
        print(f"error: {error}; for {len(short)} of {len(ciphertexts)} ciphertexts, the first "
              f"being ciphertext {index}", file=sys.stderr)
        return 1
    if beyond:
        print(f"error: {len(beyond)} of {len(ciphertexts)} ciphertexts decrypt to no integer "
              f"in 0..{args.bound} (the first: ciphertext {beyond[0]}): a larger --bound?",
              file=sys.stderr)
        return 1
    print(json.dumps(plaintexts))
    return 0


# --- online: publish, fetch-public, decrypt-online --------------------------------------------

#: Decryption shares per message of SubmitDecryptionShares (132 bytes each: about 660 kB).
SHARES_PER_MESSAGE = 5000
Metadata = list[tuple[str, str]]


def _publics_of(key: pb.ElectionKey) -> dict[int, TrusteePublic]:
    """The public files of every trustee who published, as `keygen` wrote them: k from the
    service's answer, n = published + missing."""
    threshold = Threshold(key.threshold, len(key.trustees) + len(key.missing))
    publics: dict[int, TrusteePublic] = {}
    for published in key.trustees:
        try:
            commitment = TrusteeCommitment.from_bytes(published.commitment)
        except ValueError as exc:
            raise TrusteeError(f"the service's copy of trustee {published.trustee}'s commitment: {exc}") from None
        publics[published.trustee] = TrusteePublic(key.election_id, threshold, commitment,
                                                   bytes(published.transport_public_key))
    return publics


def _election_key(stub: Stub, md: Metadata, election_id: str) -> pb.ElectionKey:
    return stub.GetElectionKey(pb.GetElectionKeyRequest(election_id=election_id), metadata=md, timeout=60).key


def _publish(stub: Stub, md: Metadata, args: argparse.Namespace) -> int:
    public = read_public(args.public)
    if public.election_id != args.election:
        raise TrusteeError(f"{args.public}: trustee {public.trustee}'s public file is for election "
                           f"{public.election_id!r}, not {args.election!r}")
    answer = stub.PublishTrusteeKey(pb.PublishTrusteeKeyRequest(
        election_id=args.election, trustee=public.trustee, commitment=public.commitment.to_bytes(),
        transport_public_key=public.transport_key), metadata=md, timeout=60)
    print(f"trustee {public.trustee}'s public file published; fingerprint {public.fingerprint()}")
    show_key_state(answer.key)
    return 0


def _fetch_public(stub: Stub, md: Metadata, args: argparse.Namespace) -> int:
    key = _election_key(stub, md, args.election)
    publics = _publics_of(key)
    folder = Path(args.dir)
    ids = {t.trustee: t.trustee_id for t in key.trustees}
    # Check every file first: a trustee's own public file that differs from the service's copy
    # is a substitution (or a second keygen) to settle before anything is written.
    for trustee, public in sorted(publics.items()):
        path = folder / f"trustee-{trustee}.public.json"
        if path.exists() and read_public(path) != public:
            raise TrusteeError(f"{path} exists and is not what trustee {trustee} published on the service "
                               f"(fingerprints: the file's {read_public(path).fingerprint()}, the service's "
                               f"{public.fingerprint()}); not overwritten")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for trustee, public in sorted(publics.items()):
        path = folder / f"trustee-{trustee}.public.json"
        if not path.exists():
            write_public(path, public, overwrite=False)
        print(f"trustee {trustee} ({ids[trustee]}): fingerprint {public.fingerprint()}  {path}")
    if key.missing:
        print(f"warning: not published yet: {_plural(key.missing)}; fetch again once they have",
              file=sys.stderr)
    else:
        print(f"every trustee has published; election key {key.public_key.hex()}")
    return 0


def _receive_ciphertexts(stub: Stub, md: Metadata, election_id: str) -> list[Ciphertext]:
    ciphertexts: list[Ciphertext] = []
    bar = None
    try:
        for part in stub.StreamTallyCiphertexts(pb.StreamTallyCiphertextsRequest(election_id=election_id),
                                                metadata=md, timeout=3600):
            if bar is None:
                bar = progress(part.total, "receiving", "ciphertext")
            ciphertexts.extend(Ciphertext.from_bytes(ct) for ct in part.ciphertexts)
            bar.update(len(part.ciphertexts))
    finally:
        if bar is not None:
            bar.close()
    return ciphertexts


def _submit_shares(stub: Stub, md: Metadata, election_id: str, trustee: int,
                   shares: Sequence[DecryptionShare]) -> pb.TallyState:
    raw = [share.to_bytes() for share in shares]
    bar = progress(len(raw), "sending", "share")

    def parts():
        yield pb.SubmitDecryptionSharesRequest(header=pb.DecryptionHeader(election_id=election_id,
                                                                          trustee=trustee))
        for start in range(0, len(raw), SHARES_PER_MESSAGE):
            chunk = raw[start:start + SHARES_PER_MESSAGE]
            yield pb.SubmitDecryptionSharesRequest(shares=pb.DecryptionShareChunk(shares=chunk))
            bar.update(len(chunk))

    try:
        return stub.SubmitDecryptionShares(parts(), metadata=md, timeout=3600).tally
    finally:
        bar.close()


def _decrypt_online(stub: Stub, md: Metadata, args: argparse.Namespace) -> int:
    processes = args.processes if args.processes is not None else available_cores()
    if processes < 1:
        raise TrusteeError(f"--processes: at least 1, not {processes}")
    key = read_key(args.key)
    if key.trustee != args.trustee:
        raise TrusteeError(f"{args.key}: trustee {key.trustee}'s key file, not trustee {args.trustee}'s")
    if key.election_id != args.election:
        raise TrusteeError(f"{args.key}: a key for election {key.election_id!r}, not {args.election!r}")
    state = stub.GetTallyState(pb.GetTallyStateRequest(election_id=args.election), metadata=md, timeout=60).tally
    if args.trustee in state.decrypted_by:
        print(f"trustee {args.trustee}'s decryption shares are stored already")
        show_tally_state(state)
        return 0
    # The key file must be the one combined from what the trustees published on the service.
    publics = _publics_of(_election_key(stub, md, args.election))
    where = {i: f"the service's trustee-{i}.public.json" for i in publics}
    _check_key_against(key, _qualification(publics, where, key.election_id, key.threshold))
    ciphertexts = _receive_ciphertexts(stub, md, args.election)
    print(f"trustee {key.trustee}: decrypting {len(ciphertexts)} ciphertexts", file=sys.stderr)
    shares = decrypt_all(key.key_share, key.election_id, ciphertexts, processes)
    state = _submit_shares(stub, md, args.election, key.trustee, shares)
    print(f"trustee {key.trustee}'s decryption shares of {len(shares)} ciphertexts accepted")
    show_tally_state(state)
    return 0


def _online(run: Callable[[Stub, Metadata, argparse.Namespace], int],
            role: str = "trustee", default_subject: str = "") -> Callable[[argparse.Namespace], int]:
    """An online command: the trustee's token, refusals as exit 1, bad files as exit 2."""
    return _guarded(lambda args: run_as(args, role, run, default_subject))


# --- the parser ------------------------------------------------------------------------------


def add_parser(sub: argparse._SubParsersAction) -> None:
    text = (__doc__ or "").split("\n\n", 1)[1]
    trustee = sub.add_parser("trustee", help="election trustees: threshold key generation and "
                                             "decryption on the trustee's machine, over files or "
                                             "through the elections api",
                             description=text, formatter_class=argparse.RawDescriptionHelpFormatter)
    tsub = trustee.add_subparsers(dest="action", required=True)

    def command(name: str, helptext: str, run: Callable[[argparse.Namespace], int]
                ) -> argparse.ArgumentParser:
        p = tsub.add_parser(name, help=helptext, description=helptext)
        p.set_defaults(func=run)
        return p

    p = command("keygen", "draw this trustee's polynomial and transport key: a private file "
                          "(0600) and a public file, never over existing ones", _keygen)
    p.add_argument("--election", required=True, help="election id")
    p.add_argument("--trustee", required=True, type=int, help="this trustee's number, 1..N")
    p.add_argument("--threshold", required=True, type=int, help="K: trustees needed to decrypt")
    p.add_argument("--trustees", required=True, type=int, help="N: trustees in all")
    p.add_argument("--dir", required=True, help="this trustee's folder")

    p = command("deal", "check the other trustees' public files and seal a share to each "
                        "(writes DIR/shares-from-I.json)", _deal)
    p.add_argument("--dir", required=True, help="this trustee's folder (its private file)")
    p.add_argument("--trustee", required=True, type=int, help="this trustee's number")
    p.add_argument("public_files", nargs="+", metavar="PUBLIC_FILE")

    p = command("combine", "open and check the shares sent to this trustee: its key share, or "
                           "complaints naming the senders of bad ones", _combine)
    p.add_argument("--dir", required=True, help="this trustee's folder (its private file)")
    p.add_argument("--trustee", required=True, type=int, help="this trustee's number")
    p.add_argument("--public", required=True, nargs="+", metavar="PUBLIC_FILE",
                   help="the board's agreed set of public files")
    p.add_argument("--shares", required=True, nargs="+", metavar="SHARES_FILE",
                   help="the shares-from-J.json files of the other trustees")

    p = command("public-key", "the election key from the public files (anyone can run it)",
                _public_key)
    p.add_argument("public_files", nargs="+", metavar="PUBLIC_FILE")
    p.add_argument("--verbose", action="store_true", help="each trustee's verification key too")

    p = command("decrypt", "this trustee's decryption shares, with proofs, of every ciphertext",
                _decrypt)
    p.add_argument("--key", required=True, help="this trustee's key file (trustee-I.key.json)")
    p.add_argument("--public", required=True, nargs="+", metavar="PUBLIC_FILE")
    p.add_argument("--ciphertexts", required=True, help="a coopgov/ciphertexts/v1 file")
    p.add_argument("--out", required=True, help="the decryption shares file to write")
    p.add_argument("--processes", type=int, default=None,
                   help="worker processes (default: one per CPU)")

    p = command("combine-decryption", "check every decryption share and decrypt with k valid "
                                      "ones (anyone can run it); prints the plaintexts as JSON",
                _combine_decryption)
    p.add_argument("--public", required=True, nargs="+", metavar="PUBLIC_FILE")
    p.add_argument("--ciphertexts", required=True, help="a coopgov/ciphertexts/v1 file")
    p.add_argument("--bound", type=int, default=DEFAULT_BOUND,
                   help=f"largest plaintext searched for (default {DEFAULT_BOUND})")
    p.add_argument("share_files", nargs="+", metavar="SHARE_FILE",
                   help="the trustees' decryption shares files")

    def online(name: str, helptext: str, run: Callable[[argparse.Namespace], int]
               ) -> argparse.ArgumentParser:
        p = tsub.add_parser(name, help=helptext, description=helptext,
                            parents=[connection_options("trustee")])
        p.set_defaults(func=run)
        p.add_argument("--election", required=True, help="election id")
        return p

    p = online("publish", "publish this trustee's public file (commitments and transport key) on the "
                          "service; prints who is missing, and the election key once complete",
               _online(_publish))
    p.add_argument("--public", required=True, help="this trustee's trustee-I.public.json (from keygen)")

    p = online("fetch-public", "every published trustee's public file from the service into DIR "
                               "(trustee-J.public.json, as keygen writes them), with its fingerprint",
               _online(_fetch_public, default_subject="cli-trustee"))
    p.add_argument("--dir", required=True, help="the folder to write them into (a trustee's own file "
                                                "there must match the service's copy)")

    p = online("decrypt-online", "after the mixes: this trustee's decryption shares of the tally, with "
                                 "proofs, sent to the service", _online(_decrypt_online))
    p.add_argument("--key", required=True, help="this trustee's key file (trustee-I.key.json)")
    p.add_argument("--trustee", required=True, type=int, help="this trustee's number")
    p.add_argument("--processes", type=int, default=None,
                   help="worker processes (default: one per CPU)")
