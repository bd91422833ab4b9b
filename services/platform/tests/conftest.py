"""Fixtures shared by the platform's tests."""

from __future__ import annotations

import pytest

from coop_platform.config import load_settings
from coop_platform.db import make_engine
from coop_platform.migrations import upgrade
from coop_testkit import postgres_database


@pytest.fixture()
def settings(tmp_path, monkeypatch):
    """A membership api's settings in development mode, on a migrated SQLite file."""
    url = f"sqlite:///{tmp_path / 'm.db'}"
    monkeypatch.setenv("COOP_DATABASE_URL", url)
    monkeypatch.setenv("COOP_DEV_MODE", "1")
    upgrade("membership", url)
    return load_settings("membership")


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    """An engine on a migrated database (membership's tables, outbox and inbox), on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'platform.db'}"
        upgrade("membership", url)
        eng = make_engine(url)
        yield eng
        eng.dispose()
    else:
        with postgres_database() as url:
            upgrade("membership", url)
            eng = make_engine(url, pool_size=4)
            yield eng
            eng.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    """The URL of a new, empty database on each backend (dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'service.db'}"
    else:
        with postgres_database("coop_empty") as url:
            yield url
