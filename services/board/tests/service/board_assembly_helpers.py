"""The General Assembly's api on PostgreSQL (its own database: the convocation reads every member
of the projection): the board's real unit of work, tables and members projection, with the
roster's secretary in office as the stand-in of tests/board_fakes_observers.py."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from board_fakes_observers import SECRETARY_ID, StandInRoster
from board_svc_helpers import START, family_api
from sqlalchemy import delete, func, insert, select

from coop.board.v1 import assembly_pb2 as pb
from coop.board.v1 import assembly_pb2_grpc as pb_grpc
from coop.board.v1 import common_pb2
from coop_board.adapters.orm import idempotency_keys, metadata
from coop_board.adapters.orm_assembly import assemblies, places, registrations, workshops
from coop_board.adapters.orm_roster import member_standing
from coop_board.adapters.unit_of_work import SqlBoardUnitOfWork
from coop_board.domain.assembly import AssemblyRules
from coop_board.entrypoints import grpc_assembly
from coop_domain.clock import FixedClock
from coop_platform.migrations import upgrade
from coop_platform.pbtypes import to_timestamp
from coop_testkit import bearer, postgres_database

OUTBOX = metadata.tables["outbox"]
ROSTER = StandInRoster()
RULES = AssemblyRules(convocation_batch=500)

TOKENS = {
    "director": bearer("dir-1", "director"),
    "secretary": bearer(SECRETARY_ID, "secretary", "director"),
    "management": bearer("mgmt-1", "management"),
    "member": bearer("mem-1", "member"),
    "admin": bearer("admin-1", "admin"),
    "other": bearer("admin-x", "admin", tenant="other"),
    "none": [],
}
ROLES = tuple(TOKENS)


def text(value: str) -> common_pb2.LocalizedText:
    return common_pb2.LocalizedText(fr=f"{value} (fr)", nl=f"{value} (nl)", en=f"{value} (en)")


class AssemblyTestUnitOfWork(SqlBoardUnitOfWork):
    def _open(self) -> None:
        super()._open()
        self.roster = ROSTER  # type: ignore[assignment]


def member_token(n: int | str) -> list[tuple[str, str]]:
    return bearer(f"mem-{n}", "member")


@dataclass
class AssemblyApi:
    stub: Any
    clock: FixedClock
    engine: Any
    uow_factory: Any
    target: str = ""

    def add_members(self, count: int, *, prefix: str = "mem-", tenant: str = "coop", good: bool = True,
                    languages: tuple[str | None, ...] = ("fr", "nl", "en", None), status: str = "active") -> list[str]:
        """Members in the board's projection (as membership's events would have put them)."""
        ids = [f"{prefix}{n}" for n in range(1, count + 1)]
        with self.engine.begin() as conn:
            conn.execute(delete(member_standing).where(member_standing.c.member_id.in_(ids)))
            for start in range(0, len(ids), 5000):
                conn.execute(insert(member_standing), [
                    {"member_id": m, "tenant": tenant, "status": status, "category": "user", "in_good_standing": good,
                     "language": languages[n % len(languages)]} for n, m in enumerate(ids[start:start + 5000], start)])
        return ids

    def schedule(self, starts_in: timedelta = timedelta(days=40), token: str = "secretary",
                 **kw: Any) -> pb.Assembly:
        values: dict[str, Any] = dict(
            title=text("Assemblée générale 2027"), starts_at=to_timestamp(START + starts_in), place="Brussels",
            registration_deadline=to_timestamp(START + starts_in - timedelta(days=3)), election_id="election-2027",
            documents=[pb.AssemblyDocument(title=text("Accounts"), reference=common_pb2.LocalizedText(
                fr="https://coop.example/fr/accounts.pdf", nl="https://coop.example/nl/accounts.pdf",
                en="https://coop.example/en/accounts.pdf"))])
        values.update(kw)
        return self.stub.ScheduleAssembly(pb.ScheduleAssemblyRequest(**values), metadata=TOKENS[token]).assembly

    def workshop(self, assembly: pb.Assembly, capacity: int = 2, language: str = "fr", hour: int = 14,
                 title: str = "Reading the accounts") -> pb.Workshop:
        day = assembly.starts_at.ToDatetime().replace(hour=hour, minute=0, second=0, tzinfo=START.tzinfo)
        return self.stub.AddWorkshop(pb.AddWorkshopRequest(
            assembly_id=assembly.assembly_id, title=text(title), capacity=capacity, language=language,
            starts_at=to_timestamp(day), ends_at=to_timestamp(day + timedelta(hours=2))),
            metadata=TOKENS["secretary"]).workshop

    def register(self, assembly_id: str, who: int | str = 1, workshops: tuple[str, ...] = (),
                 attendance: int = pb.ASSEMBLY_ATTENDANCE_IN_PERSON, language: str = "fr",
                 **kw: Any) -> pb.RegisterForAssemblyResponse:
        return self.stub.RegisterForAssembly(pb.RegisterForAssemblyRequest(
            assembly_id=assembly_id, attendance=attendance, interpretation_language=language,
            workshop_ids=list(workshops), **kw), metadata=member_token(who))

    def counts(self) -> tuple[int, ...]:
        """Rows of every table the assembly family writes, the outbox and the request ids."""
        with self.engine.connect() as conn:
            return tuple(conn.execute(select(func.count()).select_from(t)).scalar_one()
                         for t in (assemblies, workshops, registrations, places, OUTBOX, idempotency_keys))

    def events(self, name: str, **where: str) -> list[dict[str, Any]]:
        """The data of the outbox's events of that name, oldest first (filtered on data fields)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(OUTBOX.c.body).where(OUTBOX.c.routing_key == name).order_by(OUTBOX.c.seq))
            found = [json.loads(body)["data"] for (body,) in rows]
        return [d for d in found if all(d.get(k) == v for k, v in where.items())]


@contextmanager
def assembly_api(database: str = "coop_board_assembly_test", rules: AssemblyRules = RULES,
                 url: str | None = None) -> Iterator[AssemblyApi]:
    """The assembly family's api on a fresh PostgreSQL database, or on `url` (SQLite, as `make run`)."""
    with nullcontext(url) if url else postgres_database(database) as pg_url:
        upgrade("board", pg_url)
        clock = FixedClock(START)
        servicers = grpc_assembly.SERVICERS

        def make(uow_factory: Any) -> list[Any]:
            return [servicer(uow_factory, clock, rules) for servicer, _, _ in servicers]

        with family_api(pg_url, servicers, AssemblyTestUnitOfWork, make) as (channel, engine, uow_factory, target):
            yield AssemblyApi(pb_grpc.AssemblyServiceStub(channel), clock, engine, uow_factory, target)


def new_id() -> str:
    return str(uuid.uuid4())


def when(days: float) -> datetime:
    return START + timedelta(days=days)
