"""Benchmark 3: `coop members import FILE` (the admin CLI, its own process) streaming a generated
CSV of members over gRPC ImportMembers to the api (+ worker) on a fresh PostgreSQL database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import Check, membership_processes, psycopg_dsn, wait_outbox_drained
from bench.data import write_members_csv
from coop_testkit import REPO_ROOT, postgres_database


def coop_command() -> list[str]:
    script = Path(sys.executable).parent / "coop"
    return [str(script)] if script.exists() else [sys.executable, "-m", "coop_cli.main"]


def run_cli_import(target: str, csv_file: Path, log_path: Path) -> dict:
    """Run the CLI process; wall time from spawn to exit (parse, stream, validate, insert, commit)."""
    env = {**os.environ, "COOP_DEV_MODE": "1"}
    env.pop("COOP_TOKEN", None)
    started = time.perf_counter()
    proc = subprocess.run([*coop_command(), "members", "--target", target, "import", str(csv_file), "--quiet"],
                          capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=900)
    wall = time.perf_counter() - started
    log_path.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise RuntimeError(f"coop members import failed ({proc.returncode}):\n{(proc.stdout + proc.stderr)[-3000:]}")
    return {"wall_s": wall, "cli_output": proc.stdout.strip()}


def _count_members(dsn: str) -> int:
    import psycopg2

    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM members")
            return cur.fetchone()[0]
    finally:
        conn.close()


def run(opts, amqp_url: str, log_dir: Path) -> tuple[dict, list[Check]]:
    t0 = time.perf_counter()
    csv_file = write_members_csv(log_dir / "import-members.csv", opts.import_rows, seed=4242)
    generated_s = time.perf_counter() - t0
    with postgres_database("coop_bench_import") as url:
        dsn = psycopg_dsn(url)
        with membership_processes(url, amqp_url, log_dir, "import") as svc:
            out = run_cli_import(svc.target, csv_file, log_dir / "import-cli.log")
            count = _count_members(dsn)
            drain = wait_outbox_drained(dsn)
    wall = out["wall_s"]
    result = {
        "rows": opts.import_rows, "rows_in_table": count, "wall_s": round(wall, 2),
        "rows_per_s": round(opts.import_rows / wall, 1), "csv_bytes": csv_file.stat().st_size,
        "csv_generation_s": round(generated_s, 2), "cli_output": out["cli_output"],
        "outbox_drained_after_import_s": round(drain, 2),
        "note": "wall time of the `coop members import` process (spawn to exit); member.admitted "
                "events are relayed by the worker afterwards (outbox_drained_after_import_s)",
    }
    checks = [
        Check("import", f"{opts.import_rows:,} members wall time", wall, "s", "< 60 s", wall < 60 and count == opts.import_rows),
        Check("import", "rows/s", result["rows_per_s"], "/s"),
        Check("import", "rows in table", count, "", f"= {opts.import_rows:,}", count == opts.import_rows),
        Check("import", "outbox relayed after import", drain, "s"),
    ]
    return result, checks
