"""The participation benchmark's correctness checks (bench/participation_bench.py) on made-up
results: a benchmark whose checks cannot fail proves nothing, so each violation it looks for is
planted once here and must be caught; the load processes' outputs merge as the report needs."""

from __future__ import annotations

from types import SimpleNamespace

from bench.participation_bench import _check_order, _merge, capacities, checks

W = [("w1", 2)]


def _records(*rows: tuple[str, float, float]) -> dict[str, dict]:
    return {rid: {"registration_id": rid, "sent": sent, "received": received} for rid, sent, received in rows}


def _clean() -> tuple[dict, dict, dict]:
    """Two seated, then two waiting in the order they were answered."""
    records = _records(("a", 0.0, 1.0), ("b", 0.5, 1.5), ("c", 2.0, 3.0), ("d", 4.0, 5.0))
    lists = {"w1": [("a", "m-a", True, 0), ("b", "m-b", True, 0), ("c", "m-c", False, 1), ("d", "m-d", False, 2)]}
    arrivals = {("a", "w1"): 1, ("b", "w1"): 2, ("c", "w1"): 3, ("d", "w1"): 4}
    return records, lists, arrivals


def _violations(found: dict) -> int:
    return sum(v for k, v in found.items() if k != "waiting_entries")


def test_waiting_lists_in_arrival_order_pass() -> None:
    records, lists, arrivals = _clean()
    found = _check_order(records, lists, arrivals, W, {"w1": 2})
    assert _violations(found) == 0
    assert found["waiting_entries"] == 2


def test_a_member_ahead_of_one_answered_before_they_sent_is_caught() -> None:
    records, lists, arrivals = _clean()
    lists["w1"][2:] = [("d", "m-d", False, 1), ("c", "m-c", False, 2)]  # d sent at 4.0, after c's answer at 3.0
    arrivals[("d", "w1")], arrivals[("c", "w1")] = 3, 4
    assert _check_order(records, lists, arrivals, W, {"w1": 2})["ahead_of_earlier"] == 1


def test_a_list_not_in_the_databases_arrival_order_is_caught() -> None:
    records, lists, arrivals = _clean()
    arrivals[("c", "w1")] = 9
    assert _check_order(records, lists, arrivals, W, {"w1": 2})["list_not_by_arrival"] == 1


def test_positions_with_a_gap_are_caught() -> None:
    records, lists, arrivals = _clean()
    lists["w1"][3] = ("d", "m-d", False, 3)
    assert _check_order(records, lists, arrivals, W, {"w1": 2})["list_not_by_position"] == 1


def test_a_seat_for_a_later_member_than_one_waiting_is_caught() -> None:
    records, lists, arrivals = _clean()
    records["b"].update(sent=3.5, received=3.6)  # b sent after c's answer, yet seated while c waits
    assert _check_order(records, lists, arrivals, W, {"w1": 2})["seated_after_waiting_one"] == 1


def test_a_workshop_over_capacity_is_caught() -> None:
    records, lists, arrivals = _clean()
    assert _check_order(records, lists, arrivals, W, {"w1": 3})["over_capacity"] == 1


def test_outputs_merge_into_rate_latencies_and_errors() -> None:
    outs = [{"latencies_ms": [1.0, 2.0], "errors": {"UNAVAILABLE": 1}, "per_second": {"100": 2}, "ok": 2,
             "first_start": 100.0, "last_end": 102.0},
            {"latencies_ms": [3.0, 4.0], "errors": {"UNAVAILABLE": 2}, "per_second": {"101": 2}, "ok": 2,
             "first_start": 100.0, "last_end": 104.0}]
    merged = _merge(outs)
    assert (merged["ok"], merged["per_s"], merged["errors"], merged["max_ms"]) == (4, 1.0, {"UNAVAILABLE": 3}, 4.0)


def test_the_rate_windows_end_when_the_first_client_runs_out_of_members() -> None:
    """The last seconds, when fewer clients are left signing, are the load generator's tail: they
    are reported apart, and a dip while every client was busy still counts."""
    busy = {str(100 + s): 500 for s in range(12)} | {"105": 350}  # a dip at second 105
    tail = {"112": 200, "113": 150, "114": 100, "115": 50}
    outs = [{"latencies_ms": [1.0], "errors": {}, "per_second": busy | tail, "ok": 6500,
             "first_start": 100.0, "last_end": 115.5, "all_busy_until": 112.3}]
    merged = _merge(outs)
    assert merged["lowest_second"] == 350 and merged["lowest_5s_window"] == 470.0
    assert (merged["tail_s"], merged["tail_per_s"]) == (3, 150.0)  # seconds 112-114 (115 is the last, cut)


def test_a_second_signature_counted_fails_its_check() -> None:
    opts = SimpleNamespace(signers=10, target_signatures=500, target_signatures_watched=400,
                           target_signature_p99=100.0, registrants=0)
    sign = {"per_s": 600.0, "p50_ms": 5.0, "p99_ms": 20.0, "lowest_5s_window": 600.0, "lowest_second": 590,
            "errors": {}, "ok": 10, "clients": 32, "doubles": {"pairs": 1, "one_ok": 0, "both_ok": 1, "none_ok": 0}}
    result = {"signatures": {"sign": sign, "api_processes": 2, "api_count": 11,
                             "stored": {"rows": 11, "distinct_members": 10, "shard_sum": 11}}}
    found = checks(opts, result)

    def verdict(prefix: str) -> bool | None:
        return next(c.ok for c in found if c.metric.startswith(prefix))

    assert verdict("signatures: counted") is False
    assert verdict("signatures: double signatures") is False
    assert verdict("SignInitiative (") is True


def test_quick_capacities_keep_waiting_lists() -> None:
    assert sum(capacities(1_000)) < 3 * 1_000 / 2
