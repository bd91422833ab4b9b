"""Shared helpers of the elections service tests (clock, environment, request builders)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from coop.elections.v1 import elections_pb2 as pb
from coop.elections.v1 import elections_pb2_grpc as pb_grpc
from coop_domain.clock import FixedClock
from coop_elections.adapters import orm
from coop_platform.auth import issue_token

# Assembly on Saturday 15 May 2027, votes close 17:00 Brussels (15:00 UTC, summer time).
ASSEMBLY = "2027-05-15"
OPENS = "2027-05-01T08:00:00+00:00"
BEFORE = datetime(2027, 4, 20, tzinfo=UTC)
DURING = datetime(2027, 5, 10, 12, tzinfo=UTC)
AFTER = datetime(2027, 5, 15, 15, 0, 1, tzinfo=UTC)


@dataclass
class Env:
    stub: pb_grpc.ElectionsServiceStub
    clock: FixedClock
    engine: object
    uow_factory: object
    url: str
    v2: object = None  # coop.elections.v2 stub on the same server
    health: object = None  # grpc.health.v1 stub on the same server

    def token(self, subject: str, *roles: str, tenant: str = "coop") -> list[tuple[str, str]]:
        return [("authorization", f"Bearer {issue_token(subject, list(roles), tenant=tenant)}")]

    def counts(self) -> dict[str, int]:
        out = {}
        with self.engine.connect() as conn:
            for table in (orm.elections, orm.voter_roll, orm.voters_who_voted, orm.ballots,
                          orm.paper_ballots, orm.candidacies, orm.proxies, orm.results, orm.metadata.tables["outbox"]):
                out[table.name] = conn.execute(select(func.count()).select_from(table)).scalar_one()
        return out

    def outbox(self, routing_key: str) -> list[dict]:
        import json

        t = orm.metadata.tables["outbox"]
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.c.body).where(t.c.routing_key == routing_key).order_by(t.c.seq))
            return [json.loads(r.body) for r in rows]


def texts(title: str = "Board election") -> list[pb.LocalizedText]:
    return [pb.LocalizedText(language="fr", title=f"{title} (fr)"),
            pb.LocalizedText(language="nl", title=f"{title} (nl)"),
            pb.LocalizedText(language="en", title=title)]


def board_question(candidates=("alice", "bob", "carol", "dave"), seats=2, method=pb.METHOD_STV,
                   qid="board") -> pb.QuestionSpec:
    return pb.QuestionSpec(question_id=qid, method=method, texts=texts("Seats"),
                           candidates=list(candidates), seats=seats, mandate_years=4)


def accounts_question(qid="accounts") -> pb.QuestionSpec:
    return pb.QuestionSpec(question_id=qid, method=pb.METHOD_RESOLUTION, texts=texts("Accounts"))


def create_request(**kw) -> pb.CreateElectionRequest:
    questions = kw.pop("questions", None) or [board_question(), accounts_question()]
    return pb.CreateElectionRequest(
        texts=texts(), questions=questions,
        window=pb.VotingWindowSpec(opens_at=kw.pop("opens_at", OPENS), assembly_day=kw.pop("assembly_day", ASSEMBLY),
                                   closes_local=kw.pop("closes_local", "17:00")),
        **kw)


def make_election(env: Env, voters=(), tenant: str = "coop", admin_role: str = "admin", weights=None,
                  **kw) -> pb.Election:
    """Create (clock BEFORE the cut-off), import the roll, then move the clock into the window."""
    admin = env.token("admin-1", admin_role, tenant=tenant)
    opens = datetime.fromisoformat(kw.get("opens_at", OPENS))
    env.clock.set(min(BEFORE, opens - timedelta(days=1)))
    election = env.stub.CreateElection(create_request(**kw), metadata=admin)
    if voters:
        entries = [pb.VoterEntry(voter_id=v, weight=(weights or {}).get(v, 0)) for v in voters]
        env.stub.ImportVoterRoll(pb.ImportVoterRollRequest(election_id=election.election_id, voters=entries),
                                 metadata=admin)
    env.clock.set(DURING)
    return election


def ballot(board=("alice", "bob"), accounts="yes") -> list[pb.Answer]:
    answers = []
    if board is not None:
        answers.append(pb.Answer(question_id="board", choices=list(board)))
    if accounts is not None:
        answers.append(pb.Answer(question_id="accounts", resolution=accounts))
    return answers


def pg_dump_rows(url: str, *tables: str) -> dict[str, list[list[str]]]:
    """`pg_dump --data-only` as an attacker with a backup reads it: rows per table, in file order
    (every table of the database when none is named)."""
    u = make_url(url)
    args = ["pg_dump", "--data-only", "-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U",
            u.username or "postgres", *(f"--table={t}" for t in tables), u.database]
    dump = subprocess.run(args, capture_output=True, text=True, check=True, timeout=60).stdout
    rows: dict[str, list[list[str]]] = {t: [] for t in tables}
    current = None
    for line in dump.splitlines():
        if line.startswith("COPY public."):
            current = line.split()[1].removeprefix("public.")
            rows.setdefault(current, [])
        elif line == "\\.":
            current = None
        elif current is not None:
            rows[current].append(line.split("\t"))
    return rows
