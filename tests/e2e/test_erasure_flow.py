"""Erasure reaches every service (hardening issue, point 7): a member admitted in membership is
projected by billing and elections through RabbitMQ; after ErasePersonalData, no table of any
service's database holds the member's name, e-mail, phone or postal address, apart from outbox
rows younger than the outbox retention (which the workers purge once it is over: the test runs
the purge with a retention of zero to show that nothing else is left).

Runs against the processes `make run` starts (SQLite files, the machine's RabbitMQ on a vhost
of its own) and against the Compose stack ([compose]: each service's PostgreSQL database, read
with pg_dump inside the postgres container; the purge runs in each worker container)."""

from __future__ import annotations

import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from coop.membership.v1 import membership_pb2 as mpb
from coop.membership.v1 import membership_pb2_grpc as mgrpc
from coop_platform.channels import open_channel
from coop_platform.db import make_engine
from coop_platform.outbox import purge_outbox
from coop_testkit import bearer, wait_until

pytestmark = [pytest.mark.rabbitmq]
SERVICES = ("membership", "billing", "elections")


@pytest.fixture(scope="module", params=["compose", "local"])
def platform(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "local":
        yield request.getfixturevalue("all_services_platform")
        return
    stack, project = request.getfixturevalue("compose_stack"), request.getfixturevalue("compose_project")
    compose = request.getfixturevalue("all_services_compose")
    compose.stack, compose.project = stack, project
    with request.getfixturevalue("compose_tokens")():
        yield compose


def database(platform: Any, service: str) -> Path:
    return Path(platform.processes["api"].env["COOP_DATA_DIR"]) / f"{service}.db"


def rows_holding(platform: Any, service: str, needles: list[str]) -> list[tuple[str, str]]:
    """(table, column) of every text value in the service's database that contains one of
    `needles` (column "*" in the Compose stack: a pg_dump line is a whole row)."""
    if platform.kind == "compose":
        return _pg_rows_holding(platform, service, needles)
    return _sqlite_rows_holding(database(platform, service), needles)


def _pg_rows_holding(platform: Any, service: str, needles: list[str]) -> list[tuple[str, str]]:
    postgres = platform.stack.container(platform.project, "postgres")
    dump = subprocess.run(["docker", "exec", postgres, "pg_dump", "-U", "postgres", "--data-only", service],
                          capture_output=True, text=True, check=True, timeout=120).stdout
    found, table = [], ""
    for line in dump.splitlines():
        if line.startswith("COPY "):
            table = line.split()[1].split(".")[-1]
        elif line == "\\.":
            table = ""
        elif table and any(n in line for n in needles):
            found.append((table, "*"))
    return sorted(set(found))


def purge(platform: Any, service: str) -> None:
    """The workers' outbox purge with a retention of zero."""
    if platform.kind == "compose":
        script = ("import os; from datetime import timedelta; from coop_platform.db import make_engine; "
                  "from coop_platform.outbox import purge_outbox; "
                  "purge_outbox(make_engine(os.environ['COOP_DATABASE_URL']), timedelta(0))")
        platform.stack.run(platform.project, "exec", "-T", f"{service}-worker", "python", "-c", script, timeout=120)
        return
    engine = make_engine(f"sqlite:///{database(platform, service)}")
    try:
        purge_outbox(engine, timedelta(0))
    finally:
        engine.dispose()


def _sqlite_rows_holding(path: Path, needles: list[str]) -> list[tuple[str, str]]:
    """(table, column) of every text value in the SQLite file that contains one of `needles`."""
    found = []
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
            for column in columns:
                for (value,) in conn.execute(f'SELECT "{column}" FROM "{table}"'):
                    text = value.decode(errors="replace") if isinstance(value, bytes) else value
                    if isinstance(text, str) and any(n in text for n in needles):
                        found.append((table, column))
    return sorted(set(found))


def test_after_erasure_no_service_keeps_the_members_name_or_contact_data(platform: Any):
    tag, digits = uuid.uuid4().hex[:8], str(uuid.uuid4().int)[:6]
    person = {"given_name": f"Eléonore{tag}", "family_name": f"Vandermeulen{tag}",
              "email": f"eleonore-{tag}@example.be", "phone": f"+32 2 {digits[:3]} {digits[3:]}",
              "street": f"Rue du Moulin {tag}"}
    needles = list(person.values())
    admin = bearer("e2e-admin", "admin")
    with open_channel(platform.targets["membership"]) as channel:
        stub = mgrpc.MembershipServiceStub(channel)
        member = stub.RegisterMember(mpb.RegisterMemberRequest(admit=True, member=mpb.MemberDraft(
            given_name=person["given_name"], family_name=person["family_name"], email=person["email"],
            phone=person["phone"], country_of_residence="BE", preferred_language="nl",
            category=mpb.MEMBER_CATEGORY_USER, address=mpb.PostalAddress(
                street=person["street"], postal_code="1000", city="Brussel", country="BE"))),
            metadata=admin, timeout=10)
        # billing keeps the member's name for statements; wait until its projection has it
        wait_until(lambda: rows_holding(platform, "billing", [person["family_name"]]), timeout=60,
                   message="billing projecting the admitted member")
        wait_until(lambda: _projected_by_elections(platform, member.member_id), timeout=60,
                   message="elections projecting the admitted member")
        stub.ChangeStatus(mpb.ChangeStatusRequest(member_id=member.member_id, status=mpb.MEMBER_STATUS_RESIGNED,
                                                  reason="moving abroad"), metadata=admin, timeout=10)
        stub.ErasePersonalData(mpb.EraseRequest(member_id=member.member_id, reason="GDPR request"),
                               metadata=admin, timeout=10)

    def outside_the_outbox() -> dict[str, list[tuple[str, str]]]:
        left = {s: [place for place in rows_holding(platform, s, needles) if place[0] != "outbox"]
                for s in SERVICES}
        return {s: places for s, places in left.items() if places}

    wait_until(lambda: not outside_the_outbox(), timeout=60, message="every service dropping the member's data")
    assert outside_the_outbox() == {}
    # Outbox rows still within the retention may hold it; once the retention is over, none does.
    for service in SERVICES:
        purge(platform, service)
    assert {s: rows_holding(platform, s, needles) for s in SERVICES} == {s: [] for s in SERVICES}


def _projected_by_elections(platform: Any, member_id: str) -> bool:
    if platform.kind == "compose":
        postgres = platform.stack.container(platform.project, "postgres")
        return subprocess.run(["docker", "exec", postgres, "psql", "-U", "postgres", "-d", "elections", "-tAc",
                               f"SELECT 1 FROM member_projection WHERE member_id = '{member_id}'"],
                              capture_output=True, text=True, timeout=60).stdout.strip() == "1"
    with sqlite3.connect(database(platform, "elections")) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for table in tables:
            columns = {r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')}
            if "member_id" in columns and table.startswith("member") and conn.execute(
                    f'SELECT 1 FROM "{table}" WHERE member_id = ?', (member_id,)).fetchone():
                return True
    return False
