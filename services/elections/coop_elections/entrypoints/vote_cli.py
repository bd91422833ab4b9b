"""`coop vote ...`: a voter's encrypted ballot, made and checked on the voter's own machine.

    coop vote encrypt ELECTION_JSON --answer QUESTION=ANSWER... [--answers-file F]
        [--public-key HEX] --out BALLOT_FILE
        encrypts the answers with their proofs, checks them and prints the receipt (the ballot's
        SHA-256). ANSWER: yes, no or abstain for a resolution; candidate ids separated by commas
        otherwise, in rank order for STV and Schulze; empty for a blank answer. A question not
        answered is encrypted as all zeros, like a blank one.
        The ballot's opening (every ciphertext's nonce) is kept beside it, in BALLOT_FILE.opening
        (--opening F; readable by you only): `cast` deletes it, `challenge` publishes it.
    coop vote check ELECTION_JSON BALLOT_FILE [--public-key HEX]
        checks every proof of a ballot file as the service and the auditors will
    coop vote challenge BALLOT_FILE [--opening F] --out SPOILED_FILE
        instead of casting the ballot, spoil it (Benaloh challenge): writes the ballot with its
        opening, then deletes the ballot file and its opening file. The spoiled ballot is never
        cast; check it on another device with `audit`, then encrypt your answers again.
    coop vote audit ELECTION_JSON SPOILED_FILE [--public-key HEX]
        checks a spoiled ballot's proofs and opens it: prints the answers it holds, which must be
        the ones you gave (else the device that made it lied)

Online, against the elections api (--target, COOP_ELECTIONS_ADDR; COOP_TOKEN, or else a
development token with the member role for --as SUBJECT, the voter's id):

    coop vote fetch --election E --out election.json
        the election as its voters encrypt against it (questions, candidates, key), once every
        trustee has published
    coop vote cast --election E BALLOT_FILE --as VOTER [--previous-tracker T --revote-code C]
        casts the ballot file; prints the tracker, the ballot hash (and a re-vote code where
        re-voting is allowed) and the receipt (the ballot's SHA-256); deletes the ballot's opening
        file (--opening F), which would tell how you voted

ELECTION_JSON is the election as published (election.json, what `fetch` writes); its key is
encryption.public_key, or the one --public-key gives (what `coop trustee public-key` prints).
Exit status 0 when the ballot is made, holds or is cast, 1 when a checked ballot fails or the
service refuses, 2 for a bad file or answer.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from coop.elections.v2 import elections_pb2 as pb
from coop_elections.client import (
    PreparedBallot,
    audit_spoiled,
    check_ballot,
    load_election,
    parse_answer,
    prepare_ballot,
    read_ballot,
    read_opening,
    read_spoiled,
)
from coop_elections.entrypoints.cli import Stub, UsageError, connection_options, run_as
from coop_platform.files import write_atomically

Metadata = list[tuple[str, str]]


def _answers(election, args: argparse.Namespace) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    if args.answers_file:
        try:
            loaded = json.loads(Path(args.answers_file).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{args.answers_file}: cannot read the answers ({exc})") from None
        if not isinstance(loaded, dict):
            raise ValueError(f"{args.answers_file}: a JSON object of question id -> answer expected")
        answers.update(loaded)
    for item in args.answer:
        question_id, sep, text = item.partition("=")
        if not sep:
            raise ValueError(f"--answer {item!r}: QUESTION=ANSWER expected")
        answers[question_id] = parse_answer(election.question(question_id), text)
    return answers


def _encrypt(args: argparse.Namespace) -> int:
    election = load_election(args.election, args.public_key)
    prepared = prepare_ballot(election, _answers(election, args))
    out = Path(args.out)
    opening = _opening_path(args.opening, out)
    for path in (out, opening):
        if path.exists():
            raise ValueError(f"{path} exists: a ballot or opening file is never overwritten")
    # the opening tells the vote: readable by its owner only, from its first byte
    write_atomically(opening, [_json_line(prepared.opening_json())], private=True, overwrite=False)
    out.write_text(json.dumps(prepared.to_json()) + "\n", encoding="utf-8")
    print(f"its opening is kept in {opening}: `coop vote cast` deletes it; `coop vote challenge` spoils "
          "the ballot and publishes it, to check what the ballot holds on another device")
    print(f"ballot written to {out}; your receipt: {prepared.receipt}")
    return 0


def _opening_path(given: str, ballot: str | Path) -> Path:
    """--opening, or the file beside the ballot."""
    return Path(given) if given else Path(f"{ballot}.opening")


def _json_line(document: dict[str, Any]) -> bytes:
    return (json.dumps(document) + "\n").encode()


def _challenge(args: argparse.Namespace) -> int:
    ballot_path, opening_path, out = Path(args.ballot), _opening_path(args.opening, args.ballot), Path(args.out)
    ballot = read_ballot(ballot_path)
    if not opening_path.exists():
        raise ValueError(f"{opening_path}: no opening for this ballot (cast already, or made elsewhere): "
                         "it cannot be challenged")
    spoiled = PreparedBallot(ballot, read_opening(opening_path, ballot))
    if out.exists():
        raise ValueError(f"{out} exists: not overwritten")
    write_atomically(out, [_json_line(spoiled.spoiled_json())], overwrite=False)
    ballot_path.unlink()
    opening_path.unlink()
    print(f"ballot {spoiled.receipt} spoiled: written with its opening to {out}; {ballot_path} and "
          f"{opening_path} deleted (never cast it)")
    print(f"check it on another device: coop vote audit ELECTION_JSON {out}; then encrypt your answers again")
    return 0


def _audit(args: argparse.Namespace) -> int:
    election = load_election(args.election, args.public_key)
    ballot, opening = read_spoiled(args.spoiled)
    try:
        content = audit_spoiled(election, ballot, opening)
    except ValueError as exc:
        print(f"FAIL: {exc}")
        return 1
    print(f"OK: spoiled ballot {ballot.hash()} holds, and opens to:")
    for question in election.definition.questions:
        answer = content.get(question.id)
        shown = answer if isinstance(answer, str) else ", ".join(answer or []) or "(blank)"
        print(f"  {question.id}: {shown if answer is not None else '(not answered)'}")
    return 0


def _check(args: argparse.Namespace) -> int:
    election = load_election(args.election, args.public_key)
    ballot = read_ballot(args.ballot)
    failures = check_ballot(election, ballot)
    for failure in failures:
        print(f"FAIL {failure.proof}: {failure}")
    if failures:
        return 1
    print(f"OK: every proof holds; receipt {ballot.hash()}")
    return 0


def _fetch(stub: Stub, md: Metadata, args: argparse.Namespace) -> int:
    key = stub.GetElectionKey(pb.GetElectionKeyRequest(election_id=args.election), metadata=md, timeout=60).key
    if key.missing:
        election = stub.GetElection(pb.GetElectionRequest(election_id=args.election), metadata=md,
                                    timeout=60).election
        ids = list(election.encryption.trustee_ids)
        names = ", ".join(f"{i} ({ids[i - 1]})" if 0 < i <= len(ids) else str(i) for i in key.missing)
        who = f"trustee {names} has" if len(key.missing) == 1 else f"trustees {names} have"
        print(f"coop vote: election {args.election}'s key is not complete: {who} not published yet; "
              "nothing written", file=sys.stderr)
        return 1
    out = Path(args.out)
    text = key.election_json if key.election_json.endswith("\n") else key.election_json + "\n"
    if out.exists() and out.read_text(encoding="utf-8") != text:
        raise ValueError(f"{out} exists with other content: not overwritten (remove it or choose another --out)")
    out.write_text(text, encoding="utf-8")
    print(f"{out}: election {args.election}, {key.threshold} of {len(key.trustees)} trustees, "
          f"election key {key.public_key.hex()}")
    return 0


def _cast(stub: Stub, md: Metadata, args: argparse.Namespace) -> int:
    ballot = read_ballot(args.ballot)
    if ballot.election_id != args.election:
        raise ValueError(f"{args.ballot}: a ballot for election {ballot.election_id!r}, not {args.election!r}")
    answer = stub.CastBallot(pb.CastBallotRequest(
        election_id=args.election, encrypted_ballot=ballot.to_bytes(), previous_tracker=args.previous_tracker,
        previous_revote_code=args.revote_code), metadata=md, timeout=120)
    print(f"tracker {answer.tracker}")
    print(f"ballot hash {answer.ballot_hash}")
    if answer.revote_code:
        print(f"re-vote code {answer.revote_code} (secret: whoever holds it can vote again in your place)")
    if answer.superseded_previous:
        print("your previous ballot is replaced")
    print(f"receipt {ballot.hash()} (the SHA-256 of your ballot: find it in the published record)")
    opening = _opening_path(args.opening, args.ballot)
    if opening.exists():
        opening.unlink()
        print(f"{opening} deleted: it would tell how you voted")
    print("once the record is published, check your ballot is in it: python -m coop_elections.entrypoints."
          f"verify_encrypted RECORD --tracker {answer.tracker} --ballot-hash {answer.ballot_hash}")
    return 0


def _online(command, default_subject: str = ""):
    """Through the api as the voter (or as `default_subject` for what any member may read):
    refusals exit 1 (run_as), bad files and usage 2."""
    def run(args: argparse.Namespace) -> int:
        try:
            return run_as(args, "member", command, default_subject)
        except (ValueError, UsageError) as exc:
            print(f"coop vote: {exc}", file=sys.stderr)
            return 2
        except OSError as exc:
            print(f"coop vote: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    return run


def _guarded(command):
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except ValueError as exc:
            print(f"coop vote: {exc}", file=sys.stderr)
            return 2
    return run


def _election_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("election", help="the published election.json")
    p.add_argument("--public-key", default="", help="the election key (hex), if not in election.json")


def add_parser(sub: argparse._SubParsersAction) -> None:
    vote = sub.add_parser("vote", help="encrypted ballots: fetch the election, make and check a ballot on your own "
                                       "machine, cast it",
                          description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = vote.add_subparsers(dest="vote_command", required=True)
    p = commands.add_parser("encrypt", help="encrypt answers with their proofs into a ballot file")
    _election_args(p)
    p.add_argument("--answer", action="append", default=[], metavar="QUESTION=ANSWER")
    p.add_argument("--answers-file", default="", help="JSON object: question id -> answer")
    p.add_argument("--out", required=True, help="the ballot file to write")
    p.add_argument("--opening", default="", help="where to keep the ballot's opening (default: OUT.opening)")
    p.set_defaults(func=_guarded(_encrypt))
    p = commands.add_parser("check", help="check every proof of a ballot file")
    _election_args(p)
    p.add_argument("ballot", help="the ballot file")
    p.set_defaults(func=_guarded(_check))
    p = commands.add_parser("challenge", help="spoil a ballot instead of casting it: publish it with its opening")
    p.add_argument("ballot", help="the ballot file (from `coop vote encrypt`)")
    p.add_argument("--opening", default="", help="its opening file (default: BALLOT.opening)")
    p.add_argument("--out", required=True, help="the spoiled ballot file to write")
    p.set_defaults(func=_guarded(_challenge))
    p = commands.add_parser("audit", help="open a spoiled ballot: its proofs and the answers it holds")
    _election_args(p)
    p.add_argument("spoiled", help="the spoiled ballot file (from `coop vote challenge`)")
    p.set_defaults(func=_guarded(_audit))
    p = commands.add_parser("fetch", parents=[connection_options("voter")],
                            help="the election.json to encrypt against, from the service (once its key is complete)")
    p.add_argument("--election", required=True, help="election id")
    p.add_argument("--out", required=True, help="the file to write (election.json)")
    p.set_defaults(func=_online(_fetch, default_subject="cli-voter"))
    p = commands.add_parser("cast", parents=[connection_options("voter")],
                            help="cast a ballot file; prints the tracker, the ballot hash and the receipt")
    p.add_argument("--election", required=True, help="election id")
    p.add_argument("ballot", help="the ballot file (from `coop vote encrypt`)")
    p.add_argument("--previous-tracker", default="", help="re-voting: the tracker of your previous ballot")
    p.add_argument("--revote-code", default="", help="re-voting: the re-vote code of your previous ballot")
    p.add_argument("--opening", default="", help="the ballot's opening file, deleted once cast (default: BALLOT.opening)")
    p.set_defaults(func=_online(_cast))
