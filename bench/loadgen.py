"""The load generator: a separate process with N client threads calling one RPC in a closed loop.

    python -m bench.loadgen --target 127.0.0.1:50051 --method get --threads 8 \
        --warmup 2 --duration 15 --ids ids.txt --token JWT --start-at EPOCH

Each thread has its own channel (its own HTTP/2 connection), like independent clients. Calls
completed inside the measurement window [start+warmup, start+warmup+duration) are recorded.
Prints one JSON line: latencies (ms), error counts by status code, the window.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
import uuid
from pathlib import Path

import grpc

from bench.common import closed_loop
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

    def open_client(n: int):
        rnd = random.Random(args.seed * 1000 + n)
        channel = grpc.insecure_channel(args.target, options=[("grpc.use_local_subchannel_pool", 1)])
        stub = pb_grpc.MembershipServiceStub(channel)
        grpc.channel_ready_future(channel).result(timeout=30)
        sent = itertools.count()

        def get() -> object:
            return stub.GetMember(pb.GetMemberRequest(member_id=rnd.choice(ids)), metadata=metadata, timeout=30)

        def register() -> object:
            i = next(sent)
            draft = pb.MemberDraft()
            draft.CopyFrom(templates[i % len(templates)])
            draft.email = f"bench.{run_tag}.{n}.{i}@example.org"
            return stub.RegisterMember(pb.RegisterMemberRequest(member=draft, admit=args.admit), metadata=metadata,
                                       timeout=30)

        return (get if args.method == "get" else register), channel.close

    print(json.dumps(closed_loop(open_client, args.threads, start=start, warmup=args.warmup,
                                 duration=args.duration)))
    return 0

if __name__ == "__main__":
    sys.exit(main())
