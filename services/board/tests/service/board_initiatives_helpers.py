"""The initiatives' api on PostgreSQL: the board's real unit of work, tables and members
projection, with a stand-in for the roster's reads (the secretary in office, sitting directors)
and recording fakes substituted for the hooks the meetings and assembly families build in
parallel (agenda_hooks.force_initiative_item, assembly_hooks.refer_initiative_to_assembly)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from board_fakes_initiatives import RecordingAgenda, RecordingAssembly, StandInBoard
from board_svc_helpers import START
from sqlalchemy import delete, func, select

from coop.board.v1 import common_pb2 as cpb
from coop.board.v1 import initiatives_pb2 as pb
from coop.board.v1 import initiatives_pb2_grpc as pb_grpc
from coop_board.adapters.orm import idempotency_keys, metadata
from coop_board.adapters.orm_initiatives import (
    board_initiative_promoters,
    board_initiative_signature_counts,
    board_initiative_signatures,
    board_initiatives,
)
from coop_board.adapters.orm_roster import member_standing
from coop_board.adapters.unit_of_work import SqlBoardUnitOfWork
from coop_board.entrypoints import grpc_initiatives
from coop_board.service_layer import agenda_hooks, assembly_hooks, initiative_hooks
from coop_domain.clock import FixedClock
from coop_platform.config import Settings
from coop_platform.grpc_server import build_service, start_server
from coop_platform.sqlkit import dialect_of
from coop_testkit import bearer

OUTBOX = metadata.tables["outbox"]
ROSTER = StandInBoard()
SECRETARY_ID = "sec-1"
THRESHOLD = 3
SETTINGS = {"COOP_BOARD_INITIATIVE_PROMOTERS": "3", "COOP_BOARD_INITIATIVE_ADMISSIBILITY_DAYS": "14",
            "COOP_BOARD_INITIATIVE_COLLECTION_DAYS": "30", "COOP_BOARD_INITIATIVE_THRESHOLD": str(THRESHOLD),
            "COOP_BOARD_INITIATIVE_MAX_DELAY_DAYS": "60", "COOP_BOARD_INITIATIVE_OUTCOME_DAYS": "20"}
TOKENS = {
    "director": bearer("dir-1", "director"),
    "secretary": bearer(SECRETARY_ID, "secretary", "director"),
    "management": bearer("mgmt-1", "management"),
    "member": bearer("mem-1", "member"),
    "admin": bearer("admin-1", "admin"),
    "other": bearer("admin-x", "admin", tenant="other"),
    "no token": [],
}
ROLES = tuple(TOKENS)
ALL = cpb.LocalizedText(fr="Décision", nl="Besluit", en="Decision")
TABLES = (board_initiatives, board_initiative_promoters, board_initiative_signatures,
          board_initiative_signature_counts, OUTBOX, idempotency_keys)


class InitiativesTestUnitOfWork(SqlBoardUnitOfWork):
    def _open(self) -> None:
        super()._open()
        self.roster = ROSTER  # type: ignore[assignment]


def member_token(n: int | str) -> list[tuple[str, str]]:
    return bearer(f"mem-{n}", "member")


@dataclass
class InitiativesApi:
    stub: Any
    clock: FixedClock
    engine: Any
    uow_factory: Any
    agenda: RecordingAgenda
    assembly: RecordingAssembly
    target: str = ""

    def set_members(self, numbers: range | list[int], good: bool = True, status: str = "active") -> None:
        """Members mem-<n> in the members projection (as membership's events would set them)."""
        rows = [dict(member_id=f"mem-{n}", tenant="coop", status=status, category="user", in_good_standing=good,
                     status_at=datetime.now(UTC), standing_at=datetime.now(UTC)) for n in numbers]
        with self.engine.begin() as conn:
            stmt = dialect_of(conn).insert(member_standing).values(rows)
            conn.execute(stmt.on_conflict_do_update(index_elements=["member_id"], set_={
                "in_good_standing": stmt.excluded.in_good_standing, "status": stmt.excluded.status}))

    def drop_member(self, n: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(member_standing).where(member_standing.c.member_id == f"mem-{n}"))

    def draft(self, author: int = 1) -> str:
        return self.stub.DraftInitiative(pb.DraftInitiativeRequest(
            language="fr", title=cpb.LocalizedText(fr="Rouvrir le site"), text=cpb.LocalizedText(fr="Texte"),
            question=cpb.LocalizedText(fr="Le conseil rouvrira-t-il le site ?")),
            metadata=member_token(author)).initiative.initiative_id

    def invited(self, author: int = 1, invitees: tuple[int, ...] = (2, 3, 4)) -> str:
        iid = self.draft(author)
        self.stub.InvitePromoters(pb.InvitePromotersRequest(initiative_id=iid, member_ids=[f"mem-{n}" for n in invitees]),
                                  metadata=member_token(author))
        return iid

    def submitted(self, author: int = 1, promoters: tuple[int, ...] = (2, 3, 4)) -> str:
        iid = self.invited(author, promoters)
        for n in promoters:
            self.stub.AnswerPromoterInvitation(pb.AnswerPromoterInvitationRequest(initiative_id=iid, accept=True),
                                               metadata=member_token(n))
        self.stub.SubmitInitiative(pb.SubmitInitiativeRequest(initiative_id=iid), metadata=member_token(author))
        return iid

    def collecting(self, author: int = 1) -> str:
        iid = self.submitted(author, tuple(n for n in (2, 3, 4, 5) if n != author)[:3])
        self.stub.DecideAdmissibility(pb.DecideAdmissibilityRequest(initiative_id=iid, admissible=True),
                                      metadata=TOKENS["secretary"])
        return iid

    def sign(self, iid: str, who: int | str, **kw: Any) -> pb.SignInitiativeResponse:
        return self.stub.SignInitiative(pb.SignInitiativeRequest(initiative_id=iid, **kw), metadata=member_token(who))

    def qualified(self, signers: tuple[int, ...] = (10, 11, 12)) -> str:
        iid = self.collecting()
        for n in signers:
            self.sign(iid, n)
        return iid

    def discussed(self, signers: tuple[int, ...] = (10, 11, 12)) -> str:
        iid = self.qualified(signers)
        meeting_id = self.get(iid).forced_item.meeting_id
        uow = self.uow_factory()
        with uow:  # as the meetings family does when it closes the meeting
            initiative_hooks.initiative_discussed(uow, "coop", iid, meeting_id, "dec-1", self.clock())
            uow.commit()
        return iid

    def get(self, iid: str, token: str = "secretary") -> pb.Initiative:
        return self.stub.GetInitiative(pb.GetInitiativeRequest(initiative_id=iid), metadata=TOKENS[token]).initiative

    def counts(self) -> tuple[int, ...]:
        """Rows of every table the initiatives write, the outbox and the request ids."""
        with self.engine.connect() as conn:
            return tuple(conn.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES)

    def events(self, name: str, initiative_id: str | None = None) -> list[dict[str, Any]]:
        """The data of the outbox's events of that name (of one initiative), oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(OUTBOX.c.body).where(OUTBOX.c.routing_key == name).order_by(OUTBOX.c.seq))
            data = [json.loads(body)["data"] for (body,) in rows]
        return [d for d in data if initiative_id is None or d.get("initiativeId") == initiative_id]


@contextmanager
def initiatives_api(pg_url: str, **overrides: str) -> Iterator[InitiativesApi]:
    """`settings`: COOP_BOARD_INITIATIVE_* values over SETTINGS (e.g. THRESHOLD="120")."""
    clock = FixedClock(START)
    settings = Settings(service_name="board", database_url=pg_url, dev_mode=True, served_tenants=("coop", "other"),
                        grpc_port=0, grpc_workers=40)
    servicers = grpc_initiatives.SERVICERS
    agenda, assembly = RecordingAgenda(), RecordingAssembly()
    patch = pytest.MonkeyPatch()
    patch.setattr(agenda_hooks, "force_initiative_item", agenda)
    patch.setattr(assembly_hooks, "refer_initiative_to_assembly", assembly)
    for name, value in {**SETTINGS, **{f"COOP_BOARD_INITIATIVE_{k}": v for k, v in overrides.items()}}.items():
        patch.setenv(name, value)

    def make(uow_factory: Any) -> list[Any]:
        return [servicer(uow_factory, clock) for servicer, _, _ in servicers]

    def add(made: list[Any], server: grpc.Server) -> None:
        for servicer, (_, add_to_server, _) in zip(made, servicers, strict=True):
            add_to_server(servicer, server)

    engine, register, uow_factory = build_service(settings, InitiativesTestUnitOfWork, make, add,
                                                  [name for _, _, name in servicers])
    running = start_server(settings, register, engine, port=0, health_interval=30)
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    try:
        api = InitiativesApi(pb_grpc.InitiativeServiceStub(channel), clock, engine, uow_factory, agenda, assembly,
                             f"127.0.0.1:{running.port}")
        api.set_members(range(1, 60))
        yield api
    finally:
        channel.close()
        running.stop(grace=1)
        engine.dispose()
        patch.undo()
