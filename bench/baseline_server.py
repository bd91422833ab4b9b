"""The bare baseline: a minimal grpcio server with the same protobuf messages and the same
thread pool size as the api, doing one indexed SELECT by member_id (GetMember) or one INSERT
(RegisterMember) with psycopg2 and a small connection pool. No framework, auth, validation,
ORM, metrics or outbox: what is left is grpcio + protobuf + one SQL statement.

    BENCH_DSN=postgresql://... COOP_GRPC_PORT=50099 python -m bench.baseline_server
"""

from __future__ import annotations

import os
import queue
import signal
import threading
import uuid
from concurrent import futures
from contextlib import contextmanager
from datetime import UTC, datetime

import grpc
import psycopg2
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from coop.membership.v1 import membership_pb2 as pb
from coop.membership.v1 import membership_pb2_grpc as pb_grpc

COLUMNS = ("member_no, member_id, given_name, family_name, email, phone, street, postal_code, city, "
           "address_country, country_of_residence, preferred_language, category, status, joined_on, "
           "erased, created_at, updated_at")
CATEGORY = {"user": pb.MEMBER_CATEGORY_USER, "permanent_staff": pb.MEMBER_CATEGORY_PERMANENT_STAFF,
            "external_partner": pb.MEMBER_CATEGORY_EXTERNAL_PARTNER}
CATEGORY_NAME = {v: k for k, v in CATEGORY.items()}
STATUS = {"applicant": pb.MEMBER_STATUS_APPLICANT, "active": pb.MEMBER_STATUS_ACTIVE,
          "suspended": pb.MEMBER_STATUS_SUSPENDED, "resigned": pb.MEMBER_STATUS_RESIGNED,
          "excluded": pb.MEMBER_STATUS_EXCLUDED}


class Pool:
    """A fixed set of autocommit connections; a thread blocks until one is free."""

    def __init__(self, dsn: str, size: int) -> None:
        self._free: queue.Queue = queue.Queue()
        for _ in range(size):
            conn = psycopg2.connect(dsn)
            conn.autocommit = True
            self._free.put(conn)

    @contextmanager
    def cursor(self):
        conn = self._free.get()
        try:
            with conn.cursor() as cur:
                yield cur
        finally:
            self._free.put(conn)


def _ts(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def to_pb(row: tuple) -> pb.Member:
    (no, mid, given, family, email, phone, street, postal, city, acountry, country, lang, category,
     status, joined, erased, created, updated) = row
    return pb.Member(
        member_id=mid, member_number=f"M{no:06d}", given_name=given, family_name=family,
        email=email or "", phone=phone or "",
        address=pb.PostalAddress(street=street or "", postal_code=postal or "", city=city or "",
                                 country=acountry or ""),
        country_of_residence=country, preferred_language=lang, category=CATEGORY[category],
        status=STATUS[status], joined_on=joined.isoformat() if joined else "", in_good_standing=False,
        erased=erased, created_at=_ts(created), updated_at=_ts(updated),
    )


class Baseline(pb_grpc.MembershipServiceServicer):
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    def GetMember(self, request, context):
        with self.pool.cursor() as cur:
            cur.execute(f"SELECT {COLUMNS} FROM members WHERE member_id = %s", (request.member_id,))
            row = cur.fetchone()
        if row is None:
            context.abort(grpc.StatusCode.NOT_FOUND, "no such member")
        return to_pb(row)

    def RegisterMember(self, request, context):
        d = request.member
        now = datetime.now(UTC)
        with self.pool.cursor() as cur:
            cur.execute(
                f"INSERT INTO members (member_id, given_name, family_name, email, phone, street, "
                f"postal_code, city, address_country, country_of_residence, preferred_language, "
                f"category, status, joined_on, erased, created_at, updated_at) "
                f"VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) RETURNING {COLUMNS}",
                (str(uuid.uuid4()), d.given_name, d.family_name, d.email.lower(), d.phone or None,
                 d.address.street or None, d.address.postal_code or None, d.address.city or None,
                 d.address.country or None, d.country_of_residence, d.preferred_language or "fr",
                 CATEGORY_NAME.get(d.category, "user"), "applicant", None, False, now, now),
            )
            row = cur.fetchone()
        return to_pb(row)


def main() -> None:
    dsn = os.environ["BENCH_DSN"]
    port = int(os.environ["COOP_GRPC_PORT"])
    workers = int(os.environ.get("COOP_GRPC_WORKERS", "32"))
    pool = Pool(dsn, int(os.environ.get("BENCH_POOL_SIZE", "16")))
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers))
    pb_grpc.add_MembershipServiceServicer_to_server(Baseline(pool), server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    print(f"baseline: gRPC on 127.0.0.1:{port}, {workers} threads, pool {pool._free.qsize()}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    server.stop(2).wait()


if __name__ == "__main__":
    main()
