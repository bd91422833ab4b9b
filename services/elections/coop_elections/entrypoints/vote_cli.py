"""`coop vote ...`: a voter's encrypted ballot, made and checked on the voter's own machine.

    coop vote encrypt ELECTION_JSON --answer QUESTION=ANSWER... [--answers-file F]
        [--public-key HEX] --out BALLOT_FILE
        encrypts the answers with their proofs, checks them and prints the receipt (the ballot's
        SHA-256). ANSWER: yes, no or abstain for a resolution; candidate ids separated by commas
        otherwise, in rank order for STV and Schulze; empty for a blank answer. A question not
        answered is encrypted as all zeros, like a blank one.
    coop vote check ELECTION_JSON BALLOT_FILE [--public-key HEX]
        checks every proof of a ballot file as the service and the auditors will

ELECTION_JSON is the election as published (election.json); its key is encryption.public_key,
or the one --public-key gives (what `coop trustee public-key` prints). Exit status 0 when the
ballot is made or holds, 1 when a checked ballot fails, 2 for a bad file or answer.
Casting through the api is not built yet (issue 14).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from coop_elections.client import (
    check_ballot,
    load_election,
    parse_answer,
    prepare_ballot,
    read_ballot,
)


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
    if out.exists():
        raise ValueError(f"{out} exists: a ballot file is never overwritten")
    out.write_text(json.dumps(prepared.to_json()) + "\n", encoding="utf-8")
    print(f"ballot written to {out}; your receipt: {prepared.receipt}")
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


def _guarded(command):
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except ValueError as exc:
            print(f"coop vote: {exc}", file=sys.stderr)
            return 2
    return run


def add_parser(sub: argparse._SubParsersAction) -> None:
    vote = sub.add_parser("vote", help="encrypted ballots: make and check one on your own machine",
                          description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = vote.add_subparsers(dest="vote_command", required=True)
    p = commands.add_parser("encrypt", help="encrypt answers with their proofs into a ballot file")
    p.add_argument("election", help="the published election.json")
    p.add_argument("--answer", action="append", default=[], metavar="QUESTION=ANSWER")
    p.add_argument("--answers-file", default="", help="JSON object: question id -> answer")
    p.add_argument("--public-key", default="", help="the election key (hex), if not in election.json")
    p.add_argument("--out", required=True, help="the ballot file to write")
    p.set_defaults(func=_guarded(_encrypt))
    p = commands.add_parser("check", help="check every proof of a ballot file")
    p.add_argument("election", help="the published election.json")
    p.add_argument("ballot", help="the ballot file")
    p.add_argument("--public-key", default="", help="the election key (hex), if not in election.json")
    p.set_defaults(func=_guarded(_check))
