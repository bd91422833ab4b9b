"""The elections nameko worker, in its own eventlet-patched pytest process (DESIGN D1).

Run as: .venv/bin/pytest services/elections/tests/worker. The worker module caches its
settings, so the database URL is set before it is imported: a SQLite file, migrated once.
"""

import eventlet

eventlet.monkey_patch()

import os  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

_DATA_DIR = Path(tempfile.mkdtemp(prefix="elections-worker-tests-"))
os.environ["COOP_DATABASE_URL"] = f"sqlite:///{_DATA_DIR / 'elections.db'}"
os.environ["COOP_METRICS_PORT"] = "0"
os.environ.setdefault("COOP_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")

from coop_elections.entrypoints import worker as worker_module  # noqa: E402
from coop_platform.migrations import upgrade  # noqa: E402

upgrade("elections", os.environ["COOP_DATABASE_URL"])


def pytest_sessionfinish(session, exitstatus):
    worker_module.engine().dispose()
    shutil.rmtree(_DATA_DIR, ignore_errors=True)
