"""The crypto benchmark runs its whole pipeline end to end at a tiny size: the bench calls the
domain's functions directly, so a renamed one breaks `make bench` where no other test looks
(it happened: `audit._check_trustee` became `tally.first_bad_share`). Calls the bench's `run`,
so nothing is written to bench/results."""

from __future__ import annotations

from bench import crypto_bench
from bench.run import parse_args


def test_the_crypto_bench_runs_every_stage_and_its_tally_equals_the_plaintext_count(tmp_path):
    args = parse_args(["--only", "crypto", "--quick", "--crypto-voters", "40", "--crypto-sample", "4",
                       "--crypto-verify-ballots", "8", "--crypto-clients", "4", "--crypto-profile-rows", "20"])
    result, checks = crypto_bench.run(args, None, tmp_path)
    assert "error" not in result
    by_metric = {c.metric: c for c in checks}
    count = next(c for metric, c in by_metric.items() if metric.startswith("count ("))
    assert count.ok is True  # the decrypted tally equals the plaintext count of the same ballots
    assert any(metric.startswith("threshold decryption") for metric in by_metric)
    assert any(metric.startswith("full verification") for metric in by_metric)
    memory = result["finish_memory"]
    assert memory["opened"] == memory["decoded_values"] > 0  # the finish opened every ciphertext
    assert 0 < memory["start_mib"] <= memory["stored_bytes_mib"] <= memory["packed_peak_mib"] <= memory["decoded_peak_mib"]
    assert any(metric.startswith("tally finish") for metric in by_metric)
    mix = result["mix_memory"]
    assert mix["ok"] is True and mix["rows"] > 0  # the packed check accepts the honest mix
    assert 0 < mix["start_mib"] <= mix["stored_bytes_mib"] <= mix["packed_peak_mib"] <= mix["decoded_peak_mib"]
    assert any(metric.startswith("SubmitMix's check") for metric in by_metric)
    shares = result["shares_memory"]
    assert shares["ok"] is True and shares["shares"] == memory["opened"]  # every received share's proof holds
    assert 0 < shares["start_mib"] <= shares["received_mib"] <= shares["packed_peak_mib"]
    assert 0 < shares["listed_start_mib"] <= shares["listed_peak_mib"]  # the old way, in its own process
    assert any(metric.startswith("SubmitDecryptionShares") for metric in by_metric)
