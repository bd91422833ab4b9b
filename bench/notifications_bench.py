"""`make bench`'s notifications benchmark (issue 13, Benchmarks), on the real processes: the
notifications api and worker, PostgreSQL, RabbitMQ and the local Postfix of the tests
(scripts/ensure_mail.sh, relaying to Dovecot):

    convocation  41,702 recipients (written straight into the recipients projection, one COPY),
                 then one `assembly.convened` per member published on board.events as the board
                 publishes it. Measured: how long until every delivery row (e-mail and in-app)
                 is stored (target: under 60 s), and how fast the worker renders the messages
                 and hands them to Postfix with the pace unlimited (target: at least 100
                 messages/s, so all of them in under 7 minutes), with the worker's CPU per
                 message. Every recipient's address is a `+` extension of one mailbox, so
                 Dovecot files them all in one Maildir (deleted afterwards).
    reminders    one `election.closing_soon` naming 20,000 non-voters: from the event to the
                 last reminder handed to Postfix (target: under 3 minutes).
    inbox        once the local Postfix's queue is empty (its deliveries to Dovecot would share
                 the 2 cores; in production the relay is another machine),
                 16 clients (2 processes x 8 threads) read random members' inboxes (ListInbox,
                 the portal's first page) for `--notif-inbox-seconds` (target: at least 1,000
                 reads/s, p99 under 50 ms).

    python -m bench.run --only notifications [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import shutil
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    ApiAndWorker,
    Check,
    CpuMeter,
    api_and_worker,
    closed_loop,
    psycopg_dsn,
    run_load,
    service_env,
    summarize_ms,
)
from coop_testkit import free_port, postgres_database

LANGUAGES = ("fr", "nl", "en")
MAILDIRS = Path("/var/mail/coop-test")


def defaults(*, quick: bool) -> dict[str, Any]:
    if quick:
        return {"notif_members": 2_000, "notif_non_voters": 1_000, "notif_inbox_seconds": 5.0}
    return {"notif_members": 41_702, "notif_non_voters": 20_000, "notif_inbox_seconds": 15.0}


def add_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("notifications")
    g.add_argument("--notif-members", type=int, help="members convened to the General Assembly (41,702)")
    g.add_argument("--notif-non-voters", type=int, help="non-voters the reminder names (20,000)")
    g.add_argument("--notif-inbox-seconds", type=float, help="measured seconds of inbox reads (15)")
    g.add_argument("--notif-inbox-clients", type=int, default=16, help="concurrent inbox readers (16)")
    g.add_argument("--notif-api-processes", type=int, default=2,
                   help="notifications api processes, COOP_API_PROCESSES (2, one per core)")
    g.add_argument("--notif-target-store-s", type=float, default=60.0)
    g.add_argument("--notif-target-send-rate", type=float, default=100.0)
    g.add_argument("--notif-target-reminders-s", type=float, default=180.0)
    g.add_argument("--notif-target-inbox", type=float, default=1000.0)
    g.add_argument("--notif-target-inbox-p99", type=float, default=50.0)


def member_id(i: int) -> str:
    return f"member-{i:06d}"


Notifications = ApiAndWorker


def notifications_processes(database_url: str, amqp_url: str, log_dir: Path, smtp_url: str, domain: str,
                            api_processes: int = 2) -> contextlib.AbstractContextManager[Notifications]:
    """The api (`api_processes` of them on one port) and the worker, sending to `smtp_url` with
    the pace unlimited."""
    env = service_env(database_url, amqp_url, free_port()) | {
        "COOP_SMTP_URL": smtp_url, "COOP_SMTP_RATE": "0", "COOP_MAIL_DOMAIN": domain,
        "COOP_NOTIFICATIONS_TICK_SECONDS": "0.5", "COOP_API_PROCESSES": str(api_processes)}
    return api_and_worker("coop_notifications", env, log_dir, "notifications")


def load_recipients(dsn: str, count: int, mailbox: str, domain: str) -> float:
    """`count` active members with an address `<mailbox>+<n>@domain` (one COPY); seconds taken."""
    import psycopg2

    now = datetime.now(UTC).isoformat()
    rows = io.StringIO("".join(
        f"coop\t{member_id(i)}\tM{i:06d}\tMember {i}\t{mailbox}+{i}@{domain}\t{LANGUAGES[i % 3]}\tactive\tt\tf"
        f"\t{now}\t{now}\t{now}\n" for i in range(count)))
    t0 = time.perf_counter()
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.copy_from(rows, "recipients", columns=(
                "tenant", "member_id", "member_number", "given_name", "email", "language", "status",
                "in_good_standing", "erased", "contact_as_of", "status_as_of", "standing_as_of"))
            cur.execute("ANALYZE recipients")
    finally:
        conn.close()
    return round(time.perf_counter() - t0, 3)


def _count(dsn: str, sql: str, params: tuple = ()) -> int:
    import psycopg2

    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def wait_for(dsn: str, sql: str, params: tuple, wanted: int, timeout: float, progress: str) -> float:
    """Seconds (monotonic clock) at which `sql` first counted `wanted`; TimeoutError after `timeout`."""
    from tqdm import tqdm

    deadline = time.monotonic() + timeout
    with tqdm(total=wanted, desc=progress, unit="row", file=sys.stderr,
              mininterval=2 if sys.stderr.isatty() else 30) as bar:
        while True:
            now = _count(dsn, sql, params)
            bar.update(now - bar.n)
            if now >= wanted:
                return time.monotonic()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{progress}: {now} of {wanted} after {timeout:.0f} s")
            time.sleep(0.25)


#: rows an outbox relay publishes per batch before it waits for their confirms (OutboxRelay)
RELAY_BATCH = 200


def publish_all(amqp_url: str, exchange: str, event: str, envelopes: list[dict]) -> float:
    """Publish with publisher confirms as the services' outbox relays do: a batch of 200, then
    its confirms; seconds taken."""
    from coop_platform.amqp import ConfirmingPublisher

    t0 = time.perf_counter()
    publisher = ConfirmingPublisher(amqp_url)
    try:
        for start in range(0, len(envelopes), RELAY_BATCH):
            batch = [(exchange, event, json.dumps(e), e["id"], e["correlationid"])
                     for e in envelopes[start:start + RELAY_BATCH]]
            if publisher.publish_many(batch) != len(batch):
                raise RuntimeError(f"the broker confirmed only part of a batch of {len(batch)}")
    finally:
        publisher.close()
    return round(time.perf_counter() - t0, 2)


def convocations(count: int) -> list[dict]:
    from coop_platform.envelope import make_envelope

    starts = datetime.now(UTC) + timedelta(days=30)
    return [make_envelope("board", "assembly.convened", {
        "assemblyId": "ga-bench", "tenant": "coop", "memberId": member_id(i), "language": LANGUAGES[i % 3],
        "title": "Assemblée générale", "startsAt": starts.isoformat().replace("+00:00", "Z"),
        "place": "Tour & Taxis, Bruxelles",
        "registrationDeadline": (starts - timedelta(days=7)).isoformat().replace("+00:00", "Z"),
        "agenda": ["Comptes annuels", "Décharge des administrateurs", "Élection du conseil"],
        "documents": [{"title": "Rapport annuel", "reference": "D-1"}], "electionId": "e-bench"})
        for i in range(count)]


EMAIL_ROWS = "SELECT count(*) FROM deliveries WHERE notification = %s AND channel = 'email'"
ALL_ROWS = "SELECT count(*) FROM deliveries WHERE notification = %s"
HANDED = ("SELECT count(*) FROM deliveries WHERE notification = %s AND channel = 'email' "
          "AND state IN ('submitted', 'delivered')")


def run_convocation(args: argparse.Namespace, n: Notifications, dsn: str, amqp_url: str) -> dict:
    members = args.notif_members
    envelopes = convocations(members)
    meter = CpuMeter(worker=n.worker.proc.pid).start()
    t0 = time.monotonic()
    publish_s = publish_all(amqp_url, "board.events", "assembly.convened", envelopes)
    rows = _count(dsn, "SELECT count(*) FROM recipients")  # every recipient: one e-mail and one in-app row
    stored_at = wait_for(dsn, ALL_ROWS, ("assembly_convocation",), 2 * rows, 900, "convocation rows stored")
    handed_at = wait_for(dsn, HANDED, ("assembly_convocation",), rows, 3600, "convocations handed to Postfix")
    cpu = meter.stop()
    wall = handed_at - t0
    worker_cpu_s = cpu["worker_cpu_cores"] * wall
    return {"members": members, "publish_s": publish_s, "rows": 2 * rows,
            "stored_s": round(stored_at - t0, 1), "handed_over_s": round(wall, 1),
            "send_rate_per_s": round(rows / wall, 1),
            "send_rate_after_store_per_s": round(rows / max(handed_at - stored_at, 1e-6), 1)
            if handed_at > stored_at else None,
            "worker_cpu_ms_per_message": round(1000 * worker_cpu_s / rows, 2), **cpu}


def run_reminders(args: argparse.Namespace, n: Notifications, dsn: str, amqp_url: str) -> dict:
    from coop_platform.envelope import make_envelope

    non_voters = [member_id(i) for i in range(min(args.notif_non_voters, args.notif_members))]
    envelope = make_envelope("elections", "election.closing_soon", {
        "electionId": "e-bench", "tenant": "coop",
        "closesAt": (datetime.now(UTC) + timedelta(hours=24)).isoformat().replace("+00:00", "Z"),
        "nonVoters": non_voters})
    meter = CpuMeter(worker=n.worker.proc.pid).start()
    t0 = time.monotonic()
    publish_all(amqp_url, "elections.events", "election.closing_soon", [envelope])
    stored_at = wait_for(dsn, EMAIL_ROWS, ("election_reminder",), len(non_voters), 600, "reminder rows stored")
    handed_at = wait_for(dsn, HANDED, ("election_reminder",), len(non_voters), 1800, "reminders handed to Postfix")
    return {"non_voters": len(non_voters), "stored_s": round(stored_at - t0, 1),
            "handed_over_s": round(handed_at - t0, 1), **meter.stop()}


def inbox_client(argv: list[str]) -> None:
    """A load-generator process: `--inbox-client TARGET THREADS START WARMUP DURATION MEMBERS SEED`."""
    import grpc

    from coop.notifications.v1 import notifications_pb2 as pb
    from coop.notifications.v1 import notifications_pb2_grpc as pb_grpc
    from coop_testkit import bearer

    target, threads, start, warmup, duration, members, seed = argv
    rng = random.Random(int(seed))
    tokens = [bearer(member_id(i), "member") for i in range(int(members))]

    def open_client(k: int):
        channel = grpc.insecure_channel(target)
        stub = pb_grpc.InboxServiceStub(channel)
        mine = random.Random(rng.random() + k)

        def call() -> None:
            stub.ListInbox(pb.ListInboxRequest(page_size=20), metadata=mine.choice(tokens), timeout=10)
        return call, channel.close

    print(json.dumps(closed_loop(open_client, int(threads), start=float(start), warmup=float(warmup),
                                 duration=float(duration))))


def wait_for_postfix_queue(timeout: float) -> float | None:
    """Seconds until the local Postfix has delivered what it was handed (its queue is empty), so
    that its 60,000 local deliveries do not share the 2 cores with the inbox reads measured next:
    in production the relay is another machine. None when the queue cannot be read."""
    import subprocess

    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            queued = subprocess.run(["postqueue", "-j"], capture_output=True, text=True, timeout=60).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        # deferred mail (a test's unknown address, retried for days) is not being delivered now
        if all(json.loads(line)["queue_name"] == "deferred" for line in queued.splitlines() if line.strip()):
            return round(time.monotonic() - t0, 1)
        time.sleep(2)
    return round(time.monotonic() - t0, 1)


def run_inbox(args: argparse.Namespace, n: Notifications, log_dir: Path) -> dict:
    procs = 2
    threads = max(1, args.notif_inbox_clients // procs)
    members = min(args.notif_members, 5_000)  # tokens are signed up front: a sample of the members
    start = time.time() + 8 + members / 2000
    argvs = [["-m", "bench.notifications_bench", "--inbox-client", n.target, str(threads), str(start), "2",
              str(args.notif_inbox_seconds), str(members), str(k)] for k in range(procs)]
    outs, cpu = run_load(argvs, [log_dir / f"inbox-client-{k}.log" for k in range(procs)],
                         timeout=600, measure_from=start + 2, meter=CpuMeter(api=n.api.proc.pid))
    latencies = sorted(x for o in outs for x in o["latencies_ms"])
    errors: dict[str, int] = {}
    for o in outs:
        for code, c in o["errors"].items():
            errors[code] = errors.get(code, 0) + c
    return {"clients": procs * threads, "reads_per_s": round(len(latencies) / args.notif_inbox_seconds, 1),
            "latency_ms": summarize_ms(latencies), "errors": errors, **cpu}


def run(args: argparse.Namespace, amqp_url: str, log_dir: Path) -> tuple[dict, list[Check]]:
    from coop_testkit.mailbox import mail_path

    path = mail_path()
    mailbox = f"bench-{uuid.uuid4().hex[:8]}"
    result: dict[str, Any] = {}
    try:
        with (postgres_database("coopbench_notifications") as url,
              notifications_processes(url, amqp_url, log_dir, path.smtp_url, path.domain,
                                      args.notif_api_processes) as n):
            dsn = psycopg_dsn(url)
            result["recipients_copy_s"] = load_recipients(dsn, args.notif_members, mailbox, path.domain)
            print(f"[notifications] {args.notif_members} recipients loaded", flush=True)
            result["convocation"] = run_convocation(args, n, dsn, amqp_url)
            print(f"[notifications] convocation: {result['convocation']}", flush=True)
            result["reminders"] = run_reminders(args, n, dsn, amqp_url)
            print(f"[notifications] reminders: {result['reminders']}", flush=True)
            result["postfix_drain_s"] = wait_for_postfix_queue(600)
            result["inbox"] = run_inbox(args, n, log_dir)
            print(f"[notifications] inbox: {result['inbox']}", flush=True)
    finally:
        shutil.rmtree(MAILDIRS / path.domain / mailbox, ignore_errors=True)
    return result, checks(args, result)


def checks(args: argparse.Namespace, result: dict) -> list[Check]:
    c, r, i = result["convocation"], result["reminders"], result["inbox"]
    members = c["members"]
    return [
        Check("notifications", f"convocation: {members:,} members' rows stored", c["stored_s"], "s",
              f"< {args.notif_target_store_s:.0f} s", c["stored_s"] < args.notif_target_store_s),
        Check("notifications", "convocation: handed to Postfix", c["send_rate_per_s"], "msg/s",
              f">= {args.notif_target_send_rate:.0f}/s", c["send_rate_per_s"] >= args.notif_target_send_rate),
        Check("notifications", "convocation: worker CPU per message", c["worker_cpu_ms_per_message"], "ms",
              "reported", None),
        Check("notifications", f"reminders: {r['non_voters']:,} non-voters handed over", r["handed_over_s"], "s",
              f"< {args.notif_target_reminders_s:.0f} s", r["handed_over_s"] < args.notif_target_reminders_s),
        Check("notifications", f"inbox reads, {i['clients']} clients, {args.notif_api_processes} api processes",
              i["reads_per_s"], "/s",
              f">= {args.notif_target_inbox:.0f}/s", i["reads_per_s"] >= args.notif_target_inbox and not i["errors"]),
        Check("notifications", "inbox reads p99", i["latency_ms"].get("p99_ms", float("nan")), "ms",
              f"< {args.notif_target_inbox_p99:.0f} ms", i["latency_ms"].get("p99_ms", 1e9) < args.notif_target_inbox_p99),
    ]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--inbox-client"]:
        inbox_client(sys.argv[2:])
    else:
        sys.exit("run it through `python -m bench.run --only notifications [--quick]`")
