"""The board's minutes: (a) members reading published decisions, 16 concurrent gRPC clients
against the board api on a fresh PostgreSQL database (target: >= 1,000 reads/s, p99 < 50 ms);
(b) the minutes of a meeting of 20 directors, 30 items and 200 votes rendered as PDF in French,
Dutch and English (target: < 3 s).

    orchestrator (run): fresh database, the board api process (it migrates), published minutes
        seeded through the minutes repository (meetings of 30 items, every decision in 3
        languages), then reader processes
    readers (python -m bench.board_minutes_bench reader ...): N threads each, one channel per
        thread, GetPublishedDecision in a closed loop (a few in ten are SearchPublishedDecisions
        pages), latencies of calls completed inside the measured window
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

from bench.common import closed_loop, run_json_process, service_env, summarize_ms
from coop_testkit import ServiceProcess, free_port, postgres_database, wait_for_health

LANGUAGES = ("fr", "nl", "en")
TOPICS = ("budget", "accounts", "energy", "housing", "solidarity", "training", "mobility", "culture")


def _text(base: str):
    from coop_board.domain.texts import LocalizedText
    return LocalizedText(fr=f"{base} (fr) " + "texte adopté " * 12, nl=f"{base} (nl) " + "aangenomen tekst " * 12,
                         en=f"{base} (en) " + "adopted text " * 12)


def meeting_record(n: int, day: date, *, items: int = 30, directors: int = 20, votes: int = 200):
    """A meeting of `directors` directors, `items` items (one in five closed) and `votes` votes."""
    from coop_board.domain import record as r

    ids = tuple(f"dir-{k:02d}" for k in range(1, directors + 1))
    starts = datetime.combine(day, dtime(18, 0), tzinfo=UTC)
    attendance = tuple(r.AttendanceLine(d, "present" if k < directors - 2 else "excused") for k, d in enumerate(ids))
    per_item = [votes // items + (1 if k < votes % items else 0) for k in range(items)]
    out = []
    for k in range(items):
        item_id, topic = f"m{n}-i{k}", TOPICS[k % len(TOPICS)]
        vote_list = tuple(r.VoteRecord(
            f"m{n}-v{k}-{v}", item_id, "proposal", f"m{n}-p{k}-{v}", _text(f"Proposal {v} on {topic}"),
            starts + timedelta(minutes=k * 5 + v), directors, directors - 2, directors // 2 + 1, True, "simple",
            r.VoteTally(12, 5, 1), "adopted" if v == 0 else "rejected",
            ballots=tuple((d, "for" if j % 3 else "against") for j, d in enumerate(ids[:directors - 2])))
            for v in range(per_item[k]))
        decision = r.DecisionLine(f"m{n}-d{k}", item_id, "adopted", _text(f"Decision {k} on {topic}"),
                                  _text(f"The board adopts the {topic} plan {k}"), f"m{n}-p{k}-0", r.VoteTally(12, 5, 1),
                                  (), day + timedelta(days=30),
                                  (r.FollowUpAction(f"m{n}-a{k}", _text(f"Follow {topic}"), "mgmt-1", day + timedelta(60)),))
        out.append(r.ItemRecord(item_id, k + 1, _text(f"Item on {topic} {k}"), "dossier",
                                "closed" if k % 5 == 4 else "open", votes=vote_list, decision=decision))
    return r.MeetingRecord(f"meeting-{n}", "coop", _text("Board"), starts, "Head office", ids[0], ids[1],
                           attendance, tuple(out), ids)


def published_minutes(record):
    from coop_board.domain.minutes_draft import draft_minutes

    now = record.starts_at + timedelta(days=40)
    m = draft_minutes(record, f"minutes-{record.meeting_id}", now, "dir-02")
    m.submit(now)
    m.approve("dec-approve", "meeting-next", now)
    m.publish(now)
    return m, now


def render_pdf_seconds(record) -> tuple[float, int]:
    """Draft, publish and render the meeting's minutes as PDF in the three languages."""
    from coop_board.adapters.render_minutes import render_minutes_pdf
    from coop_board.domain.minutes_public import published_rows

    started = time.perf_counter()
    m, now = published_minutes(record)
    docs, _ = published_rows(m, now)
    sizes = sum(len(render_minutes_pdf(doc)) for doc in docs)
    return time.perf_counter() - started, sizes


def seed(url: str, meetings: int) -> list[str]:
    """Published minutes of `meetings` meetings through the minutes repository; the decision ids."""
    from coop_board.adapters.unit_of_work import SqlBoardUnitOfWork
    from coop_board.domain.minutes_public import published_rows
    from coop_platform.db import Database, make_engine

    engine = make_engine(url)
    decision_ids = []
    try:
        for n in range(meetings):
            m, now = published_minutes(meeting_record(n, date(2026, 1, 5) + timedelta(days=14 * n)))
            uow = SqlBoardUnitOfWork(Database.of(engine))
            with uow:
                uow.minutes.add(m)
                uow.minutes.add_published(*published_rows(m, now))
                uow.commit()
            decision_ids += [d.decision_id for d in m.decisions]
    finally:
        engine.dispose()
    return decision_ids


def reader(argv: list[str]) -> int:
    """One reader process: `threads` clients in a closed loop; prints one JSON line."""
    import grpc

    from coop.board.v1 import minutes_pb2 as pb
    from coop.board.v1 import minutes_pb2_grpc as pb_grpc

    p = argparse.ArgumentParser()
    p.add_argument("--target", required=True)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--ids", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--start-at", type=float, required=True)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    ids = Path(args.ids).read_text().split()
    metadata = [("authorization", f"Bearer {args.token}")]

    def open_client(n: int):
        rnd = random.Random(args.seed * 1000 + n)
        channel = grpc.insecure_channel(args.target, options=[("grpc.use_local_subchannel_pool", 1)])
        stub = pb_grpc.MinutesServiceStub(channel)
        grpc.channel_ready_future(channel).result(timeout=30)

        def read() -> object:
            if rnd.random() < 0.1:
                return stub.SearchPublishedDecisions(pb.SearchPublishedDecisionsRequest(
                    language=rnd.choice(LANGUAGES), query=rnd.choice(TOPICS), page_size=20),
                    metadata=metadata, timeout=10)
            return stub.GetPublishedDecision(pb.GetPublishedDecisionRequest(
                decision_id=rnd.choice(ids), language=rnd.choice(LANGUAGES)), metadata=metadata, timeout=10)

        return read, channel.close

    print(json.dumps(closed_loop(open_client, args.threads, start=args.start_at, warmup=args.warmup,
                                 duration=args.duration)))
    return 0

def run(quick: bool) -> dict:
    """Both measurements; figures and verdicts in one dict."""
    from coop_platform.auth import issue_token

    meetings = 4 if quick else 40
    duration, warmup = (4.0, 1.0) if quick else (15.0, 3.0)
    clients, procs = 16, 2
    result: dict = {"benchmark": "board_minutes", "quick": quick, "clients": clients}

    # (b) rendering
    seconds, size = render_pdf_seconds(meeting_record(999, date(2027, 2, 15)))
    result["pdf_3_languages_s"] = round(seconds, 3)
    result["pdf_bytes"] = size
    result["pdf_ok"] = seconds < 3.0

    # (a) reads
    with postgres_database("coop_board_bench") as url, tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = service_env(url, "amqp://guest:guest@127.0.0.1:5672/", port) | {"COOP_API_PROCESSES": "1"}
        api = ServiceProcess("coop_board.entrypoints.grpc_api", env, Path(tmp) / "board-api.log").start()
        try:
            wait_for_health(port, timeout=90, proc=api)
            ids = seed(url, meetings)
            ids_file = Path(tmp) / "ids.txt"
            ids_file.write_text("\n".join(ids))
            token = issue_token("member-1", ["member"], tenant="coop")
            start_at = time.time() + 3.0
            argvs = [["-m", "bench.board_minutes_bench", "reader", "--target", f"127.0.0.1:{port}",
                      "--threads", str(clients // procs), "--ids", str(ids_file), "--token", token,
                      "--start-at", str(start_at), "--warmup", str(warmup), "--duration", str(duration),
                      "--seed", str(k + 1)] for k in range(procs)]
            with cf.ThreadPoolExecutor(procs) as pool:
                outs = list(pool.map(lambda a: run_json_process(a, timeout=duration + warmup + 120), argvs))
        finally:
            api.stop()
    latencies = sorted(x for out in outs for x in out["latencies_ms"])
    errors: dict[str, int] = {}
    for out in outs:
        for code, n in out["errors"].items():
            errors[code] = errors.get(code, 0) + n
    summary = summarize_ms(latencies) if latencies else {}
    reads_per_s = len(latencies) / duration
    result.update({"published_decisions": len(ids) * 3, "reads": len(latencies), "reads_per_s": round(reads_per_s, 1),
                   "latency_ms": summary, "errors": errors})
    p99 = summary.get("p99_ms", float("inf"))
    result["reads_ok"] = reads_per_s >= 1000 and p99 < 50 and not errors
    return result


def checks(result: dict) -> list:
    """The rows of bench/run.py's table for a `run` result."""
    from bench.common import Check

    p99 = result["latency_ms"].get("p99_ms", float("inf"))
    return [Check("board", "published decisions read, 16 gRPC clients", result["reads_per_s"], "reads/s",
                  ">= 1000", result["reads_per_s"] >= 1000),
            Check("board", "published decisions read, p99", p99, "ms", "< 50", p99 < 50),
            Check("board", "minutes of 30 items as PDF in 3 languages", result["pdf_3_languages_s"], "s", "< 3",
                  result["pdf_ok"])]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "reader":
        return reader(argv[1:])
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    print(json.dumps(run(args.quick), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
