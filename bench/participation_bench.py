"""`make bench`'s participation benchmark (issue 12, Benchmarks): members signing an initiative,
1,000 watchers of its count while signing goes on, and the General Assembly's registrations.

Each part runs on a fresh PostgreSQL database and a RabbitMQ vhost of its own, with the board api
(COOP_API_PROCESSES, `--participation-api-processes`) and the board worker as separate processes
(the worker relays the outbox and runs the initiatives' and convocation timers, as in production):

    signatures  20,900 members in good standing sign one initiative over gRPC SignInitiative,
                32 clients (2 processes x 16 threads, one channel each, every member with their
                own token); 1% of the members send two signatures at once (two request ids):
                exactly one may count. The count is then read through GetSignatureCount and
                checked against the database (signature rows and the counter shards).
    watchers    the same on a new database, while 1,000 watchers (grpc.aio coroutines in two
                processes) read GetSignatureCount, each about once a second
                (`--watch-interval`): the signing rate, the reads' latency, a count that never
                goes back for any watcher, and every watcher's last read equal to the total.
    assembly    7,170 members register for a General Assembly with 3 workshop choices each
                (RegisterForAssembly, 32 clients), over 8 workshops of 600 to 2,000 seats chosen
                by popularity, so that most have waiting lists. Checked: no workshop seats more
                than its capacity (database and ListWorkshops), every registration holds its 3
                places, and each waiting list (ListWorkshopRegistrations) is in arrival order:
                the database's arrival numbers, and the clients' clocks: no member is ahead of
                one whose registration had been answered before theirs was sent, and no member
                sent after another's answer is seated where the other waits.

The members are written straight into the board's member projection (board_member_standing, one
COPY: about 0.2 s for 20,900) rather than through membership events and the worker: the
projection's own path is tested elsewhere, and at the worker's pace it would add minutes.

    python -m bench.participation_bench [--quick]    the three parts, prints the result as JSON
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import random
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    ApiAndWorker,
    Check,
    CpuMeter,
    api_and_worker,
    bench_broker,
    psycopg_dsn,
    run_load,
    service_env,
    summarize_ms,
)
from coop_testkit import free_port, postgres_database

PARTS = ("signatures", "watchers", "assembly")
# (title, capacity, language, popularity): the afternoon's workshops, most oversubscribed at 10x
WORKSHOPS = (("Reading the accounts", 2000, "fr", 20), ("De rekeningen lezen", 1200, "nl", 12),
             ("Reacting to the reform", 1500, "fr", 18), ("Reageren op de hervorming", 1000, "nl", 10),
             ("Meeting the directors", 800, "en", 14), ("Rencontre avec les administrateurs", 1500, "fr", 12),
             ("Ontmoeting met de bestuurders", 600, "nl", 8), ("The year's figures", 1000, "en", 6))
LANGUAGES = ("fr", "nl", "en")


def member_id(i: int) -> str:
    return f"member-{i:06d}"


# -- the board as in production: its api and its worker ---------------------------------------------------

Board = ApiAndWorker


def board_processes(database_url: str, amqp_url: str, log_dir: Path, name: str, *,
                    api_processes: int) -> contextlib.AbstractContextManager[Board]:
    """The board's api and worker (the worker relays the outbox and runs the timers)."""
    env = service_env(database_url, amqp_url, free_port()) | {"COOP_API_PROCESSES": str(api_processes),
                                                                "COOP_BOARD_INITIATIVE_THRESHOLD": "5%"}
    return api_and_worker("coop_board", env, log_dir, name)


def load_members(dsn: str, count: int) -> float:
    """`count` active members in good standing straight into the board's projection (one COPY);
    seconds taken."""
    import psycopg2

    now = datetime.now(UTC).isoformat()
    rows = io.StringIO("".join(f"{member_id(i)}\tcoop\tactive\tworker\tt\t{now}\t{now}\t{now}\t"
                               f"{LANGUAGES[i % 3]}\t{now}\n" for i in range(count)))
    t0 = time.perf_counter()
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.copy_from(rows, "board_member_standing", columns=(
                "member_id", "tenant", "status", "category", "in_good_standing", "status_at", "category_at",
                "standing_at", "language", "language_at"))
            cur.execute("ANALYZE board_member_standing")
    finally:
        conn.close()
    return round(time.perf_counter() - t0, 3)


def _query(dsn: str, sql: str, params: tuple = ()) -> list[tuple]:
    import psycopg2

    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


def machine_state(seconds: float = 1.0) -> dict[str, float]:
    """The 1-minute load average and how many 8 kB write + fdatasync the disk does per second
    now (what bounds PostgreSQL's commits, group commits aside): this machine is shared, and
    both drift by several times within minutes."""
    import tempfile

    flushes = 0
    with tempfile.NamedTemporaryFile(dir=Path.home() if Path.home().exists() else None) as handle:
        block = os.urandom(8192)
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            os.pwrite(handle.fileno(), block, 0)  # as pg_test_fsync: one block rewritten in place
            os.fdatasync(handle.fileno())
            flushes += 1
    return {"loadavg_1m": round(os.getloadavg()[0], 2), "fdatasync_per_s": round(flushes / seconds, 1)}


def _rid() -> str:
    return str(uuid.uuid4())


def _text(fr: str, nl: str, en: str) -> Any:
    from coop.board.v1 import common_pb2

    return common_pb2.LocalizedText(fr=fr, nl=nl, en=en)


# -- the initiative, up to its open collection ----------------------------------------------------------

def open_initiative(target: str) -> str:
    """Drafted by member 0, three co-promoters accept, submitted, admitted by management: the
    collection opens with its threshold frozen (5% of the members in good standing)."""
    import grpc

    from coop.board.v1 import initiatives_pb2 as pb
    from coop.board.v1 import initiatives_pb2_grpc as pb_grpc
    from coop_testkit import bearer

    author, promoters = member_id(0), [member_id(i) for i in (1, 2, 3)]
    with grpc.insecure_channel(target) as channel:
        stub = pb_grpc.InitiativeServiceStub(channel)
        md = bearer(author, "member")
        draft = stub.DraftInitiative(pb.DraftInitiativeRequest(
            language="fr", title=_text("Une salle de répétition", "Een repetitieruimte", "A rehearsal room"),
            text=_text("Ouvrir une salle.", "Een ruimte openen.", "Open a room."),
            question=_text("Le conseil ouvre-t-il une salle ?", "Opent het bestuur een ruimte?",
                           "Will the board open a room?"), request_id=_rid()), metadata=md, timeout=30).initiative
        iid = draft.initiative_id
        stub.InvitePromoters(pb.InvitePromotersRequest(initiative_id=iid, member_ids=promoters), metadata=md, timeout=30)
        for p in promoters:
            stub.AnswerPromoterInvitation(pb.AnswerPromoterInvitationRequest(initiative_id=iid, accept=True),
                                          metadata=bearer(p, "member"), timeout=30)
        stub.SubmitInitiative(pb.SubmitInitiativeRequest(initiative_id=iid, request_id=_rid()), metadata=md, timeout=30)
        stub.DecideAdmissibility(pb.DecideAdmissibilityRequest(initiative_id=iid, admissible=True, request_id=_rid()),
                                 metadata=bearer("bench-management", "management"), timeout=30)
    return iid


def signature_count(target: str, initiative_id: str) -> tuple[int, int, int]:
    """(count, threshold, status) as a member reads it."""
    import grpc

    from coop.board.v1 import initiatives_pb2 as pb
    from coop.board.v1 import initiatives_pb2_grpc as pb_grpc
    from coop_testkit import bearer

    with grpc.insecure_channel(target) as channel:
        r = pb_grpc.InitiativeServiceStub(channel).GetSignatureCount(
            pb.GetSignatureCountRequest(initiative_id=initiative_id), metadata=bearer(member_id(0), "member"), timeout=30)
    return r.signature_count, r.threshold, r.status


def _stored_signatures(dsn: str, initiative_id: str) -> dict[str, Any]:
    rows = _query(dsn, "SELECT (SELECT count(*) FROM board_initiative_signatures WHERE initiative_id = %s),"
                       " (SELECT count(DISTINCT member_id) FROM board_initiative_signatures WHERE initiative_id = %s),"
                       " (SELECT coalesce(sum(count), 0) FROM board_initiative_signature_counts"
                       "  WHERE initiative_id = %s),"
                       " (SELECT status FROM board_initiatives WHERE initiative_id = %s)",
                  (initiative_id,) * 4)
    rows_, distinct, shards, status = rows[0]
    return {"rows": rows_, "distinct_members": distinct, "shard_sum": int(shards), "status": status}


def _member_files(log_dir: Path, name: str, count: int, procs: int, double_every: int) -> list[Path]:
    """Disjoint slices of the members; every `double_every`-th member tries twice at once."""
    files = []
    for p in range(procs):
        path = log_dir / f"{name}-members-{p}.txt"
        path.write_text("".join(f"{member_id(i)}\t{1 if double_every and i % double_every == 0 else 0}\n"
                                for i in range(p, count, procs)))
        files.append(path)
    return files


def _errors(outs: list[dict]) -> dict[str, int]:
    """The load processes' error counts by status code, summed."""
    errors: dict[str, int] = {}
    for o in outs:
        for k, v in o["errors"].items():
            errors[k] = errors.get(k, 0) + v
    return errors


def _merge(outs: list[dict]) -> dict[str, Any]:
    """The load processes' outputs as one: rate over the common wall time, latencies, errors,
    the rate per second (the lowest full second and the lowest 5-second window)."""
    lat = [x for o in outs for x in o["latencies_ms"]]
    errors = _errors(outs)
    per_second: dict[int, int] = {}
    for o in outs:
        for sec, n in o["per_second"].items():
            per_second[int(sec)] = per_second.get(int(sec), 0) + n
    first, last = min(o["first_start"] for o in outs), max(o["last_end"] for o in outs)
    wall = last - first
    ok = sum(o["ok"] for o in outs)
    secs = sorted(per_second)
    steady = [per_second.get(s, 0) for s in range(secs[0] + 1, secs[-1])] if len(secs) > 3 else []
    # the windows are taken while every client still had members to sign: the last seconds, when
    # the first clients have run out and fewer sign, measure the load generator's tail, not the
    # service (their rate is reported apart, as tail_per_s)
    busy_until = int(min(o.get("all_busy_until", last) for o in outs))
    busy = steady[:max(0, busy_until - (secs[0] + 1))] if steady else []
    windows = [sum(busy[i:i + 5]) / 5 for i in range(0, len(busy) - 4)]
    tail = steady[len(busy):]
    return {"ok": ok, "wall_s": round(wall, 2), "per_s": round(ok / wall, 1) if wall else 0.0, "errors": errors,
            **summarize_ms(lat), "lowest_second": min(busy) if busy else None,
            "lowest_5s_window": round(min(windows), 1) if windows else None,
            "median_second": sorted(busy)[len(busy) // 2] if busy else None,
            "tail_s": len(tail), "tail_per_s": round(sum(tail) / len(tail), 1) if tail else None,
            "per_second_series": steady}


def _sign(opts: Any, board: Board, initiative_id: str, log_dir: Path, name: str) -> dict[str, Any]:
    """The signers' processes; their merged output."""
    procs = max(1, opts.participation_client_procs)
    every = max(1, round(1 / opts.participation_double_fraction)) if opts.participation_double_fraction > 0 else 0
    files = _member_files(log_dir, name, opts.signers, procs, every)
    start_at = time.time() + 3.0 + opts.signers / 3_000 / procs * 2
    argv = lambda i: ["-m", "bench.participation_bench", "signers", "--target", board.target,  # noqa: E731
                      "--initiative", initiative_id, "--members", str(files[i]),
                      "--threads", str(opts.participation_threads), "--start-at", str(start_at)]
    outs, cpu = run_load([argv(i) for i in range(procs)], [log_dir / f"{name}-signers-{i}.log" for i in range(procs)],
                         timeout=1800, measure_from=start_at,
                         meter=CpuMeter(api=board.api.proc.pid, worker=board.worker.proc.pid),
                         env={"COOP_DEV_MODE": "1"})
    merged = _merge(outs)
    doubles = {k: sum(o["doubles"][k] for o in outs) for k in outs[0]["doubles"]}
    return {**merged, "doubles": doubles, **cpu, "clients": procs * opts.participation_threads,
            "loadavg_1m_before": round(os.getloadavg()[0], 2)}


def run_signatures(opts: Any, amqp_url: str, log_dir: Path, *, watchers: int = 0) -> dict[str, Any]:
    """One initiative, `opts.signers` members signing it (and `watchers` reading its count)."""
    name = "watchers" if watchers else "signatures"
    result: dict[str, Any] = {"members": opts.signers, "api_processes": opts.participation_api_processes}
    with postgres_database(f"coop_bench_{name}") as url:
        dsn = psycopg_dsn(url)
        with board_processes(url, amqp_url, log_dir, name, api_processes=opts.participation_api_processes) as board:
            result["load_members_s"] = load_members(dsn, opts.signers)
            iid = open_initiative(board.target)
            _, threshold, _ = signature_count(board.target, iid)
            result["threshold"] = threshold
            print(f"  {name}: {opts.signers:,} members signing"
                  + (f", {watchers:,} watchers reading the count" if watchers else "") + " ...", flush=True)
            if watchers:
                stop, watched = log_dir / f"{name}-stop", {}
                runner = threading.Thread(target=lambda: watched.update(
                    _watch(opts, board, iid, log_dir, name, watchers, stop)), daemon=True)
                runner.start()
                result["sign"] = _sign(opts, board, iid, log_dir, name)
                stop.write_text("stop")
                runner.join(300)
                result["watch"] = watched
            else:
                result["sign"] = _sign(opts, board, iid, log_dir, name)
            count, _, status = signature_count(board.target, iid)
            result["api_count"] = count
            result["api_status"] = status
            result["stored"] = _stored_signatures(dsn, iid)
    return result


# -- watchers ---------------------------------------------------------------------------------------------------

def _watch(opts: Any, board: Board, initiative_id: str, log_dir: Path, name: str, watchers: int,
           stop: Path) -> dict[str, Any]:
    """Watcher processes until `stop` appears, then each watcher's last read; merged."""
    from bench.common import run_json_process

    procs = max(1, opts.watcher_procs)
    per = [watchers // procs + (1 if i < watchers % procs else 0) for i in range(procs)]
    import concurrent.futures as cf

    with cf.ThreadPoolExecutor(procs) as pool:
        futures = [pool.submit(run_json_process, [
            "-m", "bench.participation_bench", "watchers", "--target", board.target, "--initiative", initiative_id,
            "--watchers", str(per[i]), "--first-member", str(sum(per[:i])), "--interval", str(opts.watch_interval),
            "--stop-file", str(stop)], timeout=1800, log_path=log_dir / f"{name}-watchers-{i}.log",
            env={"COOP_DEV_MODE": "1"}) for i in range(procs)]
        outs = [f.result() for f in futures]
    lat = [x for o in outs for x in o["latencies_ms"]]
    errors = _errors(outs)
    return {"watchers": sum(o["watchers"] for o in outs), "reads": sum(o["reads"] for o in outs),
            "reads_per_s": round(sum(o["reads"] for o in outs) / max(o["seconds"] for o in outs), 1),
            "errors": errors, **summarize_ms(lat), "went_back": sum(o["went_back"] for o in outs),
            "last_reads": sorted({c for o in outs for c in o["last_reads"]}),
            "watchers_with_last_read": sum(o["last_read_count"] for o in outs)}


async def _watchers_async(args: argparse.Namespace) -> dict[str, Any]:
    import grpc

    from coop.board.v1 import initiatives_pb2 as pb
    from coop.board.v1 import initiatives_pb2_grpc as pb_grpc
    from coop_testkit import bearer

    stop = Path(args.stop_file)
    channels = [grpc.aio.insecure_channel(args.target, options=[("grpc.use_local_subchannel_pool", 1)])
                for _ in range(args.channels)]
    stubs = [pb_grpc.InitiativeServiceStub(c) for c in channels]
    request = pb.GetSignatureCountRequest(initiative_id=args.initiative)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    last: list[int] = []
    went_back = 0
    reads = 0

    async def watcher(n: int) -> None:
        nonlocal went_back, reads
        stub, md = stubs[n % len(stubs)], bearer(member_id(args.first_member + n), "member", ttl=3 * 3600)
        rnd = random.Random(args.first_member + n)
        await asyncio.sleep(rnd.random() * args.interval)  # spread the watchers over the interval
        seen = -1
        while True:
            stopping = stop.exists()
            t0 = time.perf_counter()
            try:
                r = await stub.GetSignatureCount(request, metadata=md, timeout=60)
            except grpc.RpcError as exc:
                code = exc.code().name
                errors[code] = errors.get(code, 0) + 1
                if stopping:
                    return
                await asyncio.sleep(args.interval)
                continue
            elapsed = time.perf_counter() - t0
            latencies.append(elapsed * 1000.0)
            reads += 1
            if r.signature_count < seen:
                went_back += 1
            seen = r.signature_count
            if stopping:  # the signers are done: this read is the watcher's last
                last.append(r.signature_count)
                return
            await asyncio.sleep(max(0.0, args.interval - elapsed) * (0.8 + 0.4 * rnd.random()))

    started = time.time()
    await asyncio.gather(*(watcher(n) for n in range(args.watchers)))
    seconds = time.time() - started
    for c in channels:
        await c.close()
    return {"watchers": args.watchers, "reads": reads, "seconds": round(seconds, 2),
            "latencies_ms": [round(x, 3) for x in latencies], "errors": errors, "went_back": went_back,
            "last_reads": sorted(set(last)), "last_read_count": len(last)}


# -- the General Assembly's registrations ------------------------------------------------------------------

def capacities(registrants: int) -> list[int]:
    """The workshops' capacities, scaled to the registrants (7,170: as in WORKSHOPS), so that a
    quick run has waiting lists too."""
    return [max(5, round(w[1] * registrants / 7_170)) for w in WORKSHOPS]


def open_assembly(target: str, registrants: int) -> tuple[str, list[tuple[str, int]]]:
    """An Assembly in 30 days with the workshops; (assembly id, [(workshop id, capacity)])."""
    import grpc

    from coop.board.v1 import assembly_pb2 as pb
    from coop.board.v1 import assembly_pb2_grpc as pb_grpc
    from coop_platform.pbtypes import to_timestamp
    from coop_testkit import bearer

    admin = bearer("bench-admin", "admin")
    now = datetime.now(UTC).replace(microsecond=0)
    # 08:00 UTC in 30 days: the workshops (4-6 h later) fall on the Assembly's day at any hour of a run
    starts = (now + timedelta(days=30)).replace(hour=8, minute=0, second=0)
    with grpc.insecure_channel(target) as channel:
        stub = pb_grpc.AssemblyServiceStub(channel)
        a = stub.ScheduleAssembly(pb.ScheduleAssemblyRequest(
            title=_text("Assemblée générale", "Algemene vergadering", "General Assembly"),
            starts_at=to_timestamp(starts), place="Brussels", registration_deadline=to_timestamp(starts - timedelta(days=2)),
            election_id="bench-election", request_id=_rid()), metadata=admin, timeout=30).assembly
        found = []
        for n, ((title, _, language, _), capacity) in enumerate(zip(WORKSHOPS, capacities(registrants), strict=True)):
            w = stub.AddWorkshop(pb.AddWorkshopRequest(
                assembly_id=a.assembly_id, title=_text(title, title, title), capacity=capacity, language=language,
                starts_at=to_timestamp(starts + timedelta(hours=4 + n % 2)),
                ends_at=to_timestamp(starts + timedelta(hours=5 + n % 2)), request_id=_rid()),
                metadata=admin, timeout=60).workshop
            found.append((w.workshop_id, capacity))
    return a.assembly_id, found


def _workshop_lists(target: str, assembly_id: str, workshops: list[tuple[str, int]]) -> dict[str, Any]:
    """ListWorkshops' figures and each workshop's full list (ListWorkshopRegistrations, paged)."""
    import grpc

    from coop.board.v1 import assembly_pb2 as pb
    from coop.board.v1 import assembly_pb2_grpc as pb_grpc
    from coop_testkit import bearer

    admin = bearer("bench-admin", "admin")
    out: dict[str, Any] = {"figures": {}, "lists": {}}
    with grpc.insecure_channel(target) as channel:
        stub = pb_grpc.AssemblyServiceStub(channel)
        for w in stub.ListWorkshops(pb.ListWorkshopsRequest(assembly_id=assembly_id, page_size=100),
                                    metadata=admin, timeout=60).workshops:
            out["figures"][w.workshop_id] = {"capacity": w.capacity, "seated": w.seated, "waiting": w.waiting}
        for wid, _ in workshops:
            rows, token = [], ""
            while True:
                r = stub.ListWorkshopRegistrations(pb.ListWorkshopRegistrationsRequest(
                    assembly_id=assembly_id, workshop_id=wid, page_size=500, page_token=token), metadata=admin,
                    timeout=120)
                rows += [(a.registration_id, a.member_id, a.seated, a.waiting_position) for a in r.attendees]
                token = r.next_page_token
                if not token:
                    break
            out["lists"][wid] = rows
    return out


def _check_order(records: dict[str, dict], lists: dict[str, list], arrivals: dict[tuple[str, str], int],
                 workshops: list[tuple[str, int]], stored_seated: dict[str, int]) -> dict[str, Any]:
    """Waiting lists in arrival order, three ways (see the module doc); returns the violations."""
    v = {"over_capacity": 0, "list_not_by_position": 0, "list_not_by_arrival": 0, "ahead_of_earlier": 0,
         "seated_after_waiting_one": 0, "missing_in_lists": 0, "waiting_entries": 0}
    for wid, capacity in workshops:
        rows = lists.get(wid, [])
        seated = [r for r in rows if r[2]]
        waiting = [r for r in rows if not r[2]]
        v["waiting_entries"] += len(waiting)
        if len(seated) > capacity or stored_seated.get(wid, 0) > capacity:
            v["over_capacity"] += 1
        positions = [r[3] for r in waiting]
        if positions != list(range(1, len(waiting) + 1)):
            v["list_not_by_position"] += 1
        order = [arrivals.get((r[0], wid), -1) for r in waiting]
        if order != sorted(order):
            v["list_not_by_arrival"] += 1
        # a member ahead on the waiting list must not have sent their registration after the
        # answer to one behind them had arrived
        latest_sent = float("-inf")
        for r in waiting:
            rec = records.get(r[0])
            if rec is None:
                v["missing_in_lists"] += 1
                continue
            if rec["received"] < latest_sent:
                v["ahead_of_earlier"] += 1
            latest_sent = max(latest_sent, rec["sent"])
        # nobody seated who sent after a waiting member's answer had arrived
        first_waiting_answer = min((records[r[0]]["received"] for r in waiting if r[0] in records),
                                   default=float("inf"))
        v["seated_after_waiting_one"] += sum(1 for r in seated if r[0] in records
                                             and records[r[0]]["sent"] > first_waiting_answer)
    return v


def run_assembly(opts: Any, amqp_url: str, log_dir: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"members": opts.registrants, "workshops": len(WORKSHOPS),
                              "capacity": sum(capacities(opts.registrants)), "api_processes": opts.participation_api_processes}
    procs = max(1, opts.participation_client_procs)
    with postgres_database("coop_bench_assembly") as url:
        dsn = psycopg_dsn(url)
        with board_processes(url, amqp_url, log_dir, "assembly", api_processes=opts.participation_api_processes) as board:
            result["load_members_s"] = load_members(dsn, opts.registrants)
            aid, workshops = open_assembly(board.target, opts.registrants)
            files = _member_files(log_dir, "assembly", opts.registrants, procs, 0)
            start_at = time.time() + 3.0 + opts.registrants / 3_000 / procs * 2
            weights = ",".join(str(w[3]) for w in WORKSHOPS)
            ids = ",".join(w for w, _ in workshops)
            print(f"  assembly: {opts.registrants:,} members registering with 3 workshops each ...", flush=True)
            argv = lambda i: ["-m", "bench.participation_bench", "registrants", "--target", board.target,  # noqa: E731
                              "--assembly", aid, "--members", str(files[i]), "--workshops", ids, "--weights", weights,
                              "--threads", str(opts.participation_threads), "--start-at", str(start_at),
                              "--seed", str(i + 1)]
            outs, cpu = run_load([argv(i) for i in range(procs)],
                                 [log_dir / f"assembly-registrants-{i}.log" for i in range(procs)], timeout=1800,
                                 measure_from=start_at,
                                 meter=CpuMeter(api=board.api.proc.pid, worker=board.worker.proc.pid),
                                 env={"COOP_DEV_MODE": "1"})
            result["register"] = {**_merge(outs), **cpu, "clients": procs * opts.participation_threads}
            records = {r["registration_id"]: r for o in outs for r in o["records"]}
            listed = _workshop_lists(board.target, aid, workshops)
        arrivals = {(r, w): int(a) for r, w, a in _query(
            dsn, "SELECT registration_id, workshop_id, arrival FROM board_assembly_places WHERE assembly_id = %s",
            (aid,))}
        stored = _query(dsn, "SELECT (SELECT count(*) FROM board_assembly_registrations WHERE assembly_id = %s"
                             " AND cancelled_at IS NULL), (SELECT count(*) FROM board_assembly_places"
                             " WHERE assembly_id = %s AND active)", (aid, aid))[0]
        seated = dict(_query(dsn, "SELECT s.workshop_id, count(*) FROM board_assembly_seats s JOIN"
                                  " board_assembly_workshops w USING (workshop_id) WHERE w.assembly_id = %s"
                                  " AND s.registration_id IS NOT NULL GROUP BY s.workshop_id", (aid,)))
        seated_places = dict(_query(dsn, "SELECT workshop_id, count(*) FROM board_assembly_places"
                                         " WHERE assembly_id = %s AND active AND seated GROUP BY workshop_id", (aid,)))
    result["stored"] = {"registrations": stored[0], "places": stored[1]}
    result["workshop_figures"] = [{"title": t, **listed["figures"].get(w, {}), "seat_rows_taken": seated.get(w, 0),
                                   "seated_places": seated_places.get(w, 0)}
                                  for (t, *_), (w, _) in zip(WORKSHOPS, workshops, strict=True)]
    over = sum(1 for f in result["workshop_figures"]
               if max(f.get("seated", 0), f["seat_rows_taken"], f["seated_places"]) > f.get("capacity", 0))
    result["order"] = _check_order(records, listed["lists"], arrivals, workshops,
                                   {w: max(seated.get(w, 0), seated_places.get(w, 0)) for w, _ in workshops})
    result["order"]["over_capacity"] = max(result["order"]["over_capacity"], over)
    result["answered_places"] = sum(len(r["places"]) for r in records.values())
    return result


# -- the load processes ----------------------------------------------------------------------------------------

def _drive(args: argparse.Namespace, open_stub: Callable[[Any], Any],
           one: Callable[[Any, str, bool, random.Random, dict], bool]) -> dict[str, Any]:
    """`args.threads` clients, one channel each, working through their share of the members'
    file from `args.start_at`; `one(stub, member, twice, rnd, shared)` makes one member's calls
    and says whether it succeeded (it raises grpc.RpcError when refused)."""
    import grpc

    from coop_testkit import bearer

    rows = [line.split("\t") for line in Path(args.members).read_text().splitlines() if line]
    mine = [rows[n::args.threads] for n in range(args.threads)]
    shared: dict[str, Any] = {"tokens": {m: bearer(m, "member", ttl=3 * 3600) for m, _ in rows},
                              "lock": threading.Lock(), "errors": {}, "records": [],
                              "doubles": {"pairs": 0, "one_ok": 0, "both_ok": 0, "none_ok": 0}}
    latencies: list[list[float]] = [[] for _ in range(args.threads)]
    ends: list[list[float]] = [[] for _ in range(args.threads)]
    ready = threading.Barrier(args.threads + 1)
    began = [args.start_at] * args.threads

    def client(n: int) -> None:
        rnd = random.Random(args.seed * 1000 + n)
        channel = grpc.insecure_channel(args.target, options=[("grpc.use_local_subchannel_pool", 1)])
        stub = open_stub(channel)
        grpc.channel_ready_future(channel).result(timeout=30)
        ready.wait()
        while time.time() < args.start_at:
            time.sleep(0.001)
        began[n] = time.time()  # later than start_at when making the tokens outlasted its allowance
        for member, twice in mine[n]:
            t0 = time.perf_counter()
            try:
                ok = one(stub, member, twice == "1", rnd, shared)
            except grpc.RpcError as exc:
                with shared["lock"]:
                    shared["errors"][exc.code().name] = shared["errors"].get(exc.code().name, 0) + 1
                continue
            if ok:
                latencies[n].append((time.perf_counter() - t0) * 1000.0)
                ends[n].append(time.time())
        channel.close()

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(args.threads)]
    for t in threads:
        t.start()
    ready.wait()
    for t in threads:
        t.join()
    flat = [x for per in ends for x in per]
    per_second: dict[int, int] = {}
    for x in flat:
        per_second[int(x)] = per_second.get(int(x), 0) + 1
    return {"latencies_ms": [round(x, 3) for per in latencies for x in per], "errors": shared["errors"],
            "doubles": shared["doubles"], "records": shared["records"], "ok": len(flat),
            "first_start": min(began), "last_end": max(flat, default=args.start_at), "per_second": per_second,
            # when the first of this process's clients ran out of members: from then on fewer clients sign
            "all_busy_until": min((max(per) for per in ends if per), default=args.start_at)}


def _signers_main(args: argparse.Namespace) -> dict[str, Any]:
    import grpc

    from coop.board.v1 import initiatives_pb2 as pb
    from coop.board.v1 import initiatives_pb2_grpc as pb_grpc

    def one(stub: Any, member: str, twice: bool, rnd: random.Random, shared: dict) -> bool:
        md = shared["tokens"][member]
        if not twice:
            stub.SignInitiative(pb.SignInitiativeRequest(initiative_id=args.initiative, request_id=_rid()),
                                metadata=md, timeout=60)
            return True
        # two signatures of one member in flight at once (two request ids): exactly one may count
        calls = [stub.SignInitiative.future(pb.SignInitiativeRequest(initiative_id=args.initiative,
                                                                     request_id=_rid()), metadata=md, timeout=60)
                 for _ in range(2)]
        codes = []
        for call in calls:
            try:
                call.result()
                codes.append("OK")
            except grpc.RpcError as exc:
                codes.append(exc.code().name)
        okays = codes.count("OK")
        with shared["lock"]:
            shared["doubles"]["pairs"] += 1
            shared["doubles"][{0: "none_ok", 1: "one_ok", 2: "both_ok"}[okays]] += 1
            for code in codes:
                if code not in ("OK", "ALREADY_EXISTS"):
                    shared["errors"][code] = shared["errors"].get(code, 0) + 1
        return okays > 0

    return _drive(args, pb_grpc.InitiativeServiceStub, one)


def _registrants_main(args: argparse.Namespace) -> dict[str, Any]:
    from coop.board.v1 import assembly_pb2 as pb
    from coop.board.v1 import assembly_pb2_grpc as pb_grpc

    ids = args.workshops.split(",")
    weights = [float(w) for w in args.weights.split(",")]

    def choices(rnd: random.Random) -> list[str]:
        pool, w, out = list(ids), list(weights), []
        for _ in range(3):
            pick = rnd.choices(range(len(pool)), weights=w)[0]
            out.append(pool.pop(pick))
            w.pop(pick)
        return out

    def one(stub: Any, member: str, twice: bool, rnd: random.Random, shared: dict) -> bool:
        request = pb.RegisterForAssemblyRequest(
            assembly_id=args.assembly, attendance=pb.ASSEMBLY_ATTENDANCE_IN_PERSON if rnd.random() < 0.7
            else pb.ASSEMBLY_ATTENDANCE_REMOTE, interpretation_language=rnd.choice(LANGUAGES),
            workshop_ids=choices(rnd), request_id=_rid())
        sent = time.time()
        r = stub.RegisterForAssembly(request, metadata=shared["tokens"][member], timeout=60).registration
        received = time.time()
        with shared["lock"]:
            shared["records"].append({"registration_id": r.registration_id, "member": member, "sent": sent,
                                      "received": received, "places": [[p.workshop_id, p.seated, p.waiting_position]
                                                                       for p in r.workshops]})
        return True

    return _drive(args, pb_grpc.AssemblyServiceStub, one)


# -- results -------------------------------------------------------------------------------------------------

def checks(opts: Any, r: dict[str, Any]) -> list[Check]:
    found: list[Check] = []
    name = "participation"
    for part in ("signatures", "watchers"):
        if part not in r:
            continue
        p = r[part]
        s, st = p["sign"], p["stored"]
        target_rate = opts.target_signatures if part == "signatures" else opts.target_signatures_watched
        d = s["doubles"]
        exact = p["api_count"] == st["rows"] == st["distinct_members"] == st["shard_sum"] == opts.signers == s["ok"]
        errs = sum(s["errors"].values())
        label = "SignInitiative" if part == "signatures" else f"SignInitiative with {p['watch'].get('watchers', 0):,} watchers"
        found += [
            Check(name, f"{label} ({s['clients']} clients, {p['api_processes']} api processes)", s["per_s"],
                  "signatures/s", f">= {target_rate:,}/s", s["per_s"] >= target_rate),
            Check(name, f"{label}: p99 (p50 {s.get('p50_ms', 0):.1f} ms)", s.get("p99_ms", 0.0), "ms",
                  f"< {opts.target_signature_p99:g} ms" if part == "signatures" else "",
                  s.get("p99_ms", 1e9) < opts.target_signature_p99 if part == "signatures" else None),
            Check(name, f"{label}: lowest 5 s window / lowest second",
                  f"{s['lowest_5s_window']} / {s['lowest_second']}", "signatures/s",
                  f">= {target_rate:,}/s (5 s)" if part == "watchers" else "",
                  (s["lowest_5s_window"] or 0) >= target_rate if part == "watchers" else None),
            Check(name, f"{part}: counted (GetSignatureCount / rows / shards)",
                  f"{p['api_count']:,} / {st['rows']:,} / {st['shard_sum']:,}", "", f"exactly {opts.signers:,}",
                  exact and errs == 0),
            Check(name, f"{part}: double signatures ({d['pairs']} members signing twice at once)", d["both_ok"], "",
                  "0", d["both_ok"] == 0 and d["one_ok"] == d["pairs"]),
        ]
        if part == "watchers":
            w = p["watch"]
            werrs = sum(w["errors"].values())
            found += [
                Check(name, f"GetSignatureCount by watchers ({w['reads_per_s']:,.0f} reads/s): p99 "
                            f"(p50 {w.get('p50_ms', 0):.1f} ms)", w.get("p99_ms", 0.0), "ms"),
                Check(name, "watchers: last read / count going back / errors",
                      f"{','.join(str(c) for c in w['last_reads'])} / {w['went_back']} / {werrs}", "",
                      f"{opts.signers:,} for all / 0 / 0",
                      w["last_reads"] == [opts.signers] and w["watchers_with_last_read"] == w["watchers"]
                      and w["went_back"] == 0 and werrs == 0),
            ]
    if "assembly" in r:
        a = r["assembly"]
        g, o = a["register"], a["order"]
        errs = sum(g["errors"].values())
        complete = a["stored"]["registrations"] == g["ok"] == opts.registrants and a["stored"]["places"] == 3 * opts.registrants
        found += [
            Check(name, f"RegisterForAssembly, 3 workshops ({g['clients']} clients, {a['api_processes']} api processes)",
                  g["per_s"], "registrations/s", f">= {opts.target_registrations:,}/s",
                  g["per_s"] >= opts.target_registrations),
            Check(name, "RegisterForAssembly p50 / p99", f"{g.get('p50_ms', 0):.1f} / {g.get('p99_ms', 0):.1f}", "ms"),
            Check(name, "registrations / places stored", f"{a['stored']['registrations']:,} / {a['stored']['places']:,}",
                  "", f"{opts.registrants:,} / {3 * opts.registrants:,}, no error", complete and errs == 0),
            Check(name, f"workshops over capacity ({len(WORKSHOPS)} workshops)", o["over_capacity"], "", "0",
                  o["over_capacity"] == 0),
            Check(name, f"waiting lists out of arrival order ({o['waiting_entries']:,} waiting)",
                  o["list_not_by_position"] + o["list_not_by_arrival"] + o["ahead_of_earlier"]
                  + o["seated_after_waiting_one"] + o["missing_in_lists"], "", "0",
                  not (o["list_not_by_position"] or o["list_not_by_arrival"] or o["ahead_of_earlier"]
                       or o["seated_after_waiting_one"] or o["missing_in_lists"])),
        ]
    return found


def run(args: argparse.Namespace, amqp_url: str, log_dir: Path) -> tuple[dict, list[Check]]:
    """The parts asked for (`--participation-parts`), each on its own database and vhost."""
    result: dict[str, Any] = {"signers": args.signers, "registrants": args.registrants}
    failed: list[Check] = []
    for n, part in enumerate(args.participation_parts):
        result[f"machine_before_{part}"] = machine_state()
        try:
            with (contextlib.nullcontext((amqp_url, "")) if n == 0 else bench_broker(args.amqp_url)) as (url, _):
                if part == "signatures":
                    result[part] = run_signatures(args, url, log_dir)
                elif part == "watchers":
                    result[part] = run_signatures(args, url, log_dir, watchers=args.watchers)
                else:
                    result[part] = run_assembly(args, url, log_dir)
        except Exception as exc:  # noqa: BLE001 - keep the other parts' figures, report this one
            import traceback

            traceback.print_exc()
            failed.append(Check("participation", f"{part}: run", "error", "", "runs", False))
            result[f"{part}_error"] = f"{type(exc).__name__}: {exc}"
    return result, failed + checks(args, result)


def defaults(quick: bool) -> dict[str, Any]:
    """The sizes of a full run (the issue's) and of --quick."""
    if quick:
        return {"signers": 1_500, "watchers": 100, "registrants": 1_000}
    return {"signers": 20_900, "watchers": 1_000, "registrants": 7_170}


def _parts(value: str) -> list[str]:
    """--participation-parts: a known part name or a clear error (never a silent empty run)."""
    parts = [x.strip() for x in value.split(",") if x.strip()]
    unknown = [x for x in parts if x not in PARTS]
    if unknown or not parts:
        raise argparse.ArgumentTypeError(f"parts are among {', '.join(PARTS)}; got {value!r}")
    return parts


def add_options(p: argparse.ArgumentParser) -> None:
    """bench.run's options of this benchmark."""
    g = p.add_argument_group("participation")
    g.add_argument("--participation-parts", default=",".join(PARTS),
                   type=_parts,
                   help=f"comma-separated subset of {', '.join(PARTS)} (all)")
    g.add_argument("--signers", type=int, help="members signing one initiative (20,900)")
    g.add_argument("--watchers", type=int, help="watchers reading the count while members sign (1,000)")
    g.add_argument("--watcher-procs", type=int, default=2, help="watcher processes (grpc.aio) (2)")
    g.add_argument("--watch-interval", type=float, default=1.0, help="seconds between a watcher's reads (1.0)")
    g.add_argument("--registrants", type=int, help="members registering for the Assembly (7,170)")
    g.add_argument("--participation-threads", type=int, default=16, help="client threads per process (16)")
    g.add_argument("--participation-client-procs", type=int, default=2, help="client processes (2)")
    g.add_argument("--participation-api-processes", type=int, default=2,
                   help="board api processes, COOP_API_PROCESSES (2, one per core)")
    g.add_argument("--participation-double-fraction", type=float, default=0.01,
                   help="share of members signing twice at once (0.01)")
    g.add_argument("--target-signatures", type=int, default=500)
    g.add_argument("--target-signature-p99", type=float, default=100.0)
    g.add_argument("--target-signatures-watched", type=int, default=400)
    g.add_argument("--target-registrations", type=int, default=500)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.participation_bench", description=__doc__, allow_abbrev=False,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command")
    for command in ("signers", "registrants"):
        s = sub.add_parser(command)
        s.add_argument("--target", required=True)
        s.add_argument("--members", required=True, help="file of member<TAB>twice(0/1) lines")
        s.add_argument("--threads", type=int, default=16)
        s.add_argument("--start-at", type=float, default=0.0)
        s.add_argument("--seed", type=int, default=1)
        if command == "signers":
            s.add_argument("--initiative", required=True)
        else:
            s.add_argument("--assembly", required=True)
            s.add_argument("--workshops", required=True)
            s.add_argument("--weights", required=True)
    w = sub.add_parser("watchers")
    w.add_argument("--target", required=True)
    w.add_argument("--initiative", required=True)
    w.add_argument("--watchers", type=int, default=500)
    w.add_argument("--first-member", type=int, default=0)
    w.add_argument("--interval", type=float, default=1.0)
    w.add_argument("--channels", type=int, default=4)
    w.add_argument("--stop-file", required=True)
    p.add_argument("--quick", action="store_true")
    add_options(p)
    args = p.parse_args(argv)
    if args.command == "signers":
        print(json.dumps(_signers_main(args)))
    elif args.command == "registrants":
        print(json.dumps(_registrants_main(args)))
    elif args.command == "watchers":
        print(json.dumps(asyncio.run(_watchers_async(args))))
    else:
        for key, value in defaults(args.quick).items():
            if getattr(args, key) is None:
                setattr(args, key, value)
        args.amqp_url = None
        import tempfile

        with bench_broker(None) as (url, _), tempfile.TemporaryDirectory() as tmp:
            result, found = run(args, url, Path(tmp))
        print(json.dumps({**result, "checks": [c.__dict__ | {"verdict": c.verdict} for c in found]}, indent=2,
                         default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
