"""Independent verifier: recount an election from its published files alone.

    python -m coop_elections.entrypoints.verify box.json election.json \
        [--tracker XXXX-XXXX-XXXX] [--results results.json] [--json]

Checks the hash chain (every link, tracker order, head), re-validates every ballot,
recounts every question with the published tie-break seed, and, given --results,
compares the recount with what the service published. --tracker confirms that a voter's
ballot is in the box. Exit status 0 when everything holds, 1 otherwise, 2 for bad usage.
Needs only this package's pure domain (no database, no network).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from coop_elections.domain.ballot_box import PublishedBox, find_tracker, recount
from coop_elections.domain.canonical import to_jsonable
from coop_elections.domain.errors import DomainError, NotFound
from coop_elections.domain.published import definition_from_json


def _load(path: str) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _summary(q: dict[str, Any]) -> str:
    if q["method"] == "resolution":
        return (f"yes {q['yes']}, no {q['no']}, abstain {q['abstain']}: "
                f"{'adopted' if q['adopted'] else 'rejected'}")
    return "winners: " + ", ".join(q["winners"])


def verify(box_path: str, election_path: str, tracker: str = "", results_path: str = "") -> tuple[bool, dict[str, Any]]:
    report: dict[str, Any] = {"chain": "unchecked"}
    try:
        box = PublishedBox.from_json(_load(box_path))
        definition = definition_from_json(_load(election_path))
        result = recount(box, definition)  # verifies the chain first
    except (DomainError, ValueError, OSError) as exc:
        report["chain"] = "FAILED"
        report["error"] = str(exc)
        return False, report
    counted = to_jsonable(result)
    report.update(chain="ok", head_hash=box.head_hash, ballots=len(box.entries),
                  superseded=box.superseded_count, recount=counted)
    ok = True
    if results_path:
        try:
            published = _load(results_path)
            same = published.get("count") == counted and published.get("head_hash") == box.head_hash
        except (OSError, ValueError, AttributeError):
            same = False
        report["matches_published_results"] = same
        ok = ok and same
    if tracker:
        try:
            find_tracker(box, tracker)
            report["tracker"] = "present"
        except (NotFound, DomainError) as exc:
            report["tracker"] = f"ABSENT ({exc})"
            ok = False
    return ok, report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="coop_elections.entrypoints.verify", description=__doc__.split("\n")[0])
    parser.add_argument("box", help="published box.json")
    parser.add_argument("election", help="published election.json")
    parser.add_argument("--tracker", default="", help="confirm this tracker is in the box")
    parser.add_argument("--results", default="", help="published results.json to compare with")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    ok, report = verify(args.box, args.election, args.tracker, args.results)
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
        return 0 if ok else 1
    print(f"chain: {report['chain']}" + (f" ({report['error']})" if "error" in report else ""))
    if report["chain"] == "ok":
        print(f"head: {report['head_hash']}  ballots: {report['ballots']}  superseded: {report['superseded']}")
        for q in report["recount"]["questions"]:
            print(f"  {q['question_id']} ({q['method']}): {_summary(q)}")
        for q in report["recount"]["questions"]:
            for t in q.get("tie_breaks", []):
                print(f"  tie-break {t['question_id']} / {t['step']}: {', '.join(t['order'])}")
    if "matches_published_results" in report:
        print(f"published results: {'match' if report['matches_published_results'] else 'DO NOT MATCH'}")
    if "tracker" in report:
        print(f"tracker: {report['tracker']}")
    print("VERIFIED" if ok else "NOT VERIFIED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
