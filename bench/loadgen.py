"""The load generator: a separate process with N client threads calling one RPC in a closed loop.

    python -m bench.loadgen --target 127.0.0.1:50051 --method get --threads 8 \
        --warmup 2 --duration 15 --ids ids.txt --token JWT --start-at EPOCH

Each thread has its own channel (its own HTTP/2 connection), like independent clients. Calls
completed inside the measurement window [start+warmup, start+warmup+duration) are recorded.
Prints one JSON line: latencies (ms), error counts by status code, the window.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
import uuid
from pathlib import Path

import grpc

from bench.data import member_rows
from coop.membership.v1 import membership_pb2 as pb
from coop.membership.v1 import membership_pb2_grpc as pb_grpc

CATEGORY = {"user": pb.MEMBER_CATEGORY_USER, "permanent_staff": pb.MEMBER_CATEGORY_PERMANENT_STAFF,
            "external_partner": pb.MEMBER_CATEGORY_EXTERNAL_PARTNER}


def drafts(count: int, seed: int) -> list[pb.MemberDraft]:
    out = []
    for row in member_rows(count, seed=seed):
        out.append(pb.MemberDraft(
            given_name=row["given_name"], family_name=row["family_name"], email=row["email"],
            phone=row["phone"],
            address=pb.PostalAddress(street=row["street"], postal_code=row["postal_code"],
                                     city=row["city"], country=row["address_country"]),
            country_of_residence=row["country_of_residence"],
            preferred_language=row["preferred_language"], category=CATEGORY[row["category"]],
        ))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--target", required=True)
    p.add_argument("--method", choices=["get", "register"], required=True)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--duration", type=float, default=15.0)
    p.add_argument("--ids", help="file of member ids, one a line (get)")
    p.add_argument("--token", required=True)
    p.add_argument("--admit", action="store_true", help="RegisterMember with admit=true (emits events)")
    p.add_argument("--start-at", type=float, default=0.0, help="wall-clock start, to align processes")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)

    metadata = [("authorization", f"Bearer {args.token}")]
    ids = Path(args.ids).read_text().split() if args.ids else []
    templates = drafts(500, args.seed) if args.method == "register" else []
    run_tag = uuid.uuid4().hex[:8]

    start = args.start_at or time.time() + 0.5
    t_measure = start + args.warmup
    t_end = t_measure + args.duration
    latencies: list[list[float]] = [[] for _ in range(args.threads)]
    errors: dict[str, int] = {}
    lock = threading.Lock()
    ready = threading.Barrier(args.threads + 1)

    def client(n: int) -> None:
        rnd = random.Random(args.seed * 1000 + n)
        channel = grpc.insecure_channel(args.target, options=[("grpc.use_local_subchannel_pool", 1)])
        stub = pb_grpc.MembershipServiceStub(channel)
        get, register = stub.GetMember, stub.RegisterMember
        grpc.channel_ready_future(channel).result(timeout=30)
        mine = latencies[n]
        ready.wait()
        i = 0
        while time.time() < start:
            time.sleep(0.001)
        while True:
            if args.method == "get":
                request = pb.GetMemberRequest(member_id=rnd.choice(ids))
                call = get
            else:
                draft = pb.MemberDraft()
                draft.CopyFrom(templates[i % len(templates)])
                draft.email = f"bench.{run_tag}.{n}.{i}@example.org"
                request = pb.RegisterMemberRequest(member=draft, admit=args.admit)
                call = register
            i += 1
            t0 = time.perf_counter()
            w0 = time.time()
            try:
                call(request, metadata=metadata, timeout=30)
                failed = None
            except grpc.RpcError as exc:
                failed = exc.code().name
            elapsed = time.perf_counter() - t0
            done = w0 + elapsed
            if done >= t_end:
                break
            if done >= t_measure:
                if failed:
                    with lock:
                        errors[failed] = errors.get(failed, 0) + 1
                else:
                    mine.append(elapsed * 1000.0)
        channel.close()

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(args.threads)]
    for t in threads:
        t.start()
    ready.wait()
    for t in threads:
        t.join(args.warmup + args.duration + 120)
    flat = [x for per in latencies for x in per]
    print(json.dumps({"latencies_ms": [round(x, 4) for x in flat], "errors": errors,
                      "window": [t_measure, t_end], "threads": args.threads}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
