"""Benchmark: a board meeting end to end through the board api (issue 11, Benchmarks): 20
directors, 30 agenda items, 200 votes recorded; target under 2 s.

    orchestrator (this process): a fresh PostgreSQL database, the board api as its own process
        (it migrates the database), then through gRPC, timed from the first call to the last:
        ScheduleMeeting, 30 AddAgendaItem (19 in the consent block, one closed with a secret
        vote), PublishAgenda, FreezeAgenda, RecordAttendance (18 present, 2 excused with a
        written proxy); ten items voted by the directors themselves (20 CastVote each, the 20
        directors at once, each with their own token: 200 votes), CloseVote and Decide each;
        the consent block by one show of hands; the secret vote's counts; their decisions.
    the api (python -m bench.board_meeting_bench serve): the entrypoint's build() and
        serve_forever(); the 20 directors' mandates are loaded through the roster's api first
        (not timed), and an admin runs the meeting (the secretary's rights).

    python -m bench.board_meeting_bench [--quick]     prints the result as JSON

Here (2 cores shared, loaded): 0.6 s; 1.6 to 1.9 s before ballots were group-committed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

DIRECTORS = [f"director-{n:02d}" for n in range(1, 21)]
ITEMS, VOTED_ITEMS = 30, 10


def seat_directors(port: int) -> None:
    """The 20 directors' mandates, loaded through the roster's api (CreateMandate, as an admin
    loads the sitting board), covering the meetings' days: the roster is the real one."""
    from datetime import date

    import grpc

    from coop.board.v1 import roster_pb2 as rpb
    from coop.board.v1 import roster_pb2_grpc as rgrpc
    from coop_platform.pbtypes import to_date
    from coop_testkit import bearer

    today = date.today()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        roster = rgrpc.RosterServiceStub(channel)
        for director in DIRECTORS:
            roster.CreateMandate(rpb.CreateMandateRequest(
                director_id=director, start_date=to_date(today.replace(year=today.year - 1)),
                end_date=to_date(today.replace(year=today.year + 3)), request_id=str(uuid.uuid4())),
                metadata=bearer("bench-admin", "admin"), timeout=30)


def _serve_main() -> None:
    """The api entrypoint, with the static roster (see the module doc)."""
    from coop_board import SERVICE_NAME
    from coop_board.entrypoints.grpc_api import build
    from coop_platform.config import load_settings
    from coop_platform.grpc_server import serve_forever
    from coop_platform.logs import configure_logging
    from coop_platform.migrations import upgrade

    settings = load_settings(SERVICE_NAME, "api")
    configure_logging(SERVICE_NAME, settings.log_level)
    upgrade(SERVICE_NAME, settings.database_url)
    engine, register, _ = build(settings)
    serve_forever(settings, register, engine)


@contextlib.contextmanager
def board_api(database_url: str, log_path: Path) -> Iterator[int]:
    from coop_testkit import ServiceProcess, free_port, wait_for_health

    port = free_port()
    env = {"COOP_DATABASE_URL": database_url, "COOP_GRPC_PORT": str(port), "COOP_METRICS_PORT": "0",
           "COOP_DEV_MODE": "1", "BENCH_BOARD_SERVE": "1"}
    proc = ServiceProcess("bench.board_meeting_bench", env, log_path).start()
    try:
        wait_for_health(port, timeout=90, proc=proc)
        yield port
    finally:
        proc.stop()


def meeting(port: int) -> dict:
    """The meeting through gRPC; seconds from the first call to the last decision."""
    import grpc

    from coop.board.v1 import common_pb2
    from coop.board.v1 import meetings_pb2 as pb
    from coop.board.v1 import meetings_pb2_grpc as pb_grpc
    from coop_platform.pbtypes import to_timestamp
    from coop_testkit import bearer

    secretary = bearer("bench-admin", "admin")  # runs the meeting as the secretary would
    tokens = {d: bearer(d, "director") for d in DIRECTORS}
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    grpc.channel_ready_future(channel).result(timeout=30)
    stub = pb_grpc.MeetingServiceStub(channel)
    text = common_pb2.LocalizedText
    rid = lambda: str(uuid.uuid4())  # noqa: E731
    cast_ms: list[float] = []
    pool = ThreadPoolExecutor(len(DIRECTORS))
    calls = 0

    def call(method: str, request, md=secretary):
        nonlocal calls
        calls += 1
        return getattr(stub, method)(request, metadata=md, timeout=30)

    def cast(director: str, vote_id: str, meeting_id: str, choice: int) -> None:
        t0 = time.perf_counter()
        stub.CastVote(pb.CastVoteRequest(meeting_id=meeting_id, vote_id=vote_id, choice=choice, request_id=rid()),
                      metadata=tokens[director], timeout=30)
        cast_ms.append((time.perf_counter() - t0) * 1000)

    started = time.perf_counter()
    m = call("ScheduleMeeting", pb.ScheduleMeetingRequest(meeting=pb.Meeting(
        title=text(fr="CA", nl="RvB", en="Board"), starts_at=to_timestamp(datetime.now(UTC) + timedelta(days=30)),
        place="Brussels"), request_id=rid())).meeting
    mid = m.meeting_id
    items = []
    for n in range(1, ITEMS + 1):
        consent = VOTED_ITEMS < n < ITEMS
        closed = n == ITEMS
        items.append(call("AddAgendaItem", pb.AddAgendaItemRequest(meeting_id=mid, request_id=rid(), item=pb.AgendaItem(
            title=text(fr=f"Point {n}", nl=f"Punt {n}", en=f"Item {n}"), source=common_pb2.ITEM_SOURCE_OTHER, kind="elect_officer" if closed else "other",
            visibility=2 if closed else 1, consent=consent, secret=closed,
            text=text(fr=f"Motion {n}", nl=f"Motie {n}", en=f"Motion {n}")))).item)
    call("PublishAgenda", pb.PublishAgendaRequest(meeting_id=mid, request_id=rid()))
    call("FreezeAgenda", pb.FreezeAgendaRequest(meeting_id=mid, request_id=rid()))
    present = DIRECTORS[:18]
    call("RecordAttendance", pb.RecordAttendanceRequest(meeting_id=mid, request_id=rid(), attendance=[
        *(pb.Attendance(director_id=d, status=pb.ATTENDANCE_STATUS_PRESENT) for d in present),
        pb.Attendance(director_id=DIRECTORS[18], status=pb.ATTENDANCE_STATUS_EXCUSED, proxy_holder_id=DIRECTORS[2]),
        pb.Attendance(director_id=DIRECTORS[19], status=pb.ATTENDANCE_STATUS_REMOTE)]))
    voters = [*present, DIRECTORS[19]]  # 19 in person or remote ...
    votes = 0
    for it in items[:VOTED_ITEMS]:
        vote = call("OpenVote", pb.OpenVoteRequest(meeting_id=mid, item_id=it.item_id, subject=pb.VOTE_SUBJECT_ITEM,
                                                   request_id=rid())).vote
        choices = [pb.VOTE_CHOICE_FOR if k % 4 else pb.VOTE_CHOICE_AGAINST for k in range(len(voters))]
        futures = [pool.submit(cast, d, vote.vote_id, mid, c) for d, c in zip(voters, choices, strict=True)]
        # ... and the 20th by the written proxy its holder carries
        futures.append(pool.submit(lambda v=vote: stub.CastVote(pb.CastVoteRequest(
            meeting_id=mid, vote_id=v.vote_id, choice=pb.VOTE_CHOICE_ABSTAIN, on_behalf_of=DIRECTORS[18],
            request_id=rid()), metadata=tokens[DIRECTORS[2]], timeout=30)))
        for f in futures:
            f.result()
        votes += len(futures)
        calls += len(futures)
        call("CloseVote", pb.CloseVoteRequest(meeting_id=mid, vote_id=vote.vote_id, request_id=rid()))
        call("Decide", pb.DecideRequest(meeting_id=mid, item_id=it.item_id, vote_id=vote.vote_id, request_id=rid()))
    block = call("OpenVote", pb.OpenVoteRequest(meeting_id=mid, subject=pb.VOTE_SUBJECT_CONSENT, request_id=rid())).vote
    call("RecordVotes", pb.RecordVotesRequest(meeting_id=mid, vote_id=block.vote_id, request_id=rid(), ballots=[
        pb.Ballot(director_id=d, choice=pb.VOTE_CHOICE_FOR) for d in voters]))
    call("CloseVote", pb.CloseVoteRequest(meeting_id=mid, vote_id=block.vote_id, request_id=rid()))
    secret = call("OpenVote", pb.OpenVoteRequest(meeting_id=mid, item_id=items[-1].item_id,
                                                 subject=pb.VOTE_SUBJECT_ITEM, request_id=rid())).vote
    call("RecordVotes", pb.RecordVotesRequest(meeting_id=mid, vote_id=secret.vote_id, request_id=rid(),
                                              counts=common_pb2.VoteCounts(in_favour=12, against=5, abstentions=2)))
    call("CloseVote", pb.CloseVoteRequest(meeting_id=mid, vote_id=secret.vote_id, request_id=rid()))
    call("Decide", pb.DecideRequest(meeting_id=mid, item_id=items[-1].item_id, vote_id=secret.vote_id,
                                    request_id=rid()))
    seconds = time.perf_counter() - started
    decisions = call("ListDecisions", pb.ListDecisionsRequest(meeting_id=mid, page_size=100)).decisions
    pool.shutdown()
    channel.close()
    cast_ms.sort()
    return {"seconds": round(seconds, 3), "directors": len(DIRECTORS), "items": len(items), "votes": votes,
            "rpcs": calls, "decisions": len(decisions), "cast_p50_ms": round(statistics.median(cast_ms), 2),
            "cast_p99_ms": round(cast_ms[int(len(cast_ms) * 0.99) - 1], 2), "target_s": 2.0,
            "ok": seconds < 2.0 and votes == 200 and len(decisions) == ITEMS}


def run(quick: bool) -> dict:
    """The benchmark on a fresh database (quick: the same meeting; it is small already)."""
    import tempfile

    from coop_testkit import postgres_database

    with (postgres_database("coopbench_board") as url, tempfile.TemporaryDirectory() as tmp,
          board_api(url, Path(tmp) / "board-api.log") as port):
        seat_directors(port)
        meeting(port)  # warm-up: connections, statement caches, the first JSON plans
        result = meeting(port)
    result["quick"] = quick
    return result


def main(argv: list[str] | None = None) -> int:
    if os.environ.get("BENCH_BOARD_SERVE"):
        _serve_main()
        return 0
    p = argparse.ArgumentParser(prog="python -m bench.board_meeting_bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    print(json.dumps(run(p.parse_args(argv).quick), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
