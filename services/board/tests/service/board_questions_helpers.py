"""The questions' api on PostgreSQL: the board's real unit of work and tables, with the reads of
other families as stand-ins: the roster (the secretary in office, management's appointment) and
the members projection from board_fakes_observers, and the two hooks built in parallel by other
families (assembly_hooks.assembly_summary, agenda_hooks.add_member_concern_item) from
board_fakes_questions, swapped in for as long as the api runs."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import grpc
import pytest
from board_fakes_observers import SECRETARY_ID, StandInRoster, StandInStandings
from board_fakes_questions import StandInAgenda, StandInAssemblies, hooks_replaced
from board_svc_helpers import START
from sqlalchemy import func, select

from coop.board.v1 import questions_pb2 as pb
from coop.board.v1 import questions_pb2_grpc as pb_grpc
from coop_board.adapters.orm import idempotency_keys, metadata
from coop_board.adapters.orm_questions import board_question_supports, board_questions
from coop_board.adapters.unit_of_work import SqlBoardUnitOfWork
from coop_board.domain.officers import ManagementAppointment
from coop_board.domain.questions import QuestionRules
from coop_board.entrypoints import grpc_questions
from coop_domain.clock import FixedClock
from coop_platform.config import Settings
from coop_platform.grpc_server import build_service, start_server
from coop_testkit import bearer

OUTBOX = metadata.tables["outbox"]
MANAGER_ID = "mgmt-1"

TOKENS: dict[str, list[tuple[str, str]]] = {
    "director": bearer("dir-1", "director"),
    "secretary": bearer(SECRETARY_ID, "secretary", "director"),
    "management": bearer(MANAGER_ID, "management"),
    "member": bearer("mem-1", "member"),
    "admin": bearer("admin-1", "admin"),
    "other": bearer("admin-x", "admin", tenant="other"),
    "anonymous": [],
}
ROLES = tuple(TOKENS)


@dataclass
class StandInRosterWithManagement(StandInRoster):
    """The secretary in office, and management's appointment (mgmt-1, running since 2026)."""

    appointed: list[ManagementAppointment] = field(default_factory=lambda: [ManagementAppointment(
        "ap-1", "coop", MANAGER_ID, "managing director", date(2026, 1, 1), None, "decision-1")])

    def appointments(self, tenant: str) -> list[ManagementAppointment]:
        return [a for a in self.appointed if a.tenant == tenant]


STANDINGS, ROSTER = StandInStandings(), StandInRosterWithManagement()
ASSEMBLIES, AGENDA = StandInAssemblies(), StandInAgenda()


class QuestionsTestUnitOfWork(SqlBoardUnitOfWork):
    def _open(self) -> None:
        super()._open()
        self.members, self.roster = STANDINGS, ROSTER  # type: ignore[assignment]


def member_token(n: int | str) -> list[tuple[str, str]]:
    return bearer(f"mem-{n}", "member")


@dataclass
class QuestionsApi:
    stub: Any
    clock: FixedClock
    engine: Any
    target: str

    def new_assembly(self, starts_in: timedelta = timedelta(days=30), **kw: Any) -> str:
        assembly_id = str(uuid.uuid4())
        ASSEMBLIES.add(assembly_id, starts_at=START + starts_in, **kw)
        return assembly_id

    def submit(self, assembly_id: str, who: int | str = 1, text: str = "Why leave the venue?", *,
               language: str = "en", public: bool = False, **kw: Any) -> pb.Question:
        return self.stub.SubmitQuestion(pb.SubmitQuestionRequest(
            assembly_id=assembly_id, language=language, text=text, author_public=public, **kw),
            metadata=member_token(who)).question

    def support(self, question_id: str, who: int | str, **kw: Any) -> pb.Question:
        return self.stub.SupportQuestion(pb.SupportQuestionRequest(question_id=question_id, **kw),
                                         metadata=member_token(who)).question

    def counts(self) -> tuple[int, ...]:
        """Rows of every table the questions write: questions, supports, outbox, request ids."""
        with self.engine.connect() as conn:
            return tuple(conn.execute(select(func.count()).select_from(t)).scalar_one()
                         for t in (board_questions, board_question_supports, OUTBOX, idempotency_keys))

    def stored_count(self, question_id: str) -> tuple[int, int]:
        """(the question's support_count column, its active support rows)."""
        with self.engine.connect() as conn:
            column = conn.execute(select(board_questions.c.support_count)
                                  .where(board_questions.c.question_id == question_id)).scalar_one()
            rows = conn.execute(select(func.count()).select_from(board_question_supports).where(
                board_question_supports.c.question_id == question_id,
                board_question_supports.c.withdrawn_at.is_(None))).scalar_one()
        return column, rows

    def events(self, name: str) -> list[dict[str, Any]]:
        """The data of the outbox's events of that name, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(OUTBOX.c.body).where(OUTBOX.c.routing_key == name).order_by(OUTBOX.c.seq))
            return [json.loads(body)["data"] for (body,) in rows]


def module_fixtures() -> tuple[Any, Any]:
    """A test module's `api` (one per module) and its autouse `_clock` (back at START for each
    test): `api, _clock = module_fixtures()`."""
    @pytest.fixture(scope="module")
    def api(pg_url: str) -> Iterator[QuestionsApi]:
        with questions_api(pg_url) as running:
            yield running

    @pytest.fixture(autouse=True)
    def _clock(api: QuestionsApi) -> None:
        api.clock.set(START)

    return api, _clock


@contextmanager
def questions_api(pg_url: str, rules: QuestionRules | None = None) -> Iterator[QuestionsApi]:
    clock = FixedClock(START)
    settings = Settings(service_name="board", database_url=pg_url, dev_mode=True, served_tenants=("coop", "other"),
                        grpc_port=0, grpc_workers=40)
    servicers = grpc_questions.SERVICERS

    def make(uow_factory: Any) -> list[Any]:
        return [servicer(uow_factory, clock, rules or QuestionRules()) for servicer, _, _ in servicers]

    def add(made: list[Any], server: grpc.Server) -> None:
        for servicer, (_, add_to_server, _) in zip(made, servicers, strict=True):
            add_to_server(servicer, server)

    with hooks_replaced(ASSEMBLIES, AGENDA):
        engine, register, _ = build_service(settings, QuestionsTestUnitOfWork, make, add,
                                            [name for _, _, name in servicers])
        running = start_server(settings, register, engine, port=0, health_interval=30)
        channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
        try:
            yield QuestionsApi(pb_grpc.QuestionServiceStub(channel), clock, engine, f"127.0.0.1:{running.port}")
        finally:
            channel.close()
            running.stop(grace=1)
            engine.dispose()
