"""Benchmark 1: GetMember and RegisterMember over gRPC at N concurrent clients, ours vs a bare
grpcio + psycopg2 baseline, both on PostgreSQL tables preloaded through the CSV import."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from bench.common import (
    Check,
    CpuMeter,
    membership_processes,
    psycopg_dsn,
    run_json_process,
    summarize_ms,
    wait_outbox_drained,
)
from bench.data import write_members_csv
from bench.import_bench import run_cli_import
from coop_platform.auth import issue_token
from coop_testkit import (
    ServiceProcess,
    free_port,
    postgres_database,
    wait_for_health,
)


def _member_ids(dsn: str, path: Path) -> int:
    import psycopg2

    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT member_id FROM members")
        ids = [r[0] for r in cur.fetchall()]
    conn.close()
    path.write_text("\n".join(ids) + "\n")
    return len(ids)


#: (result key, loadgen method, admit). RegisterMember is measured as the member portal calls it
#: (an application: the member row and its first history row, no event; the baseline's one
#: INSERT is its bare counterpart) and as an admin calls it to admit at once (admit=true: a
#: second status change, its history row and two outbox events in the same transaction).
MEASURED = (("get", "get", False), ("register", "register", False), ("register_admit", "register", True))


def _load(target: str, method: str, opts, ids_file: Path, token: str, log_dir: Path, label: str,
          *, admit: bool = False, server_pid: int = 0, worker_pid: int = 0) -> dict:
    """Run the client processes at once against `target`; merge their samples."""
    import concurrent.futures as cf

    procs = max(1, opts.client_procs)
    per = [opts.clients // procs + (1 if i < opts.clients % procs else 0) for i in range(procs)]
    start_at = time.time() + 2.0  # every process connects first, then all start together
    argv = lambda i: [  # noqa: E731
        "-m", "bench.loadgen", "--target", target, "--method", method, "--threads", str(per[i]),
        "--warmup", str(opts.warmup), "--duration", str(opts.duration), "--ids", str(ids_file),
        "--token", token, "--start-at", str(start_at), "--seed", str(i + 1),
        *(["--admit"] if method == "register" and admit else []),
    ]
    timeout = opts.warmup + opts.duration + 180
    meter = CpuMeter(server=server_pid, worker=worker_pid)
    loadavg = os.getloadavg()[0]
    with cf.ThreadPoolExecutor(procs) as pool:
        futures = [pool.submit(run_json_process, argv(i), timeout=timeout,
                               log_path=log_dir / f"loadgen-{label}-{method}-{i}.log") for i in range(procs)]
        time.sleep(max(0.0, start_at + opts.warmup - time.time()))
        meter.start()  # server CPU over the measured window
        time.sleep(opts.duration)
        cpu = meter.stop()
        outs = [f.result() for f in futures]
    lat = [x for o in outs for x in o["latencies_ms"]]
    errors: dict[str, int] = {}
    for o in outs:
        for k, v in o["errors"].items():
            errors[k] = errors.get(k, 0) + v
    throughput = len(lat) / opts.duration
    cpu_ms = (1000.0 * cpu["server_cpu_cores"] / throughput) if throughput and "server_cpu_cores" in cpu else None
    return {"calls": len(lat), "throughput_per_s": round(throughput, 1), "errors": errors,
            "latencies_ms": lat, **summarize_ms(lat), **cpu, "server_cpu_ms_per_call": round(cpu_ms, 3) if cpu_ms else None,
            "admit": admit if method == "register" else None, "clients": opts.clients,
            "client_processes": procs, "duration_s": opts.duration, "warmup_s": opts.warmup,
            "loadavg_1m_before": round(loadavg, 2)}


def _merged(runs: list[dict]) -> dict:
    """Rounds of one side pooled: calls, throughput over the measured time, latency percentiles,
    CPU per call (the rounds' mean)."""
    lat = [x for r in runs for x in r.pop("latencies_ms")]
    seconds = sum(r["duration_s"] for r in runs)
    errors: dict[str, int] = {}
    for r in runs:
        for k, v in r["errors"].items():
            errors[k] = errors.get(k, 0) + v
    cpu = [r["server_cpu_ms_per_call"] for r in runs if r.get("server_cpu_ms_per_call")]
    setup = {k: runs[0][k] for k in ("admit", "clients", "client_processes", "warmup_s")}
    return {**setup, "calls": len(lat), "throughput_per_s": round(len(lat) / seconds, 1), "errors": errors,
            **summarize_ms(lat), "duration_s": seconds, "rounds_measured": len(runs),
            "server_cpu_ms_per_call": round(statistics.mean(cpu), 3) if cpu else None}


def _ratios(base: dict, ours: dict) -> dict:
    """One round: ours against the baseline measured just before it."""
    return {"baseline_per_s": base["throughput_per_s"], "ours_per_s": ours["throughput_per_s"],
            "baseline_p99_ms": base.get("p99_ms"), "ours_p99_ms": ours.get("p99_ms"),
            "throughput_ratio": round(ours["throughput_per_s"] / base["throughput_per_s"], 3) if base["throughput_per_s"] else 0.0,
            "p99_ratio": round(ours["p99_ms"] / base["p99_ms"], 3) if base.get("p99_ms") else float("inf")}


def run(opts, amqp_url: str, log_dir: Path) -> tuple[dict, list[Check]]:
    token = issue_token("bench-admin", ["admin"], ttl_seconds=3 * 3600)
    ids_file = log_dir / "member_ids.txt"
    csv_file = write_members_csv(log_dir / "grpc-preload.csv", opts.members)
    result: dict = {"members_preloaded": opts.members,
                    "api_grpc_workers": 32, "baseline": {}, "ours": {}}
    with postgres_database("coop_bench_grpc") as url:
        dsn = psycopg_dsn(url)
        # 1. preload through the import (api + worker), let the worker relay every member.admitted
        with membership_processes(url, amqp_url, log_dir, "grpc-preload") as svc:
            imported = run_cli_import(svc.target, csv_file, log_dir / "grpc-preload-cli.log")
            result["preload_import_s"] = round(imported["wall_s"], 2)
            result["preload_outbox_drain_s"] = round(wait_outbox_drained(dsn), 2)
        count = _member_ids(dsn, ids_file)
        if count != opts.members:
            raise RuntimeError(f"preload: {count} members in the table, expected {opts.members}")

        # 2. the bare baseline on an identical copy of the preloaded database, and ours (api +
        #    worker, as in production: one api process like the baseline, then one per core,
        #    COOP_API_PROCESSES=2). The machine's speed drifts by tens of percent over minutes,
        #    so each comparison alternates short rounds of the baseline and ours and reports the
        #    median of the rounds' ratios; a round of ours starts with the outbox drained.
        with postgres_database("coop_bench_base", template_url=url) as base_url:
            port = free_port()
            baseline = ServiceProcess("bench.baseline_server", {
                "BENCH_DSN": psycopg_dsn(base_url), "COOP_GRPC_PORT": str(port),
                "COOP_GRPC_WORKERS": "32", "BENCH_POOL_SIZE": str(opts.baseline_pool)},
                log_dir / "baseline-server.log").start()
            try:
                wait_for_health(port, timeout=60, proc=baseline)
                for api_processes in (1, 2):
                    prefix = "" if api_processes == 1 else "x2_"
                    with membership_processes(url, amqp_url, log_dir, f"grpc-{api_processes}p",
                                              api_processes=api_processes) as svc:
                        pids = {"server_pid": svc.api.proc.pid, "worker_pid": svc.worker.proc.pid if svc.worker else 0}
                        for key, method, admit in MEASURED:
                            rounds = []
                            for n in range(opts.rounds):
                                label = f"{key} round {n + 1}/{opts.rounds}, {api_processes} api process(es)"
                                print(f"  baseline {label} ...", flush=True)
                                base = _load(f"127.0.0.1:{port}", method, opts, ids_file, token, log_dir, "baseline",
                                             server_pid=baseline.proc.pid)
                                print(f"  ours {label} ...", flush=True)
                                ours = _load(svc.target, method, opts, ids_file, token, log_dir, "ours", admit=admit, **pids)
                                if admit:
                                    ours["outbox_drain_s"] = round(wait_outbox_drained(dsn), 2)
                                rounds.append((base, ours))
                            result["baseline"][prefix + key] = _merged([b for b, _ in rounds])
                            result["ours"][prefix + key] = _merged([o for _, o in rounds])
                            result["ours"][prefix + key]["rounds"] = [_ratios(b, o) for b, o in rounds]
            finally:
                baseline.stop()
        result["baseline"]["pool_size"] = opts.baseline_pool

    checks: list[Check] = []
    names = {"get": "GetMember", "register": "RegisterMember (application)",
             "register_admit": "RegisterMember (admit=true)"}
    floors = {"get": opts.target_get, "register": opts.target_register, "register_admit": opts.target_register}
    for prefix, label in (("", "1 api process"), ("x2_", "2 api processes")):
        for key, _, _ in MEASURED:
            ours, base = result["ours"][prefix + key], result["baseline"][prefix + key]
            n = f"{names[key]}, {label}"
            tput_ratio = statistics.median(r["throughput_ratio"] for r in ours["rounds"])
            p99_ratio = statistics.median(r["p99_ratio"] for r in ours["rounds"])
            ours["throughput_ratio_vs_baseline"] = round(tput_ratio, 3)
            ours["p99_ratio_vs_baseline"] = round(p99_ratio, 3)
            spread = ", ".join(f"{r['throughput_ratio']:.2f}/{r['p99_ratio']:.2f}" for r in ours["rounds"])
            errs = sum(ours["errors"].values())
            checks += [
                Check("grpc", f"{n}: throughput", ours["throughput_per_s"], "/s", f">= {floors[key]:,}/s",
                      ours["throughput_per_s"] >= floors[key]),
                Check("grpc", f"{n}: p50", ours["p50_ms"], "ms"),
                Check("grpc", f"{n}: p99", ours["p99_ms"], "ms", "< 50 ms", ours["p99_ms"] < 50),
                Check("grpc", f"{n}: errors", errs, "", "0", errs == 0),
                Check("grpc", f"{n}: throughput ours/baseline", tput_ratio, "x", ">= 0.50x", tput_ratio >= 0.5),
                Check("grpc", f"{n}: p99 ours/baseline", p99_ratio, "x", "<= 2.00x", p99_ratio <= 2.0),
                Check("grpc", f"{n}: rounds' throughput / p99 ratios", spread, ""),
                Check("grpc", f"{n}: api CPU per call (ours / baseline)",
                      f"{ours.get('server_cpu_ms_per_call') or 0:.2f} / {base.get('server_cpu_ms_per_call') or 0:.2f}", "ms"),
                Check("grpc", f"{n}: baseline throughput, p50 / p99",
                      f"{base['throughput_per_s']:,.0f}/s, {base['p50_ms']:.1f} / {base['p99_ms']:.1f}", "ms"),
            ]
    return result, checks
