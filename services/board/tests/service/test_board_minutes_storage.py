"""Migration 0005 creates the minutes tables as adapters/orm_minutes.py declares them and
downgrades cleanly; the worker's translation gauges count the open and overdue tasks."""

from __future__ import annotations

from board_minutes_svc_helpers import world  # noqa: F401
from sqlalchemy import MetaData, create_engine, inspect

from coop_board.adapters.orm_minutes import minutes_tables
from coop_platform.migrations import downgrade, upgrade
from coop_testkit import postgres_database

TABLES = ("board_minutes", "board_translation_tasks", "board_published_minutes", "board_published_decisions")


def test_the_migrated_tables_match_the_declared_ones(pg_url: str) -> None:
    declared = {t.name: t for t in minutes_tables(MetaData())}
    engine = create_engine(pg_url)
    try:
        found = inspect(engine)
        for name in TABLES:
            columns = {c["name"]: c for c in found.get_columns(name)}
            assert set(columns) == set(declared[name].c.keys()), name
            for column in declared[name].c:
                assert columns[column.name]["nullable"] == column.nullable, (name, column.name)
            assert found.get_pk_constraint(name)["constrained_columns"] == [c.name for c in declared[name].primary_key]
            assert {i["name"] for i in found.get_indexes(name)} >= {i.name for i in declared[name].indexes}
    finally:
        engine.dispose()


def test_downgrade_removes_the_minutes_tables() -> None:
    with postgres_database("coop_board_mig") as url:
        upgrade("board", url)
        downgrade("board", url, "0001")
        engine = create_engine(url)
        try:
            assert not set(TABLES) & set(inspect(engine).get_table_names())
        finally:
            engine.dispose()


def test_translation_task_counts_for_the_worker_gauges(world) -> None:  # noqa: F811
    from datetime import date

    from coop_board.adapters.repository_minutes import translation_task_counts

    with world.env.uow_factory().reading() as conn:
        before_open, before_overdue = translation_task_counts(conn, date(2027, 3, 1))
    world.draft(world.meeting(items=1, missing=("en",)))
    with world.env.uow_factory().reading() as conn:
        assert translation_task_counts(conn, date(2027, 3, 1)) == (before_open + 1, before_overdue)
        after_due = translation_task_counts(conn, date(2027, 3, 9))
    assert after_due[1] >= before_overdue + 1 and after_due[0] == before_open + 1


def test_the_worker_timer_sets_the_translation_gauges(world) -> None:  # noqa: F811
    """The worker (eventlet) runs in its own process: its timer method is called there."""
    import os
    import subprocess
    import sys

    world.draft(world.meeting(items=1, missing=("fr",)))
    code = ("import coop_board.entrypoints.worker as w; from coop_board.adapters import metrics_minutes as m; "
            "print(w.BoardWorker().minutes_translation_gauges(), m.TRANSLATION_TASKS_OPEN._value.get())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "COOP_DATABASE_URL": world.env.pg_url, "COOP_SERVICE_NAME": "board"})
    assert out.returncode == 0, out.stderr[-2000:]
    counts, gauge = out.stdout.strip().rsplit(" ", 1)
    assert float(gauge) >= 1 and counts.startswith("(")
