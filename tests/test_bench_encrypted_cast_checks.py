"""The encrypted CastBallot benchmark's checks (bench/encrypted_cast_bench.py) on made-up results:
each failure they look for (an error, a lost or extra ballot, both of a double vote counted, a
rate or p99 over target) is planted once and must be caught, and the api's CPU a ballot is
computed from the cores, the wall time and the accepted ballots."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest

from bench.encrypted_cast_bench import _checks, api_cpu_ms_per_ballot

OPTS = SimpleNamespace(target_encrypted_ballots=300, target_encrypted_p99=200.0)


def _result() -> dict:
    cast = {"ballots_per_s": 320.0, "p50_ms": 90.0, "p99_ms": 150.0, "errors": {}, "threads": 32,
            "api_cpu_cores": 1.5, "worker_cpu_cores": 0.1, "wall_s": 12.5, "ballots_accepted": 4000,
            "doubles": {"pairs": 40, "one_ok": 40, "both_ok": 0, "none_ok": 0}}
    stored = {"ballots": 4000, "voters_who_voted": 4000, "voter_roll": 4000, "register_duplicates": 0}
    return {"voters": 4000, "api_processes": 2, "cast": cast, "stored": stored}


def _verdicts(result: dict) -> dict[str, bool | None]:
    return {c.metric.split(" (")[0]: c.ok for c in _checks(OPTS, result)}


def test_a_clean_fast_run_passes_every_check():
    assert all(ok is not False for ok in _verdicts(_result()).values())


@pytest.mark.parametrize(("plant", "caught"), [
    (lambda r: r["cast"].update(ballots_per_s=299.9), "encrypted CastBallot, proofs checked"),
    (lambda r: r["cast"].update(p99_ms=200.0), "encrypted CastBallot p99"),
    (lambda r: r["cast"].update(errors={"INTERNAL": 1}), "encrypted CastBallot errors"),
    (lambda r: r["stored"].update(ballots=3999), "ballots stored / register / roll"),
    (lambda r: r["stored"].update(ballots=4001), ("ballots stored / register / roll", "double votes")),
    (lambda r: r["stored"].update(register_duplicates=1), "double votes"),
    (lambda r: r["cast"]["doubles"].update(one_ok=39, both_ok=1), "double votes"),
    (lambda r: r["cast"]["doubles"].update(one_ok=39, none_ok=1), "double votes"),
])
def test_each_planted_failure_is_caught(plant, caught):
    result = copy.deepcopy(_result())
    plant(result)
    expected = [caught] if isinstance(caught, str) else list(caught)
    assert [m for m, ok in _verdicts(result).items() if ok is False] == expected


def test_the_api_cpu_a_ballot_is_its_cores_times_the_wall_time_over_the_ballots():
    assert api_cpu_ms_per_ballot(_result()["cast"]) == 4.69  # 1.5 cores x 12.5 s / 4,000 ballots
    assert api_cpu_ms_per_ballot({"ballots_accepted": 0}) == 0.0
