"""The notifications nameko worker against the real RabbitMQ (its own vhost), in its own
eventlet-patched pytest process (DESIGN D1): .venv/bin/pytest services/notifications/tests/worker

The worker module caches its settings, so the database (a SQLite file, migrated once) and the
broker URL (vhost "n13-core", never the shared "/") are set before it is imported. As in
membership's worker tests, nothing here is patched or collected unless the command line targets
this directory: a grpcio run that walks past it must not be monkey-patched.
"""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _run_targets_this_directory() -> bool:
    paths = [Path(a.split("::")[0]).resolve() for a in sys.argv[1:] if not a.startswith("-")]
    paths = [p for p in paths if p.exists()] or [Path.cwd().resolve()]
    return any(p == _HERE or _HERE in p.parents for p in paths)


WORKER_RUN = _run_targets_this_directory()
if WORKER_RUN:
    import eventlet

    eventlet.monkey_patch()

import os  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

if WORKER_RUN:
    import subprocess

    from coop_testkit import ensure_vhost

    sys.path.insert(0, str(_HERE))  # the sibling helper module (notif_worker_process)

    _DATA_DIR = Path(tempfile.mkdtemp(prefix="notifications-worker-tests-"))
    os.environ["COOP_DATABASE_URL"] = f"sqlite:///{_DATA_DIR / 'notifications.db'}"
    os.environ["COOP_METRICS_PORT"] = "0"
    os.environ["COOP_NOTIFICATIONS_TICK_SECONDS"] = "0.2"
    os.environ["COOP_BOUNCE_POLL_SECONDS"] = "0.5"
    os.environ["COOP_DEV_MODE"] = "1"
    os.environ["COOP_EVENT_RETRY_DELAYS"] = "0.2,0.4"
    os.environ["COOP_EVENT_RETRY_MAX_SECONDS"] = "1.5"
    try:  # a vhost of our own; without rabbitmqctl, the tests' vhost that scripts/test.sh set up
        os.environ["COOP_AMQP_URL"] = ensure_vhost("n13-core")
    except (OSError, subprocess.SubprocessError):
        os.environ.setdefault("COOP_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")

    from coop_notifications.entrypoints import worker as worker_module
    from coop_platform.migrations import upgrade

    upgrade("notifications", os.environ["COOP_DATABASE_URL"])
else:
    collect_ignore_glob = ["*"]


def pytest_sessionfinish(session, exitstatus):
    if WORKER_RUN:
        worker_module.engine().dispose()
        shutil.rmtree(_DATA_DIR, ignore_errors=True)
