"""Independent verifier of an encrypted election: every proof, from its published folder alone.

    python -m coop_elections.entrypoints.verify_encrypted FOLDER [--processes P] [--json]
        [--tracker T --ballot-hash H]

FOLDER holds the published record (coop_elections.adapters.encrypted_record: election.json,
trustee-I.public.json, ballots.json, mixes.json, decryption-shares-I.json, results.json). The
check (coop_elections.domain.crypto.audit) recomputes the election key from the trustees'
commitments and the box's hash chain over trackers, ballots and weights, checks every ballot's
proofs, every shuffle, every decryption share, decrypts the tally and recounts it, and names
every element that fails. Exit status 0 when everything holds, 1 when something fails, 2 for a
missing or malformed file. With a voter's receipt (--tracker and --ballot-hash, as CastBallot
gave them), it also checks that their ballot is in the box under that tracker and still hashes
to the receipt. P processes (default: every core) share the work; the answer is the same with
one.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor

from coop_elections.adapters.encrypted_record import read_record
from coop_elections.domain.crypto.audit import RECEIPT, Finding, audit, check_receipt
from coop_platform.processes import available_cores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="verify_encrypted", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", help="the published record's folder")
    parser.add_argument("--processes", type=int, default=available_cores())
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.add_argument("--tracker", default="", help="your receipt's tracker")
    parser.add_argument("--ballot-hash", default="", help="your receipt's ballot hash (with --tracker)")
    args = parser.parse_args(argv)
    if bool(args.tracker) != bool(args.ballot_hash):
        parser.error("a receipt is checked whole: give --tracker and --ballot-hash together")
    try:
        record = read_record(args.folder)
    except ValueError as exc:
        print(f"verify_encrypted: {exc}", file=sys.stderr)
        return 2
    if args.processes > 1:
        with ProcessPoolExecutor(args.processes) as pool:
            findings = audit(record, mapper=pool.map)
    else:
        findings = audit(record)
    if args.tracker:
        wrong = check_receipt(record, args.tracker, args.ballot_hash)
        if wrong:
            findings.append(Finding(RECEIPT, args.tracker, wrong))
    if args.json:
        print(json.dumps({"verified": not findings, "election_id": record.definition.id,
                          "ballots": len(record.ballots),
                          "findings": [vars(f) for f in findings]}, indent=2))
    else:
        for finding in findings:
            print(f"FAIL {finding}")
        if not findings:
            print(f"OK: election {record.definition.id}: {len(record.ballots)} ballots, the key, the box's "
                  "chain, every proof and the recount hold" + ("; your receipt too" if args.tracker else ""))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
