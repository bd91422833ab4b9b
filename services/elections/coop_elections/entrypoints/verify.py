"""Independent verifier: recount an election from its published files alone.

    python -m coop_elections.entrypoints.verify box.json election.json [results.json]
        [--tracker XXXX-XXXX-XXXX --ballot-hash HEX] [--seed-sha256 HEX] [--roll-sha256 HEX] [--json]

Checks the hash chain (every link, tracker order, head), re-validates every ballot, checks
that ballots and weights fit the published roll (never more ballots than voters, nor more
weight than the roll's total; the roll's total is the weight fractional quorums used), that
the tie-break seed matches its commitment, recounts every question with that seed and compares
the recount with the published results (results.json: the third argument, --results, or the
results.json beside box.json; without one the election is NOT verified). A voter gives their
receipt (--tracker and --ballot-hash): the ballot behind the tracker must still hash to it.
--seed-sha256 and --roll-sha256 are commitments recorded before voting (GetElection,
GetVoterRoll, the election.opened event); given, they are checked too. Exit status 0 when
everything holds, 1 otherwise, 2 for bad usage. Needs only this package's pure domain.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from coop_domain.errors import DomainError
from coop_elections.domain.ballot_box import PublishedBox, recount
from coop_elections.domain.canonical import to_jsonable
from coop_elections.domain.published import definition_from_json
from coop_elections.domain.verification import (
    RollCommitment,
    check_receipt,
    check_roll,
    check_seed,
    compare_results,
)


def _load(path: str) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _summary(q: dict[str, Any]) -> str:
    if q["method"] == "resolution":
        return (f"yes {q['yes']}, no {q['no']}, abstain {q['abstain']}: "
                f"{'adopted' if q['adopted'] else 'rejected'}")
    return "winners: " + ", ".join(q["winners"])


def results_path_for(box_path: str, given: str = "") -> str:
    """The results to compare with: the one given, else results.json beside box.json."""
    if given:
        return given
    beside = Path(box_path).with_name("results.json")
    return str(beside) if beside.is_file() else ""


def verify(box_path: str, election_path: str, tracker: str = "", results_path: str = "", *,
           ballot_hash: str = "", seed_sha256: str = "", roll_sha256: str = "") -> tuple[bool, dict[str, Any]]:
    """Every check; (all hold, report). The report names each check and its outcome."""
    report: dict[str, Any] = {"chain": "unchecked", "checks": {}}
    checks = report["checks"]
    try:
        box = PublishedBox.from_json(_load(box_path))
        election_doc = _load(election_path)
        definition = definition_from_json(election_doc)
        result = recount(box, definition)  # verifies the chain first
    except (DomainError, ValueError, OSError) as exc:
        report["chain"] = "FAILED"
        report["error"] = str(exc)
        return False, report
    counted = to_jsonable(result)
    report.update(chain="ok", head_hash=box.head_hash, ballots=len(box.entries),
                  superseded=box.superseded_count, recount=counted)

    def check(name: str, run: Any) -> None:
        try:
            outcome = run()
            checks[name] = "ok" + (f" ({outcome})" if isinstance(outcome, str) else "")
        except (DomainError, ValueError, OSError) as exc:
            checks[name] = f"FAILED: {exc}"

    try:
        roll: RollCommitment | None = RollCommitment.from_election_json(election_doc)
    except DomainError as exc:
        roll = None
        checks["roll"] = f"FAILED: {exc}"
    if roll is not None:
        check("roll", lambda: check_roll(box, definition, roll, roll_sha256))
    check("seed", lambda: "against " + check_seed(definition, election_doc.get("tie_break_seed_sha256", ""),
                                                  seed_sha256))
    results_path = results_path_for(box_path, results_path)
    if results_path:
        check("results", lambda: compare_results(_load(results_path), counted, box))
    else:
        checks["results"] = "FAILED: no published results to compare the recount with (results.json)"
    report["matches_published_results"] = checks["results"] == "ok"
    if tracker:
        receipt: dict[str, Any] = {"tracker": tracker}
        report["receipt"] = receipt

        def check_mine() -> None:
            entry = check_receipt(box, tracker, ballot_hash, roll)
            receipt.update(tracker=entry.tracker, content=entry.content)

        check("receipt", check_mine)
    ok = all(outcome.startswith("ok") for outcome in checks.values())
    return ok, report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="coop_elections.entrypoints.verify", description=__doc__.split("\n")[0])
    parser.add_argument("box", help="published box.json")
    parser.add_argument("election", help="published election.json")
    parser.add_argument("results_file", nargs="?", default="", metavar="results",
                        help="published results.json (default: results.json beside box.json)")
    parser.add_argument("--results", default="", help="the same as the third argument")
    parser.add_argument("--tracker", default="", help="your receipt's tracker")
    parser.add_argument("--ballot-hash", default="", help="your receipt's ballot hash (with --tracker)")
    parser.add_argument("--seed-sha256", default="", help="the tie-break seed's SHA-256 shown before voting")
    parser.add_argument("--roll-sha256", default="", help="the roll's SHA-256 published when it froze")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if args.results and args.results_file and args.results != args.results_file:
        parser.error("give results.json once (third argument or --results)")
    if bool(args.tracker) != bool(args.ballot_hash):
        parser.error("a receipt is checked whole: give --tracker and --ballot-hash together")
    ok, report = verify(args.box, args.election, args.tracker, args.results or args.results_file,
                        ballot_hash=args.ballot_hash, seed_sha256=args.seed_sha256, roll_sha256=args.roll_sha256)
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False))
        return 0 if ok else 1
    print(f"chain: {report['chain']}" + (f" ({report['error']})" if "error" in report else ""))
    if report["chain"] == "ok":
        print(f"head: {report['head_hash']}  ballots: {report['ballots']}  superseded: {report['superseded']}")
        for q in report["recount"]["questions"]:
            print(f"  {q['question_id']} ({q['method']}): {_summary(q)}")
        for q in report["recount"]["questions"]:
            for t in q.get("tie_breaks", []):
                print(f"  tie-break {t['question_id']} / {t['step']}: {', '.join(t['order'])}")
    for name, outcome in report["checks"].items():
        print(f"{name}: {outcome}")
    if "content" in report.get("receipt", {}):
        print(f"your ballot: {json.dumps(report['receipt']['content'], ensure_ascii=False, sort_keys=True)}")
    print("VERIFIED" if ok else "NOT VERIFIED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
