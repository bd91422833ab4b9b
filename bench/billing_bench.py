"""Benchmark 5: the billing service. A year of invoicing (400,000 invoices) over gRPC, then every
member's yearly statement (41,702) and a redistribution envelope simulated with 5 allocation keys.

    orchestrator (this process): fresh PostgreSQL database, billing api + worker processes;
        members: the first --seed-events members reach billing's member-standing projection the
            production way (membership member.admitted + share.paid events published on the
            bench vhost, consumed by the billing worker, which also bills their annual share);
            the others are written straight into that projection (table `members`, the one the
            service layer reads) with their share fee rows, one activity per member (SQL COPY);
        clients: CreateClient over gRPC (Belgian VAT numbers, deduplicated)
    issuer processes (python -m bench.billing_bench issuers ...): N threads each, one channel per
        thread, each invoice as its member (member token) with 2 lines, issued today (invoice numbers
        follow dates, so a past date would be refused once today's are issued): by default one
        CreateInvoice(issue=true) call (the portal's "create and
        send"); with --invoice-flow three-calls CreateInvoice (1 line) -> AddInvoiceLines (1 line)
        -> IssueInvoice. Runs until
        --invoices are issued or --invoice-seconds of measurement have passed, whichever first;
        a shorter window is extrapolated to --invoices (said so in the table)
    payments: budgets, statements and redistribution count what clients PAID, so every invoice
        issued over gRPC is then paid in full on its issue day, with SQL (payment rows and the
        ledger entries a RecordPayment writes)
    top-up: when the window issued fewer than --invoices, the rest of the year's invoices are
        written with SQL COPY (paid rows, lines, payments, ledger entries, continuing the gapless
        number series; figures from the domain), so statements and the simulation see a full year
    statements: every member's yearly statement through StreamStatements (the year-end run, as
        `coop statements` does), --statement-streams streams in parallel over member-id ranges
        (python -m bench.billing_bench stream ...); then GetStatement for a sample of
        --statement-sample members, in parallel (the portal's one-member call)
    SimulateRedistribution: 5 keys side by side over every member with revenue, timed by the
        client; the pure domain (python -m bench.billing_bench domain ...) in its own process
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench.common import (
    Check,
    CpuMeter,
    _wait_for_log,
    percentile,
    psycopg_dsn,
    run_json_process,
    run_load,
    service_env,
    summarize_ms,
    wait_outbox_drained,
)
from coop_testkit import (
    ServiceProcess,
    delete_queues_matching,
    free_port,
    postgres_database,
    wait_for_health,
)

SECTORS = ("62.01", "90.01", "74.10", "85.59", "43.21", "56.10", "71.11", "96.02", "59.11", "86.90")
LANGUAGES = ("fr", "nl", "en")
VAT_RATES = ("21", "21", "21", "6", "12", "0")


def year_days(today: date) -> list[date]:
    """Every day of the current year up to today (invoices are never issued in the future)."""
    first = date(today.year, 1, 1)
    return [first + timedelta(days=i) for i in range((today - first).days + 1)]


def be_vat(n: int) -> str:
    """A valid Belgian enterprise number: 0 + 7 digits, then 97 - (first eight mod 97)."""
    head = f"0{4000000 + n:07d}"
    return f"BE{head}{97 - int(head) % 97:02d}"


def member_weights(count: int, seed: int = 7) -> list[float]:
    """Skewed invoicing activity: a few members invoice a lot, most a little (log-normal)."""
    rnd = random.Random(seed)
    return [rnd.lognormvariate(0.0, 1.0) for _ in range(count)]


# -- the processes -------------------------------------------------------------------------------

@contextlib.contextmanager
def billing_processes(env: dict[str, str], log_dir: Path, api_processes: int) -> Iterator[tuple[int, ServiceProcess, ServiceProcess]]:
    """The api (it migrates the fresh database), then the worker, as `make run` starts them."""
    port = free_port()
    env = {**env, "COOP_GRPC_PORT": str(port), "COOP_API_PROCESSES": str(api_processes)}
    api = ServiceProcess("coop_billing.entrypoints.grpc_api", env, log_dir / "billing-api.log").start()
    wrk: ServiceProcess | None = None
    try:
        wait_for_health(port, timeout=90, proc=api)
        wrk = ServiceProcess("coop_billing.entrypoints.worker", env, log_dir / "billing-worker.log").start()
        _wait_for_log(wrk, "worker: consuming", timeout=90)
        yield port, api, wrk
    finally:
        if wrk:
            wrk.stop()
        api.stop()


# -- setup ---------------------------------------------------------------------------------------

def _members(count: int) -> list[tuple[str, str, str, str, str]]:
    """(member id, member number, given name, family name, language), deterministic."""
    rnd = random.Random(11)
    return [(str(uuid.UUID(int=rnd.getrandbits(128), version=4)), f"M{i + 1:06d}", f"Given{i}", f"Family{i}",
             LANGUAGES[i % 3]) for i in range(count)]


def _seed_by_events(members, amqp_url: str, dsn: str, year: int) -> dict:
    """membership's member.admitted and share.paid for each member, consumed by the billing worker."""
    import psycopg2

    from coop_platform.amqp import ConfirmingPublisher
    from coop_platform.envelope import dumps, make_envelope

    if not members:
        return {"members": 0}
    batch: list[tuple[str, str, str, str, None]] = []
    for member_id, number, given, family, lang in members:
        admitted = make_envelope("membership", "member.admitted", {"member": {
            "memberId": member_id, "memberNumber": number, "givenName": given, "familyName": family,
            "preferredLanguage": lang, "status": "MEMBER_STATUS_ACTIVE"}}, subject=member_id)
        paid = make_envelope("membership", "share.paid", {
            "share": {"memberId": member_id, "year": year, "amountCents": "3000"}, "memberNumber": number,
            "inGoodStanding": True}, subject=member_id)
        batch += [("membership.events", "member.admitted", dumps(admitted), admitted["id"], None),
                  ("membership.events", "share.paid", dumps(paid), paid["id"], None)]
    t0 = time.perf_counter()
    publisher = ConfirmingPublisher(amqp_url)
    try:
        for start in range(0, len(batch), 500):
            publisher.publish_many(batch[start:start + 500])
    finally:
        publisher.close()
    published_s = time.perf_counter() - t0
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    deadline = time.monotonic() + 600
    with conn.cursor() as cur:
        while True:
            cur.execute("SELECT count(*) FROM members m JOIN share_fees f ON f.member_id = m.member_id "
                        "WHERE m.in_good_standing AND m.status = 'active' AND m.member_number <> ''")
            done = cur.fetchone()[0]
            if done >= len(members):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"billing worker: {done}/{len(members)} members projected after 600 s")
            time.sleep(0.2)
    conn.close()
    applied_s = time.perf_counter() - t0
    return {"members": len(members), "events": len(batch), "publish_s": round(published_s, 2),
            "applied_s": round(applied_s, 2), "events_per_s": round(len(batch) / applied_s, 1)}


def _copy(cur, table: str, columns: tuple[str, ...], rows) -> None:
    buf = io.StringIO()
    for row in rows:
        buf.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
    buf.seek(0)
    cur.copy_expert(f'COPY {table} ({", ".join(columns)}) FROM STDIN', buf)


def _seed_by_sql(members, all_members, dsn: str, year: int) -> dict:
    """The rest of the projection (+ share fees) and one activity per member, written directly."""
    import psycopg2

    from coop_billing.domain.invoice import DocumentNumber

    t0 = time.perf_counter()
    now = datetime.now(UTC).isoformat()
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        _copy(cur, "members", ("member_id", "member_number", "given_name", "family_name", "preferred_language",
                               "status", "in_good_standing", "standing_at", "updated_at"),
              ((m, n, g, f, lang, "active", "true", now, now) for m, n, g, f, lang in members))
        cur.execute("INSERT INTO number_counters (series, year, last_value) VALUES ('SH', %s, 0) "
                    "ON CONFLICT DO NOTHING", (year,))
        cur.execute("SELECT last_value FROM number_counters WHERE series = 'SH' AND year = %s FOR UPDATE", (year,))
        last = cur.fetchone()[0]
        _copy(cur, "share_fees", ("fee_id", "member_id", "year", "amount_cents", "number", "state", "paid_cents",
                                  "created_at"),
              ((uuid.uuid4(), m[0], year, 3000, DocumentNumber("SH", year, last + i + 1), "billed", 0, now)
               for i, m in enumerate(members)))
        cur.execute("UPDATE number_counters SET last_value = %s WHERE series = 'SH' AND year = %s",
                    (last + len(members), year))
        activities = [(str(uuid.uuid4()), m[0], f"Activity of {m[1]}", SECTORS[i % len(SECTORS)], now)
                      for i, m in enumerate(all_members)]
        _copy(cur, "activities", ("activity_id", "member_id", "name", "sector_code", "created_at"), activities)
    conn.close()
    return {"members": len(members), "activities": len(activities), "seconds": round(time.perf_counter() - t0, 2),
            "activity_of": {m: a for a, m, *_ in activities}}


def _create_clients(stub, pb, count: int, admin) -> tuple[list[str], dict]:
    t0 = time.perf_counter()
    ids, existed = [], 0
    for n in range(count):
        vat = be_vat(n % max(1, count - count // 10))  # ~10% repeat a VAT number: deduplicated
        out = stub.CreateClient(pb.CreateClientRequest(name=f"Client {n}", country="BE",
                                                       address=f"Rue {n}, 1000 Bruxelles", vat_number=vat),
                                metadata=admin, timeout=30)
        existed += out.already_existed
        if not out.already_existed:
            ids.append(out.client.client_id)
    return ids, {"calls": count, "created": len(ids), "deduplicated": existed,
                 "seconds": round(time.perf_counter() - t0, 2)}


# -- the invoice load ----------------------------------------------------------------------------

def _issue(opts, target: str, plan_file: Path, log_dir: Path, api_pid: int, worker_pid: int) -> dict:
    procs = max(1, opts.billing_client_procs)
    threads = [opts.billing_clients // procs + (1 if i < opts.billing_clients % procs else 0) for i in range(procs)]
    quota = [opts.invoices // procs + (1 if i < opts.invoices % procs else 0) for i in range(procs)]
    # every process signs its members' tokens first (RS256: about 0.3 ms each), outside the window
    start_at = time.time() + 3.0 + opts.members / 3_000
    argv = lambda i: [  # noqa: E731
        "-m", "bench.billing_bench", "issuers", "--target", target, "--plan", str(plan_file),
        "--threads", str(threads[i]), "--quota", str(quota[i]), "--warmup", str(opts.invoice_warmup),
        "--duration", str(opts.invoice_seconds), "--start-at", str(start_at), "--seed", str(i + 1),
        "--flow", opts.invoice_flow]
    loadavg = os.getloadavg()[0]
    outs, cpu = run_load([argv(i) for i in range(procs)], [log_dir / f"billing-issuers-{i}.log" for i in range(procs)],
                         timeout=opts.invoice_warmup + opts.invoice_seconds + 300,
                         measure_from=start_at + opts.invoice_warmup, meter=CpuMeter(api=api_pid, worker=worker_pid),
                         env={"COOP_DEV_MODE": "1"})
    t_measure = start_at + opts.invoice_warmup
    window_end = max(o["last_end"] for o in outs)
    window = max(1e-6, window_end - t_measure)
    merged: dict[str, list[float]] = {k: [x for o in outs for x in o["latencies_ms"][k]]
                                      for k in ("invoice", "create", "add_lines", "issue")}
    errors: dict[str, int] = {}
    per_second: dict[int, int] = {}
    for o in outs:
        for k, v in o["errors"].items():
            errors[k] = errors.get(k, 0) + v
        for k, v in o["per_second"].items():
            per_second[int(k)] = per_second.get(int(k), 0) + v
    full_seconds = [per_second.get(s, 0) for s in range(int(t_measure) + 1, int(window_end))]
    measured = len(merged["invoice"])
    return {
        "clients": opts.billing_clients, "client_processes": procs, "warmup_s": opts.invoice_warmup,
        "window_s": round(window, 2), "issued_total": sum(o["issued"] for o in outs),
        "issued_in_window": measured, "invoices_per_s": round(measured / window, 1),
        "flow": opts.invoice_flow, "rpcs_per_s": round(CALLS_PER_INVOICE[opts.invoice_flow] * measured / window, 1),
        "errors": errors,
        "invoice": summarize_ms(merged["invoice"]), "create": summarize_ms(merged["create"]),
        "add_lines": summarize_ms(merged["add_lines"]), "issue": summarize_ms(merged["issue"]),
        "steady_per_s_min": min(full_seconds, default=0),
        "steady_per_s_median": int(percentile(sorted(full_seconds), 50)) if full_seconds else 0,
        **cpu, "loadavg_1m_before": round(loadavg, 2),
    }


CALLS_PER_INVOICE = {"one-call": 1, "three-calls": 3}


def _issuers_main(args: argparse.Namespace) -> int:
    import grpc

    from coop.billing.v1 import billing_pb2 as pb
    from coop.billing.v1 import billing_pb2_grpc as pb_grpc
    from coop_platform.auth import issue_token

    plan = json.loads(Path(args.plan).read_text())
    members, weights, clients = plan["members"], plan["weights"], plan["clients"]
    # a member's portal token, made before the start: signing is the identity provider's work
    tokens = {member: [("authorization", "Bearer " + issue_token(member, ["member"], ttl_seconds=3 * 3600))]
              for member, _activity in members}
    t_measure = args.start_at + args.warmup
    t_end = t_measure + args.duration
    names = ("invoice", "create", "add_lines", "issue")
    latencies = {k: [[] for _ in range(args.threads)] for k in names}
    ends: list[list[float]] = [[] for _ in range(args.threads)]
    errors: dict[str, int] = {}
    issued = [0]
    lock = threading.Lock()
    ready = threading.Barrier(args.threads + 1)

    def token(member_id: str) -> list[tuple[str, str]]:
        return tokens[member_id]

    def line(rnd: random.Random, n: int) -> pb.InvoiceLine:
        return pb.InvoiceLine(description=f"Prestation {n}", quantity=rnd.choice(("1", "2", "1.5", "8", "0.5")),
                              unit_price_cents=int(rnd.lognormvariate(10.0, 1.0)) + 100,
                              vat_rate=rnd.choice(VAT_RATES))

    def client(n: int) -> None:
        rnd = random.Random(args.seed * 1000 + n)
        channel = grpc.insecure_channel(args.target, options=[("grpc.use_local_subchannel_pool", 1)])
        stub = pb_grpc.BillingServiceStub(channel)
        create, add, issue = stub.CreateInvoice, stub.AddInvoiceLines, stub.IssueInvoice
        grpc.channel_ready_future(channel).result(timeout=30)
        ready.wait()
        while time.time() < args.start_at:
            time.sleep(0.001)
        while True:
            with lock:
                if issued[0] >= args.quota:
                    break
                issued[0] += 1
            if time.time() >= t_end:
                break
            member_id, activity_id = members[rnd.choices(range(len(members)), cum_weights=weights)[0]]
            md = token(member_id)
            step = "create"
            try:
                t0 = time.perf_counter()
                if args.flow == "one-call":
                    done = create(pb.CreateInvoiceRequest(
                        member_id=member_id, activity_id=activity_id, client_id=rnd.choice(clients),
                        lines=[line(rnd, 1), line(rnd, 2)], issue=True),
                        metadata=md, timeout=60)
                    t1 = t2 = t3 = time.perf_counter()
                    if not done.number:
                        raise RuntimeError("issued without a number")
                    now = time.time()
                    if t_measure <= now < t_end:
                        latencies["invoice"][n].append(round((t3 - t0) * 1000.0, 3))
                        ends[n].append(now)
                    continue
                draft = create(pb.CreateInvoiceRequest(member_id=member_id, activity_id=activity_id,
                                                       client_id=rnd.choice(clients), lines=[line(rnd, 1)]),
                               metadata=md, timeout=60)
                t1 = time.perf_counter()
                step = "add_lines"
                add(pb.AddInvoiceLinesRequest(invoice_id=draft.invoice_id, lines=[line(rnd, 2)]),
                    metadata=md, timeout=60)
                t2 = time.perf_counter()
                step = "issue"
                done = issue(pb.IssueInvoiceRequest(invoice_id=draft.invoice_id), metadata=md, timeout=60)
                t3 = time.perf_counter()
                if not done.number:
                    raise RuntimeError("issued without a number")
            except grpc.RpcError as exc:
                with lock:
                    key = f"{step}:{exc.code().name}"
                    errors[key] = errors.get(key, 0) + 1
                    issued[0] -= 1
                continue
            now = time.time()
            if t_measure <= now < t_end:
                for key, value in zip(names, (t3 - t0, t1 - t0, t2 - t1, t3 - t2), strict=True):
                    latencies[key][n].append(round(value * 1000.0, 3))
                ends[n].append(now)
        channel.close()

    workers = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(args.threads)]
    for t in workers:
        t.start()
    ready.wait()
    for t in workers:
        t.join()
    flat_ends = [x for per in ends for x in per]
    per_second: dict[int, int] = {}
    for x in flat_ends:
        per_second[int(x)] = per_second.get(int(x), 0) + 1
    print(json.dumps({"latencies_ms": {k: [x for per in v for x in per] for k, v in latencies.items()},
                      "errors": errors, "issued": issued[0], "last_end": max(flat_ends, default=t_measure),
                      "per_second": per_second}))
    return 0


# -- the rest of the year ------------------------------------------------------------------------

def _pay_issued(dsn: str) -> dict:
    """Every issued invoice paid in full on its issue day, with SQL: the payment rows and the
    ledger entries RecordPayment writes (the whole amount excl. VAT and the whole contribution)."""
    import psycopg2

    t0 = time.perf_counter()
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        cur.execute("INSERT INTO payments (invoice_id, payment_id, seq, amount_cents, paid_on) "
                    "SELECT invoice_id, 'bench-' || number, 0, total_cents, issued_on FROM invoices "
                    "WHERE state = 'issued'")
        paid = cur.rowcount
        cur.execute('INSERT INTO ledger_entries (activity_id, kind, amount_cents, "on", reference, contract_id, '
                    "balance_delta, reserved_delta) "
                    "SELECT activity_id, 'invoice', net_cents, issued_on, number, NULL, net_cents, 0 "
                    "FROM invoices WHERE state = 'issued' UNION ALL "
                    "SELECT activity_id, 'revenue_contribution', contribution_cents, issued_on, number, NULL, "
                    "-contribution_cents, 0 FROM invoices WHERE state = 'issued'")
        cur.execute("UPDATE invoices SET state = 'paid', paid_cents = total_cents WHERE state = 'issued'")
    conn.close()
    return {"invoices": paid, "seconds": round(time.perf_counter() - t0, 2)}


def _top_up(dsn: str, count: int, plan: dict, members_all: list[str], year: int) -> dict:
    """Write `count` more invoices, paid on their issue day (lines, payments, ledger entries,
    numbers) with SQL COPY. Members without an invoice yet get one first, so that every member
    has revenue."""
    from decimal import Decimal

    import psycopg2

    from coop_billing.domain.contribution import RateKind, RateSchedule, revenue_contribution_cents
    from coop_billing.domain.invoice import DocumentNumber, InvoiceLine, Totals

    if count <= 0:
        return {"invoices": 0, "seconds": 0.0}
    t0 = time.perf_counter()
    rnd = random.Random(5)
    schedule = RateSchedule.default()
    days = [date.fromisoformat(d) for d in plan["days"]]
    activity_of = dict(plan["members"])
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT DISTINCT member_id FROM invoices WHERE state <> 'draft'")
        have = {r[0] for r in cur.fetchall()}
        cur.execute("SELECT last_value FROM number_counters WHERE series = '' AND year = %s FOR UPDATE", (year,))
        row = cur.fetchone()
        last = row[0] if row else 0
        if row is None:
            cur.execute("INSERT INTO number_counters (series, year, last_value) VALUES ('', %s, 0)", (year,))
        missing = [m for m in members_all if m not in have]
        picks = missing[:count] + [plan["members"][i][0] for i in rnd.choices(
            range(len(plan["members"])), cum_weights=plan["weights"], k=max(0, count - len(missing)))]
        invoices, lines, entries, payments = [], [], [], []
        now = datetime.now(UTC).isoformat()
        for seq, member_id in enumerate(picks, start=last + 1):
            issued_on = rnd.choice(days)
            net = int(rnd.lognormvariate(10.0, 1.0)) + 100
            rate = rnd.choice(VAT_RATES)
            totals = Totals.of([InvoiceLine("Prestation", Decimal(1), net, rate)])
            contribution = revenue_contribution_cents(totals.net_cents, schedule, issued_on)
            number = str(DocumentNumber("", year, seq))
            invoice_id, activity_id = str(uuid.uuid4()), activity_of[member_id]
            invoices.append((invoice_id, member_id, activity_id, rnd.choice(plan["clients"]), "paid", number, year,
                             issued_on, issued_on + timedelta(days=30), totals.net_cents, totals.vat_cents,
                             totals.total_cents, totals.total_cents, contribution,
                             schedule.rate_at(RateKind.REVENUE, issued_on), now))
            lines.append((invoice_id, 0, "Prestation", "1", net, rate))
            payments.append((invoice_id, f"bench-{number}", 0, totals.total_cents, issued_on))
            entries += [(activity_id, "invoice", totals.net_cents, issued_on, number, None, totals.net_cents, 0),
                        (activity_id, "revenue_contribution", contribution, issued_on, number, None, -contribution, 0)]
        _copy(cur, "invoices", ("invoice_id", "member_id", "activity_id", "client_id", "state", "number", "year",
                                "issued_on", "due_on", "net_cents", "vat_cents", "total_cents", "paid_cents",
                                "contribution_cents", "contribution_rate_bp", "created_at"), invoices)
        _copy(cur, "invoice_lines", ("invoice_id", "position", "description", "quantity", "unit_price_cents",
                                     "vat_rate"), lines)
        _copy(cur, "payments", ("invoice_id", "payment_id", "seq", "amount_cents", "paid_on"), payments)
        _copy(cur, "ledger_entries", ("activity_id", "kind", "amount_cents", '"on"', "reference", "contract_id",
                                      "balance_delta", "reserved_delta"), entries)
        cur.execute("UPDATE number_counters SET last_value = %s WHERE series = '' AND year = %s",
                    (last + len(picks), year))
    with conn, conn.cursor() as cur:
        cur.execute("ANALYZE")
    conn.close()
    return {"invoices": len(picks), "members_given_a_first_invoice": min(len(missing), count),
            "seconds": round(time.perf_counter() - t0, 2)}


def _numbering(dsn: str, year: int) -> dict:
    import psycopg2

    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*), count(DISTINCT number), min(split_part(number, '-', 2)::int), "
                        "max(split_part(number, '-', 2)::int) FROM invoices WHERE state <> 'draft' AND year = %s",
                        (year,))
            issued, distinct, low, high = cur.fetchone()
            cur.execute("SELECT last_value FROM number_counters WHERE series = '' AND year = %s", (year,))
            counter = (cur.fetchone() or (0,))[0]
            cur.execute("SELECT count(*) FROM invoices WHERE state = 'draft'")
            drafts = cur.fetchone()[0]
            # what statements count: the year's ledger (paid, less credit notes)
            cur.execute("SELECT coalesce(sum(amount_cents) FILTER (WHERE kind = 'invoice'), 0) "
                        "- coalesce(sum(amount_cents) FILTER (WHERE kind = 'credit_note'), 0), "
                        "coalesce(sum(amount_cents) FILTER (WHERE kind = 'revenue_contribution'), 0) "
                        "- coalesce(sum(amount_cents) FILTER (WHERE kind = 'contribution_reversal'), 0) "
                        'FROM ledger_entries WHERE "on" BETWEEN %s AND %s', (date(year, 1, 1), date(year, 12, 31)))
            revenue, contribution = cur.fetchone()
            cur.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            pending = cur.fetchone()[0]
    finally:
        conn.close()
    return {"issued": issued, "distinct_numbers": distinct, "lowest": low or 0, "highest": high or 0,
            "counter": counter, "drafts_left": drafts, "revenue_cents": int(revenue),
            "contribution_cents": int(contribution), "outbox_pending": pending,
            "gapless": issued == distinct == (high or 0) == counter and (low or 1) == 1}


# -- statements ----------------------------------------------------------------------------------

def _statements(opts, target: str, ids_file: Path, year: int, log_dir: Path, api_pid: int, worker_pid: int) -> dict:
    procs = max(1, opts.billing_client_procs)
    start_at = time.time() + 2.0
    argv = lambda i: [  # noqa: E731
        "-m", "bench.billing_bench", "statements", "--target", target, "--ids", str(ids_file), "--year", str(year),
        "--threads", str(opts.statement_threads), "--part", str(i), "--parts", str(procs),
        "--start-at", str(start_at)]
    outs, cpu = run_load([argv(i) for i in range(procs)],
                         [log_dir / f"billing-statements-{i}.log" for i in range(procs)], timeout=900,
                         measure_from=start_at, meter=CpuMeter(api=api_pid, worker=worker_pid),
                         env={"COOP_DEV_MODE": "1"})
    lat = [x for o in outs for x in o["latencies_ms"]]
    errors: dict[str, int] = {}
    for o in outs:
        for k, v in o["errors"].items():
            errors[k] = errors.get(k, 0) + v
    wall = max(o["last_end"] for o in outs) - start_at
    return {"statements": len(lat), "wall_s": round(wall, 2), "per_s": round(len(lat) / wall, 1),
            "threads": procs * opts.statement_threads, "errors": errors, **summarize_ms(lat), **cpu,
            "revenue_cents": sum(o["revenue_cents"] for o in outs),
            "contribution_cents": sum(o["contribution_cents"] for o in outs),
            "languages": {lang: sum(o["languages"].get(lang, 0) for o in outs) for lang in LANGUAGES},
            "html_bytes_mean": round(sum(o["html_bytes"] for o in outs) / max(1, len(lat)))}


def _stream_statements(opts, target: str, ids_file: Path, year: int, log_dir: Path, api_pid: int,
                       worker_pid: int) -> dict:
    """Every statement through StreamStatements, split in member-id ranges over parallel streams."""
    ids = sorted(ids_file.read_text().split())
    streams = max(1, opts.statement_streams)
    bounds = [len(ids) * k // streams for k in range(streams + 1)]
    start_at = time.time() + 2.0
    argv = lambda k: [  # noqa: E731
        "-m", "bench.billing_bench", "stream", "--target", target, "--year", str(year), "--start-at", str(start_at),
        "--after", ids[bounds[k] - 1] if bounds[k] else "", "--limit", str(bounds[k + 1] - bounds[k])]
    outs, cpu = run_load([argv(k) for k in range(streams)], [log_dir / f"billing-stream-{k}.log" for k in range(streams)],
                         timeout=900, measure_from=start_at, meter=CpuMeter(api=api_pid, worker=worker_pid),
                         env={"COOP_DEV_MODE": "1"})
    wall = max(o["last_end"] for o in outs) - start_at
    count = sum(o["statements"] for o in outs)
    return {"statements": count, "streams": streams, "wall_s": round(wall, 2), "per_s": round(count / wall, 1),
            "first_statement_s": round(min(o["first_at"] for o in outs) - start_at, 3),
            "errors": {o["error"]: 1 for o in outs if o["error"]}, **cpu,
            "revenue_cents": sum(o["revenue_cents"] for o in outs),
            "contribution_cents": sum(o["contribution_cents"] for o in outs),
            "distinct_members": len({m for o in outs for m in o["member_ids"]}),
            "languages": {lang: sum(o["languages"].get(lang, 0) for o in outs) for lang in LANGUAGES},
            "html_bytes_mean": round(sum(o["html_bytes"] for o in outs) / max(1, count))}


def _stream_main(args: argparse.Namespace) -> int:
    import grpc

    from coop.billing.v1 import billing_pb2 as pb
    from coop.billing.v1 import billing_pb2_grpc as pb_grpc
    from coop_testkit import bearer

    admin = bearer("bench-admin", "admin", ttl=3 * 3600)
    channel = grpc.insecure_channel(args.target)
    grpc.channel_ready_future(channel).result(timeout=30)
    stub = pb_grpc.BillingServiceStub(channel)
    out = {"statements": 0, "revenue_cents": 0, "contribution_cents": 0, "html_bytes": 0, "languages": {},
           "member_ids": [], "error": "", "first_at": 0.0, "last_end": 0.0}
    while time.time() < args.start_at:
        time.sleep(0.001)
    try:
        for s in stub.StreamStatements(pb.StreamStatementsRequest(year=args.year, page_token=args.after,
                                                                  limit=args.limit), metadata=admin, timeout=900):
            if not out["statements"]:
                out["first_at"] = time.time()
            out["statements"] += 1
            out["revenue_cents"] += s.revenue_excl_vat_cents
            out["contribution_cents"] += s.revenue_contribution_cents
            out["html_bytes"] += len(s.html)
            out["languages"][s.language] = out["languages"].get(s.language, 0) + 1
            out["member_ids"].append(s.member_id)
    except grpc.RpcError as exc:
        out["error"] = exc.code().name
    out["last_end"] = time.time()
    channel.close()
    print(json.dumps(out))
    return 0


def _statements_main(args: argparse.Namespace) -> int:
    import grpc

    from coop.billing.v1 import billing_pb2 as pb
    from coop.billing.v1 import billing_pb2_grpc as pb_grpc
    from coop_testkit import bearer

    admin = bearer("bench-admin", "admin", ttl=3 * 3600)
    ids = Path(args.ids).read_text().split()[args.part::args.parts]
    mine = [ids[n::args.threads] for n in range(args.threads)]
    latencies: list[list[float]] = [[] for _ in range(args.threads)]
    totals = {"revenue_cents": 0, "contribution_cents": 0, "html_bytes": 0}
    languages: dict[str, int] = {}
    errors: dict[str, int] = {}
    last = [0.0]
    lock = threading.Lock()
    ready = threading.Barrier(args.threads + 1)

    def client(n: int) -> None:
        channel = grpc.insecure_channel(args.target, options=[("grpc.use_local_subchannel_pool", 1)])
        get = pb_grpc.BillingServiceStub(channel).GetStatement
        grpc.channel_ready_future(channel).result(timeout=30)
        ready.wait()
        while time.time() < args.start_at:
            time.sleep(0.001)
        revenue = contribution = html = 0
        langs: dict[str, int] = {}
        for member_id in mine[n]:
            t0 = time.perf_counter()
            try:
                s = get(pb.GetStatementRequest(member_id=member_id, year=args.year), metadata=admin, timeout=60)
            except grpc.RpcError as exc:
                with lock:
                    errors[exc.code().name] = errors.get(exc.code().name, 0) + 1
                continue
            latencies[n].append(round((time.perf_counter() - t0) * 1000.0, 3))
            revenue += s.revenue_excl_vat_cents
            contribution += s.revenue_contribution_cents
            html += len(s.html)
            langs[s.language] = langs.get(s.language, 0) + 1
        with lock:
            totals["revenue_cents"] += revenue
            totals["contribution_cents"] += contribution
            totals["html_bytes"] += html
            for k, v in langs.items():
                languages[k] = languages.get(k, 0) + v
            last[0] = max(last[0], time.time())
        channel.close()

    workers = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(args.threads)]
    for t in workers:
        t.start()
    ready.wait()
    for t in workers:
        t.join()
    print(json.dumps({"latencies_ms": [x for per in latencies for x in per], "errors": errors,
                      "last_end": last[0], "languages": languages, **totals}))
    return 0


# -- redistribution ------------------------------------------------------------------------------

def simulate_request(pb, year: int):
    """A EUR 1,000,000 envelope, 40 % retained, 5 keys side by side."""
    weights = {"90": "2", "59": "1.5", "85": "1.5", "62": "0.5", "71": "0.8"}
    return pb.SimulateRedistributionRequest(
        envelope=pb.EnvelopeSpec(amount_cents=100_000_000, retained_bp=4000, min_revenue_cents=1,
                                 reference_start=f"{year}-01-01", reference_end=f"{year}-12-31"),
        scenarios=[
            pb.ScenarioSpec(name="pro rata", parts=[pb.KeyPart(kind="pro_rata_revenue")]),
            pb.ScenarioSpec(name="equal", parts=[pb.KeyPart(kind="equal")]),
            pb.ScenarioSpec(name="sector x revenue", parts=[pb.KeyPart(kind="sector_revenue", sector_weights=weights)]),
            pb.ScenarioSpec(name="sector per head", parts=[pb.KeyPart(kind="sector_head", sector_weights=weights)]),
            pb.ScenarioSpec(name="mix 50/30/20, floor 5 EUR, cap 500 EUR", parts=[
                pb.KeyPart(share=5000, kind="pro_rata_revenue"), pb.KeyPart(share=3000, kind="equal"),
                pb.KeyPart(share=2000, kind="sector_head", sector_weights=weights)],
                floor_cents=500, cap_cents=50_000),
        ])


def _domain_main(args: argparse.Namespace) -> int:
    """Load the members' revenue through the repository, then time the pure domain simulation."""
    from coop.billing.v1 import billing_pb2 as pb
    from coop_billing.adapters import messages as msg
    from coop_billing.adapters.unit_of_work import SqlBillingUnitOfWork
    from coop_billing.domain import redistribution as rd
    from coop_billing.service_layer.redistribution import members_for
    from coop_platform.db import make_engine, make_session_factory

    request = simulate_request(pb, args.year)
    envelope = msg.envelope_from_pb(request.envelope)
    scenarios = [msg.scenario_from_pb(s) for s in request.scenarios]
    engine = make_engine(args.database_url, pool_size=1)
    sessions = make_session_factory(engine)
    t0 = time.perf_counter()
    members = members_for(SqlBillingUnitOfWork(sessions), envelope)
    load_s = time.perf_counter() - t0
    engine.dispose()
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        results = rd.simulate(envelope, members, scenarios)
        runs.append(time.perf_counter() - t0)
    print(json.dumps({"members": len(members), "load_s": round(load_s, 3), "simulate_runs_s": [round(x, 3) for x in runs],
                      "simulate_s": round(sorted(runs)[1], 3),
                      "totals_cents": [r.total_distributed_cents for r in results]}))
    return 0


# -- orchestration -------------------------------------------------------------------------------

def run(opts, amqp_url: str, log_dir: Path) -> tuple[dict, list[Check]]:
    import grpc

    from coop.billing.v1 import billing_pb2 as pb
    from coop.billing.v1 import billing_pb2_grpc as pb_grpc
    from coop_testkit import bearer

    admin = bearer("bench-admin", "admin", ttl=3 * 3600)
    today = date.today()
    year = today.year
    everyone = _members(opts.billing_members)
    by_events = everyone[:min(opts.seed_events, len(everyone))]
    by_sql = everyone[len(by_events):]
    result: dict = {"members": len(everyone), "invoices_target": opts.invoices, "year": year,
                    "api_processes": opts.billing_api_processes}
    delete_queues_matching("--billing.", amqp_url=amqp_url)  # no backlog from an earlier run
    with postgres_database("coop_bench_billing") as url:
        dsn = psycopg_dsn(url)
        env = service_env(url, amqp_url, 0)
        with billing_processes(env, log_dir, opts.billing_api_processes) as (port, api, wrk):
            target = f"127.0.0.1:{port}"
            channel = grpc.insecure_channel(target, options=[("grpc.max_receive_message_length", 64 << 20)])
            stub = pb_grpc.BillingServiceStub(channel)
            # 1. members, share fees, activities, clients
            print(f"  seeding {len(by_events):,} members by events, {len(by_sql):,} by SQL ...", flush=True)
            result["seed_events"] = _seed_by_events(by_events, amqp_url, dsn, year)
            seeded = _seed_by_sql(by_sql, everyone, dsn, year)
            activity_of = seeded.pop("activity_of")
            result["seed_sql"] = seeded
            client_ids, result["clients"] = _create_clients(stub, pb, opts.billing_clients_rows, admin)
            result["outbox_drain_after_seed_s"] = round(wait_outbox_drained(dsn), 2)
            weights, acc = member_weights(len(everyone)), 0.0
            cum = []
            for w in weights:
                acc += w
                cum.append(acc)
            plan = {"members": [(m[0], activity_of[m[0]]) for m in everyone], "weights": cum,
                    "clients": client_ids, "days": [d.isoformat() for d in year_days(today)]}
            plan_file = log_dir / "billing-plan.json"
            plan_file.write_text(json.dumps(plan))
            # 2. invoices over gRPC
            print(f"  issuing up to {opts.invoices:,} invoices at {opts.billing_client_procs} processes x "
                  f"{opts.billing_clients // max(1, opts.billing_client_procs)} clients, at most "
                  f"{opts.invoice_seconds:g} s measured ...", flush=True)
            result["issue"] = _issue(opts, target, plan_file, log_dir, api.proc.pid, wrk.proc.pid)
            after = _numbering(dsn, year)
            result["numbering_after_grpc"] = after
            t0 = time.perf_counter()
            result["outbox_pending_after_issue"] = after["outbox_pending"]
            result["outbox_drain_after_issue_s"] = round(wait_outbox_drained(dsn, timeout=600), 2)
            result["outbox_drain_measured_from"] = round(time.perf_counter() - t0, 2)
            # 3. the clients pay; the rest of the year, written directly
            result["paid_by_sql"] = _pay_issued(dsn)
            rest = opts.invoices - after["issued"]
            if rest > 0:
                print(f"  SQL top-up: {rest:,} more issued invoices ...", flush=True)
            result["top_up"] = _top_up(dsn, rest, plan, [m[0] for m in everyone], year)
            result["numbering_final"] = _numbering(dsn, year)
            # 4. every statement
            ids_file = log_dir / "billing-member-ids.txt"
            ids_file.write_text("\n".join(m[0] for m in everyone) + "\n")
            print(f"  {len(everyone):,} statements (StreamStatements) ...", flush=True)
            result["statements"] = _stream_statements(opts, target, ids_file, year, log_dir, api.proc.pid,
                                                      wrk.proc.pid)
            sample = random.Random(11).sample([m[0] for m in everyone], min(opts.statement_sample, len(everyone)))
            sample_file = log_dir / "billing-statement-sample.txt"
            sample_file.write_text("\n".join(sample) + "\n")
            print(f"  GetStatement for {len(sample):,} members ...", flush=True)
            result["get_statement"] = _statements(opts, target, sample_file, year, log_dir, api.proc.pid,
                                                  wrk.proc.pid)
            # 5. the redistribution envelope
            request = simulate_request(pb, year)
            runs = []
            for _ in range(3):
                t0 = time.perf_counter()
                sim = stub.SimulateRedistribution(request, metadata=admin, timeout=300)
                runs.append(time.perf_counter() - t0)
            result["simulate_rpc"] = {
                "runs_s": [round(x, 3) for x in runs], "median_s": round(sorted(runs)[1], 3),
                "first_s": round(runs[0], 3), "distributable_cents": sim.distributable_cents,
                "results": [{"name": r.name, "total_cents": r.total_distributed_cents, "eligible": r.eligible,
                             "beneficiaries": r.beneficiaries, "min": r.min_cents, "median": r.median_cents,
                             "max": r.max_cents, "lower_half_share": round(r.lower_half_share, 4),
                             "gini": round(r.gini, 4)} for r in sim.results]}
            channel.close()
        result["simulate_domain"] = run_json_process(
            ["-m", "bench.billing_bench", "domain", "--database-url", url, "--year", str(year)],
            timeout=600, log_path=log_dir / "billing-domain.log")
    return result, _checks(opts, result)


def _checks(opts, r: dict) -> list[Check]:
    i, st, sim, dom = r["issue"], r["statements"], r["simulate_rpc"], r["simulate_domain"]
    n_after, n_final, top = r["numbering_after_grpc"], r["numbering_final"], r["top_up"]
    errs = sum(i["errors"].values())
    rate = i["invoices_per_s"]
    full_year = opts.invoices
    extrapolated = n_after["issued"] < full_year
    year_s = full_year / rate if rate else float("inf")
    members = r["members"]
    distributable = sim["distributable_cents"]
    balanced = all(x["total_cents"] == distributable for x in sim["results"]) and \
        all(t == distributable for t in dom["totals_cents"])
    eligible = {x["eligible"] for x in sim["results"]}
    st_errs = sum(st["errors"].values())
    sums_ok = (st["revenue_cents"], st["contribution_cents"]) == (n_final["revenue_cents"], n_final["contribution_cents"])
    one = r["get_statement"]
    invoice, issue = i["invoice"], i["issue"]
    flow = ("CreateInvoice(issue=true), 2 lines" if i["flow"] == "one-call"
            else "CreateInvoice + AddInvoiceLines + IssueInvoice")
    steps = [] if i["flow"] == "one-call" else [
        Check("billing", "IssueInvoice call p50 / p99", f"{issue['p50_ms']:.1f} / {issue['p99_ms']:.1f}", "ms",
              f"p99 < {opts.target_invoice_p99:g} ms", issue["p99_ms"] < opts.target_invoice_p99),
        Check("billing", "CreateInvoice / AddInvoiceLines p50", f"{i['create']['p50_ms']:.1f} / {i['add_lines']['p50_ms']:.1f}", "ms")]
    return [
        Check("billing", f"invoices over gRPC ({flow}), {i['clients']} clients", rate, "invoices/s",
              f">= {opts.target_invoices:,}/s", rate >= opts.target_invoices),
        Check("billing", "complete invoice p50 / p99", f"{invoice['p50_ms']:.1f} / {invoice['p99_ms']:.1f}", "ms",
              f"p99 < {opts.target_invoice_p99:g} ms", invoice["p99_ms"] < opts.target_invoice_p99),
        *steps,
        Check("billing", "invoice errors", errs, "", "0", errs == 0),
        Check("billing", "steady invoices/s (min / median per second)",
              f"{i['steady_per_s_min']} / {i['steady_per_s_median']}", ""),
        Check("billing", "api / worker CPU while issuing",
              f"{i.get('api_cpu_cores', 0):.2f} / {i.get('worker_cpu_cores', 0):.2f}", "cores"),
        Check("billing", f"issued over gRPC in {i['window_s']:.0f} s window (+ warm-up)",
              f"{i['issued_in_window']:,} (+{i['issued_total'] - i['issued_in_window']:,})", ""),
        Check("billing", f"{full_year:,} invoices at the measured rate" + (" (EXTRAPOLATED)" if extrapolated else ""),
              year_s, "s"),
        Check("billing", "invoice.issued outbox: pending after load / drain",
              f"{r['outbox_pending_after_issue']:,} / {r['outbox_drain_after_issue_s']:.1f} s", ""),
        Check("billing", f"gapless numbers 1..{n_final['issued']:,} (no duplicate, no gap)",
              "yes" if n_after["gapless"] and n_final["gapless"] else "no", "", "yes",
              n_after["gapless"] and n_final["gapless"]),
        Check("billing", "SQL top-up to the year's volume (not measured)", top["invoices"], "invoices"),
        Check("billing", f"all {members:,} statements (StreamStatements, {st['streams']} streams)", st["wall_s"], "s",
              f"< {opts.target_statements_s:g} s", st["wall_s"] < opts.target_statements_s
              and st["statements"] == st["distinct_members"] == members),
        Check("billing", "statements/s; first statement after; api CPU",
              f"{st['per_s']:,.0f}/s; {st['first_statement_s']:.2f} s; {st.get('api_cpu_cores', 0):.2f} cores", ""),
        Check("billing", f"GetStatement, {one['statements']:,} members, {one['threads']} parallel: /s, p50 / p99",
              f"{one['per_s']:,.0f}/s, {one['p50_ms']:.1f} / {one['p99_ms']:.1f}", "ms"),
        Check("billing", "statements: errors; revenue+contribution = SQL sums",
              f"{st_errs + sum(one['errors'].values())}; {'yes' if sums_ok else 'no'}",
              "", "0; yes", st_errs == 0 and sums_ok),
        Check("billing", f"SimulateRedistribution RPC, 5 keys over {max(eligible):,} members (median of 3)",
              sim["median_s"], "s", f"< {opts.target_simulate_s:g} s",
              sim["median_s"] < opts.target_simulate_s and eligible == {members}),
        Check("billing", "  pure domain simulate (5 keys) / revenue query", f"{dom['simulate_s']:.2f} / {dom['load_s']:.2f}", "s",
              f"< {opts.target_simulate_s:g} s", dom["simulate_s"] < opts.target_simulate_s),
        Check("billing", "every key distributes the envelope to the cent", "yes" if balanced else "no", "", "yes", balanced),
        Check("billing", "seed: member events through the worker",
              f"{r['seed_events'].get('events', 0):,} in {r['seed_events'].get('applied_s', 0):.1f} s", ""),
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.billing_bench")
    sub = p.add_subparsers(dest="command", required=True)
    i = sub.add_parser("issuers", help="an issuer process: threads creating, lining and issuing invoices")
    i.add_argument("--target", required=True)
    i.add_argument("--plan", required=True, help="JSON: members (id, activity), cumulative weights, clients, days")
    i.add_argument("--threads", type=int, default=16)
    i.add_argument("--quota", type=int, required=True, help="invoices this process issues at most")
    i.add_argument("--warmup", type=float, default=3.0)
    i.add_argument("--duration", type=float, default=90.0, help="measured seconds at most")
    i.add_argument("--start-at", type=float, default=0.0)
    i.add_argument("--seed", type=int, default=1)
    i.add_argument("--flow", choices=tuple(CALLS_PER_INVOICE), default="one-call")
    s = sub.add_parser("statements", help="a statement process: threads calling GetStatement")
    s.add_argument("--target", required=True)
    s.add_argument("--ids", required=True)
    s.add_argument("--year", type=int, required=True)
    s.add_argument("--threads", type=int, default=16)
    s.add_argument("--part", type=int, default=0)
    s.add_argument("--parts", type=int, default=1)
    s.add_argument("--start-at", type=float, default=0.0)
    t = sub.add_parser("stream", help="a process reading one StreamStatements range")
    t.add_argument("--target", required=True)
    t.add_argument("--year", type=int, required=True)
    t.add_argument("--after", default="")
    t.add_argument("--limit", type=int, default=0)
    t.add_argument("--start-at", type=float, default=0.0)
    d = sub.add_parser("domain", help="time the pure redistribution simulation")
    d.add_argument("--database-url", required=True)
    d.add_argument("--year", type=int, required=True)
    args = p.parse_args(argv)
    if args.command == "issuers":
        return _issuers_main(args)
    if args.command == "statements":
        return _statements_main(args)
    if args.command == "stream":
        return _stream_main(args)
    return _domain_main(args)


if __name__ == "__main__":
    sys.exit(main())
