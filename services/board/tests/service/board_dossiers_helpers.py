"""Helpers of the dossiers family's api tests: tokens per role, requests of the COVID example,
a unit of work as the meetings family opens it, and row counts to prove nothing was written."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from board_fakes_meetings import StaticRoster
from sqlalchemy import text

from coop.board.v1 import common_pb2
from coop.board.v1 import dossiers_pb2 as pb
from coop.board.v1 import dossiers_pb2_grpc as pb_grpc
from coop_board.adapters import repository_roster
from coop_testkit import bearer

ROLES = {
    "director": bearer("dir-1", "director"),
    "secretary": bearer("sec-1", "secretary"),
    "management": bearer("mgr-1", "management"),
    "member": bearer("mem-1", "member"),
    "admin": bearer("adm-1", "admin"),
    "other": bearer("adm-x", "admin", tenant="other"),
}
DIRECTOR_2 = bearer("dir-2", "director")
#: Directors amend and read only while sitting: dir-0, dir-1, dir-2 and the secretary sec-1 sit every day.
ROSTER = StaticRoster({"coop": ["dir-0", "dir-1", "dir-2", "sec-1"], "other": ["dir-x"]})


@pytest.fixture(scope="module", autouse=True)
def sitting_directors() -> Iterator[None]:
    """The roster's `sitting_on` from ROSTER for a module that imports this fixture."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(repository_roster.SqlRosterRepository, "sitting_on",
                   lambda self, tenant, day: ROSTER.sitting_on(tenant, day))
        yield
TABLES = ("board_dossiers", "board_dossier_versions", "board_dossier_proposals", "board_dossier_amendments",
          "board_dossier_send_backs", "board_dossier_documents", "outbox", "idempotency_keys")


def lt(value: str) -> common_pb2.LocalizedText:
    return common_pb2.LocalizedText(fr=f"{value} (fr)", nl=f"{value} (nl)", en=value)


def stub(env: Any) -> pb_grpc.DossierServiceStub:
    return env.stub(pb_grpc.DossierServiceStub)


def five_keys() -> list[pb.ProposalInput]:
    """The COVID envelope: 60% redistributed to members by one of five keys, two recommended."""
    keys = ["per member", "per share", "per year of membership", "per consumption", "flat plus share"]
    return [pb.ProposalInput(title=lt(f"Key {i + 1}: {k}"), text=lt(f"Redistribute 60% of the envelope {k}.\n"
                                                                   "Paid before the Assembly."),
                             recommended=i in (1, 3), recommendation_rationale=lt(f"Fair {k}") if i in (1, 3) else None)
            for i, k in enumerate(keys)]


def create(env: Any, title: str = "COVID compensation envelope", metadata=None) -> pb.Dossier:
    return stub(env).CreateDossier(pb.CreateDossierRequest(title=lt(title)),
                                   metadata=metadata or ROLES["management"], timeout=10).dossier


def submit_v1(env: Any, title: str = "COVID compensation envelope", content: bytes | None = None):
    dossier = create(env, title)
    documents = [pb.DocumentUpload(filename="envelope.pdf", media_type="application/pdf",
                                   content=content or f"%PDF envelope {uuid.uuid4()}".encode())]
    answer = stub(env).SubmitDossierVersion(pb.SubmitDossierVersionRequest(
        dossier_id=dossier.dossier_id, proposals=five_keys(), documents=documents),
        metadata=ROLES["management"], timeout=10)
    return answer


def counts(env: Any) -> dict[str, int]:
    with env.engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES}  # noqa: S608


def in_meeting(env: Any, work) -> Any:
    """Run `work(uow)` as the meetings family does: inside its own unit, which it commits."""
    uow = env.uow_factory()
    with uow:
        result = work(uow)
        uow.commit()
    return result


def events(env: Any, name: str, dossier_id: str) -> list[dict]:
    import json
    with env.engine.connect() as conn:
        rows = conn.execute(text("SELECT body FROM outbox WHERE routing_key = :k ORDER BY seq"), {"k": name}).all()
    found = [json.loads(r.body) for r in rows]
    return [e for e in found if e.get("data", {}).get("dossierId") == dossier_id]
