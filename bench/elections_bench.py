"""Benchmark 4: the elections service. Every voter on a 41,702-voter roll casts one STV ballot
(9 candidates, 5 seats) through gRPC CastBallot, then the close counts and publishes the box and
the independent verifier recounts it.

    orchestrator (this process): fresh PostgreSQL database, elections api + worker processes,
        CreateElection, ImportVoterRoll in chunks, OpenElection, register/ballot checks
    voter processes (python -m bench.elections_bench voters ...): N threads each, one channel per
        thread, every voter with its own member token; ~1% of voters send two ballots at once
    close: the api is restarted with its clock moved past the closing instant (the window closes
        at a local time on the Assembly day, two days ahead, so that the worker's closing-soon
        reminder does not fire during the run), CloseElection is timed by the client
    count (python -m bench.elections_bench count box.json election.json): the pure domain count
    verifier (python -m coop_elections.entrypoints.verify box.json election.json ...): timed
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.common import (
    PY,
    Check,
    CpuMeter,
    _wait_for_log,
    psycopg_dsn,
    run_json_process,
    run_load,
    service_env,
    summarize_ms,
)
from coop_testkit import (
    REPO_ROOT,
    ServiceProcess,
    delete_queues_matching,
    free_port,
    postgres_database,
    wait_for_health,
)

CANDIDATES = tuple(f"cand-{i}" for i in range(1, 10))
POPULARITY = (30, 24, 19, 15, 12, 9, 7, 5, 4)  # a skewed field: surpluses and eliminations both happen
SEATS = 5
QUESTION = "board"
MOTION = "accounts"  # the resolution on the encrypted bench's ballot
ZONE = "Europe/Brussels"


def voter_id(i: int) -> str:
    return f"voter-{i:06d}"


def ranking(rnd: random.Random) -> list[str]:
    """A ranked STV ballot: 1 to 9 preferences drawn by popularity, without replacement."""
    pool, weights, out = list(CANDIDATES), list(POPULARITY), []
    for _ in range(rnd.choice((1, 2, 3, 3, 4, 4, 5, 5, 6, 7, 9))):
        pick = rnd.choices(range(len(pool)), weights=weights)[0]
        out.append(pool.pop(pick))
        weights.pop(pick)
    return out


# -- the processes -------------------------------------------------------------------------------

@contextlib.contextmanager
def elections_api(env: dict[str, str], log_path: Path, *, clock_offset: float = 0.0) -> Iterator[tuple[int, ServiceProcess]]:
    """The api as `make run` starts it; with a clock offset, the same build() and serve_forever()
    run by `python -m bench.elections_bench serve` (the api has no clock setting of its own)."""
    port = free_port()
    env = {**env, "COOP_GRPC_PORT": str(port)}
    if clock_offset:
        env["BENCH_CLOCK_OFFSET_S"] = str(clock_offset)  # `python -m bench.elections_bench` serves
        proc = ServiceProcess("bench.elections_bench", env, log_path).start()
    else:
        proc = ServiceProcess("coop_elections.entrypoints.grpc_api", env, log_path).start()
    try:
        wait_for_health(port, timeout=90, proc=proc)
        yield port, proc
    finally:
        proc.stop()


@contextlib.contextmanager
def elections_worker(env: dict[str, str], log_path: Path) -> Iterator[ServiceProcess]:
    wrk = ServiceProcess("coop_elections.entrypoints.worker", env, log_path).start()
    try:
        _wait_for_log(wrk, "worker: consuming", timeout=90)
        yield wrk
    finally:
        wrk.stop()


@contextlib.contextmanager
def database_and_worker(amqp_url: str, log_dir: Path, name: str) -> Iterator[tuple[str, dict[str, str], ServiceProcess]]:
    """A fresh database coop_bench_<name>, the services' environment on it, and the worker."""
    with postgres_database(f"coop_bench_{name}") as url:
        env = service_env(url, amqp_url, 0)
        # other benchmarks' membership events wait in this worker's queues on the bench vhost:
        # consuming that backlog would take CPU from the casting measured here
        delete_queues_matching("--elections.", amqp_url=amqp_url)
        with elections_worker(env, log_dir / f"{name}-worker.log") as wrk:
            yield url, env, wrk


def casting_api(opts, env: dict[str, str], log_dir: Path, name: str):
    """The api with --elections-api-processes processes (one per core), as casting runs it."""
    return elections_api({**env, "COOP_API_PROCESSES": str(opts.elections_api_processes)}, log_dir / f"{name}-api.log")


# -- orchestration ---------------------------------------------------------------------------------

def election_fields(pb, opens_at: datetime, title: str, *, motion: bool = False) -> dict:
    """CreateElectionRequest's texts, questions and window (v1 and v2 share these messages): the
    STV question, and the resolution MOTION when asked for."""
    day = (datetime.now(ZoneInfo(ZONE)) + timedelta(days=2)).date()

    def texts(name: str):
        return [pb.LocalizedText(language=lang, title=f"{name} ({lang})") for lang in ("fr", "nl", "en")]

    questions = [pb.QuestionSpec(question_id=QUESTION, method=pb.METHOD_STV, texts=texts("Board"),
                                 candidates=list(CANDIDATES), seats=SEATS, mandate_years=4)]
    if motion:
        questions.append(pb.QuestionSpec(question_id=MOTION, method=pb.METHOD_RESOLUTION, texts=texts("Accounts")))
    return {"texts": texts(title), "questions": questions,
            "window": pb.VotingWindowSpec(opens_at=opens_at.isoformat(timespec="seconds"),
                                          assembly_day=day.isoformat(), closes_local="17:00", time_zone=ZONE)}


def _db_counts(dsn: str, election_id: str) -> dict[str, int]:
    import psycopg2

    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            out = {}
            for table in ("voter_roll", "voters_who_voted", "ballots"):
                cur.execute(f"SELECT count(*) FROM {table} WHERE election_id = %s", (election_id,))  # noqa: S608
                out[table] = cur.fetchone()[0]
            cur.execute("SELECT count(*) FROM (SELECT voter_id FROM voters_who_voted WHERE election_id = %s"
                        " GROUP BY voter_id HAVING count(*) > 1) d", (election_id,))
            out["register_duplicates"] = cur.fetchone()[0]
            return out
    finally:
        conn.close()


def _cast(opts, target: str, election_id: str, log_dir: Path, api_pid: int, worker_pid: int,
          *, encrypted: bool = False) -> dict:
    procs = max(1, opts.voter_procs)
    every = max(1, round(1 / opts.double_fraction)) if opts.double_fraction > 0 else 0
    files = []
    for p in range(procs):  # disjoint slices of the roll; every `every`-th voter tries twice at once
        path = log_dir / f"elections-voters-{p}.txt"
        path.write_text("".join(f"{voter_id(i)}\t{1 if every and i % every == 0 else 0}\n"
                                for i in range(p, opts.voters, procs)))
        files.append(path)
    # every process makes its voters' tokens (RS256: about 0.3 ms each, both processes at once),
    # encrypts their ballots beforehand if the election is encrypted (8-10 ms each), connects
    start_at = time.time() + 3.0 + opts.voters / 3_000 + (opts.voters / procs * 0.015 if encrypted else 0)
    argv = lambda i: ["-m", "bench.elections_bench", "voters", "--target", target, "--election", election_id,  # noqa: E731
                      "--voters", str(files[i]), "--threads", str(opts.voter_threads),
                      "--start-at", str(start_at), "--seed", str(i + 1), *(["--encrypted"] if encrypted else [])]
    loadavg = os.getloadavg()[0]
    outs, cpu = run_load([argv(i) for i in range(procs)], [log_dir / f"elections-voters-{i}.log" for i in range(procs)],
                         timeout=1800, measure_from=start_at, meter=CpuMeter(api=api_pid, worker=worker_pid),
                         env={"COOP_DEV_MODE": "1"})
    lat = [x for o in outs for x in o["latencies_ms"]]
    errors: dict[str, int] = {}
    for o in outs:
        for k, v in o["errors"].items():
            errors[k] = errors.get(k, 0) + v
    doubles = {k: sum(o["doubles"][k] for o in outs) for k in outs[0]["doubles"]}
    first, last = min(o["first_start"] for o in outs), max(o["last_end"] for o in outs)
    wall = last - first
    per_second: dict[int, int] = {}
    for o in outs:
        for sec, n in o["per_second"].items():
            per_second[int(sec)] = per_second.get(int(sec), 0) + n
    secs = sorted(per_second)
    steady = [per_second.get(s, 0) for s in range(secs[0] + 2, secs[-1] - 1)] if len(secs) > 5 else []
    ok = sum(o["ok"] for o in outs)
    return {
        "voters": opts.voters, "ballots_accepted": ok, "wall_s": round(wall, 2),
        "ballots_per_s": round(ok / wall, 1) if wall else 0.0, "errors": errors, "doubles": doubles,
        **summarize_ms(lat), **cpu,
        "steady_per_s_min": min(steady) if steady else None,
        "steady_per_s_median": sorted(steady)[len(steady) // 2] if steady else None,
        "threads": procs * opts.voter_threads, "processes": procs, "loadavg_1m_before": round(loadavg, 2),
        "receipt_sample": next((o["receipt_sample"] for o in outs if o["receipt_sample"]), []),
    }


def run(opts, amqp_url: str, log_dir: Path) -> tuple[dict, list[Check]]:
    import grpc

    from coop.elections.v1 import elections_pb2 as pb
    from coop.elections.v1 import elections_pb2_grpc as pb_grpc
    from coop_testkit import bearer

    admin = bearer("bench-admin", "admin", ttl=3 * 3600)
    result: dict = {"voters": opts.voters, "candidates": len(CANDIDATES), "seats": SEATS, "method": "stv"}
    with database_and_worker(amqp_url, log_dir, "elections") as (url, env, wrk):
        dsn = psycopg_dsn(url)
        with casting_api(opts, env, log_dir, "elections") as (port, api):
            channel = grpc.insecure_channel(f"127.0.0.1:{port}")
            stub = pb_grpc.ElectionsServiceStub(channel)
            # 1. the election opens in a few seconds; the roll (cut-off = opening) goes in first
            opens_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=opts.open_delay)
            request = pb.CreateElectionRequest(**election_fields(pb, opens_at, "General Assembly (bench)"))
            election = stub.CreateElection(request, metadata=admin, timeout=30)
            eid = election.election_id
            t0 = time.perf_counter()
            for start in range(0, opts.voters, opts.roll_chunk):
                chunk = [pb.VoterEntry(voter_id=voter_id(i)) for i in range(start, min(opts.voters, start + opts.roll_chunk))]
                stub.ImportVoterRoll(pb.ImportVoterRollRequest(election_id=eid, voters=chunk),
                                     metadata=admin, timeout=120)
            result["roll_import_s"] = round(time.perf_counter() - t0, 2)
            result["roll_chunk"] = opts.roll_chunk
            result["api_processes"] = opts.elections_api_processes
            if datetime.now(UTC) >= opens_at:
                raise RuntimeError(f"the roll import outlasted --open-delay {opts.open_delay}s")
            time.sleep(max(0.0, (opens_at - datetime.now(UTC)).total_seconds()) + 0.2)
            t0 = time.perf_counter()
            opened = stub.OpenElection(pb.ElectionRef(election_id=eid), metadata=admin, timeout=60)
            result["open_election_s"] = round(time.perf_counter() - t0, 3)
            roll = stub.GetVoterRoll(pb.ElectionRef(election_id=eid), metadata=admin, timeout=30)
            result["roll"] = {"size": roll.size, "frozen": roll.frozen, "sha256": roll.sha256}
            closes_at = datetime.fromisoformat(opened.closes_at.replace("Z", "+00:00"))
            # 2. every voter casts a ballot
            print(f"  casting {opts.voters:,} ballots at {opts.voter_procs}x{opts.voter_threads} voters ...",
                  flush=True)
            result["cast"] = _cast(opts, f"127.0.0.1:{port}", eid, log_dir, api.proc.pid, wrk.proc.pid)
            turnout = stub.GetTurnout(pb.ElectionRef(election_id=eid), metadata=admin, timeout=30)
            result["turnout"] = {"voted": turnout.voted, "roll_size": turnout.roll_size}
            channel.close()
        result["stored"] = _db_counts(dsn, eid)
        # 3. the close, on an api whose clock is past the closing instant
        offset = (closes_at - datetime.now(UTC)).total_seconds() + 5
        with elections_api(env, log_dir / "elections-api-close.log", clock_offset=offset) as (port, _api):
            channel = grpc.insecure_channel(f"127.0.0.1:{port}",
                                            options=[("grpc.max_receive_message_length", 256 << 20)])
            stub = pb_grpc.ElectionsServiceStub(channel)
            ref = pb.ElectionRef(election_id=eid)
            t0 = time.perf_counter()
            results = stub.CloseElection(ref, metadata=admin, timeout=300)
            result["close_rpc_s"] = round(time.perf_counter() - t0, 3)
            t0 = time.perf_counter()
            box = stub.GetPublishedBox(ref, metadata=admin, timeout=300)
            result["get_published_box_s"] = round(time.perf_counter() - t0, 3)
            channel.close()
    box_path, election_path, results_path = (log_dir / "box.json", log_dir / "election.json", log_dir / "results.json")
    box_path.write_text(box.box_json)
    election_path.write_text(box.election_json)
    results_path.write_text(box.results_json)
    result["box_bytes"] = len(box.box_json.encode())
    winners = [q for q in json.loads(box.results_json)["count"]["questions"] if q["question_id"] == QUESTION][0]
    result["results"] = {"ballots": results.ballots, "winners": winners.get("winners"),
                         "stv_rounds": len(winners.get("rounds", []))}
    # 4. the pure count and the verifier, each in its own process
    result["count"] = run_json_process(["-m", "bench.elections_bench", "count", str(box_path), str(election_path)],
                                       timeout=600, log_path=log_dir / "elections-count.log")
    receipt = result["cast"]["receipt_sample"]
    t0 = time.perf_counter()
    verify = subprocess.run([PY, "-m", "coop_elections.entrypoints.verify", str(box_path), str(election_path),
                             "--results", str(results_path),
                             *(["--tracker", receipt[0], "--ballot-hash", receipt[1]] if receipt else [])],
                            capture_output=True, text=True, cwd=REPO_ROOT, timeout=600)
    result["verify_s"] = round(time.perf_counter() - t0, 2)
    result["verify_exit"] = verify.returncode
    result["verify_output"] = verify.stdout.strip().splitlines()[-6:]
    (log_dir / "elections-verify.log").write_text(verify.stdout + verify.stderr)
    return result, _checks(opts, result)


def _checks(opts, r: dict) -> list[Check]:
    c, s, d = r["cast"], r["stored"], r["cast"]["doubles"]
    errs = sum(c["errors"].values())
    # a double vote: more ballots than voters in the register, a voter twice in it, or both
    # attempts of one voter accepted
    double_votes = max(0, s["ballots"] - s["voters_who_voted"]) + s["register_duplicates"] + d["both_ok"]
    complete = (s["ballots"] == s["voters_who_voted"] == s["voter_roll"] == opts.voters == r["results"]["ballots"]
                == c["ballots_accepted"])
    count_s = r["count"]["stv_count_s"]
    return [
        Check("elections", f"CastBallot sustained ({r.get('api_processes', 1)} api processes)", c["ballots_per_s"], "ballots/s", f">= {opts.target_ballots:,}/s",
              c["ballots_per_s"] >= opts.target_ballots),
        Check("elections", "CastBallot p50", c["p50_ms"], "ms"),
        Check("elections", "CastBallot p99", c["p99_ms"], "ms", f"< {opts.target_p99:g} ms", c["p99_ms"] < opts.target_p99),
        Check("elections", "CastBallot errors", errs, "", "0", errs == 0),
        Check("elections", "steady ballots/s (min / median per second)",
              f"{c['steady_per_s_min']} / {c['steady_per_s_median']}", ""),
        Check("elections", "api / worker CPU while casting",
              f"{c.get('api_cpu_cores', 0):.2f} / {c.get('worker_cpu_cores', 0):.2f}", "cores"),
        Check("elections", "ballots stored / register / roll",
              f"{s['ballots']:,} / {s['voters_who_voted']:,} / {s['voter_roll']:,}", "", f"all {opts.voters:,}", complete),
        Check("elections", f"double votes ({d['pairs']} voters tried twice at once)", double_votes, "", "0",
              double_votes == 0 and d["one_ok"] == d["pairs"]),
        Check("elections", "roll import (ImportVoterRoll chunks)", r["roll_import_s"], "s"),
        Check("elections", "CloseElection RPC (count + publish)", r["close_rpc_s"], "s", "< 2 s", r["close_rpc_s"] < 2.0),
        Check("elections", "STV count, pure domain", count_s, "s", "< 2 s", count_s < 2.0),
        Check("elections", "recount of the published box (chain + validate + count)", r["count"]["recount_s"], "s"),
        Check("elections", "verifier process (box.json, election.json)", r["verify_s"], "s", "< 10 s",
              r["verify_s"] < 10.0 and r["verify_exit"] == 0),
    ]


# -- the voter processes, the shifted-clock api and the pure count ---------------------------------

def _voters_main(args: argparse.Namespace) -> int:
    import grpc

    from coop.elections.v1 import elections_pb2 as pb
    from coop.elections.v1 import elections_pb2_grpc as pb_grpc
    from coop.elections.v2 import elections_pb2 as v2
    from coop.elections.v2 import elections_pb2_grpc as v2_grpc
    from coop_testkit import bearer

    rows = [line.split("\t") for line in Path(args.voters).read_text().splitlines() if line]
    mine = [rows[n::args.threads] for n in range(args.threads)]
    tokens = {v: bearer(v, "member", ttl=3 * 3600) for v, _ in rows}
    sealed = _encrypted_ballots(args, rows, tokens) if args.encrypted else {}
    latencies: list[list[float]] = [[] for _ in range(args.threads)]
    ends: list[list[float]] = [[] for _ in range(args.threads)]
    errors: dict[str, int] = {}
    doubles = {"pairs": 0, "one_ok": 0, "both_ok": 0, "none_ok": 0}
    sample: list[str] = []
    lock = threading.Lock()
    ready = threading.Barrier(args.threads + 1)

    def client(n: int) -> None:
        rnd = random.Random(args.seed * 1000 + n)
        channel = grpc.insecure_channel(args.target, options=[("grpc.use_local_subchannel_pool", 1)])
        cast = (v2_grpc.ElectionsServiceStub(channel) if args.encrypted
                else pb_grpc.ElectionsServiceStub(channel)).CastBallot
        grpc.channel_ready_future(channel).result(timeout=30)
        ready.wait()
        while time.time() < args.start_at:
            time.sleep(0.001)
        for voter, twice in mine[n]:
            def request(voter: str = voter) -> pb.CastBallotRequest:
                if args.encrypted:  # both of a double vote's calls send the voter's one ballot
                    return v2.CastBallotRequest(election_id=args.election, encrypted_ballot=sealed[voter])
                return pb.CastBallotRequest(election_id=args.election, answers=[
                    pb.Answer(question_id=QUESTION, choices=ranking(rnd))])
            md = tokens[voter]
            if twice == "1":  # two ballots of one voter in flight at once: exactly one may count
                t0 = time.perf_counter()
                calls = [cast.future(request(), metadata=md, timeout=60) for _ in range(2)]
                codes = []
                for call in calls:
                    try:
                        call.result()
                        codes.append("OK")
                    except grpc.RpcError as exc:
                        codes.append(exc.code().name)
                elapsed = time.perf_counter() - t0
                okays = codes.count("OK")
                with lock:
                    doubles["pairs"] += 1
                    doubles[{0: "none_ok", 1: "one_ok", 2: "both_ok"}[okays]] += 1
                    for code in codes:
                        if code not in ("OK", "ALREADY_EXISTS"):
                            errors[code] = errors.get(code, 0) + 1
                if okays:
                    latencies[n].append(elapsed * 1000.0)
                    ends[n].append(time.time())
                continue
            t0 = time.perf_counter()
            try:
                response = cast(request(), metadata=md, timeout=60)
            except grpc.RpcError as exc:
                with lock:
                    errors[exc.code().name] = errors.get(exc.code().name, 0) + 1
                continue
            latencies[n].append((time.perf_counter() - t0) * 1000.0)
            ends[n].append(time.time())
            if not sample:
                sample.append([response.tracker, response.ballot_hash])
        channel.close()

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(args.threads)]
    for t in threads:
        t.start()
    ready.wait()
    for t in threads:
        t.join()
    first_start = max(args.start_at, 0.0)
    flat_ends = [x for per in ends for x in per]
    per_second: dict[int, int] = {}
    for x in flat_ends:
        per_second[int(x)] = per_second.get(int(x), 0) + 1
    print(json.dumps({
        "latencies_ms": [round(x, 3) for per in latencies for x in per], "errors": errors, "doubles": doubles,
        "ok": len(flat_ends), "first_start": first_start, "last_end": max(flat_ends, default=first_start),
        "per_second": per_second, "receipt_sample": sample[0] if sample else [],
    }))
    return 0


def _encrypted_ballots(args: argparse.Namespace, rows: list[list[str]], tokens: dict) -> dict[str, bytes]:
    """Each voter's encrypted ballot, made by the client library as `coop vote` makes it, under the
    key GetElectionKey hands out: a random ranking and a random resolution answer."""
    import grpc

    from coop.elections.v2 import elections_pb2 as v2
    from coop.elections.v2 import elections_pb2_grpc as v2_grpc
    from coop_elections.client.ballots import PublishedElection, prepare_ballot
    from coop_elections.domain.crypto.group import Element
    from coop_elections.domain.published import definition_from_json

    with grpc.insecure_channel(args.target) as channel:
        key = v2_grpc.ElectionsServiceStub(channel).GetElectionKey(
            v2.GetElectionKeyRequest(election_id=args.election), metadata=tokens[rows[0][0]], timeout=30).key
    election = PublishedElection(definition_from_json(json.loads(key.election_json)),
                                 Element.from_bytes(key.public_key))
    rnd = random.Random(args.seed)
    return {voter: prepare_ballot(election, {QUESTION: ranking(rnd),
                                             MOTION: rnd.choice(("yes", "no", "abstain"))}).ballot.to_bytes()
            for voter, _ in rows}


def _serve_main() -> None:
    """The api entrypoint's main(), with a clock moved by BENCH_CLOCK_OFFSET_S seconds."""
    from coop_elections import SERVICE_NAME
    from coop_elections.entrypoints.grpc_api import build
    from coop_platform.config import load_settings
    from coop_platform.grpc_server import serve_forever
    from coop_platform.logs import configure_logging
    from coop_platform.migrations import upgrade

    offset = timedelta(seconds=float(os.environ["BENCH_CLOCK_OFFSET_S"]))
    settings = load_settings(SERVICE_NAME, "api")
    configure_logging(SERVICE_NAME, settings.log_level)
    upgrade(SERVICE_NAME, settings.database_url)
    engine, register, _ = build(settings, clock=lambda: datetime.now(UTC) + offset)
    serve_forever(settings, register, engine)


def _count_main(args: argparse.Namespace) -> int:
    """Time the pure domain: the STV count over the published ballots, then the full recount."""
    from coop_elections.domain.ballot_box import PublishedBox, counted_ballots, recount
    from coop_elections.domain.counting import count_question
    from coop_elections.domain.published import definition_from_json

    t0 = time.perf_counter()
    box = PublishedBox.from_json(json.loads(Path(args.box).read_text(encoding="utf-8")))
    definition = definition_from_json(json.loads(Path(args.election).read_text(encoding="utf-8")))
    load_s = time.perf_counter() - t0
    ballots = counted_ballots(box, definition)  # one per weight class: identical ballots together
    question = next(q for q in definition.questions if q.id == QUESTION)
    t0 = time.perf_counter()
    stv = count_question(question, ballots, definition.tie_break_seed, definition.roll_weight)
    stv_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    recount(box, definition)
    recount_s = time.perf_counter() - t0
    print(json.dumps({"ballots": len(box.entries), "weight_classes": len(ballots),
                      "load_json_s": round(load_s, 3), "stv_count_s": round(stv_s, 3),
                      "recount_s": round(recount_s, 3), "winners": list(stv.winners)}))
    return 0


def main(argv: list[str] | None = None) -> int:
    if not (sys.argv[1:] if argv is None else argv) and "BENCH_CLOCK_OFFSET_S" in os.environ:
        _serve_main()  # the api process of the close (see elections_api)
        return 0
    p = argparse.ArgumentParser(prog="python -m bench.elections_bench")
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser("voters", help="a voter process: threads casting ballots")
    v.add_argument("--target", required=True)
    v.add_argument("--election", required=True)
    v.add_argument("--voters", required=True, help="file of voter<TAB>twice(0/1) lines")
    v.add_argument("--threads", type=int, default=16)
    v.add_argument("--start-at", type=float, default=0.0)
    v.add_argument("--seed", type=int, default=1)
    v.add_argument("--encrypted", action="store_true", help="cast encrypted ballots (v2 CastBallot)")
    c = sub.add_parser("count", help="time the pure count over published files")
    c.add_argument("box")
    c.add_argument("election")
    args = p.parse_args(argv)
    if args.command == "voters":
        return _voters_main(args)
    return _count_main(args)


if __name__ == "__main__":
    sys.exit(main())
