"""`make bench`: run the benchmarks, print a table, write bench/results/<name>.json and latest.json.

    python -m bench.run                 # everything, full sizes (about 15 minutes here)
    python -m bench.run --only grpc     # a subset: grpc, events, import, elections, billing, board, participation,
                                        # notifications, crypto, cast-encrypted (comma separated)
    python -m bench.run --quick         # small sizes: a smoke test in about four minutes

Every benchmark gets a fresh PostgreSQL database and a fresh RabbitMQ vhost (coopbench-<id>,
deleted after it), so that neither test runs nor the other benchmarks' queues meet its events;
the membership api and worker run as separate processes as in production. The crypto benchmark
(encrypted ballots, shuffles, threshold decryption, verification: about 30 minutes at full size)
needs neither: it runs the pure domain on a pool of worker processes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import crypto_bench, encrypted_cast_bench, notifications_bench, participation_bench
from bench.common import Check, bench_broker, machine_info, render_table, write_json

BENCHMARKS = ("grpc", "events", "import", "elections", "billing", "board", "participation", "notifications",
              "crypto", "cast-encrypted")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default=",".join(BENCHMARKS),
                   help=f"comma-separated subset of {', '.join(BENCHMARKS)} (default: all)")
    p.add_argument("--quick", action="store_true", help="small sizes and short runs (smoke test)")
    g = p.add_argument_group("grpc")
    g.add_argument("--members", type=int, help="members preloaded through the import (41,702)")
    g.add_argument("--clients", type=int, default=16, help="concurrent clients (16)")
    g.add_argument("--client-procs", type=int, default=2, help="load generator processes (2)")
    g.add_argument("--duration", type=float, help="measured seconds per RPC and round, each side (8)")
    g.add_argument("--rounds", type=int,
                   help="alternating baseline/ours rounds per RPC; ratios are the rounds' median (3)")
    g.add_argument("--warmup", type=float, help="warm-up seconds per RPC, not measured (2)")
    g.add_argument("--baseline-pool", type=int, default=16, help="baseline psycopg2 connections (16)")
    g.add_argument("--target-get", type=int, default=1000)
    g.add_argument("--target-register", type=int, default=400)
    g = p.add_argument_group("events")
    g.add_argument("--event-rate", type=float, help="events/s committed by the producer (1000)")
    g.add_argument("--event-seconds", type=float, help="producer run time (15)")
    g.add_argument("--max-per-tx", type=int, default=20, help="at most this many events per transaction (20)")
    g.add_argument("--tick", type=float, default=0.005, help="producer: seconds between transactions (0.005)")
    g = p.add_argument_group("import")
    g.add_argument("--import-rows", type=int, help="members in the generated CSV (41,702)")
    g = p.add_argument_group("elections")
    g.add_argument("--voters", type=int, help="voters on the roll, each casting one ballot (41,702)")
    g.add_argument("--voter-threads", type=int, default=16, help="voter threads per process (16)")
    g.add_argument("--voter-procs", type=int, default=2, help="voter processes (2)")
    g.add_argument("--double-fraction", type=float, default=0.01,
                   help="share of voters sending two ballots at once (0.01)")
    g.add_argument("--elections-api-processes", type=int, default=2,
                   help="elections api processes while casting, COOP_API_PROCESSES (2, one per core)")
    g.add_argument("--roll-chunk", type=int, default=5000, help="voters per ImportVoterRoll call (5,000)")
    g.add_argument("--open-delay", type=float, help="seconds from CreateElection to the opening (20)")
    g.add_argument("--target-ballots", type=int, default=500)
    g.add_argument("--target-p99", type=float, default=100.0)
    g = p.add_argument_group("billing")
    g.add_argument("--billing-members", type=int, help="members in billing's projection, one activity each (41,702)")
    g.add_argument("--invoices", type=int, help="the year's invoices; the gRPC window's shortfall is written by SQL (400,000)")
    g.add_argument("--invoice-seconds", type=float,
                   help="measured seconds of issuing at most; a shorter run is extrapolated (90)")
    g.add_argument("--invoice-warmup", type=float, help="warm-up seconds of issuing, not measured (3)")
    g.add_argument("--invoice-flow", choices=("one-call", "three-calls"), default="one-call",
                   help="one CreateInvoice(issue=true) per invoice, or create + add lines + issue (one-call)")
    g.add_argument("--billing-clients", type=int, default=32, help="concurrent invoicing clients (32)")
    g.add_argument("--billing-client-procs", type=int, default=2, help="issuer/statement processes (2)")
    g.add_argument("--billing-api-processes", type=int, default=1,
                   help="billing api processes, COOP_API_PROCESSES (1: one process makes larger batches)")
    g.add_argument("--billing-clients-rows", type=int, default=300, help="CreateClient calls (300, ~10%% duplicates)")
    g.add_argument("--seed-events", type=int,
                   help="members projected through membership events and the worker; the rest by SQL (2,000)")
    g.add_argument("--statement-threads", type=int, default=16, help="GetStatement threads per process (16)")
    g.add_argument("--statement-streams", type=int, default=2,
                   help="parallel StreamStatements over member-id ranges (2, one per api process)")
    g.add_argument("--statement-sample", type=int, default=2000, help="members whose GetStatement is timed (2,000)")
    g.add_argument("--target-invoices", type=int, default=500)
    g.add_argument("--target-invoice-p99", type=float, default=100.0)
    g.add_argument("--target-statements-s", type=float, default=60.0)
    g.add_argument("--target-simulate-s", type=float, default=2.0)
    participation_bench.add_options(p)
    notifications_bench.add_options(p)
    crypto_bench.add_options(p)
    encrypted_cast_bench.add_options(p)
    p.add_argument("--amqp-url", help="broker URL (default: a new vhost coopbench-<id> on the local broker for each benchmark, deleted after it)")
    p.add_argument("--settle", type=float, default=5.0,
                   help="idle seconds before each benchmark (PostgreSQL/RabbitMQ settle after the previous)")
    p.add_argument("--keep-logs", action="store_true", help="keep process logs and generated files")
    args = p.parse_args(argv)
    full = {"members": 41_702, "duration": 8.0, "rounds": 3, "warmup": 2.0, "event_rate": 1000.0,
            "event_seconds": 15.0, "import_rows": 41_702, "voters": 41_702, "open_delay": 20.0,
            "billing_members": 41_702, "invoices": 400_000, "invoice_seconds": 90.0, "invoice_warmup": 3.0,
            "seed_events": 2_000}
    quick = {"members": 2_000, "duration": 3.0, "rounds": 2, "warmup": 1.0, "event_rate": 500.0,
             "event_seconds": 3.0, "import_rows": 2_000, "voters": 2_000, "open_delay": 8.0,
             "billing_members": 2_000, "invoices": 4_000, "invoice_seconds": 8.0, "invoice_warmup": 1.0,
             "seed_events": 200}
    full |= (participation_bench.defaults(quick=False) | notifications_bench.defaults(quick=False)
             | crypto_bench.defaults(quick=False) | encrypted_cast_bench.defaults(quick=False))
    quick |= (participation_bench.defaults(quick=True) | notifications_bench.defaults(quick=True)
              | crypto_bench.defaults(quick=True) | encrypted_cast_bench.defaults(quick=True))
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.only = [x.strip() for x in args.only.split(",") if x.strip()]
    unknown = set(args.only) - set(BENCHMARKS)
    if unknown:
        p.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}; choose from {', '.join(BENCHMARKS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from bench import (
        billing_bench,
        board_bench,
        crypto_bench,
        elections_bench,
        encrypted_cast_bench,
        events_bench,
        grpc_bench,
        import_bench,
        notifications_bench,
        participation_bench,
    )

    modules = {"grpc": grpc_bench, "events": events_bench, "import": import_bench, "elections": elections_bench,
               "billing": billing_bench, "board": board_bench,
               "participation": participation_bench, "notifications": notifications_bench,
               "crypto": crypto_bench, "cast-encrypted": encrypted_cast_bench}
    log_dir = Path(tempfile.mkdtemp(prefix="coop-bench-"))
    mode = "quick" if args.quick else "full"
    print(f"coopgov bench ({mode}): {', '.join(args.only)}; logs in {log_dir}", flush=True)
    info = machine_info()
    combined: dict = {"mode": mode, "started_at": datetime.now(UTC).isoformat(), "machine": info,
                      "amqp": {}, "options": {k: v for k, v in vars(args).items() if k != "amqp_url"},
                      "results": {}}
    checks: list[Check] = []
    failed: list[str] = []
    paths = []
    for index, name in enumerate(args.only):
        if index and args.settle > 0:
            time.sleep(args.settle)
        print(f"[{name}] running (load average {os.getloadavg()[0]:.2f}) ...", flush=True)
        started = time.perf_counter()
        try:
            if not getattr(modules[name], "NEEDS_BROKER", True):
                result, found = modules[name].run(args, None, log_dir)
            else:
                with bench_broker(args.amqp_url) as (amqp_url, amqp_note):
                    print(f"[{name}] broker: {amqp_note}", flush=True)
                    combined["amqp"][name] = amqp_note
                    result, found = modules[name].run(args, amqp_url, log_dir)
        except Exception as exc:  # noqa: BLE001 - report it, keep the other benchmarks
            import traceback

            traceback.print_exc()
            failed.append(name)
            result, found = {"error": f"{type(exc).__name__}: {exc}"}, [Check(name, "run", "error", "", "runs", False)]
        elapsed = time.perf_counter() - started
        result = {"benchmark": name, "mode": mode, "elapsed_s": round(elapsed, 1),
                  "finished_at": datetime.now(UTC).isoformat(), "machine": info,
                  "checks": [c.__dict__ | {"verdict": c.verdict} for c in found], **result}
        paths.append(write_json(name, result))
        combined["results"][name] = result
        checks += found
        print(f"[{name}] done in {elapsed:.0f} s", flush=True)
    table = render_table(checks)
    combined["table_markdown"] = table
    combined["loadavg_at_end"] = os.getloadavg()
    paths.append(write_json("latest", combined))
    print()
    print(table)
    print()
    missed = [c for c in checks if c.ok is False]
    print(f"{sum(c.ok is True for c in checks)} PASS, {len(missed)} MISS; wrote "
          + ", ".join(str(p.relative_to(Path.cwd())) if p.is_relative_to(Path.cwd()) else str(p) for p in paths))
    if args.keep_logs or failed:
        print(f"logs kept in {log_dir}")
    else:
        shutil.rmtree(log_dir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
