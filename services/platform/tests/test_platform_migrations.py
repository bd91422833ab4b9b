"""Migrations applied at start by several processes at once (a service's api and worker under
`make run`, Compose or Kubernetes) on one fresh database, on each backend."""

from __future__ import annotations

import subprocess
import sys
import time

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from coop_platform.migrations import alembic_config

PROCESSES = 6
# Every process imports first, then all call upgrade at the same instant: the race between
# reading the current revision and applying the next one is what the lock must close.
UPGRADE_AT = """
import sys, time
from coop_platform.migrations import upgrade
start_at, service, url = float(sys.argv[1]), sys.argv[2], sys.argv[3]
time.sleep(max(0.0, start_at - time.time()))
upgrade(service, url)
"""


def _upgrade_concurrently(service: str, url: str) -> list[subprocess.CompletedProcess]:
    start_at = time.time() + 4.0
    procs = [subprocess.Popen([sys.executable, "-c", UPGRADE_AT, str(start_at), service, url],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(PROCESSES)]
    return [subprocess.CompletedProcess(p.args, p.wait(timeout=120), p.communicate()[0]) for p in procs]


def test_processes_migrating_one_fresh_database_at_once_all_succeed_and_apply_each_revision_once(empty_database_url):
    # billing has several revisions adding columns: one applied twice fails ("duplicate column")
    results = _upgrade_concurrently("billing", empty_database_url)
    assert [r.returncode for r in results] == [0] * PROCESSES, "\n".join(r.stdout[-2000:] for r in results)
    head = ScriptDirectory.from_config(alembic_config("billing", empty_database_url)).get_current_head()
    engine = create_engine(empty_database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
    finally:
        engine.dispose()
