"""Nobody has to run FinishTally by hand: once every mix is in and k trustees have submitted
their shares, the worker's tick starts `python -m coop_elections.entrypoints.finish_tallies`,
which publishes the results as FinishTally would (tested here on PostgreSQL: the use case, and
the job as the separate process the worker starts). The tally reads the box a page at a time."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from elections_svc_helpers import AFTER
from encrypted_tally_helpers import Tally
from sqlalchemy import event
from sqlalchemy.engine import Engine

from coop.elections.v1 import elections_pb2 as pb1
from coop.elections.v2 import elections_pb2 as pb
from coop_elections.service_layer.timers import finish_ready_tallies, ready_tallies

pytestmark = pytest.mark.postgres


def _decrypted_by_one(env) -> Tally:
    tally = Tally(env)
    tally.mix("board", 0)
    tally.mix("board", 1)
    tally.submit_shares(2, tally.decrypt(2))  # one of the two trustees needed
    return tally


def _status(env, tally: Tally) -> int:
    return env.v2.GetElection(pb.GetElectionRequest(election_id=tally.eid), metadata=tally.admin).election.status


def test_a_tally_is_finished_once_k_trustees_decrypted_and_not_before(env):
    tally = _decrypted_by_one(env)
    assert ("coop", tally.eid) not in ready_tallies(env.uow_factory())
    finish_ready_tallies(env.uow_factory(), AFTER)
    assert _status(env, tally) == pb1.ELECTION_STATUS_TALLYING
    tally.submit_shares(3, tally.decrypt(3))
    assert ("coop", tally.eid) in ready_tallies(env.uow_factory())
    assert finish_ready_tallies(env.uow_factory(), AFTER) >= 1
    published_at = AFTER.isoformat()
    assert _status(env, tally) == pb1.ELECTION_STATUS_CLOSED
    assert ("coop", tally.eid) not in ready_tallies(env.uow_factory())
    by_hand = env.v2.FinishTally(pb.FinishTallyRequest(election_id=tally.eid), metadata=tally.admin)
    assert (by_hand.results.published_at, by_hand.results.ballots) == (published_at, 5)  # the published results
    published = [x for x in env.outbox("election.results_published") if x["data"]["electionId"] == tally.eid]
    assert len(published) == 1


def test_the_finishing_job_is_a_process_of_its_own_that_publishes_the_results(env):
    tally = _decrypted_by_one(env)
    tally.submit_shares(1, tally.decrypt(1))
    environment = {**os.environ, "COOP_DATABASE_URL": env.url, "COOP_METRICS_PORT": "0"}
    job = subprocess.run([sys.executable, "-m", "coop_elections.entrypoints.finish_tallies", "--processes", "2"],
                         env=environment, capture_output=True, text=True, timeout=300)
    assert job.returncode == 0, job.stderr
    lines = [json.loads(line) for line in job.stderr.splitlines() if line.startswith("{")]
    finished = [line for line in lines if line["message"] == "encrypted tallies finished"]
    assert finished and finished[0]["finished"] >= 1
    assert _status(env, tally) == pb1.ELECTION_STATUS_CLOSED
    results = env.v2.GetResults(pb.GetResultsRequest(election_id=tally.eid), metadata=env.token("v-1", "member"))
    assert json.loads(results.results.questions[1].detail_json)["yes"] == 2
    again = subprocess.run([sys.executable, "-m", "coop_elections.entrypoints.finish_tallies"], env=environment,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "encrypted tallies finished" not in again.stderr  # nothing left to do


def test_the_box_is_read_in_tracker_order_a_page_at_a_time_whatever_the_page(env):
    tally = Tally(env, close=False)
    uow = env.uow_factory()
    with uow:
        whole = sorted(uow.elections.ballots(tally.eid))
        for page in (1, 2, 5, 200):
            assert list(uow.elections.ballots_in_order(tally.eid, page=page)) == whole
    assert [t for t, _, _ in whole] == sorted(tally.trackers.values())


def test_every_trustees_calls_after_the_first_read_no_ballot_again(env):
    """Decoding a box of 41,702 ballots takes minutes; once tallying it no longer changes, so
    the api reads it once (its totals and head) for every trustee's calls and the finish."""
    tally = Tally(env)
    tally.mix("board", 0)
    tally.mix("board", 1)
    reads: list[str] = []

    def spy(conn, cursor, statement, parameters, context, executemany):
        if "ballots.content" in statement:
            reads.append(statement)

    event.listen(Engine, "before_cursor_execute", spy)  # the api reads through its read-only engine too
    try:
        first = tally.ciphertexts()
        after_first = len(reads)
        tally.submit_shares(1, tally.decrypt(1))
        tally.submit_shares(3, tally.decrypt(3))
        again = tally.ciphertexts()
        env.v2.FinishTally(pb.FinishTallyRequest(election_id=tally.eid), metadata=tally.admin)
    finally:
        event.remove(Engine, "before_cursor_execute", spy)
    assert after_first >= 1 and len(reads) == after_first
    assert again == first
    assert _status(env, tally) == pb1.ELECTION_STATUS_CLOSED
