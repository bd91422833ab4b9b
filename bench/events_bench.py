"""Benchmark 2: event latency from commit to consumer at a sustained rate.

producer process --commit--> outbox (PostgreSQL) --relay in the worker process--> RabbitMQ
membership.events --> consumer process (a queue bound to it). Start of the clock: the producer's
time.time() right after COMMIT returned (the event is "committed"); end: the consumer's
time.time() on arrival. Both processes run on this machine, so they share the clock. The
CloudEvents `time` field (set at emit, before the commit) gives a second, slightly longer figure.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime
from pathlib import Path

from bench.common import PY, Check, CpuMeter, membership_processes, psycopg_dsn, summarize_ms
from coop_testkit import REPO_ROOT, postgres_database


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def run(opts, amqp_url: str, log_dir: Path) -> tuple[dict, list[Check]]:
    commits_file, arrivals_file = log_dir / "events-commits.json", log_dir / "events-arrivals.json"
    with postgres_database("coop_bench_events") as url, \
            membership_processes(url, amqp_url, log_dir, "events") as svc:
        consumer_log = open(log_dir / "events-consumer.log", "w")  # noqa: SIM115 - closed below
        consumer = subprocess.Popen(
            [PY, "-m", "bench.consumer", "--amqp-url", amqp_url, "--out", str(arrivals_file)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=consumer_log, text=True, cwd=REPO_ROOT)
        try:
            if consumer.stdout.readline().strip() != "ready":
                raise RuntimeError("consumer did not start; see events-consumer.log")
            loadavg = os.getloadavg()[0]
            meter = CpuMeter(worker=svc.worker.proc.pid if svc.worker else 0).start()
            producer = subprocess.run(
                [PY, "-m", "bench.producer", "--database-url", url, "--rate", str(opts.event_rate),
                 "--duration", str(opts.event_seconds), "--max-per-tx", str(opts.max_per_tx), "--tick", str(opts.tick),
                 "--out", str(commits_file)],
                capture_output=True, text=True, cwd=REPO_ROOT, timeout=opts.event_seconds + 120)
            cpu = meter.stop()
            (log_dir / "events-producer.log").write_text(producer.stderr)
            if producer.returncode != 0:
                raise RuntimeError(f"producer failed:\n{producer.stderr[-3000:]}")
            produced = json.loads(producer.stdout.strip().splitlines()[-1])
            consumer.stdin.write(f"{produced['sent']}\n")
            consumer.stdin.flush()
            consumer.wait(timeout=120)
        finally:
            if consumer.poll() is None:
                consumer.kill()
                consumer.wait()
            consumer_log.close()
        dsn = psycopg_dsn(url)
        import psycopg2

        conn = psycopg2.connect(dsn)
        with conn.cursor() as cur:
            cur.execute("SELECT count(*), count(*) FILTER (WHERE published_at IS NULL) FROM outbox")
            outbox_rows, outbox_pending = cur.fetchone()
        conn.close()

    commits: dict[str, float] = json.loads(commits_file.read_text())
    arrivals: dict[str, list] = json.loads(arrivals_file.read_text())
    from_commit, from_emit = [], []
    for event_id, committed in commits.items():
        seen = arrivals.get(event_id)
        if seen:
            from_commit.append((seen[0] - committed) * 1000.0)
            from_emit.append((seen[0] - _epoch(seen[1])) * 1000.0)
    lost = len(commits) - len(from_commit)
    duplicates = sum(v[2] - 1 for k, v in arrivals.items() if k in commits)
    commit_stats = summarize_ms(from_commit)
    result = {
        "requested_rate_per_s": opts.event_rate, "duration_s": opts.event_seconds,
        "events_committed": len(commits), "events_received": len(from_commit), "lost": lost,
        "duplicates": duplicates, "achieved_rate_per_s": round(produced["achieved_rate"], 1),
        "transactions": produced["transactions"],
        "events_per_transaction": round(len(commits) / max(1, produced["transactions"]), 2),
        "latency_commit_to_consumer": commit_stats,
        "latency_emit_to_consumer": summarize_ms(from_emit),
        **cpu, "loadavg_1m_before": round(loadavg, 2), "relay_batch_size": 200, "relay_poll_s": 0.01,
        "outbox_rows": outbox_rows, "outbox_pending_at_end": outbox_pending,
        "clock": "start = producer time.time() after COMMIT returned; end = consumer time.time() on arrival",
    }
    floor = 0.98 * opts.event_rate
    checks = [
        Check("events", "achieved producer rate", result["achieved_rate_per_s"], "/s",
              f">= {floor:,.0f}/s", result["achieved_rate_per_s"] >= floor),
        Check("events", "commit->consumer p50", commit_stats.get("p50_ms", float("nan")), "ms"),
        Check("events", "commit->consumer p99", commit_stats.get("p99_ms", float("nan")), "ms", "< 100 ms",
              commit_stats.get("p99_ms", 1e9) < 100),
        Check("events", "commit->consumer max", commit_stats.get("max_ms", float("nan")), "ms"),
        Check("events", "emit->consumer p99 (envelope time)", result["latency_emit_to_consumer"].get("p99_ms", float("nan")), "ms"),
        Check("events", "lost", lost, "", "0", lost == 0),
        Check("events", "duplicates", duplicates, ""),
    ]
    return result, checks
