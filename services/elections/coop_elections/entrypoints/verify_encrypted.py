"""Independent verifier of an encrypted election: every proof, from its published folder alone.

    python -m coop_elections.entrypoints.verify_encrypted FOLDER [--processes P] [--json]

FOLDER holds the published record (coop_elections.adapters.encrypted_record: election.json,
trustee-I.public.json, ballots.json, mixes.json, decryption-shares-I.json, results.json). The
check (coop_elections.domain.crypto.audit) recomputes the election key from the trustees'
commitments, checks every ballot's proofs, every shuffle, every decryption share, decrypts the
tally and recounts it, and names every element that fails. Exit status 0 when everything holds,
1 when something fails, 2 for a missing or malformed file. P processes (default: every core)
share the work; the answer is the same with one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor

from coop_elections.adapters.encrypted_record import read_record
from coop_elections.domain.crypto.audit import audit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="verify_encrypted", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", help="the published record's folder")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    args = parser.parse_args(argv)
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
    if args.json:
        print(json.dumps({"verified": not findings, "election_id": record.definition.id,
                          "ballots": len(record.ballots),
                          "findings": [vars(f) for f in findings]}, indent=2))
    else:
        for finding in findings:
            print(f"FAIL {finding}")
        if not findings:
            print(f"OK: election {record.definition.id}: {len(record.ballots)} ballots, the key, every "
                  "proof and the recount hold")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
