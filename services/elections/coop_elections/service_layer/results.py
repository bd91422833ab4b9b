"""Use cases of counting and publishing: the turnout during voting, the close (count, publish,
discard the casting rows), and the published results and ballot box.

The close is benchmarked (about 2.1 s for the bench election): it reads the ballots once,
builds the published box and counts it with the very code the verifier runs.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from coop_domain.errors import FailedPrecondition
from coop_domain.principal import Principal
from coop_elections.domain.ballot_box import count_box, publish_box
from coop_elections.domain.canonical import to_jsonable
from coop_elections.domain.election import mandate_dates
from coop_elections.domain.events import ResultsPublished
from coop_elections.domain.published import definition_to_json
from coop_elections.domain.stored import StoredElection
from coop_elections.domain.verification import seed_commitment
from coop_elections.service_layer.common import TIMERS, counting_definition, load, roll_summary_of
from coop_elections.service_layer.ports import ElectionsUnitOfWork
from coop_elections.service_layer.roll import freeze


def turnout(uow: ElectionsUnitOfWork, caller: Principal, election_id: str) -> tuple[int, int, int, int]:
    with uow:
        uow.read_only()
        e = load(uow, caller, election_id)
        voted = uow.elections.voted_count(e.election_id)
        if e.status == "closed":  # the casting rows are gone; the count has the weight
            voted_weight = json.loads(uow.elections.results(e.election_id).results_json)["count"]["total_weight"]
        else:
            _, voted_weight = uow.elections.ballot_totals(e.election_id)
        roll = roll_summary_of(uow, e)  # once frozen, the stored totals: no scan of the roll per call
        return voted, roll.size, voted_weight, roll.total_weight


def close_election(uow: ElectionsUnitOfWork, caller: Principal, election_id: str, now: datetime) -> dict[str, Any]:
    """Count and publish; idempotent (a second close returns the stored results)."""
    caller.require(*TIMERS)
    with uow:
        e = load(uow, caller, election_id, lock="update")
        if e.status == "closed":
            return json.loads(uow.elections.results(e.election_id).results_json)
        if e.status == "tallying":
            return tallying(e)
        if now < e.closes_at:
            raise FailedPrecondition(f"voting closes at {e.closes_at.isoformat()}", reason="NOT_YET_CLOSED",
                                     closes_at=e.closes_at.isoformat())
        summary = freeze(uow, e)
        if e.spec.encryption is not None:
            # nothing to count in the clear: the ballots stay (pairing a voter with a ciphertext
            # reveals nothing) for the mixes and the trustees' decryption (docs/elections.md)
            uow.elections.update_election(e.election_id, status="tallying")
            uow.commit()
            e.status = "tallying"
            return tallying(e)
        definition_ = counting_definition(uow, e, summary.total_weight)
        superseded = uow.elections.superseded_count(e.election_id)
        box = publish_box(e.election_id, ((t, w, json.loads(c)) for t, w, c in uow.elections.ballots(e.election_id)),
                          superseded)
        head = box.head_hash
        lightest, heaviest = uow.elections.roll_weight_range(e.election_id)
        result = count_box(box, definition_)  # the very counting code the verifier runs
        mandates = {q.question_id: [d.isoformat() for d in mandate_dates(e.spec.window.assembly_day, q.mandate_years)]
                    for q in e.spec.questions if q.mandate_years}
        results = {
            "election_id": e.election_id, "head_hash": head, "superseded_count": superseded,
            "published_at": now.isoformat(), "mandates": mandates, "count": to_jsonable(result),
        }
        election_doc = definition_to_json(
            definition_, texts=[t.__dict__ for t in e.spec.texts],
            question_texts={q.question_id: [t.__dict__ for t in q.texts] for q in e.spec.questions},
            assembly_day=e.spec.window.assembly_day.isoformat(), mandates=mandates,
            roll={"size": summary.size, "total_weight": summary.total_weight, "sha256": summary.sha256,
                  "min_weight": lightest, "max_weight": heaviest},
            tie_break_seed_sha256=seed_commitment(e.tie_break_seed),
        )
        results_json = json.dumps(results, sort_keys=True)
        uow.elections.save_results(e.election_id, results_json, json.dumps(box.to_json(), ensure_ascii=False),
                                   json.dumps(election_doc, ensure_ascii=False, sort_keys=True), head, now)
        uow.elections.update_election(e.election_id, status="closed")
        # the published box is the record now: the casting rows, whose transaction ids and
        # physical order pair them with the register, go (docs/elections.md, "Secrecy")
        uow.elections.discard_cast_ballots(e.election_id)
        uow.publish(ResultsPublished(e, results))
        uow.commit()
        return results


def tallying(e: StoredElection) -> dict[str, Any]:
    """What a close of an encrypted election answers: voting is over, results follow the tally."""
    return {"election_id": e.election_id, "status": "tallying"}


def _closed_results(uow: ElectionsUnitOfWork, caller: Principal, election_id: str) -> Any:
    e = load(uow, caller, election_id)
    if e.status == "tallying":
        raise FailedPrecondition("voting is closed; the encrypted ballots are being mixed and decrypted by the "
                                 "trustees: results follow", reason="TALLY_PENDING")
    if e.status != "closed":
        raise FailedPrecondition("results are sealed until the election is closed", reason="RESULTS_SEALED",
                                 closes_at=e.closes_at.isoformat())
    return uow.elections.results(e.election_id)


def get_results(uow: ElectionsUnitOfWork, caller: Principal, election_id: str) -> dict[str, Any]:
    with uow:
        return json.loads(_closed_results(uow.read_only(), caller, election_id).results_json)


def published_box(uow: ElectionsUnitOfWork, caller: Principal, election_id: str) -> tuple[str, str, str]:
    with uow:
        row = _closed_results(uow.read_only(), caller, election_id)
        return row.box_json, row.election_json, row.results_json
