"""Event producer process: commits membership events into the outbox at a steady rate.

Directly against the database, through coop_platform.db.UnitOfWork.emit in small transactions
(a rate limiter: every --tick (5 ms) one transaction commits the events due by then, i.e. about
5 events per transaction at 1,000/s; at most --max-per-tx per transaction when catching up).
Right after each commit returns it records time.time() for every event of that transaction: the
"committed" instant from which latency is measured. Writes {event_id: commit_time} to --out.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid

from coop.membership.v1 import events_pb2
from coop.membership.v1 import membership_pb2 as pb
from coop_platform.db import make_engine, make_session_factory
from coop_platform.unit_of_work import UnitOfWork


def payloads(count: int = 64) -> list[events_pb2.MemberUpdated]:
    out = []
    for i in range(count):
        member = pb.Member(
            member_id=str(uuid.uuid4()), member_number=f"M{i + 1:06d}", given_name="Camille",
            family_name="Peeters", email=f"camille.peeters.{i}@telenet.be", phone="+32 470 12 34 56",
            address=pb.PostalAddress(street="Kerkstraat 12", postal_code="9000", city="Gent", country="BE"),
            country_of_residence="BE", preferred_language="nl", category=pb.MEMBER_CATEGORY_USER,
            status=pb.MEMBER_STATUS_ACTIVE, joined_on="2019-03-01",
        )
        out.append(events_pb2.MemberUpdated(member=member, changed_fields=["phone"]))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--database-url", required=True)
    p.add_argument("--rate", type=float, default=1000.0)
    p.add_argument("--duration", type=float, default=15.0)
    p.add_argument("--max-per-tx", type=int, default=20)
    p.add_argument("--tick", type=float, default=0.005, help="seconds between transactions (5 ms)")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)

    engine = make_engine(args.database_url, pool_size=2)
    sessions = make_session_factory(engine)
    messages = payloads()
    with UnitOfWork(sessions, "membership") as uow:  # connect and warm up outside the clock
        uow.session.execute(__import__("sqlalchemy").text("SELECT 1"))

    committed: dict[str, float] = {}
    total = int(args.rate * args.duration)
    sent = transactions = 0
    start = time.monotonic()
    tick = 0
    while sent < total:
        tick += 1
        wake = start + tick * args.tick
        pause = wake - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        due = min(int((time.monotonic() - start) * args.rate), total) - sent
        while due > 0:  # behind schedule: catch up in transactions of at most --max-per-tx
            batch = min(due, args.max_per_tx)
            with UnitOfWork(sessions, "membership") as uow:
                ids = []
                for k in range(batch):
                    message = messages[(sent + k) % len(messages)]
                    ids.append(uow.emit("member.updated", message, subject=message.member.member_id))
                uow.commit()
            now = time.time()
            for event_id in ids:
                committed[event_id] = now
            sent += batch
            due -= batch
            transactions += 1
    elapsed = time.monotonic() - start
    engine.dispose()
    with open(args.out, "w") as handle:
        json.dump(committed, handle)
    print(json.dumps({"sent": sent, "elapsed_s": elapsed, "transactions": transactions,
                      "achieved_rate": sent / elapsed}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
