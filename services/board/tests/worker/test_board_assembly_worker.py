"""The board worker's assembly section: the convocation timer sends one assembly.convened per
member of an Assembly being convened, batch after batch, resumes where a tick stopped, and a tick
run again sends nothing twice; the counter coop_board_convocations_sent_total follows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from nameko.testing.services import worker_factory
from prometheus_client import REGISTRY
from sqlalchemy import insert, select

from coop_board.adapters.orm import metadata
from coop_board.adapters.orm_roster import member_standing
from coop_board.domain.assembly import AssemblyRules
from coop_board.domain.texts import LocalizedText
from coop_board.entrypoints import worker as worker_module
from coop_board.entrypoints import worker_assembly
from coop_board.service_layer import assembly
from coop_domain.principal import Principal

TENANT = "assembly-worker"
NOW = datetime(2027, 3, 1, 9, tzinfo=UTC)
OUTBOX = metadata.tables["outbox"]


def _sent_counter() -> float:
    return REGISTRY.get_sample_value("coop_board_convocations_sent_total") or 0.0


def _convened(assembly_id: str) -> list[dict]:
    with worker_module.engine().connect() as conn:
        rows = conn.execute(select(OUTBOX.c.body).where(OUTBOX.c.routing_key == "assembly.convened"))
        return [d for d in (json.loads(b)["data"] for (b,) in rows) if d["assemblyId"] == assembly_id]


def test_the_convocation_timer_convenes_every_member_once_across_ticks(monkeypatch) -> None:
    members = [f"wm-{n:04d}" for n in range(1, 2346)]
    with worker_module.engine().begin() as conn:
        conn.execute(insert(member_standing), [
            {"member_id": m, "tenant": TENANT, "status": "active", "in_good_standing": n % 3 != 0,
             "language": ("nl", "en", "de")[n % 3]} for n, m in enumerate(members)])
    admin = Principal("admin-1", TENANT, frozenset({"admin"}))
    title = LocalizedText(fr="AG", nl="AV", en="GA")
    a = assembly.schedule_assembly(worker_module.uow_factory(), admin, title, NOW + timedelta(days=40), "Gent",
                                   NOW + timedelta(days=35), "election-1", (), NOW).assembly
    rules = AssemblyRules(convocation_batch=400)
    convening = assembly.convene_assembly(worker_module.uow_factory(), admin, a.assembly_id, NOW, rules)
    assert convening.assembly.convocation_total == len(members)
    monkeypatch.setattr(worker_module, "now", lambda: NOW + timedelta(minutes=1))
    monkeypatch.setattr(worker_assembly, "RULES", rules)
    monkeypatch.setattr(worker_assembly, "MAX_BATCHES", 2)
    before = _sent_counter()

    first = worker_factory(worker_module.BoardWorker).assembly_convocations()
    assert first == 800 and len(_convened(a.assembly_id)) == 800  # stopped after two batches: resumes next tick
    while worker_factory(worker_module.BoardWorker).assembly_convocations():
        pass
    assert worker_factory(worker_module.BoardWorker).assembly_convocations() == 0  # run again: nothing twice

    events = _convened(a.assembly_id)
    assert sorted(e["memberId"] for e in events) == members
    assert {e["language"] for e in events} == {"nl", "en", "fr"}  # "de" is not a board language: the fallback
    assert _sent_counter() - before == len(members)
    done = assembly.get_assembly(worker_module.uow_factory(), admin, a.assembly_id, NOW)
    assert done.status == "convened" and done.assembly.convocation_sent == len(members)
